// Finance dashboard: CMI trend, DRG mix, severity capture, CDI impact, CAC acceptance, version
// impact. Every chart has a table view and every case-mix report a CSV export.

import { get, query, download } from "./api.js";
import { el, clear, errorBox, table, fmt, pct, lineChart } from "./ui.js";

export async function render(main, params) {
  const q = params.query;
  const fields = [["from", "Discharged from", "date"], ["to", "through", "date"], ["facility", "Facility"], ["payer", "Payer"],
    ["service_line", "Service line"], ["provider", "Attending provider id"], ["weights_year", "Weights year (optional)", "number"],
    ["base_rate", "Base rate for payment estimate (optional)", "number"]];
  const inputs = {};
  const form = el("form", { class: "card", "aria-label": "Report filters" }, el("div", { class: "row" }, fields.map(([k, label, type]) => {
    inputs[k] = el("input", { id: "f-" + k, type: type || "text", value: q[k] || "", step: type === "number" ? "any" : null });
    return el("div", {}, el("label", { for: "f-" + k }, label), inputs[k]);
  })), el("button", { type: "submit" }, "Apply"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const p = {};
    for (const k of Object.keys(inputs)) p[k] = inputs[k].value.trim();
    location.hash = "#/finance" + query(p);
  });
  const filter = {};
  for (const [k] of fields) if (q[k]) filter[k] = q[k];
  main.append(el("h1", {}, "Case mix and finance"), el("p", { class: "muted" },
    "Final-coded discharges weighed with the IPPS Table 5 of their fiscal year. Payment figures are estimates: relative weight × base rate, without wage index, outlier or transfer adjustments."), form);
  const sections = [cmiSection, mixSection, severitySection, cdiSection, cacSection, versionSection];
  for (const s of sections) {
    const box = el("section", { class: "card" });
    main.append(box);
    s(box, filter).catch((e) => box.append(errorBox(e)));
  }
}

function head(box, title, path, filter, name) {
  box.append(el("div", { class: "row" }, el("h2", {}, title),
    el("div", { class: "btn-cell" }, el("button", { type: "button", class: "secondary", onclick: () => download(path + query(filter), name + ".csv")
      .catch((e) => box.append(errorBox(e))) }, "Export CSV"))));
}

function notes(r) {
  const n = (r.notes || []).filter(Boolean);
  return n.length ? el("ul", { class: "muted" }, n.map((t) => el("li", {}, t))) : el("div");
}

// views toggles between a chart and its table.
function views(chart, tbl) {
  const holder = el("div");
  let mode = "chart";
  const bChart = el("button", { type: "button", "aria-pressed": "true" }, "Chart");
  const bTable = el("button", { type: "button", "aria-pressed": "false" }, "Table");
  const draw = () => {
    bChart.setAttribute("aria-pressed", String(mode === "chart"));
    bTable.setAttribute("aria-pressed", String(mode === "table"));
    clear(holder).append(mode === "chart" ? chart : tbl);
  };
  bChart.onclick = () => { mode = "chart"; draw(); };
  bTable.onclick = () => { mode = "table"; draw(); };
  draw();
  return el("div", {}, el("div", { class: "tabs", role: "group", "aria-label": "View" }, bChart, bTable), holder);
}

async function cmiSection(box, filter) {
  const path = "/v1/reports/cmi";
  head(box, "Case mix index by month", path, { ...filter, by: "month" }, "cmi-by-month");
  const r = await get(path + query({ ...filter, by: "month" }));
  const rows = (r.groups && r.groups[0] && r.groups[0].rows) || [];
  box.append(el("p", {}, "Overall CMI ", el("strong", { id: "cmi-overall" }, fmt(r.overall.cmi, 4)), ` over ${r.overall.discharges} discharges`,
    ` (medical ${fmt(r.overall.medical.cmi, 4)}, surgical ${fmt(r.overall.surgical.cmi, 4)})`,
    "; transfer-adjusted CMI ", el("strong", { id: "cmi-transfer-adjusted" }, fmt(r.overall.transfer_adjusted_cmi, 4)),
    ` over ${fmt(r.overall.transfer_adjusted_cases, 4)} transfer-adjusted cases (${r.overall.transfers} transfers)`,
    r.overall.estimated_payment ? `, expected payment (transfer-adjusted weight × base rate) $${r.overall.estimated_payment.toLocaleString()}` : ""));
  const tbl = table([
    { key: "key", label: "Month" }, { key: "discharges", label: "Discharges", num: true },
    { key: "total_weight", label: "Total weight", num: true, render: (x) => fmt(x.total_weight, 4) },
    { key: "cmi", label: "CMI", num: true, render: (x) => fmt(x.cmi, 4) },
    { key: "transfer_adjusted_cmi", label: "Transfer-adj. CMI", num: true, render: (x) => fmt(x.transfer_adjusted_cmi, 4) },
    { key: "transfer_adjusted_cases", label: "Transfer-adj. cases", num: true, render: (x) => fmt(x.transfer_adjusted_cases, 4) },
    { key: "med", label: "Medical CMI", num: true, sortValue: (x) => x.medical.cmi, render: (x) => fmt(x.medical.cmi, 4) },
    { key: "surg", label: "Surgical CMI", num: true, sortValue: (x) => x.surgical.cmi, render: (x) => fmt(x.surgical.cmi, 4) },
  ], rows, { empty: "No final-coded discharges in the period.", caption: "CMI by month" });
  box.append(rows.length ? views(el("div", { id: "cmi-chart" }, lineChart(rows.map((x) => ({ label: x.key, value: x.cmi })), { title: "CMI by month", format: (v) => v.toFixed(3) })), tbl) : tbl, notes(r));
}

async function mixSection(box, filter) {
  const path = "/v1/reports/drg-mix";
  head(box, "DRG mix", path, { ...filter, top: 10 }, "drg-mix");
  const r = await get(path + query({ ...filter, top: 10 }));
  const cols = [
    { key: "drg", label: "DRG", render: (x) => el("span", { title: x.title || "" }, String(x.drg).padStart(3, "0"), " ", el("span", { class: "muted" }, x.title || "")) },
    { key: "discharges", label: "Discharges", num: true }, { key: "share", label: "Share", num: true, render: (x) => pct(x.share) },
    { key: "total_weight", label: "Total weight", num: true, render: (x) => fmt(x.total_weight, 4) },
    { key: "discharge_change", label: "Change vs prior", num: true, render: (x) => `${x.discharge_change >= 0 ? "+" : ""}${x.discharge_change}` },
  ];
  box.append(el("div", { class: "grid" },
    el("div", {}, el("h3", {}, "Top by volume"), table(cols, r.by_volume || [], { empty: "No discharges.", caption: "Top DRGs by volume" })),
    el("div", {}, el("h3", {}, "Top by total weight"), table(cols, r.by_weight || [], { empty: "No discharges.", caption: "Top DRGs by weight" }))), notes(r));
}

async function severitySection(box, filter) {
  const path = "/v1/reports/severity";
  head(box, "Severity capture", path, filter, "severity");
  const r = await get(path + query(filter));
  box.append(el("p", {}, `CC/MCC capture ${pct(r.cc_mcc_capture_rate)}, MCC capture ${pct(r.mcc_capture_rate)} over ${r.discharges} discharges in families with severity splits.`),
    table([
      { key: "base_drg", label: "Family", render: (f) => el("span", {}, String(f.base_drg).padStart(3, "0"), " ", el("span", { class: "muted" }, f.title || "")) },
      { key: "discharges", label: "Discharges", num: true },
      { key: "levels", label: "Share by level", noSort: true, render: (f) => (f.levels || []).map((l) => `${l.level} ${f.discharges ? pct(l.discharges / f.discharges) : "—"}`).join(" · ") },
    ], r.families || [], { empty: "No discharges in families with severity splits.", caption: "Severity by family" }), notes(r));
}

async function cdiSection(box, filter) {
  const path = "/v1/reports/cdi-impact";
  head(box, "CDI impact", path, filter, "cdi-impact");
  const r = await get(path + query(filter));
  box.append(el("dl", { class: "kv" },
    el("dt", {}, "Encounters"), el("dd", {}, `${r.encounters} (${r.with_answered_queries} with answered queries)`),
    el("dt", {}, "CMI baseline → working → final"), el("dd", {}, `${fmt(r.baseline_cmi, 4)} → ${fmt(r.working_cmi, 4)} → ${fmt(r.final_cmi, 4)}`),
    el("dt", {}, "Weight change from CDI"), el("dd", {}, fmt(r.cdi_impact, 4)),
    el("dt", {}, "Attributed to queries"), el("dd", {}, `${fmt(r.attributed_impact, 4)} (mean ${fmt(r.mean_impact_per_answered_query, 4)} per answered query)`)), notes(r));
  const by = [["by_specialist", "By CDI specialist"], ["by_provider", "By provider"]];
  for (const [k, title] of by) {
    if (!r[k]) continue;
    box.append(el("h3", {}, title), table([
      { key: "key", label: title.replace("By ", "") }, { key: "encounters", label: "Encounters", num: true },
      { key: "answered_queries", label: "Answered queries", num: true },
      { key: "weight_impact", label: "Attributed weight", num: true, render: (x) => fmt(x.weight_impact, 4) },
      ...(r.base_rate ? [{ key: "estimated_payment", label: "Estimated payment", num: true, render: (x) => fmt(x.estimated_payment, 0) }] : []),
    ], r[k], { empty: "None.", caption: title }));
  }
}

// cacSection: where coders accept and reject the computer-assisted coding suggestions (the
// from/to of the filter bound the decision dates).
async function cacSection(box, filter) {
  const p = {};
  if (filter.from) p.from = filter.from;
  if (filter.to) p.to = filter.to;
  box.append(el("h2", {}, "Computer-assisted coding: acceptance"),
    el("p", { class: "muted" }, "Coders' accept and reject decisions on the suggestions made from the notes, decided in the period; a high rejection rate shows where the suggestions are wrong."));
  const r = await get("/v1/reports/cac" + query(p));
  box.append(el("p", { id: "cac-total" }, `${r.total.decisions} decisions: ${r.total.accepted} accepted (${r.total.decisions ? pct(r.total.acceptance_rate) : "—"}), ` +
    `${r.total.rejected} rejected (${r.total.decisions ? pct(r.total.rejection_rate) : "—"}).`));
  const cols = (label) => [
    { key: "key", label, render: (x) => el("span", { title: x.title || "" }, x.key || "(none)", x.title ? el("span", { class: "muted" }, " " + x.title) : "") },
    { key: "decisions", label: "Decisions", num: true }, { key: "accepted", label: "Accepted", num: true },
    { key: "acceptance_rate", label: "Acceptance", num: true, render: (x) => pct(x.acceptance_rate) },
    { key: "rejected", label: "Rejected", num: true }, { key: "rejection_rate", label: "Rejection", num: true, render: (x) => pct(x.rejection_rate) },
  ];
  box.append(el("div", { class: "grid" },
    el("div", {}, el("h3", {}, "By chapter"), table(cols("Chapter"), r.by_chapter || [], { empty: "No decisions.", caption: "CAC decisions by chapter" })),
    el("div", {}, el("h3", {}, "By note type"), table(cols("Note type"), r.by_note_type || [], { empty: "No decisions.", caption: "CAC decisions by note type" }))),
  el("h3", {}, "By category"), table(cols("Category"), r.by_category || [], { empty: "No decisions.", caption: "CAC decisions by category" }));
}

async function versionSection(box, filter) {
  let versions = [];
  try { versions = (await get("/v1/versions")).items || []; } catch { /* defaults */ }
  const names = versions.map((v) => v.name);
  const from = el("select", { id: "vi-from" }, names.map((n, i) => el("option", { value: n, selected: i === names.length - 2 }, `v${n}`)));
  const to = el("select", { id: "vi-to" }, names.map((n, i) => el("option", { value: n, selected: i === names.length - 1 }, `v${n}`)));
  const out = el("div");
  const run = async () => {
    clear(out).append(el("p", { class: "muted" }, "Regrouping…"));
    try {
      const p = { ...filter, from_version: from.value, to_version: to.value };
      const r = await get("/v1/reports/version-impact" + query(p));
      clear(out).append(el("p", {}, `${r.changed} of ${r.discharges} discharges change DRG (${pct(r.changed_share)}); CMI ${fmt(r.from.cmi, 4)} → ${fmt(r.to.cmi, 4)} `,
        el("strong", {}, `(${r.cmi_change >= 0 ? "+" : ""}${fmt(r.cmi_change, 4)})`), ` with FY${r.weights_year} weights.`),
      table([
        { key: "from_drg", label: `v${r.from_version}`, render: (x) => `${String(x.from_drg).padStart(3, "0")} ${x.from_title || ""}` },
        { key: "to_drg", label: `v${r.to_version}`, render: (x) => `${String(x.to_drg).padStart(3, "0")} ${x.to_title || ""}` },
        { key: "discharges", label: "Discharges", num: true },
        { key: "weight_change", label: "Weight change", num: true, render: (x) => fmt(x.weight_change, 4) },
      ], r.shifts || [], { empty: "No DRG changes between the two versions.", caption: "DRG shifts" }), notes(r),
      el("button", { type: "button", class: "secondary", onclick: () => download("/v1/reports/version-impact" + query(p), "version-impact.csv") }, "Export CSV"));
    } catch (e) { clear(out).append(errorBox(e)); }
  };
  box.append(el("h2", {}, "Version impact"), el("p", { class: "muted" }, "Regroups the final-coded discharges under two grouper versions with one weight year."),
    el("div", { class: "row" }, el("div", {}, el("label", { for: "vi-from" }, "From version"), from), el("div", {}, el("label", { for: "vi-to" }, "To version"), to),
      el("div", { class: "btn-cell" }, el("button", { type: "button", onclick: run }, "Compare"))), out);
}
