// Grouping workbench: enter or paste a claim, group it, read every decision.

import { get, post, query } from "./api.js";
import { el, clear, put, errorBox, table, fmt, levelBadge, empty } from "./ui.js";

const POA = ["Y", "N", "U", "W", "1", ""];
const STATUSES = [[1, "01 home / self care"], [2, "02 short-term hospital"], [3, "03 SNF"], [4, "04 ICF"], [5, "05 other institution"],
  [6, "06 home health"], [7, "07 left against advice"], [20, "20 expired"], [21, "21 court / law enforcement"], [30, "30 still patient"],
  [43, "43 federal hospital"], [50, "50 hospice home"], [51, "51 hospice facility"], [61, "61 swing bed"], [62, "62 rehab facility"],
  [63, "63 long-term care hospital"], [64, "64 nursing facility"], [65, "65 psychiatric hospital"], [66, "66 critical access hospital"],
  [69, "69 disaster site"], [70, "70 other facility"]];

let uid = 0;

// codeInput is a text field with title/level autocomplete from /v1/codes/search. pdxOf, when
// given, returns the claim's principal diagnosis, against which each suggestion's CC/MCC
// exclusion is shown. A heading (J18) is not a code: choosing it lists its codes. The list
// closes once a full valid code is typed.
function codeInput(kind, label, value = "", pdxOf = null) {
  const id = "code" + ++uid;
  const input = el("input", { id, value, autocomplete: "off", spellcheck: "false", role: "combobox", "aria-expanded": "false",
    "aria-autocomplete": "list", "aria-controls": id + "-list", placeholder: kind === "dx" ? "e.g. I50.23" : "e.g. 02703DZ" });
  const list = el("ul", { id: id + "-list", role: "listbox", hidden: true });
  let items = [], active = -1, timer;
  const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; };
  const norm = (v) => v.trim().toUpperCase().replaceAll(".", "");
  const choose = (it) => {
    input.value = it.code;
    if (it.heading) { input.dispatchEvent(new Event("input")); return; } // expand the heading
    close();
    input.dispatchEvent(new Event("change"));
  };
  const show = () => {
    clear(list);
    items.forEach((it, i) => list.append(el("li", { role: "option", id: `${id}-o${i}`, "aria-selected": i === active ? "true" : "false",
      onmousedown: (e) => { e.preventDefault(); choose(it); } },
      el("strong", {}, it.code), " ", it.title || "",
      it.heading ? [" ", el("span", { class: "badge", title: "a category heading, not a code: choose it to list its codes" }, "heading")] : "",
      it.level && it.level !== "NCC" ? [" ", it.excluded_by_pdx ? el("span", { class: "badge warn", title: "excluded as a CC/MCC by the principal diagnosis" }, `${it.level} excluded by PDX`) : levelBadge(it.level)] : "",
      it.index_term ? el("span", { class: "muted" }, ` — index: ${it.index_term}`) : "")));
    list.hidden = items.length === 0 || document.activeElement !== input;
    input.setAttribute("aria-expanded", list.hidden ? "false" : "true");
    input.setAttribute("aria-activedescendant", active >= 0 ? `${id}-o${active}` : "");
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) { items = []; show(); return; }
    timer = setTimeout(async () => {
      try {
        const pdx = pdxOf ? pdxOf() : "";
        const res = await get("/v1/codes/search" + query({ q, type: kind, limit: 12, pdx: pdx || undefined }));
        items = res.items || [];
      } catch { items = []; }
      active = -1;
      if (items.some((it) => !it.heading && it.code === norm(input.value))) items = []; // a full code is typed
      show();
    }, 120);
  });
  input.addEventListener("keydown", (e) => {
    if (list.hidden) return;
    if (e.key === "ArrowDown") { active = Math.min(active + 1, items.length - 1); show(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { active = Math.max(active - 1, 0); show(); e.preventDefault(); }
    else if (e.key === "Enter" && active >= 0) { choose(items[active]); e.preventDefault(); }
    else if (e.key === "Escape") close();
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  return { input, node: el("div", { class: "suggest" }, el("label", { for: id }, label), input, list) };
}

function poaSelect(label, value = "Y") {
  const id = "poa" + ++uid;
  const s = el("select", { id }, POA.map((p) => el("option", { value: p, selected: p === value }, p === "" ? "(blank)" : p)));
  return { select: s, node: el("div", { class: "narrow" }, el("label", { for: id }, label), s) };
}

// A list of code rows (SDX with POA, or procedures).
function codeRows(kind, title, plural, withPOA, pdxOf = null) {
  const box = el("div");
  const rows = [];
  const add = (code = "", poa = "Y") => {
    const n = rows.length + 1;
    const c = codeInput(kind, `${title} ${n}`, code, pdxOf);
    const p = withPOA ? poaSelect(`POA ${n}`, poa) : null;
    const row = { c, p };
    const rm = el("button", { type: "button", class: "secondary", "aria-label": `Remove ${title} ${n}`, onclick: () => {
      rows.splice(rows.indexOf(row), 1); line.remove(); } }, "×");
    const line = el("div", { class: "row field" }, c.node, p ? p.node : null, el("div", { class: "btn-cell" }, rm));
    row.line = line;
    rows.push(row);
    box.append(line);
    return row;
  };
  const addBtn = el("button", { type: "button", class: "secondary", onclick: () => add().c.input.focus() }, `Add ${title.toLowerCase()}`);
  return {
    node: el("fieldset", { class: "field" }, el("legend", {}, plural), box, addBtn),
    values: () => rows.map((r) => ({ code: r.c.input.value.trim(), poa: r.p ? r.p.select.value : undefined })).filter((r) => r.code),
    set: (list) => { rows.splice(0).forEach((r) => r.line.remove()); list.forEach((x) => add(x.code, x.poa ?? "")); },
    add,
  };
}

function input(label, attrs = {}) {
  const id = "f" + ++uid;
  const i = el("input", { id, ...attrs });
  return { input: i, node: el("div", { class: "field" }, el("label", { for: id }, label), i) };
}

function select(label, options, value) {
  const id = "s" + ++uid;
  const s = el("select", { id }, options.map(([v, t]) => el("option", { value: v, selected: String(v) === String(value) }, t)));
  return { select: s, node: el("div", { class: "field" }, el("label", { for: id }, label), s) };
}

// parsePasted accepts a claim as JSON or as a line of the CMS oracle TSV.
function parsePasted(text) {
  text = text.trim();
  if (text.startsWith("{")) return JSON.parse(text);
  const c = text.split("\t");
  if (c.length < 11) throw new Error("a pasted line needs the 12 tab-separated columns of the claim TSV, or a JSON claim");
  const cp = (s) => { const i = s.lastIndexOf(":"); return i < 0 ? { code: s, poa: "" } : { code: s.slice(0, i), poa: s.slice(i + 1) }; };
  const d = c[10];
  return {
    id: c[0], version: c[1] ? Number(c[1]) : undefined, age: c[2] ? Number(c[2]) : undefined, sex: c[3],
    discharge_status: c[4] ? Number(c[4]) : undefined, hospital_status: c[5] || undefined, pdx: cp(c[6]),
    admit_dx: c[7] ? { code: c[7] } : undefined, sdx: c[8] ? c[8].split(",").map(cp) : [],
    procedures: c[9] ? c[9].split(",").map((x) => ({ code: x })) : [],
    discharge_date: d && d.length === 8 ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : undefined,
    length_of_stay: c[11] ? Number(c[11]) : undefined,
  };
}

export async function render(main) {
  let versions = [];
  try { versions = (await get("/v1/versions")).items || []; } catch { /* the select falls back to by-date */ }
  const vOpts = [["", "by discharge date"], ...versions.map((v) => [v.version, `v${v.name || v.version}`])];

  // The discharge date defaults to today when a loaded version covers it, else to the last day of the
  // newest loaded version; the line under it says which version a date selects.
  const today = new Date().toISOString().slice(0, 10);
  const newest = versions.reduce((a, v) => (!a || v.to > a.to ? v : a), null);
  const date = input("Discharge date", { type: "date", value: newest && today > newest.to ? newest.to : today });
  const applies = el("div", { class: "muted", id: "version-applies", "aria-live": "polite" });
  const showApplies = () => {
    const d = date.input.value;
    const v = versions.find((x) => d >= x.from && d <= x.to);
    applies.textContent = !d ? "" : v ? `Grouper v${v.name} applies (discharges ${v.from} to ${v.to}).`
      : newest && d > newest.to ? `No loaded grouper covers ${d}: the newest is v${newest.name} (to ${newest.to}); choose a version to group with it.` : "";
  };
  date.input.addEventListener("change", showApplies);
  date.node.append(applies);
  showApplies();
  const version = select("Grouper version", vOpts, "");
  const age = input("Age", { type: "number", min: 0, max: 124, value: 70 });
  const sex = select("Sex", [["M", "Male"], ["F", "Female"], ["U", "Unknown"]], "M");
  const status = select("Discharge status", STATUSES, 1);
  const los = input("Length of stay (days)", { type: "number", min: 0, value: 4 });
  const hosp = select("Hospital POA status", [["NON_EXEMPT", "Non-exempt"], ["EXEMPT", "Exempt"], ["UNKNOWN", "Unknown"]], "NON_EXEMPT");
  const pdx = codeInput("dx", "Principal diagnosis");
  const pdxPOA = poaSelect("POA");
  const admit = codeInput("dx", "Admitting diagnosis (optional)");
  const sdx = codeRows("dx", "Secondary diagnosis", "Secondary diagnoses", true, () => pdx.input.value.trim());
  const procs = codeRows("pr", "Procedure", "Procedures", false);
  sdx.add();
  procs.add();
  const paste = el("textarea", { id: "paste", placeholder: "Paste a JSON claim or a line of the claim TSV, then choose Fill" });
  const result = el("div", { id: "result" });
  const formErr = el("div");

  const claim = () => ({
    version: version.select.value ? Number(version.select.value) : undefined,
    discharge_date: date.input.value || undefined,
    length_of_stay: los.input.value === "" ? undefined : Number(los.input.value),
    age: age.input.value === "" ? undefined : Number(age.input.value),
    sex: sex.select.value, discharge_status: Number(status.select.value), hospital_status: hosp.select.value,
    pdx: { code: pdx.input.value.trim(), poa: pdxPOA.select.value },
    admit_dx: admit.input.value.trim() ? { code: admit.input.value.trim() } : undefined,
    sdx: sdx.values(), procedures: procs.values().map((p) => ({ code: p.code })),
  });

  const fill = (c) => {
    if (c.discharge_date) { date.input.value = c.discharge_date; showApplies(); }
    version.select.value = c.version ? String(c.version) : "";
    if (c.age !== undefined) age.input.value = c.age;
    if (c.sex) sex.select.value = c.sex;
    if (c.discharge_status !== undefined) status.select.value = String(c.discharge_status);
    if (c.length_of_stay !== undefined) los.input.value = c.length_of_stay;
    if (c.hospital_status) hosp.select.value = c.hospital_status;
    pdx.input.value = c.pdx ? c.pdx.code : "";
    pdxPOA.select.value = c.pdx && c.pdx.poa !== undefined ? c.pdx.poa : "Y";
    admit.input.value = c.admit_dx ? c.admit_dx.code : "";
    sdx.set(c.sdx || []);
    procs.set(c.procedures || []);
  };

  const groupIt = async (override) => {
    const c = claim();
    if (override) c.version = override;
    return post("/v1/group" + query({ explain: "true", mce: "true" }), c);
  };

  const form = el("form", { class: "card", "aria-label": "Claim" },
    el("h2", {}, "Claim"),
    el("div", { class: "row" }, date.node, version.node),
    el("div", { class: "row" }, age.node, sex.node, los.node),
    el("div", { class: "row" }, status.node, hosp.node),
    el("div", { class: "row field" }, pdx.node, pdxPOA.node),
    el("div", { class: "field" }, admit.node),
    sdx.node, procs.node,
    formErr,
    el("div", { class: "row" }, el("div", { class: "btn-cell" }, el("button", { type: "submit", id: "group-btn" }, "Group"))),
    el("details", { class: "field" }, el("summary", {}, "Paste a claim"),
      el("label", { for: "paste" }, "Claim (JSON or TSV line)"), paste,
      el("button", { type: "button", class: "secondary", onclick: () => {
        clear(formErr);
        try { fill(parsePasted(paste.value)); } catch (e) { formErr.append(errorBox(e)); }
      } }, "Fill")));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    form.querySelectorAll(".suggest ul").forEach((u) => { u.hidden = true; });
    clear(formErr);
    clear(result).append(el("p", { class: "muted" }, "Grouping…"));
    try {
      const r = await groupIt();
      showResult(result, r, versions, groupIt);
    } catch (e) {
      clear(result).append(errorBox(e));
    }
  });

  main.append(el("h1", {}, "Grouping workbench"),
    el("div", { class: "cols" }, form, el("section", { "aria-live": "polite", "aria-label": "Result" }, result)));
  clear(result).append(empty("Enter a claim and choose Group. Codes may be typed with or without the dot."));
  setTimeout(() => pdx.input.focus(), 0);
}

function outcome(o, r) {
  return el("div", {},
    el("div", { class: "drg", id: "final-drg" }, `DRG ${String(o.drg).padStart(3, "0")}`),
    el("div", {}, o.drg_title || ""),
    el("dl", { class: "kv" },
      el("dt", {}, "MDC"), el("dd", {}, `${String(o.mdc).padStart(2, "0")} ${o.mdc_title || ""}`),
      el("dt", {}, "Type"), el("dd", {}, o.type),
      el("dt", {}, "Severity"), el("dd", {}, o.severity),
      el("dt", {}, "Return code"), el("dd", {}, o.grc === "OK" ? el("span", { class: "badge ok" }, "OK") : el("span", { class: "badge bad" }, o.grc)),
      r ? [el("dt", {}, "Relative weight"), el("dd", {}, fmt(r.weight), r.weight_year ? el("span", { class: "muted" }, ` (Table 5 FY${r.weight_year})`) : ""),
        el("dt", {}, "GMLOS / AMLOS"), el("dd", {}, `${fmt(r.gmlos, 1)} / ${fmt(r.amlos, 1)} days`)] : null,
      r && r.payment ? paymentRows(r.payment) : null));
}

// paymentRows shows the transfer adjustment of the grouping record's payment block.
function paymentRows(p) {
  const kind = { acute: "acute transfer", post_acute: "post-acute transfer", none: "not a transfer" }[p.transfer] || p.transfer;
  return [
    el("dt", {}, "Transfer"), el("dd", { id: "payment-transfer" }, kind + (p.setting && p.transfer !== "none" ? ` (${p.setting})` : "")),
    el("dt", {}, "Payment fraction"), el("dd", { id: "payment-fraction" }, fmt(p.fraction, 4),
      p.per_diem_days && p.transfer !== "none" ? el("span", { class: "muted" }, ` (${p.per_diem_days} per-diem days / GMLOS ${fmt(p.gmlos, 1)})`) : ""),
    el("dt", {}, "Adjusted weight"), el("dd", { id: "payment-adjusted" }, fmt(p.adjusted_weight, 4)),
    el("dd", { class: "muted span-all", id: "payment-formula" }, p.formula),
  ];
}

function usageBadge(u) {
  if (u === "MCC") return el("span", { class: "badge mcc" }, "MCC");
  if (u === "CC") return el("span", { class: "badge cc" }, "CC");
  if (u && u.includes("EXCLUDED")) return el("span", { class: "badge warn" }, u.replaceAll("_", " ").toLowerCase());
  return el("span", { class: "muted" }, "—");
}

function showResult(box, r, versions, groupIt) {
  const mceMsgs = (r.mce && r.mce.messages) || [];
  const compareSel = el("select", { id: "compare-version" }, versions.filter((v) => v.version !== r.version)
    .map((v) => el("option", { value: v.version }, `v${v.name || v.version}`)));
  const compareOut = el("div");
  put(clear(box),
    el("div", { class: "card" },
      el("h2", {}, r.initial.drg !== r.final.drg ? "Final DRG (after HAC processing)" : "DRG"),
      outcome(r.final, r),
      r.initial.drg !== r.final.drg ? el("p", {}, `Initial DRG ${r.initial.drg} ${r.initial.drg_title || ""} — changed by hospital-acquired conditions.`) : null,
      el("p", { class: "muted" }, `Grouper v${(r.version / 10).toFixed(1)} · HAC status ${r.hac_status}`),
      versions.length > 1 ? el("div", { class: "row" },
        el("div", {}, el("label", { for: "compare-version" }, "Compare with version"), compareSel),
        el("div", { class: "btn-cell" }, el("button", { type: "button", class: "secondary", onclick: async () => {
          clear(compareOut).append(el("p", { class: "muted" }, "Grouping…"));
          try {
            const o = await groupIt(Number(compareSel.value));
            const same = o.final.drg === r.final.drg;
            clear(compareOut).append(el("p", {}, `v${(o.version / 10).toFixed(1)}: DRG ${o.final.drg} ${o.final.drg_title || ""}`,
              " ", same ? el("span", { class: "badge ok" }, "same DRG") : el("span", { class: "badge warn" }, `differs (weight ${fmt(o.weight)} vs ${fmt(r.weight)})`)));
          } catch (e) { clear(compareOut).append(errorBox(e)); }
        } }, "Compare"))) : null,
      compareOut),
    (r.warnings || []).length ? el("div", { class: "error", id: "grouping-warnings", role: "status" },
      el("strong", {}, "Read before using this DRG"),
      el("ul", {}, r.warnings.map((w) => el("li", {}, w.message)))) : null,
    el("div", { class: "card" }, el("h2", {}, "Diagnoses"),
      table([
        { key: "code", label: "Code", render: (d) => el("strong", {}, d.code || "(none)") },
        { key: "role", label: "Role" },
        { key: "poa", label: "POA" },
        { key: "level", label: "Level as SDX", render: (d) => (!d.recognized ? el("span", { class: "badge bad" }, "invalid") : d.role === "pdx" ? "—" : levelBadge(d.level)) },
        { key: "initial_severity", label: "Counted (initial)", render: (d) => usageBadge(d.initial_severity) },
        { key: "final_severity", label: "Counted (final)", render: (d) => usageBadge(d.final_severity) },
        { key: "pdx_exclusion_group", label: "Excluded by PDX group", render: (d) => (d.pdx_exclusion_group ? String(d.pdx_exclusion_group) : "—") },
        { key: "affects_drg", label: "Affects DRG" },
        { key: "hacs", label: "HAC", render: (d) => (d.hacs && d.hacs !== "[]" ? d.hacs.slice(1, -1) : "—") },
      ], r.dx, { caption: "Diagnoses" })),
    el("div", { class: "card" }, el("h2", {}, "Procedures"),
      table([
        { key: "code", label: "Code", render: (p) => el("strong", {}, p.code) },
        { key: "recognized", label: "Valid", render: (p) => (p.recognized ? "yes" : el("span", { class: "badge bad" }, "invalid")) },
        { key: "is_or", label: "OR", render: (p) => (p.is_or ? "OR" : "non-OR") },
        { key: "affects_drg", label: "Affects DRG" },
      ], r.pr, { empty: "No procedures.", caption: "Procedures" })),
    el("div", { class: "card" }, el("h2", {}, "Medicare Code Editor"),
      r.mce ? (mceMsgs.length ? el("ul", { id: "mce-edits" }, mceMsgs.map((m) => el("li", {}, m.text, " ",
        el("span", { class: "badge " + (m.payment === "POSTPAYMENT" ? "warn" : "bad") }, (m.payment || "").toLowerCase()))))
        : el("p", {}, "No edits.")) : el("p", { class: "muted" }, "Not run.")),
    el("div", { class: "card" }, el("h2", {}, "Explanation"), el("pre", { class: "explain", id: "explanation" }, r.explanation || "")));
}
