// The design's Go source, as the server sends it in meta.source: the very
// functions the simulator runs. A tiny highlighter dims comments and marks
// keywords and strings; it is not a Go parser and does not need to be.

import { esc, h } from "./dom.js";
import { isDB } from "./run.js";

const KEYWORDS = /\b(func|return|if|else|for|range|nil|continue|break|var|const|defer|go|switch|case|default|type|struct)\b/g;

/** highlight returns escaped markup for one Go function, a span per line. */
export function highlight(code) {
  return code
    .split("\n")
    .map((line, k) => {
      const i = commentStart(line);
      const body = i >= 0 ? line.slice(0, i) : line;
      const comment = i >= 0 ? `<span class="c">${esc(line.slice(i))}</span>` : "";
      const parts = body.split(/(`[^`]*`|"(?:[^"\\]|\\.)*")/);
      const html = parts
        .map((p, j) => (j % 2 ? `<span class="s">${esc(p)}</span>` : esc(p).replace(KEYWORDS, '<span class="k">$1</span>')))
        .join("");
      return `<span class="ln" data-line="${k}">${html + comment}</span>`;
    })
    .join("\n");
}

// commentStart finds "//" outside a string literal.
function commentStart(line) {
  let q = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === "\\" && q === '"') i++;
      else if (c === q) q = "";
    } else if (c === '"' || c === "`") q = c;
    else if (c === "/" && line[i + 1] === "/") return i;
  }
  return -1;
}

/** renderSource builds the collapsible source panel for one run's meta. */
export function renderSource(meta, open) {
  const details = h("details", { class: "source", open });
  details.append(h("summary", { text: `Go source of ${meta.design}: the code that runs` }));
  for (const fn of meta.source || []) {
    details.append(h("h3", { text: `${fn.role}: ${fn.name}` }));
    const code = h("code");
    code.innerHTML = highlight(fn.code);
    // A long line scrolls inside the block; tabindex lets a keyboard scroll it too.
    details.append(h("pre", { tabindex: "0", role: "region", "aria-label": `${fn.role}: ${fn.name}, Go source`, "data-role": fn.role }, code));
  }
  const said = h("p", { class: "source-ran", "aria-live": "polite" });
  details.append(said);
  let last = "";
  /** mark highlights the lines that ran ev (null: none) and says which. */
  details.mark = (ev) => {
    const key = ev ? `${ev.id}` : "";
    if (key === last) return;
    last = key;
    for (const l of details.querySelectorAll(".ln.ran")) l.classList.remove("ran");
    const found = ev ? linesOf(meta, ev) : null;
    said.textContent = "";
    if (!found) return;
    const pre = details.querySelector(`pre[data-role="${found.role}"]`);
    const lines = found.lines.map((k) => pre?.querySelector(`.ln[data-line="${k}"]`)).filter(Boolean);
    for (const l of lines) l.classList.add("ran");
    said.textContent = `Event #${ev.id} ran ${lines.length > 1 ? "one of the highlighted lines" : "the highlighted line"} of ${found.name}.`;
    scrollTo = lines[0] && pre ? [pre, lines[0]] : null;
    scrollLater();
  };
  // Scroll the code, never the page, once open, in the next frame: reading
  // where the line is now would force a layout in the middle of a render.
  let scrollTo = null;
  let scrollFrame = 0;
  function scrollLater() {
    if (!details.open || !scrollTo || scrollFrame) return;
    scrollFrame = requestAnimationFrame(() => {
      scrollFrame = 0;
      if (!details.open || !scrollTo) return;
      const [pre, line] = scrollTo;
      scrollTo = null;
      pre.scrollTop = Math.max(0, line.offsetTop - pre.offsetTop - pre.clientHeight / 3);
    });
  }
  details.addEventListener("toggle", scrollLater);
  return details;
}

// ROLE is the source role that runs on a node; a database event ran on
// its peer's behalf.
const ROLE = { client: "client", service: "service", relay: "relay", ledger: "consumer" };

// CALLS maps an event kind to the API call that makes it, in the code of
// the role that ran it. SQL statements are found by their text instead.
const CALLS = {
  begin: /\.Begin\(/,
  commit: /\.Commit\(/,
  rollback: /\.Rollback\(/,
  "commit-err": /\.Commit\(/,
  "publish-fail": /\.Publish(All)?\(/,
  request: /\.Call\(/,
};

/**
 * linesOf finds the lines of the design's source that ran ev: {role, name,
 * lines} or null when the event is not one a line of the shown code makes
 * (a delivery, the bus's own work) or the code does not say it plainly.
 */
export function linesOf(meta, ev) {
  const role = ROLE[isDB(ev) ? ev.peer : ev.node];
  const fn = (meta.source || []).find((f) => f.role === role);
  if (!fn) return null;
  const lines = fn.code.split("\n");
  let re = CALLS[ev.kind];
  if ((ev.kind === "exec" || ev.kind === "query") && ev.sql) {
    // The statement's constant, then the calls that pass it.
    const m = [...fn.code.matchAll(/(\w+)\s*=\s*`([^`]*)`/g)].find((c) => c[2].replace(/\s+/g, " ").trim() === ev.sql.replace(/\s+/g, " ").trim());
    if (!m) return null;
    re = new RegExp(`\\.(Exec|Query)\\w*\\(\\s*${m[1]}\\b`);
  }
  if (!re) return null;
  const hits = [];
  lines.forEach((l, k) => {
    const code = l.replace(/\/\/.*$/, "");
    if (re.test(code)) hits.push(k);
  });
  return hits.length ? { role, name: fn.name, lines: hits } : null;
}
