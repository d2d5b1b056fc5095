// Client of the drg HTTP API. Two ways to be signed in: single sign-on, where the browser holds
// the session cookie (HttpOnly: this script never sees it) and changes carry the session's CSRF
// token; or an API token pasted on the sign-in page, kept in sessionStorage (gone when the tab
// closes) and sent as a bearer token.

const KEY = "drg.token";
let csrf = ""; // CSRF token of the single sign-on session (GET /auth/session)

export function token() { return sessionStorage.getItem(KEY) || ""; }
export function setToken(t) { t ? sessionStorage.setItem(KEY, t) : sessionStorage.removeItem(KEY); }
export function setCsrf(t) { csrf = t || ""; }
export function inSession() { return csrf !== ""; }

// ApiError carries an RFC 7807 problem: title, detail and per-field errors.
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// call sends a request and returns the decoded JSON (or text for CSV); it throws ApiError.
export async function call(method, path, body, opts = {}) {
  const headers = { Accept: opts.accept || "application/json" };
  if (token()) headers.Authorization = "Bearer " + token();
  else if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  Object.assign(headers, opts.headers || {});
  if (opts.ifMatch) headers["If-Match"] = opts.ifMatch;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { title: "The service cannot be reached", detail: "Check that drg serve is running and try again." });
  }
  const type = res.headers.get("Content-Type") || "";
  if (!res.ok) {
    let problem = { title: `Request failed (${res.status})` };
    if (type.includes("json")) {
      try { problem = await res.json(); } catch { /* keep the generic title */ }
    }
    throw new ApiError(res.status, problem);
  }
  if (res.status === 204) return null;
  if (type.includes("json")) {
    const data = await res.json();
    const tag = res.headers.get("ETag");
    if (tag && data && typeof data === "object") data[ETAG] = tag;
    return data;
  }
  return res.text();
}

// The ETag of an answer is kept on the decoded object (etagOf): the version of the record it
// shows, to send back in If-Match with a change of that record.
const ETAG = Symbol("etag");
export const etagOf = (data) => (data ? data[ETAG] : undefined);

// Changes of an existing record send the ETag of the version read (If-Match): the server
// refuses a change without one (428) or made on a record changed since (412).
export const get = (path, opts) => call("GET", path, undefined, opts);
// The last argument of a change is the ETag (a string) or call options ({ headers }).
const changeOpts = (x) => (typeof x === "string" ? { ifMatch: x } : x || {});
export const post = (path, body, x) => call("POST", path, body, changeOpts(x));
export const put = (path, body, x) => call("PUT", path, body, changeOpts(x));
export const patch = (path, body, x) => call("PATCH", path, body, changeOpts(x));
export const del = (path, x) => call("DELETE", path, undefined, changeOpts(x));

// etag is the entity tag of a record at a row version (its version or row_version field).
export const etag = (version) => (version ? `"${version}"` : undefined);

// query builds "?a=1&b=2" from an object, skipping empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

// download fetches a CSV with the token and saves it.
export async function download(path, filename) {
  const text = await call("GET", path, undefined, { accept: "text/csv" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
}
