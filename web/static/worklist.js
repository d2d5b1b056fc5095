// CDI worklist: open encounters ranked by priority, with filters.

import { get, query } from "./api.js";
import { el, clear, errorBox, table, fmt } from "./ui.js";

const STATUSES = [["", "any"], ["not_reviewed", "not reviewed"], ["opportunities", "has opportunity"], ["query_open", "query open"],
  ["answered", "answered"], ["escalated", "escalated"], ["no_opportunity", "no opportunity"]];

export async function render(main, params) {
  const q = params.query;
  const field = (id, label, value) => {
    const i = el("input", { id, value: value || "" });
    return { i, node: el("div", {}, el("label", { for: id }, label), i) };
  };
  const unit = field("wl-unit", "Unit", q.unit), payer = field("wl-payer", "Payer", q.payer);
  const provider = field("wl-provider", "Attending provider id", q.provider), condition = field("wl-condition", "Condition", q.condition);
  const status = el("select", { id: "wl-status" }, STATUSES.map(([v, t]) => el("option", { value: v, selected: v === (q.status || "") }, t)));
  const risk = el("select", { id: "wl-risk" }, [["", "any"], ["single_cc_mcc", "single CC/MCC"], ["audited_pdx", "audited PDX"],
    ["short_stay_surgical", "short surgical stay"], ["mce_postpayment", "MCE post-payment"]].map(([v, t]) => el("option", { value: v, selected: v === (q.risk || "") }, t)));
  const form = el("form", { class: "card row", "aria-label": "Worklist filters" }, unit.node, payer.node, provider.node, condition.node,
    el("div", {}, el("label", { for: "wl-status" }, "Status"), status),
    el("div", {}, el("label", { for: "wl-risk" }, "Denial risk"), risk),
    el("div", { class: "btn-cell" }, el("button", { type: "submit" }, "Filter")));
  const out = el("div");
  main.append(el("h1", {}, "CDI worklist"), el("p", { class: "muted" },
    "Encounters not yet final, highest priority first (impact × evidence strength, days since admission, open queries)."), form, out);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = "#/worklist" + query({ unit: unit.i.value.trim(), payer: payer.i.value.trim(), provider: provider.i.value.trim(),
      condition: condition.i.value.trim(), status: status.value, risk: risk.value });
  });
  try {
    const r = await get("/v1/worklist" + query({ unit: q.unit, payer: q.payer, provider: q.provider, condition: q.condition, status: q.status, risk: q.risk, limit: 200 }));
    out.append(table([
      { key: "priority", label: "Priority", num: true, render: (w) => fmt(w.priority, 2) },
      { key: "account", label: "Account", render: (w) => el("a", { href: `#/encounters/${encodeURIComponent(w.encounter_id)}` }, w.account || w.encounter_id) },
      { key: "unit", label: "Unit" },
      { key: "payer", label: "Payer" },
      { key: "provider", label: "Attending" },
      { key: "days_since_admission", label: "Days", num: true },
      { key: "working_drg", label: "Working DRG", sortValue: (w) => w.working_drg || 0,
        render: (w) => (w.working_drg ? el("span", { title: w.working_title || "" }, `${String(w.working_drg).padStart(3, "0")} `, el("span", { class: "muted" }, fmt(w.working_weight))) : "—") },
      { key: "top", label: "Top opportunity", sortValue: (w) => (w.top_opportunity ? w.top_opportunity.weight_delta : -1),
        render: (w) => (w.top_opportunity ? el("span", {}, w.top_opportunity.condition, " ",
          w.top_opportunity.weight_delta > 0 ? el("span", { class: "badge ok" }, `+${fmt(w.top_opportunity.weight_delta, 4)}`)
            : el("span", { class: "badge", title: w.top_opportunity.no_impact || "" }, "no DRG impact")) : el("span", { class: "muted" }, statusText(w.status))) },
      { key: "open_queries", label: "Queries", num: true, render: (w) => `${w.open_queries}${w.escalated_queries ? ` (${w.escalated_queries} escalated)` : ""}` },
      { key: "risk", label: "Denial risk", noSort: true, render: (w) => riskBadges(w.risk_flags, w.unsupported_diagnoses) },
    ], r.items || [], { empty: "No encounters match. Encounters appear here once created (POST /v1/encounters) and stay until coding is final.", caption: "Worklist" }));
  } catch (e) { out.append(errorBox(e)); }
}

function statusText(s) {
  return { not_reviewed: "not reviewed yet", no_opportunity: "no opportunity", opportunities: "has opportunity", query_open: "query open",
    answered: "answered", escalated: "escalated" }[s] || s || "—";
}

export function riskBadges(flags, unsupported) {
  const out = (flags || []).map((f) => el("span", { class: "badge warn", title: f.reason }, f.kind.replaceAll("_", " ")));
  if (unsupported) out.push(el("span", { class: "badge bad", title: "coded diagnoses without clinical support" }, `${unsupported} unsupported`));
  return out.length ? el("span", {}, out.flatMap((b) => [b, " "])) : "—";
}
