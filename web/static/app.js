// drg web interface: a hash-routed single-page application over the /v1 API.

import { get, post, setToken, token, setCsrf, inSession, ApiError } from "./api.js";
import { el, clear, errorBox } from "./ui.js";

// Pages: path pattern, title, roles allowed (empty: every signed-in user), module.
const pages = [
  { path: "group", title: "Grouping", roles: [], load: () => import("./group.js") },
  { path: "coding", title: "Coding worklist", roles: ["coder", "cdi", "admin"], load: () => import("./coding.js") },
  { path: "worklist", title: "CDI worklist", roles: ["cdi", "admin"], load: () => import("./worklist.js") },
  { path: "encounters/:id", title: "Encounter", roles: ["cdi", "coder", "admin"], load: () => import("./encounter.js"), hidden: true },
  { path: "queries", title: "Queries", roles: ["cdi", "coder", "admin"], load: () => import("./queries.js") },
  { path: "audits", title: "Audits", roles: ["coder", "cdi", "admin"], load: () => import("./audits.js") },
  { path: "finance", title: "Finance", roles: ["finance", "admin"], load: () => import("./finance.js") },
  { path: "admin", title: "Admin", roles: ["admin"], load: () => import("./admin.js") },
];

let user = null;

function allowed(page) {
  return user && (page.roles.length === 0 || page.roles.includes(user.role));
}

function match(hash) {
  const parts = hash.replace(/^#\/?/, "").split("?")[0].split("/").filter(Boolean);
  for (const p of pages) {
    const pat = p.path.split("/");
    if (pat.length !== parts.length) continue;
    const params = {};
    if (pat.every((seg, i) => (seg.startsWith(":") ? ((params[seg.slice(1)] = decodeURIComponent(parts[i])), true) : seg === parts[i]))) {
      return { page: p, params };
    }
  }
  return null;
}

function drawNav(current) {
  const nav = clear(document.getElementById("nav"));
  const who = clear(document.getElementById("who"));
  if (!user) return;
  for (const p of pages) {
    if (p.hidden || !allowed(p)) continue;
    nav.append(el("a", { href: "#/" + p.path, "aria-current": current === p ? "page" : null }, p.title));
  }
  who.append(el("span", {}, `${user.name} (${user.role})`),
    el("button", { class: "secondary", type: "button", onclick: signOut }, "Sign out"));
}

async function signOut() {
  if (inSession()) {
    try { await post("/auth/logout"); } catch { /* the session is gone either way */ }
    setCsrf("");
  }
  setToken("");
  user = null;
  location.hash = "#/";
  route();
}

// sessionUser returns the user of the single sign-on session cookie, or null.
async function sessionUser() {
  try {
    const info = await get("/auth/session");
    if (info.method !== "session") return null;
    setCsrf(info.csrf_token);
    return info.user;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

async function ssoEnabled() {
  try { return (await get("/auth/config")).oidc === true; } catch { return false; }
}

async function signInPage(main, message) {
  drawNav(null);
  const input = el("input", { id: "token", type: "password", autocomplete: "current-password", required: true, "aria-describedby": "token-help" });
  const status = el("div");
  const sso = await ssoEnabled();
  const next = location.hash && location.hash !== "#/" ? "?next=" + encodeURIComponent(location.hash) : "";
  const form = el("form", { class: "card sign-in" },
    el("h1", {}, "Sign in"),
    message ? errorBox(message) : null,
    sso ? el("p", {}, el("a", { class: "button", id: "sso", href: "/auth/login" + next }, "Sign in with your organization account")) : null,
    sso ? el("h2", {}, "Or with an API token") : null,
    el("div", { class: "field" }, el("label", { for: "token" }, "API token"), input,
      el("div", { id: "token-help", class: "muted" }, sso ? "For integrations and administrators: a token made with drg users add or on the Admin page."
        : "An administrator creates your token with drg users add.")),
    status,
    el("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    setToken(input.value.trim());
    try {
      user = await get("/v1/me");
      if (!location.hash || location.hash === "#/" || location.hash === "#/signin") {
        location.hash = "#/" + firstPage(); // hashchange routes
      } else {
        route();
      }
    } catch (e) {
      setToken("");
      clear(status).append(errorBox(e));
    }
  });
  clear(main).append(form);
  (sso ? document.getElementById("sso") : input).focus();
}

function firstPage() {
  const p = pages.find((p) => !p.hidden && allowed(p));
  return p ? p.path : "group";
}

let routing = 0; // the latest navigation; an older one that finishes late draws nothing

async function route() {
  const seq = ++routing;
  const main = document.getElementById("main");
  if (!token() && !user) {
    try {
      user = await sessionUser();
    } catch (e) {
      return signInPage(main, e);
    }
    if (!user) return signInPage(main);
  }
  if (!user) {
    try {
      user = await get("/v1/me");
    } catch (e) {
      setToken("");
      return signInPage(main, e instanceof ApiError && e.status === 401 ? null : e);
    }
  }
  const m = match(location.hash);
  if (!m) {
    location.replace("#/" + firstPage());
    return;
  }
  drawNav(m.page);
  if (!allowed(m.page) && m.page.path === "worklist" && user.role === "coder") {
    location.replace("#/coding"); // coders work from the coding worklist
    return;
  }
  if (!allowed(m.page)) {
    clear(main).append(el("h1", {}, m.page.title), errorBox(new ApiError(403, { title: "Your role does not allow this page." })));
    return;
  }
  document.title = `${m.page.title} — drg`;
  clear(main).append(el("p", { class: "muted" }, "Loading…"));
  const page = el("div");
  try {
    const mod = await m.page.load();
    const query = Object.fromEntries(new URLSearchParams(location.hash.split("?")[1] || ""));
    await mod.render(page, { ...m.params, query }, { user });
  } catch (e) {
    clear(page).append(el("h1", {}, m.page.title), errorBox(e));
  }
  if (seq !== routing) return;
  clear(main).append(page);
  main.focus();
}

window.addEventListener("hashchange", route);
route();
