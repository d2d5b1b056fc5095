// Admin: users and tokens, loaded reference data, audit log.

import { get, post, patch, del, query, etag } from "./api.js";
import { el, clear, errorBox, table, toast } from "./ui.js";

const ROLES = ["coder", "cdi", "finance", "admin"];

export async function render(main, params) {
  const tab = params.query.tab || "users";
  const tabs = el("div", { class: "tabs", role: "group", "aria-label": "Admin sections" },
    [["users", "Users and tokens"], ["data", "Reference data"], ["audit", "Audit log"]].map(([k, label]) =>
      el("button", { type: "button", "aria-pressed": String(tab === k), onclick: () => { location.hash = "#/admin?tab=" + k; } }, label)));
  const body = el("div");
  main.append(el("h1", {}, "Administration"), tabs, body);
  if (tab === "data") return dataTab(body);
  if (tab === "audit") return auditTab(body, params.query);
  return usersTab(body);
}

async function usersTab(body) {
  const out = el("div", { "aria-live": "polite" });
  const name = el("input", { id: "new-user-name", required: true, maxlength: 200 });
  const role = el("select", { id: "new-user-role" }, ROLES.map((r) => el("option", { value: r }, r)));
  const form = el("form", { class: "card" }, el("h2", {}, "Add a user"),
    el("div", { class: "row" },
      el("div", {}, el("label", { for: "new-user-name" }, "Name"), name),
      el("div", {}, el("label", { for: "new-user-role" }, "Role"), role),
      el("div", { class: "btn-cell" }, el("button", { type: "submit" }, "Create user and token"))), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await post("/v1/users", { name: name.value.trim(), role: role.value });
      showToken(out, r);
      name.value = "";
      list();
    } catch (e) { clear(out).append(errorBox(e)); }
  });
  const listBox = el("div", { class: "card" });
  const list = async () => {
    try {
      const r = await get("/v1/users" + query({ limit: 1000 }));
      clear(listBox).append(el("h2", {}, "Users"), table([
        { key: "id", label: "Id", num: true },
        { key: "name", label: "Name" },
        { key: "role", label: "Role", render: (u) => roleSelect(u, list) },
        { key: "disabled", label: "Status", render: (u) => (u.disabled ? el("span", { class: "badge bad" }, "disabled") : el("span", { class: "badge ok" }, "active")) },
        { key: "created_at", label: "Created", render: (u) => (u.created_at || "").slice(0, 10) },
        { key: "actions", label: "Tokens", noSort: true, render: (u) => el("span", {},
          el("button", { type: "button", class: "link", onclick: async () => {
            try {
              const r = await post(`/v1/users/${u.id}/tokens`, {}, etag(u.version));
              u.version = r.user.version;
              showToken(out, r);
            } catch (e) { clear(out).append(errorBox(e)); }
          } }, "issue token"),
          el("button", { type: "button", class: "link", onclick: async () => {
            if (!confirm(`Revoke every token of ${u.name}?`)) return;
            try { u.version = (await del(`/v1/users/${u.id}/tokens`, etag(u.version))).version; toast("Tokens revoked"); } catch (e) { clear(out).append(errorBox(e)); }
          } }, "revoke all"),
          el("button", { type: "button", class: "link", onclick: async () => {
            try { await patch(`/v1/users/${u.id}`, { disabled: !u.disabled }, etag(u.version)); list(); } catch (e) { clear(out).append(errorBox(e)); }
          } }, u.disabled ? "enable" : "disable")) },
      ], r.items || [], { empty: "No users yet.", caption: "Users" }));
    } catch (e) { clear(listBox).append(errorBox(e)); }
  };
  body.append(form, listBox);
  list();
}

function roleSelect(u, reload) {
  const s = el("select", { "aria-label": `Role of ${u.name}` }, ROLES.map((r) => el("option", { value: r, selected: r === u.role }, r)));
  s.addEventListener("change", async () => {
    try {
      u.version = (await patch(`/v1/users/${u.id}`, { role: s.value }, etag(u.version))).version;
      toast(`${u.name} is now ${s.value}`);
    } catch (e) { toast("Not changed: " + e.message); reload(); }
  });
  return s;
}

function showToken(out, r) {
  clear(out).append(el("div", { class: "card", role: "alert" },
    el("strong", {}, `Token for ${r.user.name} (${r.user.role}) — shown once, copy it now:`),
    el("pre", { class: "explain", id: "new-token" }, r.token)));
}

async function dataTab(body) {
  body.append(el("p", { class: "muted" }, "Reading the data directory…"));
  try {
    const r = await get("/v1/tables");
    clear(body).append(
      el("p", {}, "Data directory: ", el("code", {}, r.dir)),
      (r.warnings || []).length ? el("div", { class: "error" }, el("strong", {}, "Missing optional data"), el("ul", {}, r.warnings.map((w) => el("li", {}, w)))) : null,
      el("div", { class: "card" }, el("h2", {}, "MS-DRG grouper versions"), table([
        { key: "version", label: "Version", render: (v) => `v${(v.version / 10).toFixed(1)}` },
        { key: "from", label: "Discharges from" }, { key: "to", label: "through" },
        { key: "dx_codes", label: "Dx codes", num: true }, { key: "pr_codes", label: "Pr keys", num: true }, { key: "drgs", label: "DRGs", num: true },
      ], r.grouper, { caption: "Grouper versions" })),
      el("div", { class: "grid" },
        el("div", { class: "card" }, el("h2", {}, "Table 5 weights"), table([{ key: "fiscal_year", label: "FY" }, { key: "drgs", label: "DRGs", num: true }], r.weights || [], { empty: "No weights loaded." })),
        el("div", { class: "card" }, el("h2", {}, "Code titles"), table([{ key: "kind", label: "Kind" }, { key: "fiscal_year", label: "FY" },
          { key: "codes", label: "Codes", num: true }, { key: "valid", label: "Valid", num: true }], r.titles || [], { empty: "No titles loaded." })),
        el("div", { class: "card" }, el("h2", {}, "POA-exempt lists"), table([{ key: "fiscal_year", label: "FY" }, { key: "codes", label: "Codes", num: true }], r.poa || [], { empty: "None loaded." }))),
      el("div", { class: "card" }, el("h2", {}, "CMS-HCC models"), table([
        { key: "year", label: "Year" }, { key: "name", label: "Model" }, { key: "dx_codes", label: "Dx codes", num: true }, { key: "hccs", label: "HCCs", num: true },
      ], (r.hcc || []).flatMap((h) => h.models.map((m) => ({ year: h.year, ...m }))), { empty: "No HCC maps loaded." })),
      el("div", { class: "card" }, el("h2", {}, "Files"), table([
        { key: "path", label: "File" }, { key: "size", label: "Bytes", num: true }, { key: "sha256", label: "SHA-256", render: (f) => el("code", {}, f.sha256.slice(0, 16) + "…") },
      ], r.files || [])));
  } catch (e) { clear(body).append(errorBox(e)); }
}

async function auditTab(body, q) {
  const entity = el("input", { id: "audit-entity", value: q.entity || "", placeholder: "encounter, user, query…" });
  const entityId = el("input", { id: "audit-entity-id", value: q.entity_id || "" });
  const since = el("input", { id: "audit-since", type: "date", value: q.since || "" });
  const out = el("div");
  let cursor = "";
  const load = async (more) => {
    try {
      const r = await get("/v1/audit" + query({ entity: entity.value.trim(), entity_id: entityId.value.trim(), since: since.value, limit: 100, cursor: more ? cursor : "" }));
      cursor = r.next_cursor || "";
      const rows = r.items || [];
      if (!more) clear(out);
      out.append(table([
        { key: "at", label: "When", render: (a) => a.at.replace("T", " ").slice(0, 19) },
        { key: "actor", label: "Who", render: (a) => `${a.actor}${a.actor_role ? " (" + a.actor_role + ")" : ""}` },
        { key: "entity", label: "What", render: (a) => `${a.entity} ${a.entity_id}` },
        { key: "action", label: "Action" },
        { key: "change", label: "Change", noSort: true, render: (a) => changeSummary(a) },
      ], rows, { empty: "No audit entries match." }));
      if (cursor) out.append(el("button", { type: "button", class: "secondary", onclick: () => load(true) }, "Older entries…"));
    } catch (e) { clear(out).append(errorBox(e)); }
  };
  const form = el("form", { class: "card row" },
    el("div", {}, el("label", { for: "audit-entity" }, "Entity"), entity),
    el("div", {}, el("label", { for: "audit-entity-id" }, "Entity id"), entityId),
    el("div", {}, el("label", { for: "audit-since" }, "Since"), since),
    el("div", { class: "btn-cell" }, el("button", { type: "submit" }, "Search")));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(false); });
  body.append(form, out);
  load(false);
}

// changeSummary lists the changed fields of an audit entry without dumping JSON.
function changeSummary(a) {
  const after = a.after && typeof a.after === "object" ? a.after : null;
  const before = a.before && typeof a.before === "object" ? a.before : null;
  const keys = Object.keys(after || before || {});
  if (!keys.length) return "—";
  return el("details", {}, el("summary", {}, keys.slice(0, 4).join(", ") + (keys.length > 4 ? ` +${keys.length - 4}` : "")),
    el("ul", {}, keys.map((k) => el("li", {}, `${k}: ${short(before && before[k])} → ${short(after && after[k])}`))));
}

function short(v) {
  if (v === undefined || v === null) return "—";
  const s = typeof v === "object" ? JSON.stringify(v) : String(v);
  return s.length > 80 ? s.slice(0, 77) + "…" : s;
}

