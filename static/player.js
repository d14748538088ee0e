// The player: a run (or two designs side by side on one playhead) drawn
// from a source of runs, with its playback bar, counters, chart, sequence
// diagram, the selected event's details, the design's source, its checklist
// and tables. The server owns time; a player shows the first `shown` events
// of each side at the server's cursor.
//
// Importing this module does nothing. mountPlayer does the work, once per
// player, and keeps everything it needs in that call, so a page can hold a
// player (the playground, a lesson step, a room) or several.
//
// ## Mounting one
//
// The markup is the templ component ui.Player (web/ui/player.templ); render
// it with an id prefix of its own when the page holds more than one. A
// lesson step that shows one design on a fixed scenario:
//
//   <div id="step-3">@ui.Player(ui.PlayerView{ID: "step-3-", Speeds: …, Speed: "16"})</div>
//
//   import { mountPlayer } from "./player.js";
//   import { RunSocket } from "./socket.js";
//
//   const step = document.getElementById("step-3");
//   const player = mountPlayer(step.querySelector("[data-player]"), {
//     source: new RunSocket(),   // one source per player
//     stateEl: step,             // carries data-run-state for this player
//   });
//   player.run({ params: { design: "dual-write", seed: "42", payments: "200",
//     faults: "bus.publish.fail=0.1" } });
//
// run's params are the playground's URL parameters as strings (the same
// parser reads them); add compare: "outbox-idempotent" for two sides, and
// autoplay: true to play at once. Keyboard shortcuts work while focus is
// inside the player unless `keys` says otherwise.
//
// ## Options
//
//   source      required: a source of runs (socket.js RunSocket, or anything
//               with send(msg) and listen(onMessage, onState) → unlisten)
//   stateEl     the element whose data-run-state says idle, paused, playing
//               or done (default: the page's <html>)
//   keys        where to listen for shortcut keys (default: el; the
//               playground passes document)
//   summaryOf   design → its one-line summary, shown under its name
//   start       (autoplay) → called when Play is pressed before any run
//               has loaded, or while changed() (default: send the last run again)
//   changed     () → true when the page holds a scenario other than the run
//               shown (the playground's edited form): Play then calls start
//   onMeta      (runs) → called when a run starts, with meta.runs
//   onError     (field, message) → a run the server refused
//   onSpeed     (speed) → the reader changed the speed
//   story       the payment whose story the first run opens on (a link's story=N)
//   onStory     (payment) → a story was opened (0: closed), for the link
//
// ## What it returns
//
//   run(msg)            start a run: {params, compare?, speed?, autoplay?}
//   togglePlay(), step(delta), seek(atUs)
//   jumpToEvent(side, id)  pause and select event id (from 1) of side,
//                       showing the run up to it, even if the run has not
//                       been played that far yet (a lesson's "show me")
//   state               the player's state (sides, selection, playhead), read only
//   destroy()           stop listening to the source, the window and the keys

import { $$, h, ms, label } from "./dom.js";
import { Side } from "./run.js";
import { draw } from "./diagram.js";
import { drawChart } from "./chart.js";
import { renderSource } from "./source.js";
import { renderDetails } from "./details.js";
import { checklistPanel, TURN_ON } from "./checklist-panel.js";
import { tablesPanel } from "./tables.js";

/** mountPlayer draws the runs source sends into el (a ui.Player's [data-player]); see the top of this file. */
export function mountPlayer(el, opts) {
  const source = opts.source;
  const stateEl = opts.stateEl || document.documentElement;
  const keys = opts.keys || el;
  const summaryOf = opts.summaryOf || (() => "");
  const part = (name) => el.querySelector(`[data-part="${name}"]`);
  const ui = {
    sides: part("sides"),
    details: part("details"),
    summary: part("summary"),
    announce: part("announce"),
    play: part("play"),
    back: part("step-back"),
    fwd: part("step-fwd"),
    timeline: part("timeline"),
    time: part("time"),
    speed: part("speed"),
    conn: part("conn"),
    help: part("shortcuts"),
    showHelp: part("show-shortcuts"),
    presenter: part("presenter"),
  };
  // Element ids this player makes (the tables panel's) carry the prefix
  // of its markup's ids, which ui.Player puts in data-player.
  const idPrefix = el.dataset.player || "";

  // A payment's story across every side: its steps side by side, opened
  // from an event's payment, the summary's first lost payment, or by id.
  const story = storyPanel();
  (part("head") || ui.summary).after(story.el);


  const state = {
    sides: [],
    views: [],
    atUs: 0,
    endUs: 0,
    playing: false,
    done: false,
    sel: null, // {side, i}: the selected event, the playhead's newest
    pinned: false, // true when the selection is not the playhead: a finished run's first violation
    note: "", // what the details say above the selection (or instead of it)
    wasPlaying: false, // the run was playing when it reached its end
    story: 0, // the payment whose story is open, 0 for none
    summaryAt: 0,
    said: new Set(), // "side:key" of each violation already announced
    scrubbing: false, // the reader is dragging the timeline
    run: 0, // counts runs, so views cached per event know a new run from the last
  };
  let lastRun = null; // the last run message sent, for start's default
  let wantStory = opts.story || 0; // the payment whose story the next run opens on
  let pendingPlay = false; // the last run message sent asked to play
  let seekTo = null; // {atUs, sent}: the reader's seek, until the server's cursor answers it

  // ---------- connection ----------

  // While the connection is down, offline keeps where the reader was; when
  // it is back, the run is sent again and resume puts the reader back
  // there: the same playhead, the same selection, playing if it was.
  let offline = null; // {since, atUs, playing, sel: {side, id}, pinned}
  let resume = null;
  let connNoteTimer = 0;
  const unlisten = source.listen(onMessage, onConnection);

  function onConnection(s, info = {}) {
    ui.conn.dataset.state = s;
    clearTimeout(connNoteTimer);
    if (s === "retrying") {
      if (!offline) {
        const ev = state.sel && state.sides[state.sel.side]?.events[state.sel.i];
        offline = {
          since: info.since || Date.now(),
          atUs: state.atUs,
          playing: state.playing,
          sel: ev ? { side: state.sel.side, id: ev.id } : null,
          pinned: state.pinned,
          serverLeft: !!info.serverLeft, // the first close says why; the failed tries after it do not
        };
      }
      state.playing = false;
      const what = offline.serverLeft ? "The server closed the connection (it is restarting or stopping)" : "The connection to the server dropped";
      const where = state.sides.length ? ` The run will carry on from ${ms(offline.atUs)}.` : "";
      ui.conn.textContent = `${what} at ${clock(offline.since)}. Trying again in ${Math.max(1, Math.round(info.inMs / 1000))} s.${where}`;
    } else if (s === "open") {
      if (offline) {
        const back = offline;
        offline = null;
        if (lastRun && state.sides.length) {
          resume = back;
          source.send({ ...lastRun, speed: speedOf(), autoplay: false });
          // The selection is the playhead: go back to the selected event
          // itself, not only to its time, which other events share.
          if (back.sel) source.send({ type: "seek", side: back.sel.side, event: back.sel.id });
          else if (back.atUs > 0) source.send({ type: "seek", at_us: back.atUs });
          if (back.playing) source.send({ type: "play" });
        }
        ui.conn.textContent = `Connected again at ${clock(Date.now())}${state.sides.length ? `, back at ${ms(back.atUs)}` : ""}.`;
        connNoteTimer = setTimeout(() => (ui.conn.textContent = ""), 10000);
      } else ui.conn.textContent = "";
    } else if (s === "closed") {
      state.playing = false;
      ui.conn.textContent = "Cannot reach the server. Press Play to try again.";
    }
    setRunState(runState());
    schedule();
  }

  // restoreAfterReconnect puts the selection back once the run is on the
  // page again and its event has arrived.
  function restoreAfterReconnect() {
    if (!resume?.sel) return;
    const { side, id } = resume.sel;
    if (!state.sides[side]?.byId(id) || id > state.sides[side].shown) return;
    state.sel = { side, i: id - 1 };
    state.pinned = resume.pinned;
    resume = null;
  }

  const clock = (t) => new Date(t).toLocaleTimeString();

  function setRunState(s) {
    // The selected event is read out when the reader steps, not 60 times a
    // second while the run plays.
    ui.details.setAttribute("aria-live", s === "playing" ? "off" : "polite");
    if (stateEl.dataset.runState === s) return;
    const was = stateEl.dataset.runState;
    stateEl.dataset.runState = s;
    if (s === "playing" && was !== "playing") say(`Playing ${state.sides.map((x) => x.meta.design).join(" against ")}.`);
    if (s === "done") say(`Run finished. ${summaryText()}`);
    // A mark per state, so load time can be measured from the page itself.
    performance.mark(`run-state-${s}`);
  }

  // say puts one sentence in the player's live region: a run starting or
  // finishing, or a violation's first evidence, never the ticking counters.
  // Sentences said in one frame are read together; a repeated sentence is
  // still read, since the region is emptied first.
  let toSay = [];
  function say(text) {
    if (!ui.announce) return;
    if (!toSay.length) {
      ui.announce.textContent = "";
      requestAnimationFrame(() => {
        ui.announce.textContent = toSay.join(" ");
        toSay = [];
      });
    }
    toSay.push(text);
  }

  // announceEvidence says, once per run and side, each invariant's first
  // violation as it comes into view.
  function announceEvidence() {
    state.sides.forEach((side, s) => {
      for (const key of side.meta.invariants || []) {
        const id = side.firstViolation(key);
        const tag = `${s}:${key}`;
        if (!id || id > side.shown || state.said.has(tag)) continue;
        state.said.add(tag);
        const ev = side.byId(id);
        say(`${side.meta.design}: first ${label(key)} evidence, event ${id}${ev ? ` at ${ms(ev.at_us)}` : ""}.`);
      }
    });
  }

  function runState() {
    // Until the run sent again is back at the reader's place, the page
    // still shows the old connection's run: not yet paused or playing.
    if (offline || resume) return "reconnecting";
    if (!state.sides.length) return "idle";
    if (state.done && state.sides.every((x) => x.finished)) return "done";
    return state.playing ? "playing" : "paused";
  }

  // ---------- speed ----------

  // defaultSpeed is sim's default speed, as the page renders it on the select.
  const defaultSpeed = Number(ui.speed.dataset.default);

  function speedOf() {
    const n = Number(ui.speed.value);
    return Number.isFinite(n) ? n : defaultSpeed;
  }

  function setSpeed(v) {
    if ([...ui.speed.options].some((o) => Number(o.value) === v)) ui.speed.value = String(v);
  }

  // ---------- messages from the server ----------
  //
  // Handling a message writes nothing to the page: it changes the state
  // and asks for a frame, and render draws it, once a frame.

  function onMessage(m) {
    switch (m.type) {
      case "meta":
        return onMeta(m);
      case "events": {
        const side = state.sides[m.side];
        if (!side) return;
        const had = side.events.length;
        side.add(m.events || []);
        // Events past the cursor show nothing until it moves (a cursor
        // message follows): a long run streaming in at full speed costs a
        // parse per message, not a redraw.
        if (had >= side.shown) return;
        return schedule();
      }
      case "cursor":
        if (seekTo?.sent) seekTo = null;
        state.atUs = m.at_us;
        state.playing = !!m.playing;
        (m.shown || []).forEach((n, i) => state.sides[i] && (state.sides[i].shown = n));
        if (state.playing) state.wasPlaying = true;
        else if (!state.sides.every((x) => x.shown >= x.total)) state.wasPlaying = false;
        if (typeof m.speed === "number") setSpeed(m.speed);
        if (resume && m.at_us >= resume.atUs) {
          restoreAfterReconnect();
          if (!resume?.sel) resume = null;
        }
        if (!state.pinned) followCursor();
        return schedule();
      case "report":
        if (state.sides[m.side]) state.sides[m.side].report = m.report;
        return schedule();
      case "done":
        state.done = true;
        state.playing = false;
        for (const s of state.sides) s.shown = Math.max(s.shown, s.events.length);
        state.atUs = Math.max(state.atUs, ...state.sides.map((s) => s.nowUs));
        if (state.wasPlaying) landOnFirstViolation();
        else if (!state.pinned) followCursor();
        state.wasPlaying = false;
        return schedule();
      case "error":
        // A control message that reached a fresh connection before its
        // run (the server keeps no run for a socket that went away): send
        // the run again rather than show the reader the protocol's words.
        if (!m.field && /needs a run/.test(m.message || "") && lastRun) {
          source.send({ ...lastRun, speed: speedOf(), autoplay: false });
          return;
        }
        opts.onError?.(m.field || "form", m.message || "the server could not run this scenario");
        ui.summary.replaceChildren(h("span", { class: "bad", text: "This scenario cannot run: " }), m.message || "");
        if (!state.sides.length) setRunState("idle");
        return;
    }
  }

  function onMeta(m) {
    opts.onMeta?.(m.runs);
    if (window.requestIdleCallback) requestIdleCallback(loadStory);
    else setTimeout(loadStory, 500);
    state.run++;
    seekTo = null;
    state.sides = m.runs.map((r) => new Side(r));
    state.said = new Set();
    state.done = false;
    state.playing = false;
    state.sel = null;
    state.pinned = false;
    state.note = "";
    state.story = wantStory;
    wantStory = 0;
    opts.onStory?.(state.story);
    state.wasPlaying = pendingPlay; // an autoplayed run at full speed is never seen playing
    state.atUs = 0;
    state.endUs = Math.max(1, ...m.runs.map((r) => r.end_us));
    ui.timeline.max = String(state.endUs);
    ui.timeline.disabled = false;
    buildSides(m.runs);
    schedule();
  }

  // ---------- building and drawing ----------

  // boxSizes keeps the chart and diagram boxes' widths, so render reads no layout.
  const boxSizes = new ResizeObserver((entries) => {
    let changed = false;
    for (const e of entries) {
      const v = state.views.find((x) => x.chart.parentElement === e.target || x.diagram.parentElement === e.target);
      const w = Math.round(e.contentRect.width);
      if (v && v.widths.get(e.target) !== w) {
        v.widths.set(e.target, w);
        changed = true;
      }
    }
    if (changed) schedule();
  });

  function buildSides(runs) {
    boxSizes.disconnect();
    ui.sides.replaceChildren();
    ui.sides.className = runs.length > 1 ? "sides compare" : "sides single";
    state.views = runs.map((r, s) => {
      const summary = summaryOf(r.design) || "";
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
        if (row) select(s, Number(row.dataset.i));
      });
      const foot = h("div", { class: "diagram-foot" });
      const rows = eventList(s);
      const checklist = checklistPanel(r.design, (id) => jumpToEvent(s, id), (faults) => rerunWith(faults)(runs));
      const tables = tablesPanel(r, `${idPrefix}${s}`);
      const source = renderSource(r, runs.length === 1);
      const sideEl = h(
        "section",
        { class: "side", "data-design": r.design, "data-side": s, "aria-label": r.design },
        h("header", { class: "side-head" }, h("h2", {}, r.design, verdict), summary ? h("p", { text: summary }) : null),
        counters,
        h("div", { class: "chart-box" }, chart, h("div", { class: "chart-legend" },
          h("span", {}, h("span", { class: "sw committed" }), label(series[0])),
          h("span", {}, h("span", { class: "sw ledger" }), label(series[1])))),
        // The diagram's title shows only where the two sides' diagrams
        // stack one after the other (a phone), away from their side's head.
        h("div", { class: "diagram-box" }, h("h3", { class: "diagram-title", text: `Sequence diagram: ${r.design}` }), diagram, foot, rows.el),
        h("div", { class: "side-notes" }, source, checklist.el),
        tables.el,
      );
      ui.sides.append(sideEl);
      const widths = new Map();
      boxSizes.observe(chart.parentElement);
      boxSizes.observe(diagram.parentElement);
      return { el: sideEl, values, verdict, chart, diagram, foot, counters, series, checklist, tables, rows, source, widths };
    });
  }

  // eventList is the diagram's rows as a list of buttons, for a keyboard
  // and a screen reader: the same window of events, each one a button
  // that selects it. It is filled only while it is open.
  function eventList(s) {
    const list = h("ol", { class: "event-list-rows" });
    const el = h("details", { class: "event-list" }, h("summary", { text: "The diagram's events as a list" }), list);
    let last = "";
    list.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-i]");
      if (b) select(s, Number(b.dataset.i), true);
    });
    el.addEventListener("toggle", schedule);
    function update(side, a, b, selected) {
      if (!el.open) return;
      const key = `${state.run}:${a}:${b}:${selected}`;
      if (key === last) return;
      last = key;
      const hadFocus = list.contains(document.activeElement);
      const items = [];
      for (let i = a; i <= b; i++) {
        const ev = side.events[i];
        const what = `#${ev.id} at ${ms(ev.at_us)}: ${ev.node} ${ev.kind}${ev.payment ? `, payment ${ev.payment}` : ""}${ev.note ? ` — ${ev.note}` : ""}${ev.fault ? ` (fault ${ev.fault})` : ""}${ev.violation ? ` (evidence of ${label(ev.violation)})` : ""}`;
        items.push(h("li", {}, h("button", { type: "button", class: "link", "data-i": i, "aria-current": i === selected ? "true" : null, text: what })));
      }
      list.replaceChildren(...items);
      if (hadFocus) list.querySelector(`button[data-i="${selected}"]`)?.focus({ preventScroll: true });
    }
    return { el, update };
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
    // Layout is read before any write: the scroll to what the last frame drew.
    if (revealSide !== null && revealNow) {
      if (revealSide === "story") story.el.scrollIntoView({ block: "start" });
      else reveal(revealSide);
      revealSide = null;
    }
    const widths = state.views.map((v) => [v.widths.get(v.chart.parentElement) ?? 0, v.widths.get(v.diagram.parentElement) ?? 0]);
    state.sides.forEach((side, s) => {
      const v = state.views[s];
      for (const [key, valueEl] of Object.entries(v.values)) {
        const value = side.value(key);
        const n = value == null ? "–" : String(value);
        if (valueEl.textContent !== n) valueEl.textContent = n;
        // What the events alone say ("" when they cannot tell), kept beside
        // the shown value so a test can check the stream agrees with the report.
        const counted = side.counted(key);
        const c = counted == null ? "" : String(counted);
        if (valueEl.dataset.counted !== c) valueEl.dataset.counted = c;
      }
      for (const b of $$(".counter.violation", v.counters)) {
        const hot = String((side.value(b.dataset.key) ?? 0) > 0);
        if (b.dataset.hot !== hot) b.dataset.hot = hot;
      }
      const end = side.finished && side.report;
      // A run cut before it settled (report.settled === false) is neither.
      const cut = end && side.report.settled === false;
      v.verdict.className = "verdict " + (end ? (cut ? "cut" : side.report.converged ? "good" : "bad") : "");
      v.verdict.textContent = end ? (cut ? `stopped before it settled: ${side.report.in_flight?.payments ?? 0} in flight`
        : side.report.converged ? "converged" : "diverged") : "";
      drawChart(v.chart, side, v.series, state.endUs, yMax, widths[s][0]);
      let anchor = Math.min(side.shown, side.events.length) - 1;
      if (state.sel && state.sel.side === s) anchor = state.sel.i;
      else if (state.pinned && selAt !== undefined) anchor = side.indexAt(selAt);
      const selected = state.sel && state.sel.side === s ? state.sel.i : -1;
      const [a, b] = draw(v.diagram, side, anchor, selected, widths[s][1], state.story);
      v.rows.update(side, a, b, selected);
      v.source.mark(selected >= 0 ? side.events[selected] : null);
      v.foot.textContent = b >= a ? `events ${a + 1}–${b + 1} of ${side.shown} shown (${side.total} in the run)` : "no events yet: press Play or →";
    });
    renderDetails(ui.details, state, (s, id) => select(s, id - 1), (p) => openStory(p, true));
    story.update();
    if (!state.scrubbing) ui.timeline.value = String(seekTo ? seekTo.atUs : state.atUs);
    const time = `${ms(state.atUs)} / ${ms(state.endUs)}`;
    if (ui.time.textContent !== time) {
      ui.time.textContent = time;
      ui.timeline.setAttribute("aria-valuetext", `${ms(state.atUs)} of ${ms(state.endUs)}`);
    }
    const atEnd = state.sides.length && state.sides.every((x) => x.finished);
    // One way to say the state: the button's label, not aria-pressed too.
    const playing = offline ? offline.playing : state.playing;
    const playLabel = playing ? "Pause" : atEnd ? "Replay" : "Play";
    if (ui.play.textContent !== playLabel) ui.play.textContent = playLabel;
    renderSummary();
    if (state.playing || state.done) announceEvidence();
    revealNow = revealSide !== null;
    if (revealNow) schedule();
    panelFrame ||= requestAnimationFrame(renderPanels);
  }

  // renderPanels draws each side's checklist and tables a frame after the
  // rest: the end of a run fills them all at once, and one frame laying
  // out all of the end's changes would be a long task. The run state is
  // said last, so a page that says "done" has drawn all of the end.
  let panelFrame = 0;
  function renderPanels() {
    panelFrame = 0;
    state.sides.forEach((side, s) => {
      const v = state.views[s];
      // A side's report comes once its end has been shown: from then on
      // its verdicts are facts about the whole run, wherever the playhead is.
      v.checklist.update(side.report, side.shown, side.finished || !!side.report);
      v.tables.update(state.done); // the final state: it stays open when the reader scrubs back
    });
    setRunState(runState());
  }

  // storyPanel wires the story's markup (ui.Player's storyPanel).
  function storyPanel() {
    const el = part("story");
    const sp = (name) => el.querySelector(`[data-part="${name}"]`);
    const input = sp("story-input");
    const title = sp("story-title");
    const close = sp("story-close");
    const body = sp("story-body");
    const error = el.querySelector('[data-error-for="story"]');
    sp("story-pick").addEventListener("submit", (e) => {
      e.preventDefault();
      const v = input.value.trim();
      const payments = state.sides[0]?.meta.scenario?.payments;
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < 1 || (payments && n > payments)) {
        return showError(payments ? `story ${JSON.stringify(v)} is not a payment of this run; allowed: 1 to ${payments}` : `story ${JSON.stringify(v)} is not a payment number; allowed: a whole number from 1`);
      }
      showError("");
      if (!state.sides.length && opts.start) {
        wantStory = n; // opened once the run is on the page, which plays
        opts.start(true);
        return;
      }
      openStory(n, true);
    });
    close.addEventListener("click", () => openStory(0));
    function showError(msg) {
      error.textContent = msg;
      if (msg) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      if (msg) input.focus();
    }
    let key = "";
    let at = 0;
    return {
      el,
      input,
      title,
      update() {
        el.hidden = !state.sides.length && !error.textContent;
        body.hidden = close.hidden = !state.story;
        el.dataset.payment = String(state.story || "");
        title.textContent = state.story ? `Payment ${state.story}'s story` : "";
        if (!state.story) return (key = "");
        const k = `${state.run}:${state.story}:${state.sides.map((x) => x.events.length).join(",")}:${state.atUs}`;
        const now = performance.now();
        if (k === key || (state.playing && now - at < 500)) return;
        if (!renderStory) return void loadStory();
        key = k;
        at = now;
        renderStory(body, state.sides, state.story, state.atUs, (s, id) => select(s, id - 1));
      },
    };
  }

  // story.js loads after the page: when idle once a run is on it, or on demand.
  let storyLoad = null;
  let renderStory = null;
  function loadStory() {
    storyLoad ||= import("./story.js").then((m) => {
      renderStory = m.renderStory;
      story.update();
    });
  }

  // openStory shows payment's story (0 closes it) and tints its rows;
  // focus, when the reader asked for it, moves to the story's title, so a
  // keyboard or a screen reader is where the story is.
  function openStory(payment, focus = false) {
    state.story = payment;
    story.input.value = payment ? String(payment) : "";
    if (payment) revealSide = "story"; // scrolled to once drawn, as at a run's end
    render();
    opts.onStory?.(payment);
    if (payment && focus) story.title.focus({ preventScroll: true });
  }

  // firstLost is the payment of a side's earliest violation evidence, and
  // that evidence's key, or null.
  function firstLost(side) {
    let best = null;
    for (const key of side.meta.invariants || []) {
      const id = side.firstViolation(key);
      const ev = id > 0 && side.byId(id);
      if (ev && ev.payment && (!best || id < best.id)) best = { id, key, payment: ev.payment };
    }
    return best;
  }

  function renderSummary() {
    if (!state.sides.length) return;
    const now = performance.now();
    const settled = !state.playing;
    if (!settled && now - state.summaryAt < 1500) return;
    state.summaryAt = now;
    const text = summaryText();
    // Once a side has lost (or doubled, …) a payment, the summary names
    // the first one and opens its story.
    const first = state.sides.map(firstLost).find(Boolean);
    const key = text + (first ? `:${first.payment}` : "");
    if (ui.summary.dataset.key === key) return;
    ui.summary.dataset.key = key;
    ui.summary.replaceChildren(text);
    if (first) {
      const b = h("button", { type: "button", class: "link", "data-story": first.payment, text: `See payment ${first.payment}'s story in ${state.sides.length > 1 ? "both designs" : "this design"}` });
      b.addEventListener("click", () => openStory(first.payment, true));
      ui.summary.append(` First ${label(first.key)}: payment ${first.payment}. `, b);
    }
  }

  // summaryText says, per side, how many payments each invariant lost so far.
  function summaryText() {
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
    return parts.join(" · ") + ".";
  }

  // ---------- selection ----------
  //
  // One cursor: the selected event is the playhead. Selecting an event
  // (a row, a counter, a checklist verdict, a cause link) puts the server's
  // playhead on it, and the cursor that comes back selects the newest
  // event shown, which is that one. The one exception is the end of a run
  // played through: the selection lands on its first violation while the
  // playhead stays at the end, so the counters keep the run's totals;
  // state.pinned says so, and a step from there moves the playhead to the
  // selection's neighbour.

  // mergedBefore says whether event i of side s comes before event j of
  // side t on the merged timeline: by time, then side.
  function mergedBefore(s, i, t, j) {
    const a = state.sides[s].atUs[i];
    const b = state.sides[t].atUs[j];
    return a < b || (a === b && (s < t || (s === t && i < j)));
  }

  function followCursor() {
    let best = null;
    state.sides.forEach((side, s) => {
      const i = Math.min(side.shown, side.events.length) - 1;
      if (i >= 0 && (!best || mergedBefore(best.side, best.i, s, i))) best = { side: s, i };
    });
    state.sel = best;
    state.note = "";
  }

  // select puts the playhead on event i (an index) of side s.
  function select(s, i) {
    const side = state.sides[s];
    if (!side || i < 0 || i >= side.events.length) return;
    state.sel = { side: s, i };
    state.pinned = false;
    state.note = "";
    state.wasPlaying = false;
    source.send({ type: "seek", side: s, event: i + 1 });
    schedule();
  }

  // neighbour is the received event next to the selection on the merged timeline, or null.
  function neighbour(delta) {
    const { side: s, i } = state.sel;
    let best = null;
    state.sides.forEach((side, t) => {
      // On the selection's side its neighbour; on another, its last event
      // before the selection, or the first after.
      const j = t === s ? i + delta : lastBefore(t, s, i) + (delta > 0 ? 1 : 0);
      if (j < 0 || j >= side.events.length) return;
      if (delta > 0 ? !mergedBefore(s, i, t, j) : !mergedBefore(t, j, s, i)) return;
      if (!best || (delta > 0 ? mergedBefore(t, j, best.side, best.i) : mergedBefore(best.side, best.i, t, j))) best = { side: t, i: j };
    });
    return best;
  }

  // lastBefore is the index of side t's last event before event i of side
  // s on the merged timeline, or -1.
  function lastBefore(t, s, i) {
    let lo = 0;
    let hi = state.sides[t].events.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (mergedBefore(t, mid, s, i)) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  // landOnFirstViolation selects, at the end of a run played through, the
  // earliest evidence of any violation on either side; with none, it says
  // so in the details.
  function landOnFirstViolation() {
    let best = null;
    state.sides.forEach((side, s) => {
      for (const key of side.meta.invariants || []) {
        const id = side.firstViolation(key);
        if (id > 0 && side.byId(id) && (!best || mergedBefore(s, id - 1, best.side, best.i))) best = { side: s, i: id - 1, key };
      }
    });
    if (best) {
      state.sel = { side: best.side, i: best.i };
      state.note = `The run is over. This is its first violation (${label(best.key)}); ← and → step from here.`;
    } else {
      state.sel = null;
      const who = state.sides.length > 1 ? "either design" : state.sides[0].meta.design;
      state.note = `The run is over and no invariant was violated in ${who}: nothing was lost, doubled or contradicted.`;
    }
    state.pinned = true;
    // With a story open, the story is what the reader came for; either is
    // scrolled to once a frame has drawn the details above it.
    revealSide = state.story ? "story" : state.sel?.side ?? 0;
  }

  function jumpToViolation(s, key) {
    jumpToEvent(s, state.sides[s].firstViolation(key));
  }

  // jumpToEvent puts the playhead on event id of side s, whether or not
  // the run has been played that far (the server sends what is missing),
  // and brings the diagram and the details into view.
  function jumpToEvent(s, id) {
    const side = state.sides[s];
    if (!side || !(id > 0) || id > side.total) return;
    if (side.byId(id)) select(s, id - 1);
    else {
      state.pinned = false;
      state.wasPlaying = false;
      source.send({ type: "seek", side: s, event: id });
    }
    reveal(s);
  }

  let revealSide = null; // a side (or "story") to bring into view once drawn and laid out
  let revealNow = false;

  // reveal scrolls so that the selected side's diagram is on screen under
  // the sticky playback bar and details.
  function reveal(s = state.sel?.side ?? 0) {
    const box = state.views[s]?.diagram.parentElement;
    if (!box) return;
    const r = box.getBoundingClientRect();
    if (r.top >= 0 && r.bottom <= innerHeight) return;
    // At once, not smoothly: a click aimed while the page glides lands elsewhere.
    box.scrollIntoView({ block: "start" });
  }

  // ---------- controls ----------

  function run(msg) {
    resume = null; // a new run, not the one to go back to
    lastRun = { ...msg, type: "run", speed: msg.speed ?? speedOf() };
    if (!lastRun.compare) delete lastRun.compare;
    state.done = false;
    setRunState(state.sides.length ? "paused" : "idle");
    source.send(lastRun);
    pendingPlay = !!msg.autoplay;
  }

  // offlineNote says what a control does while the connection is down:
  // Play and Pause are kept for when it is back, the rest waits.
  function offlineNote(what) {
    ui.conn.textContent = `Not connected to the server: ${what}. Trying to reconnect…`;
  }

  function togglePlay() {
    if (offline) {
      if (state.sides.length) {
        offline.playing = !offline.playing;
        offlineNote(offline.playing ? "the run plays on when the connection is back" : "the run stays paused when the connection is back");
        schedule();
      }
      return;
    }
    if (!state.sides.length || opts.changed?.()) {
      if (opts.start) opts.start(true);
      else if (lastRun) run({ ...lastRun, autoplay: true });
      return;
    }
    state.pinned = false;
    if (state.playing) return source.send({ type: "pause" });
    if (state.sides.every((x) => x.finished)) source.send({ type: "seek", at_us: 0 });
    source.send({ type: "play" });
    state.wasPlaying = true;
  }

  // step moves the playhead one event along the merged timeline; from a
  // selection that is not the playhead, to that selection's neighbour.
  function step(delta) {
    if (!state.sides.length) return;
    if (offline) return offlineNote("stepping waits until it is back");
    state.wasPlaying = false;
    if (state.pinned && state.sel) {
      const to = neighbour(delta);
      if (to) return select(to.side, to.i);
    }
    state.pinned = false;
    source.send({ type: "step", delta });
  }

  function seek(atUs) {
    if (!state.sides.length) return;
    if (offline) return offlineNote("moving the playhead waits until it is back");
    state.pinned = false;
    state.wasPlaying = false;
    source.send({ type: "seek", at_us: atUs });
  }

  function sendSpeed() {
    opts.onSpeed?.(speedOf());
    source.send({ type: "speed", speed: speedOf() });
  }

  function changeSpeed(dir) {
    const speeds = [...ui.speed.options].map((o) => Number(o.value));
    const i = speeds.indexOf(speedOf());
    setSpeed(speeds[Math.max(0, Math.min(speeds.length - 1, (i < 0 ? speeds.indexOf(defaultSpeed) : i) + dir))]);
    sendSpeed();
  }

  // Every listener is added through on, so destroy can take them all off.
  const offs = [];
  function on(target, type, fn) {
    target.addEventListener(type, fn);
    offs.push(() => target.removeEventListener(type, fn));
  }

  on(ui.speed, "change", sendSpeed);
  on(ui.play, "click", togglePlay);
  on(ui.back, "click", () => step(-1));
  on(ui.fwd, "click", () => step(1));
  // While the reader drags the timeline, the server's cursor does not move
  // the thumb under their pointer.
  on(ui.timeline, "pointerdown", () => (state.scrubbing = true));
  // From the keyboard the timeline moves by events, not by microseconds:
  // the arrows step one event, Page Up and Page Down ten, Home and End go
  // to either end of the run.
  on(ui.timeline, "keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const by = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 }[e.key];
    if (by) {
      e.preventDefault();
      e.stopPropagation();
      step(by);
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      e.stopPropagation();
      seek(e.key === "Home" ? 0 : state.endUs);
    }
  });
  on(window, "pointerup", () => {
    if (state.scrubbing) {
      state.scrubbing = false;
      schedule();
    }
  });
  // A seek waits for the reader to pause on the timeline for 30 ms. Until
  // the server's cursor answers it, the thumb stays where the reader put
  // it, whatever renders in between (events still streaming in, say).
  let seekTimer = 0;
  on(ui.timeline, "input", () => {
    state.pinned = false;
    state.wasPlaying = false;
    const to = (seekTo = { atUs: Number(ui.timeline.value), sent: false });
    clearTimeout(seekTimer);
    seekTimer = setTimeout(() => {
      if (offline) {
        offline.atUs = to.atUs; // where the run carries on from when the connection is back
        seekTo = null;
        return;
      }
      to.sent = true;
      source.send({ type: "seek", at_us: to.atUs });
    }, 30);
  });
  // The shortcuts dialog gives focus back where it was, so Space and the
  // arrows keep driving playback after it closes.
  let beforeHelp = null;
  function openHelp() {
    beforeHelp = document.activeElement;
    ui.help.showModal();
  }
  on(ui.help, "close", () => {
    if (beforeHelp && beforeHelp !== document.body && beforeHelp.isConnected) beforeHelp.focus();
    else if (ui.help.contains(document.activeElement)) document.activeElement.blur();
  });
  on(ui.showHelp, "click", openHelp);

  // Presenter view: the page shows the run alone, in large type.
  function setPresenting(on) {
    document.body.classList.toggle("presenting", on);
    ui.presenter?.setAttribute("aria-pressed", String(on));
    render();
    if (on) reveal();
  }
  if (ui.presenter) on(ui.presenter, "click", () => setPresenting(!document.body.classList.contains("presenting")));

  on(keys, "keydown", (e) => {
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
      case "Escape":
        if (document.body.classList.contains("presenting")) setPresenting(false);
        break;
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
  on(window, "resize", () => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(render);
  });

  // The sticky head's height: the root's scroll-padding keeps what is
  // scrolled into view out from under it.
  const head = part("head");
  // Set only when it changes: it restyles the root.
  let headH = "";
  const headSize = head && new ResizeObserver(() => {
    const px = `${head.offsetHeight}px`;
    if (px === headH) return;
    headH = px;
    document.documentElement.style.setProperty("--head-h", px);
  });
  headSize?.observe(head);
  offs.push(() => headSize?.disconnect());

  setRunState("idle");

  return {
    run,
    togglePlay,
    step,
    seek,
    jumpToEvent,
    get state() {
      return state;
    },
    destroy() {
      unlisten();
      boxSizes.disconnect();
      for (const off of offs.splice(0)) off();
      cancelAnimationFrame(frame);
      cancelAnimationFrame(panelFrame);
      cancelAnimationFrame(resizeFrame);
      clearTimeout(seekTimer);
    },
  };
}

// chartSeries picks the two counters the chart compares: committed
// payments against ledger entries where the design has both (the two
// places that must agree), else its first counter against its first
// invariant.
function chartSeries(side) {
  const m = side.keys;
  if (m.includes("committed") && m.includes("ledger_entries")) return ["committed", "ledger_entries"];
  const inv = m.find((k) => side.invariants.has(k)) || m[1];
  const first = m.find((k) => k !== inv) || m[0];
  return [first, inv || first];
}

// rerunWith is the playground URL of the run on screen with faults turned
// on (at TURN_ON where they are off), played at once: a checklist item's
// "turn on X". It is written from the sides' canonical queries.
function rerunWith(faults) {
  return (runs) => {
    const q = new URLSearchParams(runs[0].query || "");
    const given = new Map((q.get("faults") || "").split(",").filter(Boolean).map((x) => x.split("=")));
    for (const f of faults) if (!(Number(given.get(f)) > 0)) given.set(f, String(TURN_ON));
    q.set("faults", [...given].map(([k, v]) => `${k}=${v}`).join(","));
    if (runs[1]) q.set("compare", runs[1].design);
    q.set("autoplay", "1");
    return "/play?" + q.toString().replace(/%2C/gi, ",").replace(/%3D/gi, "=");
  };
}

function svgEl(cls, name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", cls);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", name);
  return svg;
}
