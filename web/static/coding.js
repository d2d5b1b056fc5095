// Coding worklist: discharged encounters not yet final, oldest discharge first, with the working
// DRG and weight, open CDI queries and filters (GET /v1/coding/worklist).

import { get, query } from "./api.js";
import { el, errorBox, table, fmt } from "./ui.js";

export async function render(main, params) {
  const q = params.query;
  const field = (id, label, value, attrs = {}) => {
    const i = el("input", { id, value: value || "", ...attrs });
    return { i, node: el("div", {}, el("label", { for: id }, label), i) };
  };
  const facility = field("cw-facility", "Facility", q.facility), payer = field("cw-payer", "Payer", q.payer);
  const line = field("cw-service-line", "Service line", q.service_line), drg = field("cw-drg", "Working DRG", q.drg, { inputmode: "numeric" });
  const from = field("cw-from", "Discharged from", q.discharged_from, { type: "date" }), to = field("cw-to", "Discharged to", q.discharged_to, { type: "date" });
  const open = el("select", { id: "cw-query-open" }, [["", "any"], ["true", "query open"], ["false", "no open query"]]
    .map(([v, t]) => el("option", { value: v, selected: v === (q.query_open || "") }, t)));
  const form = el("form", { class: "card row", "aria-label": "Coding worklist filters" }, facility.node, payer.node, line.node, drg.node, from.node, to.node,
    el("div", {}, el("label", { for: "cw-query-open" }, "CDI query"), open),
    el("div", { class: "btn-cell" }, el("button", { type: "submit" }, "Filter")));
  const out = el("div");
  main.append(el("h1", {}, "Coding worklist"), el("p", { class: "muted" },
    "Discharged, not yet final: oldest discharge first. Open an encounter to review its codes, see the DRG change of each edit, and finalize after the checks."), form, out);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = "#/coding" + query({ facility: facility.i.value.trim(), payer: payer.i.value.trim(), service_line: line.i.value.trim(),
      drg: drg.i.value.trim(), discharged_from: from.i.value, discharged_to: to.i.value, query_open: open.value });
  });
  try {
    const r = await get("/v1/coding/worklist" + query({ facility: q.facility, payer: q.payer, service_line: q.service_line, drg: q.drg,
      discharged_from: q.discharged_from, discharged_to: q.discharged_to, query_open: q.query_open, limit: 200 }));
    out.append(el("p", { class: "muted", id: "cw-total" }, `${r.total} discharge${r.total === 1 ? "" : "s"} to code`), table([
      { key: "discharge_date", label: "Discharged" },
      { key: "days_since_discharge", label: "Days", num: true },
      { key: "account", label: "Account", render: (w) => el("a", { class: "nowrap", href: `#/encounters/${encodeURIComponent(w.encounter_id)}` }, w.account || w.encounter_id) },
      { key: "facility", label: "Facility" },
      { key: "payer", label: "Payer" },
      { key: "service_line", label: "Service line" },
      { key: "attending", label: "Attending", render: (w) => (w.attending_provider ? w.attending_provider.name || w.attending_provider.id : "—") },
      { key: "working_drg", label: "Working DRG", sortValue: (w) => (w.working_drg ? w.working_drg.drg : 0),
        render: (w) => (w.working_drg ? el("span", { title: w.working_drg.title || "" }, String(w.working_drg.drg).padStart(3, "0"), " ", el("span", { class: "muted" }, w.working_drg.title || "")) : el("span", { class: "muted" }, "not grouped")) },
      { key: "weight", label: "Weight", num: true, sortValue: (w) => (w.working_drg ? w.working_drg.weight || 0 : 0), render: (w) => (w.working_drg ? fmt(w.working_drg.weight, 4) : "—") },
      { key: "open_queries", label: "Open queries", num: true, render: (w) => (w.open_queries ? el("span", { class: "badge warn" }, String(w.open_queries)) : "0") },
    ], r.items || [], { empty: "No discharge waiting for final coding matches.", caption: "Coding worklist" }));
  } catch (e) { out.append(errorBox(e)); }
}
