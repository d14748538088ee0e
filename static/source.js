// The design's Go source, as the server sends it in meta.source: the very
// functions the simulator runs. A tiny highlighter dims comments and marks
// keywords and strings; it is not a Go parser and does not need to be.

import { esc, h } from "./dom.js";

const KEYWORDS = /\b(func|return|if|else|for|range|nil|continue|break|var|const|defer|go|switch|case|default|type|struct)\b/g;

/** highlight returns escaped markup for one Go function. */
export function highlight(code) {
  return code
    .split("\n")
    .map((line) => {
      const i = commentStart(line);
      const body = i >= 0 ? line.slice(0, i) : line;
      const comment = i >= 0 ? `<span class="c">${esc(line.slice(i))}</span>` : "";
      const parts = body.split(/(`[^`]*`|"(?:[^"\\]|\\.)*")/);
      const html = parts
        .map((p, j) => (j % 2 ? `<span class="s">${esc(p)}</span>` : esc(p).replace(KEYWORDS, '<span class="k">$1</span>')))
        .join("");
      return html + comment;
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
    details.append(h("pre", { tabindex: "0", role: "region", "aria-label": `${fn.role}: ${fn.name}, Go source` }, code));
  }
  return details;
}
