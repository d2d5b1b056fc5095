// Encounter review: DRGs, the CAC workbench (cac.js), codes, evidence timeline, opportunities with indicators and impact,
// clinical validation, denial risk, and the query composer with live compliance lint.

import { get, post, patch, query, etag, etagOf } from "./api.js";
import { codesEditor, whatIf, finalizePanel } from "./coding_encounter.js";
import { el, clear, errorBox, table, fmt, levelBadge, empty, toast } from "./ui.js";
import { riskBadges } from "./worklist.js";
import { workbench } from "./cac.js";

const KINDS = ["lab", "vital", "med", "order", "note", "documented_dx", "measurement"];

export async function render(main, params, ctx) {
  const id = params.id;
  const canCDI = ["cdi", "admin"].includes(ctx.user.role);
  let enc = await get(`/v1/encounters/${encodeURIComponent(id)}`);
  let rev = null;
  try { rev = await get(`/v1/encounters/${encodeURIComponent(id)}/review`); } catch (e) { if (e.status !== 404) throw e; }

  const head = el("div");
  const left = el("div");
  const right = el("div");
  const composer = el("section", { class: "card", id: "composer", "aria-label": "Query composer" });
  const history = el("section", { class: "card", "aria-label": "Queries" });

  const canFinalize = ["coder", "admin"].includes(ctx.user.role);
  const whatIfBox = el("div", { id: "whatif", "aria-live": "polite" });
  const finalizeBox = el("section", { id: "finalize", "aria-label": "Finalize" });
  let previous = null; // the working DRG before the last change
  const drawHead = () => {
    clear(head).append(
      el("h1", {}, `Encounter ${enc.account || enc.id}`),
      el("p", { class: "muted" }, [enc.unit && `Unit ${enc.unit}`, enc.payer, enc.attending_provider && `Attending ${enc.attending_provider.name || enc.attending_provider.id}`,
        enc.admit_date && `admitted ${enc.admit_date}`, enc.discharge_date ? `discharged ${enc.discharge_date}` : "in house", `status ${enc.status}`].filter(Boolean).join(" · ")),
      el("div", { class: "grid" }, ["baseline_drg", "working_drg", "final_drg"].map((k) => drgCard(k, enc[k]))),
      el("div", { class: "row" },
        canCDI ? el("div", { class: "btn-cell" }, el("button", { type: "button", id: "review-btn", onclick: review }, rev ? "Review again" : "Review now")) : null,
        el("div", { class: "btn-cell" }, el("button", { type: "button", class: "secondary", onclick: regroup }, "Group working codes")),
        canFinalize && enc.status !== "open" ? el("div", { class: "btn-cell" }, el("button", { type: "button", id: "finalize-btn", onclick: openFinalize },
          enc.status === "final" ? "Finalize again…" : "Finalize…")) : null),
      whatIfBox, finalizeBox);
    clear(whatIfBox).append(whatIf(previous, enc.working_drg, enc.baseline_drg));
  };
  const openFinalize = () => finalizePanel(finalizeBox, enc, async (r) => {
    enc = r.encounter;
    previous = null;
    drawAll();
    toast(`Finalized: DRG ${String(enc.final_drg.drg).padStart(3, "0")}`);
  });
  // changeCodes stores a code change (If-Match: the version read) and regroups; the what-if
  // line compares the new working DRG with the previous one and with the baseline.
  const changeCodes = async (patchBody) => {
    const before = enc.working_drg;
    enc = await patch(`/v1/encounters/${encodeURIComponent(id)}`, patchBody, { headers: { "If-Match": `"${enc.row_version}"` } });
    const g = await post(`/v1/encounters/${encodeURIComponent(id)}/group`, {}, { headers: { "If-Match": `"${enc.row_version}"` } });
    enc = g.encounter;
    previous = before || null;
    drawHead();
    clear(left).append(codesEditor(enc, changeCodes, canEdit), timeline(enc.evidence || []));
    toast("Regrouped");
  };
  const canEdit = ["coder", "cdi", "admin"].includes(ctx.user.role);

  const review = async () => {
    try {
      rev = await post(`/v1/encounters/${encodeURIComponent(id)}/review`, {});
      enc = await get(`/v1/encounters/${encodeURIComponent(id)}`);
      drawAll();
      toast("Reviewed");
    } catch (e) { clear(right).append(errorBox(e)); }
  };
  const regroup = async () => {
    try {
      const before = enc.working_drg;
      await post(`/v1/encounters/${encodeURIComponent(id)}/group`, {}, { headers: { "If-Match": `"${enc.row_version}"` } });
      enc = await get(`/v1/encounters/${encodeURIComponent(id)}`);
      previous = before || null;
      drawHead();
      toast("Grouped");
    } catch (e) { clear(right).prepend(errorBox(e)); }
  };

  const drawAll = () => {
    drawHead();
    clear(left).append(codesEditor(enc, changeCodes, canEdit), timeline(enc.evidence || []));
    clear(right);
    if (!rev) {
      right.append(empty(canCDI ? "Not reviewed yet: choose Review now to find documentation opportunities." : "Not reviewed yet."));
    } else {
      if (rev.stale) right.append(el("p", { class: "error" }, "The encounter changed since this review; review again to refresh."));
      right.append(opportunitiesCard(rev, canCDI, draft), hintsCard(rev.review && rev.review.hints), validationCard(rev.validation), riskCard(rev.risk_flags));
    }
    loadHistory();
  };

  const draft = async (opp) => {
    try {
      const r = await post(`/v1/encounters/${encodeURIComponent(id)}/queries`, { opportunity_id: opp.id });
      openComposer(r.query, r.lint, etagOf(r));
      loadHistory();
    } catch (e) { clear(composer).append(errorBox(e)); composer.scrollIntoView(); }
  };

  const loadHistory = async () => {
    try {
      const r = await get("/v1/queries" + query({ encounter: id, limit: 100 }));
      clear(history).append(el("h2", {}, "Queries"), table([
        { key: "condition", label: "Condition" },
        { key: "version", label: "Version", num: true },
        { key: "state", label: "State", render: (q) => stateBadge(q) },
        { key: "created_at", label: "Created", render: (q) => (q.created_at || "").slice(0, 16).replace("T", " ") },
        { key: "answer", label: "Answer", render: (q) => (q.answer ? `${q.answer.outcome}${q.answer.text ? ": " + q.answer.text : ""}` : "—") },
        { key: "effect", label: "Effect", render: (q) => effectText(q.effect) },
        { key: "open", label: "", noSort: true, render: (q) => el("button", { type: "button", class: "link", onclick: async () => {
          const full = await get(`/v1/queries/${encodeURIComponent(q.id)}`);
          openComposer(full.query || full, null, etagOf(full));
        } }, "open") },
      ], r.items || [], { empty: "No queries yet.", caption: "Queries of this encounter" }));
    } catch (e) { clear(history).append(errorBox(e)); }
  };

  const openComposer = (q, lint, tag) => { drawComposer(composer, q, lint, tag, canCDI, async () => {
    enc = await get(`/v1/encounters/${encodeURIComponent(id)}`);
    try { rev = await get(`/v1/encounters/${encodeURIComponent(id)}/review`); } catch { /* keep */ }
    drawAll();
  }); composer.scrollIntoView(); };

  const cacBox = el("div");
  const drawCAC = () => clear(cacBox).append(workbench(enc, async () => {
    const before = enc.working_drg;
    enc = await get(`/v1/encounters/${encodeURIComponent(id)}`);
    if (before && enc.working_drg && before.drg !== enc.working_drg.drg) previous = before;
    drawHead();
    clear(left).append(codesEditor(enc, changeCodes, canEdit), timeline(enc.evidence || []));
  }, () => etag(enc.row_version)));
  main.append(head, cacBox, el("div", { class: "cols" }, left, el("div", {}, right, composer, history)));
  drawCAC();
  clear(composer).append(el("h2", {}, "Query composer"), el("p", { class: "muted" }, "Draft a query from an opportunity to edit, lint and send it."));
  drawAll();
}

function drgCard(kind, d) {
  const label = { baseline_drg: "Baseline DRG", working_drg: "Working DRG", final_drg: "Final DRG" }[kind];
  return el("div", { class: "card" }, el("h3", {}, label),
    d ? el("div", {}, el("div", { class: "drg", id: kind.replace("_", "-") }, `DRG ${String(d.drg).padStart(3, "0")}`), el("div", {}, d.title || ""),
      el("div", { class: "muted" }, `weight ${fmt(d.weight)} · ${d.severity} · v${(d.version / 10).toFixed(1)}`)) : el("div", { class: "muted" }, "—"));
}

function timeline(evidence) {
  const box = el("div", { class: "card" });
  const active = new Set(KINDS);
  const list = el("ol", { class: "timeline", id: "timeline" });
  const draw = () => {
    clear(list);
    const items = evidence.map((e, i) => ({ ...e, i })).filter((e) => active.has(e.kind))
      .sort((a, b) => String(a.time || "").localeCompare(String(b.time || "")));
    if (!items.length) { list.append(el("li", { class: "muted" }, "No evidence of the selected kinds.")); return; }
    for (const e of items) {
      list.append(el("li", { class: e.kind },
        el("div", { class: "muted" }, `${(e.time || "").replace("T", " ").slice(0, 16)} · ${e.kind.replace("_", " ")}${e.source ? " · " + e.source : ""}${e.author_role ? " · " + e.author_role : ""}`),
        el("div", {}, describe(e))));
    }
  };
  const toggles = el("div", { class: "row", role: "group", "aria-label": "Evidence kinds" }, KINDS.map((k) => {
    const id = "ev-" + k;
    const cb = el("input", { type: "checkbox", id, checked: true, onchange: () => { cb.checked ? active.add(k) : active.delete(k); draw(); } });
    cb.style && (cb.style.width = "auto");
    return el("label", { for: id, class: "btn-cell" }, cb, " ", k.replace("_", " "));
  }));
  draw();
  return box.append(el("h2", {}, `Evidence (${evidence.length})`), toggles, list), box;
}

function describe(e) {
  switch (e.kind) {
    case "lab": case "vital": case "measurement":
      return `${e.name || ""}: ${e.value ?? ""} ${e.unit || ""}${e.reference_range ? ` (ref ${e.reference_range})` : ""}${e.context ? ` — ${e.context}` : ""}`;
    case "med": return `${e.name || ""} ${e.dose || ""} ${e.route || ""}`;
    case "order": return e.name || "";
    case "documented_dx": return `Documented ${e.code || ""}${e.note_type ? " in " + e.note_type : ""}`;
    case "note": return `${e.note_type ? e.note_type + ": " : ""}${e.text || ""}`;
  }
  return e.name || e.text || "";
}

function opportunitiesCard(rev, canCDI, draft) {
  const opps = (rev.review && rev.review.opportunities) || [];
  const card = el("section", { class: "card", "aria-label": "Opportunities" }, el("h2", {}, `Opportunities (${opps.length})`));
  const w = rev.review && rev.review.working;
  if (w) card.append(el("p", { class: "muted" }, `Working DRG ${w.drg} ${w.title || ""} (weight ${fmt(w.weight)})`));
  if (!opps.length) card.append(empty("No documentation opportunity: the record and the documentation agree."));
  for (const o of opps) {
    const im = o.impact || {};
    card.append(el("article", { class: "card opportunity", "data-id": o.id },
      el("h3", {}, o.condition, " ", el("span", { class: "badge" }, o.kind.replace("_", " "))),
      el("div", {}, (o.candidates || []).map((c) => el("span", {}, el("strong", {}, c.code), " ", c.title || "", " ", levelBadge(c.level), " "))),
      el("div", { class: "muted" }, `evidence strength ${fmt(o.strength, 2)}`),
      el("ul", {}, (o.indicators || []).map((i) => el("li", {}, citeText(i)))),
      optionsEvidence(o),
      el("p", {}, im.drg_after && im.drg_after !== im.drg_before
        ? [`Impact: DRG ${im.drg_before} → ${im.drg_after} (${im.title_after || ""}), weight `, el("strong", {}, `${im.weight_delta >= 0 ? "+" : ""}${fmt(im.weight_delta, 4)}`),
          (im.hcc_gained || []).length ? `, HCC ${im.hcc_gained.map((h) => h.hcc).join(", ")} gained` : ""]
        : `No DRG impact${im.no_impact ? ": " + im.no_impact : ""}${(im.hcc_gained || []).length ? ` (HCC ${im.hcc_gained.map((h) => h.hcc).join(", ")} gained)` : ""}`),
      o.validation ? el("p", { class: "validation-evidence" }, el("span", { class: "badge " + (o.validation === "no_evidence" ? "warn" : "bad") }, validationText[o.validation] || o.validation)) : null,
      el("details", {}, el("summary", {}, "Why"), el("p", {}, o.explain || "")),
      canCDI && (o.query || {}).format ? el("button", { type: "button", class: "draft-query", onclick: () => draft(o) }, "Draft query")
        : canCDI ? el("p", { class: "muted no-query" }, "No query: nothing in the record to cite.") : null));
  }
  return card;
}

// citeText renders a cited fact: what, its value, source and time.
function citeText(i) {
  const value = i.value ?? "";
  return el("span", {}, `${i.label || i.name}: ${i.name && i.label && i.name !== i.label ? i.name + " " : ""}${value} ${i.unit || ""}`,
    el("span", { class: "muted" }, ` — ${i.source || ""}${i.time ? ", " + i.time.replace("T", " ").slice(0, 16) : ""}${i.detail ? " (" + i.detail + ")" : ""}`));
}

// optionsEvidence lists the options the query would offer, each with the evidence that supports
// it: an option is offered only with clinical indicators of its own (or when documented already).
function optionsEvidence(o) {
  const plan = o.query || {};
  const opts = plan.options || [];
  if (!opts.length) {
    return plan.format === "open_ended" ? el("p", { class: "muted options-evidence" }, "Open-ended query: no option has evidence of its own.") : el("div");
  }
  return el("details", { class: "options-evidence", open: true }, el("summary", {}, `Query options and their evidence (${opts.length})`),
    el("ul", {}, opts.map((op) => el("li", { class: "option", "data-option": op.text },
      el("strong", {}, op.text),
      op.documented ? el("span", { class: "badge" }, " documented") : null,
      op.kind && op.kind !== "diagnosis" ? el("span", { class: "badge" }, ` ${op.kind.replace("_", " ")}`) : null,
      (op.indicators || []).length
        ? el("ul", { class: "evidence" }, op.indicators.map((k) => el("li", {}, citeText((o.indicators || [])[k] || {}))))
        : el("div", { class: "muted" }, op.documented ? "already in the record" : "no evidence")))));
}

// hintsCard lists the coder hints: documented codes whose category holds more specific codes.
// They are not opportunities and lead to no query without evidence.
function hintsCard(hints) {
  if (!(hints || []).length) return el("div");
  return el("section", { class: "card", "aria-label": "Coder hints" }, el("h2", {}, "Coder hints"),
    el("p", { class: "muted" }, "More specific codes exist; code from the documentation. No query is drawn from the code tables alone."),
    el("ul", {}, hints.map((h) => el("li", {}, el("strong", {}, h.code), ` ${h.title || ""} — ${h.count} more specific code${h.count === 1 ? "" : "s"}: `,
      (h.more_specific || []).map((c) => c.code).join(", ")))));
}

// validationText says what the record holds against the criteria of an unsupported diagnosis.
const validationText = {
  contradicted: "contradicted: values in the record are against the criteria",
  insufficient: "insufficient: part of the criteria met, the rest not in the record",
  no_evidence: "no evidence available: the record holds none of the data the criteria need",
};

function validationCard(v) {
  if (!v || !(v.findings || []).length) return el("div");
  return el("section", { class: "card", "aria-label": "Clinical validation" }, el("h2", {}, "Clinical validation of coded diagnoses"), table([
    { key: "code", label: "Code", render: (f) => el("span", {}, el("strong", {}, f.code), " ", f.title || "") },
    { key: "role", label: "Role" },
    { key: "status", label: "Support", render: (f) => el("span", {}, el("span", { class: "badge " + ({ supported: "ok", unsupported: "bad" }[f.status] || "") }, f.status.replace("_", " ")),
      f.evidence ? el("div", { class: "muted validation-evidence" }, validationText[f.evidence] || f.evidence) : null) },
    { key: "explain", label: "Indicators", noSort: true, render: (f) => [f.explain || "",
      (f.contradicting || []).length ? el("div", { class: "muted" }, "against: " + f.contradicting.map((i) => `${i.label} (${(i.facts || []).join("; ")})`).join(", ")) : null,
      (f.missing || []).length ? el("div", { class: "muted" }, "not in the record: " + f.missing.map((i) => i.label || i.id).join(", ")) : null,
      f.no_query ? el("div", { class: "muted" }, "no query: " + f.no_query) : null] },
    { key: "drg_without", label: "DRG without it", render: (f) => (f.depends ? `${f.drg_without} (${fmt(f.weight_delta, 4)})` : "same DRG") },
  ], v.findings, { caption: "Clinical validation" }));
}

function riskCard(flags) {
  return el("section", { class: "card", "aria-label": "Denial risk" }, el("h2", {}, "Denial risk"),
    (flags || []).length ? el("ul", {}, flags.map((f) => el("li", {}, el("strong", {}, f.kind.replaceAll("_", " ")), ": ", f.reason))) : el("p", {}, "No denial-risk flag."));
}

function stateBadge(q) {
  const cls = { draft: "", sent: "warn", answered: "ok", escalated: "bad", closed: "" }[q.state] || "";
  return el("span", {}, el("span", { class: "badge " + cls }, q.state), q.overdue ? el("span", { class: "badge bad" }, " overdue") : "");
}

function effectText(e) {
  if (!e) return "—";
  if (e.drg_after && e.drg_after !== e.drg_before) return `DRG ${e.drg_before} → ${e.drg_after} (${e.weight_delta >= 0 ? "+" : ""}${fmt(e.weight_delta, 4)})`;
  return e.note || "no DRG change";
}

// drawComposer shows a query: editable while a draft, linted live; sent queries can be answered.
// tag is the query's ETag as read: changes send it (If-Match), so an edit made meanwhile by
// someone else is not overwritten (412: reopen the query).
function drawComposer(box, q, lint, tag, canCDI, refresh) {
  clear(box).append(el("h2", {}, `Query: ${q.condition} (version ${q.version}, ${q.state})`));
  const editable = canCDI && q.state === "draft";
  const intro = el("textarea", { id: "q-intro", readonly: !editable }, q.intro || "");
  const question = el("textarea", { id: "q-question", readonly: !editable }, q.question || "");
  const options = (q.options || []).map((o, i) => el("input", { id: `q-opt-${i}`, value: o.text, readonly: !editable, "aria-label": `Option ${i + 1}` }));
  const optionEvidence = (o) => (o.indicators || []).length
    ? el("ul", { class: "evidence" }, o.indicators.map((k) => el("li", {}, citeText((q.indicators || [])[k] || {}))))
    : el("div", { class: "muted" }, o.kind === "diagnosis" && !o.documented ? "no evidence" : "");
  const lintBox = el("div", { id: "lint", "aria-live": "polite" });
  const sendBtn = el("button", { type: "button", id: "send-btn", disabled: true }, "Send to provider");
  const content = () => ({
    intro: intro.value, question: question.value,
    options: (q.options || []).map((o, i) => ({ ...o, text: options[i].value })),
  });
  const showLint = (r) => {
    clear(lintBox);
    if (!r) return;
    if (r.ok) { lintBox.append(el("p", { class: "badge ok", id: "lint-ok" }, "Compliant with Q1–Q12")); sendBtn.disabled = !editable; return; }
    sendBtn.disabled = true;
    lintBox.append(el("ul", { class: "lint" }, (r.violations || []).map((v) => el("li", {}, el("strong", {}, v.rule), " ", v.message))));
  };
  let timer;
  const relint = () => {
    clearTimeout(timer);
    sendBtn.disabled = true;
    timer = setTimeout(async () => {
      try {
        showLint(await post("/v1/queries/lint", { query_id: q.id, format: q.format, purpose: q.purpose, reason: q.reason, reason_text: q.reason_text,
          indicators: q.indicators, channel: q.channel, provider: q.provider, ...content() }));
      } catch (e) { clear(lintBox).append(errorBox(e)); }
    }, 250);
  };
  if (editable) [intro, question, ...options].forEach((i) => i.addEventListener("input", relint));
  sendBtn.addEventListener("click", async () => {
    try {
      const edited = await patch(`/v1/queries/${encodeURIComponent(q.id)}`, content(), tag);
      const sent = await post(`/v1/queries/${encodeURIComponent(q.id)}/send`, {}, etagOf(edited));
      toast("Query sent");
      drawComposer(box, sent.query || sent, null, etagOf(sent), canCDI, refresh);
      refresh();
    } catch (e) { lintBox.prepend(errorBox(e)); }
  });
  box.append(
    el("p", { class: "muted" }, `${q.format.replace("_", " ")} · purpose ${q.purpose.replace("_", " ")} · to ${q.provider ? q.provider.name || q.provider.id : "the attending"}`),
    el("div", { class: "field" }, el("label", { for: "q-intro" }, "Introduction"), intro),
    el("h3", {}, "Clinical indicators cited"),
    el("ul", {}, (q.indicators || []).map((i) => el("li", {}, citeText(i)))),
    el("div", { class: "field" }, el("label", { for: "q-question" }, "Question"), question),
    options.length ? el("fieldset", { class: "field" }, el("legend", {}, "Options and the evidence each cites"),
      options.map((o, i) => el("div", { class: "field composer-option" }, o, optionEvidence((q.options || [])[i])))) : el("div"),
    lintBox);
  if (editable) {
    box.append(el("div", { class: "row" }, el("div", { class: "btn-cell" }, sendBtn)));
    showLint(lint);
    relint();
  }
  if (canCDI && (q.state === "sent" || q.state === "escalated")) box.append(answerForm(q, tag, refresh, box, canCDI));
  if (q.answer) box.append(el("p", {}, `Answer: ${q.answer.outcome}${q.answer.text ? " — " + q.answer.text : ""}`), q.effect ? el("p", { id: "query-effect" }, "Effect: " + effectText(q.effect)) : el("div"));
}

function answerForm(q, tag, refresh, box, canCDI) {
  const outcome = el("select", { id: "a-outcome" }, [["agree", "agrees (chose an option)"], ["disagree", "disagrees"], ["other", "other"], ["undetermined", "clinically undetermined"]]
    .map(([v, t]) => el("option", { value: v }, t)));
  const option = el("select", { id: "a-option" }, (q.options || []).map((o, i) => el("option", { value: i }, o.text)));
  const text = el("textarea", { id: "a-text" });
  const out = el("div");
  const form = el("form", { class: "card", "aria-label": "Record the provider's answer" }, el("h3", {}, "Record the provider's answer"),
    el("div", { class: "row" }, el("div", {}, el("label", { for: "a-outcome" }, "Outcome"), outcome), el("div", {}, el("label", { for: "a-option" }, "Option chosen"), option)),
    el("div", { class: "field" }, el("label", { for: "a-text" }, "Provider's text (as documented)"), text),
    el("button", { type: "submit", id: "answer-btn" }, "Record answer"), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const body = { outcome: outcome.value, text: text.value.trim() || undefined };
      if (outcome.value === "agree") body.option = Number(option.value);
      const r = await post(`/v1/queries/${encodeURIComponent(q.id)}/answer`, body, tag);
      toast("Answer recorded");
      drawComposer(box, r.query || r, null, etagOf(r), canCDI, refresh);
      refresh();
    } catch (e) { clear(out).append(errorBox(e)); }
  });
  return form;
}
