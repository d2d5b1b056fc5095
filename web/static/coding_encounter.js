// The coder's part of the encounter page: the working codes with their titles and CC/MCC level,
// edited in place (each change is stored with If-Match and regrouped), the what-if line
// (DRG X → Y, weight a → b (Δ) against the previous result and the baseline), and Finalize
// after the checks it runs (GET /v1/encounters/{id}/finalize-check).

import { get, post } from "./api.js";
import { el, clear, errorBox, table, fmt, levelBadge, empty } from "./ui.js";

const drg3 = (n) => String(n).padStart(3, "0");
const titles = new Map(); // "dx:431:I5023" → {title, level}

async function codeInfo(kind, code, version) {
  const key = `${kind}:${version || ""}:${code}`;
  if (!titles.has(key)) {
    titles.set(key, get(`/v1/codes/${kind}/${encodeURIComponent(code)}${version ? "?version=" + version : ""}`).catch(() => ({})));
  }
  return titles.get(key);
}

// delta renders "DRG X → Y, weight a → b (Δ)" between two stored groupings.
function delta(label, from, to) {
  if (!from || !to) return null;
  const d = (to.weight || 0) - (from.weight || 0);
  const sign = d > 0 ? "+" : d < 0 ? "−" : "±";
  const cls = d > 0 ? "ok" : d < 0 ? "bad" : "";
  return el("p", { class: "whatif-line" }, el("strong", {}, label + ": "),
    from.drg === to.drg ? `DRG ${drg3(to.drg)} unchanged, weight ${fmt(to.weight, 4)} ` : `DRG ${drg3(from.drg)} → ${drg3(to.drg)}, weight ${fmt(from.weight, 4)} → ${fmt(to.weight, 4)} `,
    el("span", { class: "badge " + cls }, `(Δ ${sign}${fmt(Math.abs(d), 4)})`),
    from.drg !== to.drg && to.title ? el("span", { class: "muted" }, ` ${to.title}`) : "");
}

// whatIf compares the working DRG with the previous grouping (after a change) and the baseline.
export function whatIf(previous, working, baseline) {
  if (!working) return el("div");
  const lines = [];
  if (previous) lines.push(delta("Since the last change", previous, working));
  if (baseline && (baseline.drg !== working.drg || (baseline.weight || 0) !== (working.weight || 0) || previous)) lines.push(delta("Against the baseline", baseline, working));
  return lines.length ? el("div", { class: "card whatif" }, ...lines) : el("div");
}

// codesEditor lists the working codes with titles and levels; with canEdit each can be changed
// or removed and codes added. change(patchBody) stores and regroups.
export function codesEditor(enc, change, canEdit) {
  const version = enc.working_drg ? enc.working_drg.version : enc.version || "";
  const rows = [];
  if (enc.pdx) rows.push({ role: "PDX", kind: "dx", list: "pdx", i: 0, ...enc.pdx });
  (enc.sdx || []).forEach((d, i) => rows.push({ role: "SDX", kind: "dx", list: "sdx", i, ...d }));
  (enc.procedures || []).forEach((p, i) => rows.push({ role: "Procedure", kind: "pr", list: "procedures", i, ...p }));
  const status = el("div", { role: "status" });
  const strip = (c) => ({ code: c.code, poa: c.poa || undefined, source: c.source || undefined, date: c.date || undefined });
  const body = (list, fn) => {
    if (list === "pdx") return { pdx: fn(enc.pdx ? strip(enc.pdx) : null) };
    const cur = (enc[list] || []).map(strip);
    return { [list]: fn(cur) };
  };
  const run = async (b) => {
    clear(status);
    try { await change(b); } catch (e) { status.append(errorBox(e)); }
  };
  const edit = (r) => {
    const input = el("input", { id: `code-edit-${r.list}-${r.i}`, value: r.code, "aria-label": `New code for ${r.role} ${r.code}`, maxlength: 8 });
    const save = el("button", { type: "button", class: "code-save" }, "Save");
    const cell = el("span", { class: "row" }, input, save);
    save.addEventListener("click", () => {
      const code = input.value.trim().replace(".", "").toUpperCase();
      if (!code) return;
      if (r.list === "pdx") run({ pdx: { code, poa: r.poa || "Y" } });
      else run(body(r.list, (xs) => xs.map((x, j) => (j === r.i ? { code, poa: r.list === "sdx" ? x.poa || "Y" : undefined, date: x.date } : x))));
    });
    return cell;
  };
  const tbl = table([
    { key: "role", label: "Role" },
    { key: "code", label: "Code", render: (c) => el("strong", { class: "code" }, c.code) },
    { key: "title", label: "Title", noSort: true, render: (c) => {
      const t = el("span", { class: "code-title", "data-code": c.code }, "…");
      codeInfo(c.kind, c.code, version).then((info) => {
        clear(t).append(info.title || info.short_title || "(title not loaded)", " ", c.kind === "dx" && c.role === "SDX" && info.level && info.level !== "NCC" ? levelBadge(info.level) : "");
      });
      return t;
    } },
    { key: "poa", label: "POA" }, { key: "source", label: "Source" },
    ...(canEdit && enc.status !== "final" ? [{ key: "edit", label: "", noSort: true, render: (c) => el("span", { class: "row" },
      el("button", { type: "button", class: "link code-change", onclick: (ev) => { ev.target.closest("span").replaceWith(edit(c)); } }, "change"),
      c.list !== "pdx" ? el("button", { type: "button", class: "link code-remove", onclick: () => run(body(c.list, (xs) => xs.filter((_, j) => j !== c.i))) }, "remove") : "") }] : []),
  ], rows, { empty: "No codes yet.", caption: "Working codes" });
  const card = el("div", { class: "card", id: "codes" }, el("h2", {}, "Working codes"), tbl, status);
  if (canEdit && enc.status !== "final") {
    const kind = el("select", { id: "code-add-kind", "aria-label": "Kind of code to add" }, [["sdx", "secondary diagnosis"], ["procedures", "procedure"], ["pdx", "principal diagnosis"]].map(([v, t]) => el("option", { value: v }, t)));
    const code = el("input", { id: "code-add", placeholder: "code, e.g. N17.9", maxlength: 8, "aria-label": "Code to add" });
    const poa = el("select", { id: "code-add-poa", "aria-label": "Present on admission" }, ["Y", "N", "U", "W", "1"].map((v) => el("option", { value: v }, v)));
    const add = el("button", { type: "submit", id: "code-add-btn" }, "Add and regroup");
    const form = el("form", { class: "row", "aria-label": "Add a code" }, kind, code, poa, add);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const c = code.value.trim().replace(".", "").toUpperCase();
      if (!c) return;
      if (kind.value === "pdx") run({ pdx: { code: c, poa: poa.value } });
      else run(body(kind.value, (xs) => [...xs, kind.value === "sdx" ? { code: c, poa: poa.value } : { code: c }]));
    });
    card.append(form);
  }
  return card;
}

// finalizePanel shows the checks finalization runs, then allows it: blocking items need an
// override reason (audited), warnings need to be acknowledged.
export async function finalizePanel(box, enc, done) {
  clear(box).append(el("p", { class: "muted" }, "Running the finalize checks…"));
  let chk;
  try {
    chk = await get(`/v1/encounters/${encodeURIComponent(enc.id)}/finalize-check`);
  } catch (e) { clear(box).append(errorBox(e)); return; }
  const list = (items, cls) => el("ul", { class: "checks " + cls }, items.map((it) => el("li", { "data-kind": it.kind },
    el("span", { class: "badge " + cls }, it.kind.replaceAll("_", " ")), " ", el("code", {}, it.field), " ", it.message)));
  const out = el("div", { role: "status" });
  const reason = el("textarea", { id: "finalize-reason", "aria-label": "Reason to finalize over the blocking items" });
  const ack = el("input", { type: "checkbox", id: "finalize-ack" });
  ack.style.width = "auto";
  const go = el("button", { type: "button", id: "finalize-confirm" }, chk.blocking.length ? "Finalize over the blocking items" : "Finalize");
  const refresh = () => {
    go.disabled = (chk.blocking.length && !reason.value.trim()) || (chk.warnings.length && !ack.checked);
  };
  reason.addEventListener("input", refresh);
  ack.addEventListener("change", refresh);
  go.addEventListener("click", async () => {
    go.disabled = true;
    try {
      const body = chk.blocking.length ? { override_reason: reason.value.trim() } : {};
      const r = await post(`/v1/encounters/${encodeURIComponent(enc.id)}/finalize`, body, { headers: { "If-Match": `"${chk.row_version}"` } });
      clear(box);
      await done(r);
    } catch (e) { clear(out).append(errorBox(e)); refresh(); }
  });
  const d = chk.drg;
  clear(box).append(el("div", { class: "card" }, el("h2", {}, "Finalize: checks"),
    el("p", { class: "muted" }, "Checks run: " + (chk.checks || []).join(", ") + "."),
    d ? el("p", { id: "finalize-drg" }, `Final DRG would be ${drg3(d.drg)} ${d.title || ""} (weight ${fmt(d.weight, 4)})`) : null,
    chk.blocking.length ? [el("h3", {}, `Blocking (${chk.blocking.length})`), list(chk.blocking, "bad")] : el("p", { class: "badge ok", id: "finalize-clean" }, "Nothing blocks finalization"),
    chk.warnings.length ? [el("h3", {}, `Warnings (${chk.warnings.length})`), list(chk.warnings, "warn"),
      el("label", { for: "finalize-ack", class: "btn-cell" }, ack, " I reviewed the warnings")] : empty("No warning."),
    chk.blocking.length ? el("div", { class: "field" }, el("label", { for: "finalize-reason" }, "Reason to finalize anyway (audited)"), reason) : null,
    el("div", { class: "row" }, el("div", { class: "btn-cell" }, go),
      el("div", { class: "btn-cell" }, el("button", { type: "button", class: "secondary", onclick: () => clear(box) }, "Cancel"))), out));
  refresh();
  box.scrollIntoView({ block: "nearest" });
}
