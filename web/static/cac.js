// CAC workbench: the encounter's notes beside the coding suggestions made from them. A
// selected suggestion's supporting words are highlighted in its note and scrolled into view;
// accept and reject record the decision (POST /v1/encounters/{id}/cac/decisions) and show the
// DRG it would give. Keys: j / ↓ next suggestion, k / ↑ previous, a accept, r reject.

import { post, etag } from "./api.js";
import { el, clear, errorBox, fmt, levelBadge, empty, toast } from "./ui.js";

const GROUPS = [["pdx", "Principal diagnosis"], ["sdx", "Secondary diagnoses"], ["procedure", "Procedures"]];
const STATUS = { coded: "ok", new: "warn", conflicting: "bad", rejected: "" };

const enc8 = new TextEncoder();
const dec8 = new TextDecoder();

// split cuts a note's text at UTF-8 byte offsets [start, end) (the API's spans).
function split(text, start, end) {
  const b = enc8.encode(text);
  return [dec8.decode(b.slice(0, start)), dec8.decode(b.slice(start, end)), dec8.decode(b.slice(end))];
}

function drg3(n) { return String(n).padStart(3, "0"); }

// delta says what accepting would do to the DRG.
function delta(working, s) {
  const a = s.if_accepted;
  if (!a) return s.status === "coded" ? "in the working codes" : "";
  if (!working) return `DRG ${drg3(a.drg)}, weight ${fmt(a.weight, 4)}`;
  if (working.drg === a.drg) return `DRG ${drg3(a.drg)} unchanged`;
  return `DRG ${drg3(working.drg)} → ${drg3(a.drg)}, weight ${fmt(working.weight, 4)} → ${fmt(a.weight, 4)}`;
}

// workbench returns the CAC section of an encounter page; onDecided is called (with no
// argument) after a decision changed the encounter.
// tagOf returns the encounter's ETag as last read (decisions send it in If-Match): by default
// from enc, kept current with the decisions' answers.
export function workbench(enc, onDecided, tagOf = () => etag(enc.row_version)) {
  const box = el("section", { class: "card", id: "cac", "aria-label": "Computer-assisted coding" });
  const notes = (enc.evidence || []).map((e, i) => ({ ...e, id: `evidence[${i}]` })).filter((e) => e.kind === "note" && e.text);
  if (!notes.length) return box.append(el("h2", {}, "Computer-assisted coding"), empty("No notes on the encounter to code from.")), box;
  const list = el("div", { id: "cac-suggestions", role: "listbox", "aria-label": "Suggestions" });
  const notesBox = el("div", { id: "cac-notes", class: "cac-notes" });
  const reason = el("input", { id: "cac-reason", type: "text", placeholder: "Reason (optional)", maxlength: 500 });
  const status = el("div", { role: "status", class: "muted" });
  let resp = null;
  let items = [];
  let cur = -1;

  const drawNotes = (sel) => {
    clear(notesBox);
    const ev = sel && sel.evidence && sel.evidence[0];
    for (const n of notes) {
      const pre = el("pre", { class: "note-text" });
      if (ev && ev.note === n.id) {
        const [a, b, c] = split(n.text, ev.start, ev.end);
        pre.append(a, el("mark", { id: "cac-mark" }, b), c);
      } else pre.append(n.text);
      notesBox.append(el("article", { class: "note", id: "note-" + n.id.replace(/\W/g, "") },
        el("h3", {}, n.note_type || "note", " ", el("span", { class: "muted" }, [n.author_role, (n.time || "").replace("T", " ").slice(0, 16)].filter(Boolean).join(" · "))),
        ev && ev.note === n.id && ev.section ? el("div", { class: "muted" }, `Section: ${ev.section}`) : null, pre));
    }
    const m = document.getElementById("cac-mark");
    if (m) m.scrollIntoView({ block: "center" });
  };

  const select = (i) => {
    if (!items.length) return;
    cur = (i + items.length) % items.length;
    for (const [j, it] of items.entries()) it.row.setAttribute("aria-selected", String(j === cur));
    items[cur].row.focus({ preventScroll: true });
    drawNotes(items[cur].s);
  };

  const decide = async (i, decision) => {
    const s = items[i] && items[i].s;
    if (!s || !s.evidence || !s.evidence.length) return;
    const ev = s.evidence[0];
    try {
      const r = await post(`/v1/encounters/${encodeURIComponent(enc.id)}/cac/decisions`, { code: s.code, kind: s.role, decision, reason: reason.value.trim(),
        span: { note: ev.note, start: ev.start, end: ev.end } }, tagOf());
      if (r && r.encounter && r.encounter.row_version) enc = { ...enc, row_version: r.encounter.row_version };
      reason.value = "";
      toast(`${decision === "accept" ? "Accepted" : "Rejected"} ${s.code}`);
      await load(s.role + ":" + s.code);
      if (onDecided) await onDecided();
    } catch (e) { clear(status).append(errorBox(e)); }
  };

  const draw = (keep) => {
    clear(list);
    items = [];
    const w = resp.working_drg;
    for (const [role, label] of GROUPS) {
      const ss = resp.suggestions.filter((s) => s.role === role);
      if (!ss.length) continue;
      list.append(el("h3", {}, label));
      for (const s of ss) {
        const i = items.length;
        const row = el("div", { class: "sugg", role: "option", tabindex: "-1", "data-key": role + ":" + s.code, "aria-selected": "false", onclick: () => select(i) },
          el("div", {}, el("strong", {}, s.code), " ", s.title || "", " ", levelBadge(s.level), " ",
            el("span", { class: "badge " + (STATUS[s.status] ?? "") + " status" }, s.status)),
          el("div", { class: "muted delta" }, delta(w, s)),
          s.decision && s.decision.reason ? el("div", { class: "muted" }, `${s.decision.decision}: ${s.decision.reason}`) : null,
          el("div", { class: "row" },
            el("button", { type: "button", class: "accept", disabled: s.status === "coded", onclick: (ev) => { ev.stopPropagation(); decide(i, "accept"); } }, "Accept"),
            el("button", { type: "button", class: "secondary reject", disabled: s.status === "rejected", onclick: (ev) => { ev.stopPropagation(); decide(i, "reject"); } }, "Reject")));
        items.push({ s, row });
        list.append(row);
      }
    }
    if (!items.length) { list.append(empty("The notes support no code.")); drawNotes(null); return; }
    const k = items.findIndex((it) => it.s.role + ":" + it.s.code === keep);
    select(k >= 0 ? k : 0);
  };

  const load = async (keep) => {
    try {
      resp = await post(`/v1/encounters/${encodeURIComponent(enc.id)}/cac`, {});
      clear(status);
      draw(keep);
    } catch (e) { clear(status).append(errorBox(e)); }
  };

  const onKey = (ev) => {
    if (!box.isConnected) { document.removeEventListener("keydown", onKey); return; }
    const t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey || (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT"))) return;
    switch (ev.key) {
      case "j": case "ArrowDown": select(cur + 1); break;
      case "k": case "ArrowUp": select(cur - 1); break;
      case "a": decide(cur, "accept"); break;
      case "r": decide(cur, "reject"); break;
      default: return;
    }
    ev.preventDefault();
  };
  document.addEventListener("keydown", onKey);

  box.append(el("h2", {}, "Computer-assisted coding"),
    el("p", { class: "muted" }, "Keys: j / ↓ next, k / ↑ previous, a accept, r reject. A suggestion's supporting words are highlighted in its note."),
    el("div", { class: "cac-cols" }, el("div", {}, reason, status, list), notesBox));
  load();
  return box;
}
