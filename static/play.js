// The playground page: sends the form's scenario over the socket, keeps the
// runs the server streams back, and draws counters, chart, sequence diagram
// and the selected event at the server's cursor. The server owns time; this
// page only shows the first `shown` events of each side.

import { $, $$, h, ms, label } from "./dom.js";
import { Side } from "./run.js";
import { draw } from "./diagram.js";
import { drawChart } from "./chart.js";
import { renderSource } from "./source.js";
import { ScenarioForm, SPEEDS, copyLink } from "./form.js";
import { RunSocket } from "./socket.js";
import { renderDetails } from "./details.js";
import { checklistPanel } from "./checklist-panel.js";
import { tablesPanel } from "./tables.js";

const root = document.documentElement;
const form = new ScenarioForm($("#scenario"));
const ui = {
  sides: $("#sides"),
  details: $("#details"),
  summary: $("#summary"),
  play: $("#play"),
  back: $("#step-back"),
  fwd: $("#step-fwd"),
  timeline: $("#timeline"),
  time: $("#time"),
  conn: $("#conn"),
  help: $("#shortcuts"),
};

const state = {
  sides: [],
  views: [],
  atUs: 0,
  endUs: 0,
  playing: false,
  done: false,
  sel: null, // {side, i}: the selected event
  pinned: false, // true when the reader chose the selection; false follows the cursor
  summaryAt: 0,
  scrubbing: false, // the reader is dragging the timeline
  run: 0, // counts runs, so views cached per event know a new run from the last
};

const socket = new RunSocket(onMessage, (s) => {
  ui.conn.dataset.state = s;
  ui.conn.textContent = s === "open" ? "" : "Disconnected from the server: press Run to reconnect.";
  if (s === "closed") {
    state.playing = false;
    setRunState(runState());
    schedule();
  }
});

function setRunState(s) {
  // The selected event is read out when the reader steps, not 60 times a
  // second while the run plays.
  ui.details.setAttribute("aria-live", s === "playing" ? "off" : "polite");
  if (root.dataset.runState === s) return;
  root.dataset.runState = s;
  // A mark per state, so load time can be measured from the page itself.
  performance.mark(`run-state-${s}`);
}

function runState() {
  if (!state.sides.length) return "idle";
  if (state.done && state.sides.every((x) => x.finished)) return "done";
  return state.playing ? "playing" : "paused";
}

// ---------- messages from the server ----------

function onMessage(m) {
  switch (m.type) {
    case "meta":
      return onMeta(m);
    case "events": {
      const side = state.sides[m.side];
      if (side) side.add(m.events || []);
      return schedule();
    }
    case "cursor":
      state.atUs = m.at_us;
      state.playing = !!m.playing;
      (m.shown || []).forEach((n, i) => state.sides[i] && (state.sides[i].shown = n));
      if (typeof m.speed === "number") form.speed = m.speed;
      if (!state.pinned) followCursor();
      setRunState(runState());
      return schedule();
    case "report":
      if (state.sides[m.side]) state.sides[m.side].report = m.report;
      return schedule();
    case "done":
      state.done = true;
      state.playing = false;
      for (const s of state.sides) s.shown = Math.max(s.shown, s.events.length);
      state.atUs = Math.max(state.atUs, ...state.sides.map((s) => s.nowUs));
      if (!state.pinned) followCursor();
      render();
      setRunState(runState());
      return;
    case "error":
      form.showError(m.field || "form", m.message || "the server could not run this scenario");
      ui.summary.replaceChildren(h("span", { class: "bad", text: "This scenario cannot run: " }), m.message || "");
      if (!state.sides.length) setRunState("idle");
      return;
  }
}

function onMeta(m) {
  document.title = `${m.runs.map((r) => r.design).join(" vs ")} · Partial Truth playground`;
  state.run++;
  state.sides = m.runs.map((r) => new Side(r));
  state.done = false;
  state.playing = false;
  state.sel = null;
  state.pinned = false;
  state.atUs = 0;
  state.endUs = Math.max(1, ...m.runs.map((r) => r.end_us));
  ui.timeline.max = String(state.endUs);
  ui.timeline.disabled = false;
  buildSides(m.runs);
  setRunState("paused");
  schedule();
}

// ---------- building and drawing ----------

function buildSides(runs) {
  ui.sides.replaceChildren();
  ui.sides.className = runs.length > 1 ? "sides compare" : "sides single";
  state.views = runs.map((r, s) => {
    const summary = $(`#design option[value="${CSS.escape(r.design)}"]`)?.dataset.summary || "";
    const verdict = h("span", { class: "verdict" });
    const counters = h("div", { class: "counters", role: "group", "aria-label": `Counters for ${r.design}` });
    const values = {};
    for (const key of r.metrics) {
      const value = h("span", { class: "value", "data-metric": key, text: "0" });
      values[key] = value;
      const name = h("span", { class: "name", text: label(key) });
      const isViolation = (r.invariants || []).includes(key);
      const box = isViolation
        ? h("button", { type: "button", class: "counter violation", "data-key": key, "data-hot": "false", title: `Jump to the first ${label(key)} event` }, name, value)
        : h("div", { class: "counter" }, name, value);
      if (isViolation) box.addEventListener("click", () => jumpToViolation(s, key));
      counters.append(box);
    }
    const series = chartSeries(state.sides[s]);
    const chart = svgEl("chart", `${label(series[0])} and ${label(series[1])} over virtual time for ${r.design}`);
    const diagram = svgEl("diagram", `Sequence diagram of ${r.design}: one lane per node, time flows down`);
    diagram.addEventListener("click", (e) => {
      const row = e.target.closest("[data-i]");
      if (row) select(s, Number(row.dataset.i), true);
    });
    const foot = h("div", { class: "diagram-foot" });
    const checklist = checklistPanel(r.design, (id) => jumpToEvent(s, id));
    const tables = tablesPanel(r, s);
    const el = h(
      "section",
      { class: "side", "data-design": r.design, "data-side": s, "aria-label": r.design },
      h("header", { class: "side-head" }, h("h2", {}, r.design, verdict), summary ? h("p", { text: summary }) : null),
      counters,
      h("div", { class: "chart-box" }, chart, h("div", { class: "chart-legend" },
        h("span", {}, h("span", { class: "sw committed" }), label(series[0])),
        h("span", {}, h("span", { class: "sw ledger" }), label(series[1])))),
      h("div", { class: "diagram-box" }, diagram, foot),
      h("div", { class: "side-notes" }, renderSource(r, runs.length === 1), checklist.el),
      tables.el,
    );
    ui.sides.append(el);
    return { el, values, verdict, chart, diagram, foot, counters, series, checklist, tables };
  });
}

// chartSeries picks the two counters the chart compares: committed
// payments against ledger entries where the design has both (the two
// places that must agree), else its first counter against its first
// invariant.
function chartSeries(side) {
  const m = side.keys;
  if (m.includes("committed") && m.includes("ledger_entries")) return ["committed", "ledger_entries"];
  const live = m.filter((k) => side.countable.has(k));
  const inv = live.find((k) => side.invariants.has(k)) || m.find((k) => side.invariants.has(k)) || m[1];
  const first = live.find((k) => k !== inv) || m.find((k) => k !== inv) || m[0];
  return [first, inv || first];
}

function svgEl(cls, name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", cls);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", name);
  return svg;
}

let frame = 0;
function schedule() {
  if (!frame) frame = requestAnimationFrame(() => {
    frame = 0;
    render();
  });
}

function render() {
  // One scale for both sides: the payments, or more if a counter (retried
  // charges, say) outgrows them.
  const yMax = Math.max(1, ...state.sides.flatMap((s, i) => [
    s.meta.scenario?.payments || 1,
    ...state.views[i].series.map((k) => s.counted(k, s.events.length) ?? 0),
  ]));
  const selAt = state.sel ? state.sides[state.sel.side]?.events[state.sel.i]?.at_us : undefined;
  state.sides.forEach((side, s) => {
    const v = state.views[s];
    for (const [key, el] of Object.entries(v.values)) {
      const value = side.value(key);
      const n = value == null ? "–" : String(value);
      if (el.textContent !== n) el.textContent = n;
      // What the events alone say ("" when they cannot tell), kept beside
      // the shown value so a test can check the stream agrees with the report.
      const counted = side.counted(key);
      el.dataset.counted = counted == null ? "" : String(counted);
    }
    for (const b of $$(".counter.violation", v.counters)) b.dataset.hot = String((side.value(b.dataset.key) ?? 0) > 0);
    const end = side.finished && side.report;
    v.verdict.className = "verdict " + (end ? (side.report.converged ? "good" : "bad") : "");
    v.verdict.textContent = end ? (side.report.converged ? "converged" : "diverged") : "";
    drawChart(v.chart, side, v.series, state.endUs, yMax);
    v.checklist.update(side.report, side.shown, side.finished);
    v.tables.update(state.done); // the final state: it stays open when the reader scrubs back
    let anchor = Math.min(side.shown, side.events.length) - 1;
    if (state.sel && state.sel.side === s) anchor = state.sel.i;
    else if (state.pinned && selAt !== undefined) anchor = side.indexAt(selAt);
    const selected = state.sel && state.sel.side === s ? state.sel.i : -1;
    const [a, b] = draw(v.diagram, side, anchor, selected);
    v.foot.textContent = b >= a ? `events ${a + 1}–${b + 1} of ${side.shown} shown (${side.total} in the run)` : "no events yet: press Play or →";
  });
  renderDetails(ui.details, state, (s, id) => select(s, id - 1, true));
  if (!state.scrubbing) ui.timeline.value = String(state.atUs);
  ui.time.textContent = `${ms(state.atUs)} / ${ms(state.endUs)}`;
  const atEnd = state.sides.length && state.sides.every((x) => x.finished);
  ui.play.textContent = state.playing ? "Pause" : atEnd ? "Replay" : "Play";
  ui.play.setAttribute("aria-pressed", String(state.playing));
  renderSummary();
}

function renderSummary() {
  if (!state.sides.length) return;
  const now = performance.now();
  const settled = !state.playing;
  if (!settled && now - state.summaryAt < 1500) return;
  state.summaryAt = now;
  const parts = state.sides.map((side) => {
    const pays = side.meta.scenario?.payments ?? side.report?.payments ?? "?";
    const soFar = side.finished ? "" : " so far";
    const bits = [];
    for (const key of side.meta.invariants || []) {
      const n = side.value(key) ?? 0;
      if (key === "lost") bits.push(`${n} of ${pays} payments lost${soFar}`);
      else if (n > 0 || bits.length === 0) bits.push(`${label(key)} ${n}${soFar}`);
    }
    return `${side.meta.design}: ${bits.join(", ")}`;
  });
  const text = parts.join(" · ") + ".";
  if (ui.summary.textContent !== text) ui.summary.textContent = text;
}

// ---------- selection ----------

function followCursor() {
  let best = null;
  state.sides.forEach((side, s) => {
    const i = Math.min(side.shown, side.events.length) - 1;
    if (i < 0) return;
    if (!best || side.atUs[i] > state.sides[best.side].atUs[best.i]) best = { side: s, i };
  });
  state.sel = best;
}

function select(s, i, pinned) {
  const side = state.sides[s];
  if (!side || i < 0 || i >= side.events.length) return;
  state.sel = { side: s, i };
  state.pinned = pinned;
  schedule();
}

function jumpToViolation(s, key) {
  jumpToEvent(s, state.sides[s].firstViolation(key));
}

// jumpToEvent pauses, shows the run up to event id of side s if it is not
// shown yet, and selects it.
function jumpToEvent(s, id) {
  const side = state.sides[s];
  const ev = side && id && side.byId(id);
  if (!ev) return;
  if (state.playing) socket.send({ type: "pause" });
  if (id > side.shown) socket.send({ type: "seek", at_us: ev.at_us });
  select(s, id - 1, true);
}

// ---------- controls ----------

function run(autoplay) {
  form.clearErrors();
  form.syncURL();
  const msg = { type: "run", params: form.params(), speed: form.speed, autoplay };
  if (form.compare) msg.compare = form.compare;
  state.done = false;
  setRunState(state.sides.length ? "paused" : "idle");
  socket.send(msg);
}

function togglePlay() {
  if (!state.sides.length) return run(true);
  state.pinned = false;
  if (state.playing) return socket.send({ type: "pause" });
  if (state.sides.every((x) => x.finished)) socket.send({ type: "seek", at_us: 0 });
  socket.send({ type: "play" });
}

function step(delta) {
  if (!state.sides.length) return;
  state.pinned = false;
  socket.send({ type: "step", delta });
}

function changeSpeed(dir) {
  const i = SPEEDS.indexOf(form.speed);
  const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (i < 0 ? 2 : i) + dir))];
  form.speed = next;
  form.syncURL();
  socket.send({ type: "speed", speed: next });
}

$("#scenario").addEventListener("submit", (e) => {
  e.preventDefault();
  run(true);
});
$("#scenario").addEventListener("input", () => form.syncURL());
$("#scenario").addEventListener("change", () => form.syncURL());
form.field("speed").addEventListener("change", () => {
  form.syncURL();
  socket.send({ type: "speed", speed: form.speed });
});
ui.play.addEventListener("click", togglePlay);
ui.back.addEventListener("click", () => step(-1));
ui.fwd.addEventListener("click", () => step(1));
// While the reader drags the timeline, the server's cursor does not move
// the thumb under their pointer.
ui.timeline.addEventListener("pointerdown", () => (state.scrubbing = true));
window.addEventListener("pointerup", () => {
  if (state.scrubbing) {
    state.scrubbing = false;
    schedule();
  }
});
let seekTimer = 0;
ui.timeline.addEventListener("input", () => {
  state.pinned = false;
  clearTimeout(seekTimer);
  seekTimer = setTimeout(() => socket.send({ type: "seek", at_us: Number(ui.timeline.value) }), 30);
});
$("#copy-link").addEventListener("click", () => copyLink(form.shareURL(), $("#copy-status"), $("#copy-fallback")));
// The shortcuts dialog gives focus back where it was, so Space and the
// arrows keep driving playback after it closes.
let beforeHelp = null;
function openHelp() {
  beforeHelp = document.activeElement;
  ui.help.showModal();
}
ui.help.addEventListener("close", () => {
  if (beforeHelp && beforeHelp !== document.body && beforeHelp.isConnected) beforeHelp.focus();
  else if (ui.help.contains(document.activeElement)) document.activeElement.blur();
});
$("#show-shortcuts").addEventListener("click", openHelp);

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || ui.help.open) return;
  const t = e.target;
  const typing = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
  if (e.key === "?" && !(typing && t.type === "text")) {
    e.preventDefault();
    openHelp();
    return;
  }
  if (typing) return;
  switch (e.key) {
    case " ":
      if (t instanceof HTMLButtonElement || t instanceof HTMLAnchorElement || t instanceof HTMLElement && t.tagName === "SUMMARY") return;
      e.preventDefault();
      togglePlay();
      break;
    case "ArrowRight":
      e.preventDefault();
      step(1);
      break;
    case "ArrowLeft":
      e.preventDefault();
      step(-1);
      break;
    case "+":
    case "=":
      changeSpeed(1);
      break;
    case "-":
    case "_":
      changeSpeed(-1);
      break;
  }
});

let resizeFrame = 0;
window.addEventListener("resize", () => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(render);
});

// Start: load the URL's run (playing it through with autoplay=1), unless the
// server already found the scenario invalid and shows why beside the field.
setRunState("idle");
performance.mark("playground-ready");
if (form.hasServerError) {
  document.querySelector('#scenario [aria-invalid="true"]')?.focus();
} else {
  const autoplay = new URLSearchParams(location.search).get("autoplay") === "1";
  run(autoplay);
}
