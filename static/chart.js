// The chart: committed payments against ledger entries over virtual time
// (or a design's own pair of counters). Where the blue line runs above the
// green one the two systems disagree; the shaded gap is money the ledger
// does not know about (or, below, money it moved twice).

import { ms } from "./dom.js";

const H = 110;
const PAD_L = 34;
const PAD_B = 18;
const SAMPLES = 160;

/**
 * drawChart renders two of side's counters (series, e.g. committed and
 * ledger_entries) up to its cursor; xMaxUs and yMax fix the scales;
 * boxWidth is its box's width if the caller has read it already.
 */
export function drawChart(svg, side, series, xMaxUs, yMax, boxWidth) {
  const width = Math.max(260, Math.round(boxWidth ?? svg.parentElement.clientWidth) || 400);
  const plotW = width - PAD_L - 8;
  const plotH = H - PAD_B - 8;
  const xMax = Math.max(1, xMaxUs);
  const yTop = Math.max(1, yMax);
  const px = (us) => PAD_L + (us / xMax) * plotW;
  const py = (v) => 8 + plotH - (v / yTop) * plotH;
  const now = side.nowUs;
  const committed = [];
  const ledger = [];
  const n = Math.min(side.shown, side.events.length);
  if (n > 0) {
    const steps = Math.max(1, Math.ceil((now / xMax) * SAMPLES));
    for (let s = 0; s <= steps; s++) {
      const t = (now * s) / steps;
      committed.push([px(t), py(side.countAt(series[0], t))]);
      ledger.push([px(t), py(side.countAt(series[1], t))]);
    }
  }
  const pts = (a) => a.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  const gap = committed.length ? `<polygon class="gap" points="${pts(committed)} ${pts(ledger.slice().reverse())}"></polygon>` : "";
  const base = 8 + plotH;
  svg.setAttribute("viewBox", `0 0 ${width} ${H}`);
  svg.setAttribute("height", String(H));
  svg.innerHTML =
    `<line class="grid" x1="${PAD_L}" y1="8" x2="${width - 8}" y2="8"></line>` +
    `<line class="axis" x1="${PAD_L}" y1="${base}" x2="${width - 8}" y2="${base}"></line>` +
    `<text x="${PAD_L - 6}" y="12" text-anchor="end">${yTop}</text>` +
    `<text x="${PAD_L - 6}" y="${base}" text-anchor="end">0</text>` +
    `<text x="${PAD_L}" y="${H - 4}">0</text>` +
    `<text x="${width - 8}" y="${H - 4}" text-anchor="end">${ms(xMax)}</text>` +
    gap +
    (committed.length ? `<polyline class="committed" points="${pts(committed)}"></polyline><polyline class="ledger" points="${pts(ledger)}"></polyline>` : "") +
    (n > 0 ? `<line class="now" x1="${px(now)}" y1="8" x2="${px(now)}" y2="${base}"></line>` : "");
}
