// Coding-accuracy audits: create a sampled audit, record the auditor's codes per case, read the
// report; coders see their own findings.

import { get, post, put, query, download, etag } from "./api.js";
import { el, clear, errorBox, table, fmt, pct, toast } from "./ui.js";

export async function render(main, params, ctx) {
  const canAudit = ["coder", "admin"].includes(ctx.user.role);
  if (params.query.id) return auditPage(main, params.query.id, canAudit);
  main.append(el("h1", {}, "Coding-accuracy audits"));
  if (ctx.user.role === "coder") main.append(await findingsCard());
  if (canAudit) main.append(createForm());
  const list = el("section", { class: "card" }, el("h2", {}, "Audits"));
  main.append(list);
  try {
    const r = await get("/v1/audits" + query({ limit: 100 }));
    list.append(table([
      { key: "id", label: "Audit", render: (a) => el("a", { href: `#/audits?id=${a.id}` }, a.name || `Audit ${a.id}`) },
      { key: "created_at", label: "Created", render: (a) => (a.created_at || "").slice(0, 10) },
      { key: "created_by", label: "By" },
      { key: "population", label: "Population", num: true },
      { key: "size", label: "Sample", num: true },
      { key: "audited", label: "Audited", num: true },
      { key: "seed", label: "Seed", render: (a) => String(a.spec ? a.spec.seed : "") },
    ], r.items || [], { empty: "No audit yet.", caption: "Audits" }));
  } catch (e) { list.append(errorBox(e)); }
}

async function findingsCard() {
  const card = el("section", { class: "card" }, el("h2", {}, "My findings"));
  try {
    const r = await get("/v1/audits/findings" + query({ coder: "me", limit: 200 }));
    card.append(table([
      { key: "account", label: "Encounter", render: (f) => f.account || f.encounter_id },
      { key: "kind", label: "Finding" },
      { key: "message", label: "What the auditor found" },
    ], r.items || [], { empty: "No findings: nothing audited, or everything agreed.", caption: "My findings" }));
  } catch (e) { card.append(errorBox(e)); }
  return card;
}

function createForm() {
  const f = (id, label, type = "text", value = "") => {
    const i = el("input", { id, type, value });
    return { i, node: el("div", {}, el("label", { for: id }, label), i) };
  };
  const name = f("au-name", "Name"), size = f("au-size", "Sample size", "number", "10"), seed = f("au-seed", "Seed (blank: random, recorded)", "number");
  const from = f("au-from", "Discharged from", "date"), to = f("au-to", "through", "date");
  const drgs = f("au-drgs", "Only DRGs (comma-separated)"), coders = f("au-coders", "Only coders (comma-separated)");
  const risk = el("select", { id: "au-risk" }, [["", "any"], ["single_cc_mcc", "single CC/MCC"], ["audited_pdx", "audited PDX"],
    ["short_stay_surgical", "short surgical stay"], ["mce_postpayment", "MCE post-payment"]].map(([v, t]) => el("option", { value: v }, t)));
  const out = el("div");
  const form = el("form", { class: "card" }, el("h2", {}, "New audit"),
    el("div", { class: "row" }, name.node, size.node, seed.node), el("div", { class: "row" }, from.node, to.node),
    el("div", { class: "row" }, drgs.node, coders.node, el("div", {}, el("label", { for: "au-risk" }, "Denial-risk flag"), risk)),
    el("button", { type: "submit" }, "Draw the sample"), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const body = { name: name.i.value.trim(), size: Number(size.i.value) };
      if (seed.i.value) body.seed = Number(seed.i.value);
      if (from.i.value) body.discharged_from = from.i.value;
      if (to.i.value) body.discharged_to = to.i.value;
      if (drgs.i.value.trim()) body.drgs = drgs.i.value.split(",").map((x) => Number(x.trim())).filter(Boolean);
      if (coders.i.value.trim()) body.coders = coders.i.value.split(",").map((x) => x.trim()).filter(Boolean);
      if (risk.value) body.risk_flag = risk.value;
      const a = await post("/v1/audits", body);
      location.hash = `#/audits?id=${a.id}`;
    } catch (e) { clear(out).append(errorBox(e)); }
  });
  return form;
}

async function auditPage(main, id, canAudit) {
  const a = await get(`/v1/audits/${encodeURIComponent(id)}`);
  const caseBox = el("div");
  const report = el("section", { class: "card" });
  main.append(el("h1", {}, a.name || `Audit ${a.id}`),
    el("p", { class: "muted" }, `Sample of ${a.size} from ${a.population} final-coded encounters, seed ${a.spec.seed}; ${a.audited} audited.`),
    el("section", { class: "card" }, el("h2", {}, "Cases"), table([
      { key: "seq", label: "#", num: true },
      { key: "account", label: "Encounter", render: (c) => c.account || c.encounter_id },
      { key: "coder", label: "Coder" },
      { key: "status", label: "Status", render: (c) => el("span", { class: "badge " + (c.comparison ? (c.comparison.drg_agree ? "ok" : "warn") : "") }, c.status) },
      { key: "drg", label: "DRG coder / auditor", render: (c) => `${c.coder_coding ? c.coder_coding.drg : "—"} / ${c.auditor_coding ? c.auditor_coding.drg : "—"}` },
      { key: "act", label: "", noSort: true, render: (c) => (canAudit ? el("button", { type: "button", class: "link", onclick: () => caseForm(caseBox, a, c) }, c.auditor_coding ? "edit" : "record codes") : "") },
    ], a.cases || [], { caption: "Cases" })), caseBox, report);
  drawReport(report, id);
}

function caseForm(box, a, c) {
  const coded = c.auditor_coding || c.coder_coding || {};
  const pdx = el("input", { id: "ac-pdx", value: coded.pdx ? `${coded.pdx.code}:${coded.pdx.poa || ""}` : "" });
  const sdx = el("textarea", { id: "ac-sdx" }, (coded.sdx || []).map((d) => `${d.code}:${d.poa || ""}`).join("\n"));
  const pr = el("textarea", { id: "ac-pr" }, (coded.procedures || []).map((p) => p.code).join("\n"));
  const note = el("input", { id: "ac-note" });
  const out = el("div");
  const split = (s) => { const i = s.lastIndexOf(":"); return i < 0 ? { code: s.trim() } : { code: s.slice(0, i).trim(), poa: s.slice(i + 1).trim() }; };
  const form = el("form", { class: "card", "aria-label": "Auditor's codes" }, el("h2", {}, `Auditor's codes for ${c.account || c.encounter_id}`),
    el("p", { class: "muted" }, "Starts from the coder's codes; one code per line, CODE:POA for diagnoses."),
    el("div", { class: "field" }, el("label", { for: "ac-pdx" }, "Principal diagnosis (CODE:POA)"), pdx),
    el("div", { class: "field" }, el("label", { for: "ac-sdx" }, "Secondary diagnoses"), sdx),
    el("div", { class: "field" }, el("label", { for: "ac-pr" }, "Procedures"), pr),
    el("div", { class: "field" }, el("label", { for: "ac-note" }, "Note"), note),
    el("button", { type: "submit" }, "Save and compare"), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const lines = (t) => t.split("\n").map((x) => x.trim()).filter(Boolean);
      const r = await put(`/v1/audits/${a.id}/cases/${encodeURIComponent(c.encounter_id)}`, {
        pdx: split(pdx.value), sdx: lines(sdx.value).map(split), procedures: lines(pr.value).map((x) => ({ code: x })), note: note.value.trim() || undefined,
      }, etag(c.row_version));
      toast("Saved");
      const cmp = r.comparison || {};
      clear(out).append(el("ul", {}, (cmp.findings || []).map((f) => el("li", {}, f.message))),
        el("p", {}, (cmp.findings || []).length ? "" : "The coder's codes agree with the auditor's."));
      location.reload();
    } catch (e) { clear(out).append(errorBox(e)); }
  });
  clear(box).append(form);
  form.scrollIntoView();
}

async function drawReport(box, id) {
  clear(box).append(el("div", { class: "row" }, el("h2", {}, "Report"), el("div", { class: "btn-cell" },
    el("button", { type: "button", class: "secondary", onclick: () => download(`/v1/audits/${id}/report`, `audit-${id}.csv`).catch((e) => box.append(errorBox(e))) }, "Export CSV"))));
  try {
    const r = await get(`/v1/audits/${id}/report`);
    const rep = r.report || r;
    const cols = [
      { key: "key", label: "" }, { key: "cases", label: "Cases", num: true },
      { key: "pdx_accuracy", label: "PDX", num: true, render: (s) => pct(s.pdx_accuracy) },
      { key: "sdx_recall", label: "SDX recall", num: true, render: (s) => pct(s.sdx_recall) },
      { key: "sdx_precision", label: "SDX precision", num: true, render: (s) => pct(s.sdx_precision) },
      { key: "procedure_agreement", label: "Procedures", num: true, render: (s) => pct(s.procedure_agreement) },
      { key: "poa_agreement", label: "POA", num: true, render: (s) => pct(s.poa_agreement) },
      { key: "drg_accuracy", label: "DRG", num: true, render: (s) => pct(s.drg_accuracy) },
      { key: "net_weight", label: "Net weight", num: true, render: (s) => fmt(s.net_weight, 4) },
      { key: "meets_benchmark", label: "≥ 95 %", render: (s) => (s.meets_benchmark ? el("span", { class: "badge ok" }, "yes") : el("span", { class: "badge bad" }, "no")) },
    ];
    box.append(el("h3", {}, "Overall"), table(cols, [{ ...rep.overall, key: "all" }], { caption: "Overall" }),
      el("h3", {}, "By coder"), table(cols, rep.by_coder || [], { empty: "Nothing audited yet.", caption: "By coder" }),
      el("h3", {}, "By category"), table(cols, rep.by_category || [], { empty: "Nothing audited yet.", caption: "By category" }));
  } catch (e) { box.append(errorBox(e)); }
}
