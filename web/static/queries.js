// Query tracking: open, overdue, answered queries; provider and specialist statistics.

import { get, post, query } from "./api.js";
import { el, clear, put, errorBox, table, pct, fmt, toast } from "./ui.js";

const VIEWS = [["open", "Open"], ["overdue", "Overdue"], ["escalated", "Escalated"], ["answered", "Answered"], ["closed", "Closed"], ["draft", "Drafts"]];

export async function render(main, params, ctx) {
  const view = params.query.status || "open";
  const canCDI = ["cdi", "admin"].includes(ctx.user.role);
  const tabs = el("div", { class: "tabs", role: "group", "aria-label": "Query status" }, VIEWS.map(([k, label]) =>
    el("button", { type: "button", "aria-pressed": String(view === k), onclick: () => { location.hash = "#/queries?status=" + k; } }, label)));
  const list = el("div");
  const stats = el("div", { class: "grid" });
  put(main, el("h1", {}, "Provider queries"), tabs,
    canCDI ? el("div", { class: "row" }, el("div", { class: "btn-cell" }, el("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        const r = await post("/v1/queries/escalate-overdue", {});
        toast(`${(r.items || r.escalated || []).length ?? 0} overdue queries escalated`);
        location.reload();
      } catch (e) { list.prepend(errorBox(e)); }
    } }, "Escalate overdue queries"))) : null,
    list, el("h2", {}, "Response and agreement"), stats);
  try {
    const r = await get("/v1/queries" + query({ status: view, limit: 500 }));
    list.append(table([
      { key: "account", label: "Encounter", render: (q) => el("a", { href: `#/encounters/${encodeURIComponent(q.encounter_id)}` }, q.account || q.encounter_id) },
      { key: "condition", label: "Condition" },
      { key: "provider", label: "Provider", sortValue: (q) => (q.provider ? q.provider.name || q.provider.id : ""), render: (q) => (q.provider ? q.provider.name || q.provider.id : "—") },
      { key: "author", label: "Specialist", sortValue: (q) => (q.author ? q.author.id : ""), render: (q) => (q.author ? q.author.name || q.author.id : "—") },
      { key: "state", label: "State", render: (q) => el("span", {}, el("span", { class: "badge " + ({ sent: "warn", answered: "ok", escalated: "bad" }[q.state] || "") }, q.state),
        q.overdue ? [" ", el("span", { class: "badge bad" }, "overdue")] : "") },
      { key: "sent_at", label: "Sent", render: (q) => (q.sent_at ? q.sent_at.replace("T", " ").slice(0, 16) : "—") },
      { key: "answer", label: "Answer", render: (q) => (q.answer ? q.answer.outcome : "—") },
      { key: "effect", label: "DRG change", render: (q) => (q.effect && q.effect.drg_after && q.effect.drg_after !== q.effect.drg_before
        ? `${q.effect.drg_before} → ${q.effect.drg_after}` : "—") },
    ], r.items || [], { empty: `No ${VIEWS.find((v) => v[0] === view)[1].toLowerCase()} queries.`, caption: "Queries" }));
  } catch (e) { list.append(errorBox(e)); }
  if (!canCDI) { stats.append(el("p", { class: "muted" }, "Statistics are shown to CDI staff.")); return; }
  for (const [by, title] of [["provider", "By provider"], ["specialist", "By CDI specialist"]]) {
    const card = el("div", { class: "card" }, el("h3", {}, title));
    stats.append(card);
    try {
      const s = await get("/v1/queries/stats" + query({ by }));
      card.append(table([
        { key: "key", label: by === "provider" ? "Provider" : "Specialist" },
        { key: "sent", label: "Sent", num: true },
        { key: "response_rate", label: "Response rate", num: true, render: (x) => pct(x.response_rate) },
        { key: "agreement_rate", label: "Agreement rate", num: true, render: (x) => pct(x.agreement_rate) },
        { key: "median_response_hours", label: "Median response (h)", num: true, render: (x) => fmt(x.median_response_hours, 1) },
      ], s.items || [], { empty: "No query sent yet.", caption: title }));
    } catch (e) { card.append(errorBox(e)); }
  }
}
