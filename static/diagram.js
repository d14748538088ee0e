// The sequence (Lamport) diagram: one vertical lane per node, virtual time
// flowing downward, one row per event. Only a window of rows around the
// selection is drawn, so a 20,000-event run costs the same as a short one.
//
// It reads without hovering: the rows that matter (a fault, a failed or
// dropped message, money moved, a crash, violation evidence) carry a short
// note beside their mark; a failed publish is drawn as a dashed line with
// a cross toward the lane it was meant for, as the front page draws it.
// Inside an element with the class "presenting" everything is drawn
// larger (lane names at least 16 px) with fewer rows, for a projector.

import { esc, label } from "./dom.js";
import { isDB } from "./run.js";

/** ROWS is how many events the diagram shows at once; PRESENTER_ROWS in presenter view. */
export const ROWS = 30;
export const PRESENTER_ROWS = 16;
/** PRESENTER_ZOOM scales the presenter view: lane names are 11 px times it. */
export const PRESENTER_ZOOM = 1.6;
const ROW_H = 20;
const GUTTER = 50;
const NAME_PX = 11; // lane name font size, as app.css sets it
const CHAR_W = 0.62; // a monospace character's width per px of font size

// TAGS are the short notes drawn beside the rows that matter.
const TAGS = {
  "publish-fail": "publish failed",
  "commit-err": "commit failed",
  rollback: "rolled back",
  timeout: "timed out",
  error: "error",
  drop: "dropped",
  down: "node down",
  duplicate: "duplicate",
  effect: "money moved",
  crash: "crash",
  restart: "restart",
  "dedup-skip": "duplicate skipped",
  alert: "alert",
};

const FAULTY = new Set(["publish-fail", "ack-lost", "error", "timeout", "rollback", "commit-err"]);
const ARRIVALS = new Set(["deliver", "duplicate", "drop", "down"]);

/**
 * windowOf picks the rows to draw around the anchor (the selected event):
 * centred on it when later events are shown, ending on it when it is the
 * newest.
 */
export function windowOf(side, anchor, rows = ROWS) {
  const last = Math.min(side.shown, side.events.length) - 1;
  if (last < 0) return [0, -1];
  anchor = Math.max(0, Math.min(anchor, last));
  const after = Math.min(Math.floor(rows / 2) - 1, last - anchor);
  let end = anchor + after;
  let start = Math.max(0, end - rows + 1);
  end = Math.min(last, start + rows - 1);
  return [start, end];
}

/**
 * draw renders side's events around anchor into svg; selected is the index
 * of the selected event in this side, or -1; boxWidth is the diagram's box
 * width if the caller has read it already; payment, when not 0, is the
 * payment whose story is open, tinted on every side.
 */
export function draw(svg, side, anchor, selected, boxWidth, payment = 0) {
  const nodes = side.meta.nodes;
  const z = svg.closest(".presenting") ? PRESENTER_ZOOM : 1;
  const rows = z > 1 ? PRESENTER_ROWS : ROWS;
  const rowH = ROW_H * z;
  const gutter = GUTTER * z;
  svg.style.setProperty("--dz", String(z));
  const width = Math.max(320, Math.round(boxWidth ?? svg.parentElement.clientWidth) || 600);
  // Notes beside the lanes only where there is room for both; lanes get
  // at least 64 px each so names stay readable.
  const lane = 64 * z;
  const notes = width - gutter - nodes.length * lane >= 240 * z;
  const laneArea = notes
    ? Math.max(nodes.length * lane, Math.min(nodes.length * 92 * z, (width - gutter) * 0.5))
    : width - gutter - 6;
  // Lane names never overlap: where one is wider than the space between
  // two lanes they take turns on up to three lines.
  const spacing = laneArea / nodes.length;
  const nameW = Math.max(...nodes.map((n) => n.length)) * NAME_PX * z * CHAR_W + 8 * z;
  const levels = Math.min(3, Math.max(1, Math.ceil(nameW / spacing)));
  const lineH = 13 * z;
  const header = 20 * z + levels * lineH;
  const laneX = new Map(nodes.map((n, i) => [n, gutter + (laneArea * (i + 0.5)) / nodes.length]));
  const noteX = gutter + laneArea + 12 * z;
  const maxChars = Math.max(8, Math.floor((width - noteX) / (11 * z * CHAR_W)));
  const [start, end] = windowOf(side, anchor, rows);
  const height = header + rows * rowH + 6;
  const bottom = header + rows * rowH;
  const y = (i) => header + (i - start) * rowH + rowH / 2;
  const out = [];

  // Rows of the selected event's payment are tinted, so its path through
  // the lanes stands out.
  const samePayment = payment || (selected >= 0 ? side.events[selected]?.payment || 0 : 0);
  for (let i = start; i <= end; i++) {
    const ev = side.events[i];
    const tip = `#${ev.id} ${ev.node} ${ev.kind}${ev.payment ? " p" + ev.payment : ""}: ${ev.note || ""}`;
    const cls = i === selected ? " sel" : samePayment && ev.payment === samePayment ? " same" : "";
    out.push(`<rect class="rowhit${cls}" data-i="${i}" x="0" y="${header + (i - start) * rowH}" width="${width}" height="${rowH}"><title>${esc(tip)}</title></rect>`);
  }
  nodes.forEach((n, k) => {
    const x = laneX.get(n);
    const ly = header - 8 * z - (levels - 1 - (k % levels)) * lineH;
    out.push(`<line class="lane" x1="${x}" y1="${ly + 3 * z}" x2="${x}" y2="${bottom}"></line>`);
    out.push(`<text class="lane-name${n.endsWith(".db") ? " db" : ""}" x="${x}" y="${ly}">${esc(n)}</text>`);
  });
  out.push(`<text class="t" x="${gutter - 8 * z}" y="${header - 8 * z}">ms</text>`);

  for (let i = start; i <= end; i++) {
    const ev = side.events[i];
    const x = laneX.get(ev.node);
    const yy = y(i);
    out.push(`<text class="t" x="${gutter - 8 * z}" y="${yy + 3.5 * z}">${(ev.at_us / 1000).toFixed(2)}</text>`);
    if (ARRIVALS.has(ev.kind) && ev.cause) out.push(arrival(side, ev, i, start, laneX, y, x, yy, header, z));
    if ((ev.kind === "send" || ev.kind === "request") && x !== undefined) out.push(inFlight(side, ev, end, laneX, x, yy, bottom));
    if (ev.kind === "publish-fail" && x !== undefined && laneX.has(ev.peer)) out.push(failedAttempt(x, laneX.get(ev.peer), yy, rowH, z));
    if (isDB(ev) && laneX.has(ev.peer) && x !== undefined) {
      out.push(`<line class="arrow dbcall" x1="${laneX.get(ev.peer)}" y1="${yy}" x2="${x}" y2="${yy}"></line>`);
    }
    if (x !== undefined) out.push(mark(ev, x, yy, z));
    // Without the notes column the rows that matter still say what they are.
    if (!notes && x !== undefined && TAGS[ev.kind] && !ev.violation) {
      const left = x > width * 0.62;
      const tx = ev.kind === "publish-fail" && laneX.has(ev.peer) ? (x + laneX.get(ev.peer)) / 2 : left ? x - 9 * z : x + 9 * z;
      const anchorAt = ev.kind === "publish-fail" ? "middle" : left ? "end" : "start";
      const ty = ev.kind === "publish-fail" ? yy - 4 * z : yy + 4 * z;
      const cls = ev.kind === "effect" ? "tag money" : ev.fault || FAULTY.has(ev.kind) || ev.kind === "drop" || ev.kind === "crash" ? "tag fault" : "tag";
      out.push(`<text class="${cls}" x="${tx}" y="${ty}" text-anchor="${anchorAt}">${esc(TAGS[ev.kind])}</text>`);
    }
    if (notes) {
      const text = `#${ev.id} ${ev.kind}${ev.payment ? " p" + ev.payment : ""} · ${ev.note || ""}`;
      const cut = text.length > maxChars ? text.slice(0, maxChars - 1) + "…" : text;
      const cls = ev.fault || ev.violation ? "note fault" : "note";
      out.push(`<text class="${cls}" x="${noteX}" y="${yy + 4 * z}">${esc(cut)}<title>${esc(text)}</title></text>`);
    }
  }
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("height", String(height));
  svg.innerHTML = out.join("");
  return [start, end];
}

// arrival draws the message line from its send to this delivery, drop or
// duplicate; a send above the window starts the line at the window's top.
function arrival(side, ev, i, start, laneX, y, x, yy, header, z) {
  const c = ev.cause - 1;
  const src = side.events[c];
  if (!src || x === undefined || !laneX.has(src.node)) return "";
  let x1 = laneX.get(src.node);
  let y1 = y(c);
  if (c < start) {
    // The send is above the window: clip the line at the window's top, so
    // it keeps the slope it would have if every row were drawn.
    const top = header - 6;
    x1 += ((x - x1) * (top - y1)) / (yy - y1);
    y1 = top;
  }
  if (ev.kind === "drop" || ev.kind === "down") {
    const d = 5 * z;
    return `<line class="arrow dropped" x1="${x1}" y1="${y1}" x2="${x}" y2="${yy}"></line>` +
      `<line class="x" x1="${x - d}" y1="${yy - d}" x2="${x + d}" y2="${yy + d}"></line>` +
      `<line class="x" x1="${x - d}" y1="${yy + d}" x2="${x + d}" y2="${yy - d}"></line>`;
  }
  if (ev.kind === "duplicate") {
    const [ox, oy] = normal(x1, y1, x, yy, 2.2);
    return `<line class="arrow dup" x1="${x1 + ox}" y1="${y1 + oy}" x2="${x + ox}" y2="${yy + oy}"></line>` +
      `<line class="arrow dup" x1="${x1 - ox}" y1="${y1 - oy}" x2="${x - ox}" y2="${yy - oy}"></line>` +
      head(x1, y1, x, yy, "head dup") +
      `<text class="dup-label" x="${x + (x >= x1 ? -26 * z : 8 * z)}" y="${yy - 5 * z}">×2</text>`;
  }
  return `<line class="arrow" x1="${x1}" y1="${y1}" x2="${x}" y2="${yy}"></line>` + head(x1, y1, x, yy, "head");
}

// inFlight draws a dashed stub from a send whose arrival is not in the
// window yet, heading for the receiver's lane at the window's bottom.
function inFlight(side, ev, end, laneX, x, yy, bottom) {
  const arrivals = side.effects.get(ev.id) || [];
  if (arrivals.some((j) => j <= end) || !laneX.has(ev.peer)) return "";
  return `<line class="arrow flight" x1="${x}" y1="${yy}" x2="${laneX.get(ev.peer)}" y2="${bottom}"></line>`;
}

// failedAttempt draws a publish that never arrived: a dashed line from the
// publisher toward the lane it was meant for, ending in a cross short of it.
function failedAttempt(x, to, y, rowH, z) {
  const x2 = x + (to - x) * 0.8;
  const y2 = y + rowH * 0.35;
  const d = 4.5 * z;
  return `<line class="arrow dropped" x1="${x}" y1="${y}" x2="${x2}" y2="${y2}"></line>` +
    `<line class="x" x1="${x2 - d}" y1="${y2 - d}" x2="${x2 + d}" y2="${y2 + d}"></line>` +
    `<line class="x" x1="${x2 - d}" y1="${y2 + d}" x2="${x2 + d}" y2="${y2 - d}"></line>`;
}

// mark draws the event's own symbol on its lane, at zoom z.
function mark(ev, x, y, z = 1) {
  let s;
  switch (ev.kind) {
    case "crash":
      s = `<line class="crash" x1="${x - 14 * z}" y1="${y}" x2="${x + 14 * z}" y2="${y}"></line>`;
      break;
    case "restart":
      s = `<line class="restart" x1="${x - 14 * z}" y1="${y}" x2="${x + 14 * z}" y2="${y}"></line>`;
      break;
    case "drop":
    case "down":
      s = "";
      break;
    case "effect":
      s = `<path class="dot effect" d="M${x} ${y - 6 * z}L${x + 6 * z} ${y}L${x} ${y + 6 * z}L${x - 6 * z} ${y}Z"></path>`;
      break;
    case "dedup-skip":
      s = `<circle class="dot skip" cx="${x}" cy="${y}" r="${4.5 * z}"></circle>`;
      break;
    case "duplicate":
      s = `<circle class="dot dup" cx="${x}" cy="${y}" r="${3.5 * z}"></circle>`;
      break;
    default: {
      let cls = "msg";
      if (FAULTY.has(ev.kind) || ev.fault) cls = "fault";
      else if (ev.kind === "commit") cls = "dbok";
      else if (isDB(ev)) cls = "db";
      else if (ev.node === "bus" || ev.kind === "publish" || ev.kind === "ack") cls = "bus";
      const r = 3.5 * z;
      s = isDB(ev)
        ? `<rect class="dot ${cls}" x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}" rx="1"></rect>`
        : `<circle class="dot ${cls}" cx="${x}" cy="${y}" r="${r}"></circle>`;
    }
  }
  if (ev.violation) {
    s += `<circle class="viol" cx="${x}" cy="${y}" r="${8.5 * z}"></circle>` +
      `<text class="badge" x="${x + 11 * z}" y="${y - 4 * z}">${esc(label(ev.violation))}</text>`;
  }
  return s;
}

function normal(x1, y1, x2, y2, d) {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len = Math.hypot(dx, dy) || 1;
  return [(-dy / len) * d, (dx / len) * d];
}

function head(x1, y1, x2, y2, cls) {
  const a = Math.atan2(y2 - y1, x2 - x1);
  const l = 7;
  const w = 0.45;
  const p1 = [x2 - l * Math.cos(a - w), y2 - l * Math.sin(a - w)];
  const p2 = [x2 - l * Math.cos(a + w), y2 - l * Math.sin(a + w)];
  return `<path class="${cls}" d="M${x2} ${y2}L${p1[0].toFixed(1)} ${p1[1].toFixed(1)}L${p2[0].toFixed(1)} ${p2[1].toFixed(1)}Z"></path>`;
}
