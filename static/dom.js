// Small DOM helpers shared by the playground's modules. Everything is built
// with createElement or escaped strings: no inline styles or scripts, so the
// page runs under a strict Content-Security-Policy.

/** esc makes text safe to put inside markup built as a string. */
export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** h creates an element with attributes (class, data-*, aria-*, …) and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** $ finds one element by selector, within root (default: the document). */
export const $ = (sel, root = document) => root.querySelector(sel);

/** $$ finds every element matching a selector, as an array. */
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** ms formats virtual microseconds as milliseconds for people. */
export function ms(us) {
  if (!us) return "0 ms";
  const v = us / 1000;
  if (v >= 10000) return (v / 1000).toFixed(1) + " s";
  if (v >= 100) return v.toFixed(0) + " ms";
  return v.toFixed(v >= 10 ? 1 : 2) + " ms";
}

/** label turns a report key into words: "ledger_entries" → "ledger entries". */
export const label = (key) => key.replaceAll("_", " ");
