// Small DOM helpers: element creation, tables, errors, empty states, charts.

import { ApiError } from "./api.js";

// el creates an element: el("td", {class: "num"}, "12", child…). Attributes starting with "on"
// are event listeners; text children are escaped (textContent).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else if (v === true) e.setAttribute(k, "");
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function clear(node) { node.replaceChildren(); return node; }

// put appends children to node, skipping null, undefined and false (Node.append would print them as text).
export function put(node, ...children) {
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

// errorBox renders an error for people: the problem's title and detail and the per-field
// errors, never a stack trace or raw JSON.
export function errorBox(err) {
  if (err instanceof ApiError) {
    const p = err.problem || {};
    let title = p.title || "The request failed";
    if (err.status === 401) title = "Your session has expired or the token is not valid. Sign in again.";
    if (err.status === 403) title = "Your role does not allow this.";
    const lines = (p.errors || []).map((f) => `${f.field}: ${f.message}`);
    const fields = lines.map((t) => el("li", {}, t));
    // The detail of a validation problem repeats its field errors: print each message once.
    const repeats = p.detail && (p.detail === title || lines.includes(p.detail) || p.detail === lines.join("; "));
    return el("div", { class: "error", role: "alert" }, el("strong", {}, title),
      p.detail && !repeats ? el("div", {}, p.detail) : null, fields.length ? el("ul", {}, fields) : null);
  }
  return el("div", { class: "error", role: "alert" }, "Something went wrong in the page: " + (err && err.message ? err.message : "unknown error"));
}

export function empty(text) { return el("div", { class: "empty" }, text); }

export function toast(text) {
  const t = el("div", {}, text);
  document.getElementById("toast").append(t);
  setTimeout(() => t.remove(), 3500);
}

// table renders rows with columns [{key, label, num, render(row)}]; headers sort the rows.
export function table(columns, rows, opts = {}) {
  if (!rows || rows.length === 0) return empty(opts.empty || "Nothing to show.");
  let sortKey = opts.sortKey, asc = opts.asc ?? true;
  const wrap = el("div", { class: "table-wrap" });
  const draw = () => {
    const sorted = [...rows];
    if (sortKey) {
      const col = columns.find((c) => c.key === sortKey);
      const val = (r) => (col && col.sortValue ? col.sortValue(r) : r[sortKey]);
      sorted.sort((a, b) => {
        const x = val(a), y = val(b);
        const c = typeof x === "number" && typeof y === "number" ? x - y : String(x ?? "").localeCompare(String(y ?? ""));
        return asc ? c : -c;
      });
    }
    const head = el("tr", {}, columns.map((c) => el("th", { class: c.num ? "num" : null, scope: "col",
      "aria-sort": sortKey === c.key ? (asc ? "ascending" : "descending") : null },
      c.noSort ? c.label : el("button", { class: "sort", type: "button", onclick: () => { asc = sortKey === c.key ? !asc : true; sortKey = c.key; draw(); } },
        c.label, sortKey === c.key ? (asc ? " ▲" : " ▼") : ""))));
    const body = sorted.map((r) => el("tr", {}, columns.map((c) => el("td", { class: c.num ? "num" : null },
      c.render ? c.render(r) : fmt(r[c.key])))));
    clear(wrap).append(el("table", { class: opts.class }, opts.caption ? el("caption", { class: "sr-only" }, opts.caption) : null,
      el("thead", {}, head), el("tbody", {}, body)));
  };
  draw();
  return wrap;
}

export function fmt(v, digits) {
  if (v === undefined || v === null || v === "") return "—";
  if (typeof v === "number") return digits === undefined ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v.toFixed(digits);
  return String(v);
}

export function pct(v) { return v === undefined || v === null ? "—" : (100 * v).toFixed(1) + " %"; }

export function levelBadge(level) {
  if (level === "MCC") return el("span", { class: "badge mcc" }, "MCC");
  if (level === "CC") return el("span", { class: "badge cc" }, "CC");
  return el("span", { class: "badge" }, level || "—");
}

// lineChart draws an SVG line chart of points [{label, value}] with an accessible title.
export function lineChart(points, { title, format = (v) => v.toFixed(3) } = {}) {
  const W = 720, H = 260, L = 56, R = 16, T = 16, B = 40;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", title || "chart");
  const s = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  if (!points.length) return el("div", { class: "empty" }, "No data for the chart.");
  const vals = points.map((p) => p.value);
  let lo = Math.min(...vals), hi = Math.max(...vals);
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  const pad = (hi - lo) * 0.1; lo -= pad; hi += pad;
  const x = (i) => L + (points.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (points.length - 1));
  const y = (v) => T + ((hi - v) * (H - T - B)) / (hi - lo);
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e3e7ee" });
    s("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6475" }, format(v));
  }
  s("polyline", { points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(" "), fill: "none", stroke: "#1f5fbf", "stroke-width": 2.5 });
  points.forEach((p, i) => {
    const c = s("circle", { cx: x(i), cy: y(p.value), r: 4, fill: "#1f5fbf" });
    const t = document.createElementNS(ns, "title");
    t.textContent = `${p.label}: ${format(p.value)}`;
    c.append(t);
    if (points.length <= 14 || i % Math.ceil(points.length / 12) === 0)
      s("text", { x: x(i), y: H - B + 18, "text-anchor": "middle", "font-size": 11, fill: "#5b6475" }, p.label);
  });
  return el("div", { class: "chart" }, svg);
}
