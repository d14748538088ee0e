// A training room's page (web/ui/room.templ): a player that follows the
// room's run on the room's socket (its protocol is at the top of
// web/room_http.go), and around it the trainer's controls (scenario, polls,
// who is here, end) or the participant's poll and "Try it myself".
//
// The page's root carries data-room and data-role; the poll section
// carries data-poll (open, closed, revealed) and data-answers.

import { $, $$, h } from "./dom.js";
import { mountPlayer } from "./player.js";
import { RunSocket } from "./socket.js";

const root = document.documentElement;
const code = root.dataset.room;
const trainer = root.dataset.role === "trainer";
const RUN_TYPES = new Set(["meta", "events", "cursor", "report", "done"]);
const CONTROL_TYPES = new Set(["run", "play", "pause", "step", "seek", "speed"]);

// The room's socket is a RunSocket on the room's path: a source of runs
// for the player, which reconnects on its own after a drop (a laptop that
// slept, a server restart), waiting longer after each failed try; the
// server then sends the whole current state. It opens at once, since a
// participant may never send anything, and is closed when the room ends.
let ended = false;
const socket = new RunSocket(`/r/${code}/ws`);
socket.connect();

// The player sees only the run's messages; a participant's player sends
// nothing (the trainer alone moves the run), so its buttons are inert.
const playerSource = {
  send(msg) {
    if (trainer || !CONTROL_TYPES.has(msg.type)) socket.send(msg);
  },
  listen(onMessage, onState) {
    return socket.listen((m) => RUN_TYPES.has(m.type) && onMessage(m), (s) => s === "open" && onState(s));
  },
};

const roomRun = $("#room-run");
const player = mountPlayer($("[data-player]", roomRun), {
  source: playerSource,
  keys: trainer ? document : $("[data-player]", roomRun),
  onMeta: (runs) => {
    current = runs;
    document.title = `Room ${code}: ${runs.map((r) => r.design).join(" vs ")} · Partial Truth`;
    if (trainer) fillScenario(runs);
  },
});
if (!trainer) root.dataset.following = "true";

let current = []; // the room's runs, from the last meta
let latest = null; // the latest room message
let you = { answers: {} };
let shownPoll = ""; // "id:state" of the poll drawn, so typing is not interrupted

const errorEl = $("#room-error");
socket.listen(
  (m) => {
    switch (m.type) {
      case "room":
        latest = m;
        return renderRoom();
      case "room-people":
        return renderPeople(m);
      case "you":
        you = m;
        return renderYou();
      case "error":
        errorEl.textContent = m.message || "The server refused that.";
        return;
    }
  },
  (s) => {
    if (s === "open") errorEl.textContent = "";
    else if (!ended) errorEl.textContent = "Connection to the room lost; reconnecting…";
  },
);

// ---------- the room and its poll ----------

function renderRoom() {
  const m = latest;
  if (m.ended) return renderEnded(m);
  const el = $("#poll");
  const p = m.poll;
  if (!p) {
    el.hidden = true;
    delete el.dataset.poll;
    return;
  }
  el.hidden = false;
  el.dataset.poll = p.state;
  if (!trainer) el.dataset.answers = String(p.answers);
  const key = `${p.id}:${p.state}`;
  if (key === shownPoll) return renderYou();
  shownPoll = key;
  const stateText = { open: "Open", closed: "Closed", revealed: "Revealed" }[p.state];
  const parts = [h("h2", { id: "poll-title" }, `Poll ${p.id}: `, p.question), h("p", { class: "poll-state", text: stateText })];
  if (trainer) {
    parts.push(h("p", {}, h("span", { id: "answer-count", text: el.dataset.answers || "0" }), " answered"));
    const actions = h("div", { class: "poll-actions" });
    if (p.state === "open") actions.append(button("close-poll", "Close", () => socket.send({ type: "poll-close" })));
    if (p.state !== "revealed") actions.append(button("reveal-poll", "Reveal", () => socket.send({ type: "poll-reveal" }), "primary"));
    parts.push(actions);
  } else if (p.state === "open") {
    parts.push(answerForm(p));
  }
  parts.push(h("p", { class: "your-answer", id: "your-answer" }));
  if (p.state === "revealed") parts.push(distribution(p));
  el.replaceChildren(...parts);
  renderYou();
}

function button(id, text, onClick, kind = "") {
  const b = h("button", { type: "button", class: `btn ${kind}`, id, text });
  b.addEventListener("click", onClick);
  return b;
}

// answerForm is a participant's answer: a button per choice, or a number.
function answerForm(p) {
  const form = h("form", { class: "answer-form", id: "answer-form" });
  const send = (answer) => socket.send({ type: "answer", poll: p.id, answer: String(answer) });
  if (p.kind === "choice") {
    const group = h("div", { class: "choices", role: "group", "aria-labelledby": "poll-title" });
    for (const c of p.choices) {
      const b = h("button", { type: "button", class: "btn choice", "data-choice": c, "aria-pressed": "false", text: c });
      b.addEventListener("click", () => send(c));
      group.append(b);
    }
    form.append(group);
    form.addEventListener("submit", (e) => e.preventDefault());
  } else {
    const input = h("input", { type: "text", inputmode: "decimal", id: "answer", name: "answer", "aria-labelledby": "poll-title", autocomplete: "off" });
    form.append(input, h("button", { type: "submit", class: "btn primary", id: "send-answer", text: "Answer" }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (input.value.trim()) send(input.value.trim());
    });
  }
  return form;
}

function renderYou() {
  if (trainer || !latest?.poll) return;
  const p = latest.poll;
  const mine = you.answers?.[String(p.id)];
  const el = $("#your-answer");
  if (el) {
    el.textContent = mine === undefined ? (p.state === "open" ? "You have not answered yet." : "You did not answer.")
      : `Your answer: ${mine}${p.state === "open" ? " (you can change it until the poll closes)" : ""}`;
    el.dataset.answer = mine ?? "";
  }
  for (const b of $$("[data-choice]")) b.setAttribute("aria-pressed", String(b.dataset.choice === mine));
  for (const li of $$("#poll .distribution li")) li.classList.toggle("mine", li.dataset.answer === mine);
}

// distribution draws how many gave each answer, and what the run measured.
function distribution(p) {
  const dist = p.distribution || [];
  const max = Math.max(1, ...dist.map((d) => d.count));
  const mine = you.answers?.[String(p.id)];
  const list = h("ul", { class: "distribution", id: "distribution", "aria-label": "Answers" });
  for (const d of dist) {
    const bar = h("span", { class: "bar" });
    bar.dataset.share = String(Math.round((d.count / max) * 10));
    list.append(h("li", { "data-answer": d.answer, "data-count": d.count, class: d.answer === mine ? "mine" : null },
      h("span", { class: "answer", text: d.answer }), bar, h("span", { class: "count", text: d.count })));
  }
  const out = h("div", { class: "reveal" }, list);
  if (p.expected) out.append(h("p", { class: "measured", id: "expected" }, "The lesson's run makes this the right answer: ", p.expected, "."));
  if (p.metric && p.measured?.length) {
    out.append(h("p", { class: "measured", id: "measured" }, `The run measured ${p.metric}: `,
      p.measured.map((m) => `${m.value} (${m.design})`).join(", "), "."));
  }
  return out;
}

function renderEnded(m) {
  ended = true;
  socket.close(); // nothing follows an ended room: no reconnecting
  for (const id of ["#poll", "#poll-form", "#room-scenario", "#follow", "#end-room"]) {
    const el = $(id);
    if (el) el.hidden = true;
  }
  const box = $("#ended");
  box.hidden = false;
  root.dataset.roomEnded = "true";
  $("#results").replaceChildren(...(m.results || []).map((p) =>
    h("section", { class: "result" }, h("h3", { text: `Poll ${p.id}: ${p.question}` }), distribution({ ...p, distribution: p.distribution || [] }))));
}

// ---------- the trainer ----------

function renderPeople(m) {
  $("#connected").textContent = String(m.connected);
  $("#connected").dataset.connected = String(m.connected);
  $("#joined").textContent = String(m.joined);
  $("#names").replaceChildren(...m.names.map((n) => h("li", { class: n ? "" : "anon", text: n || "(no name)" })));
  const poll = $("#poll");
  poll.dataset.answers = String(m.answers);
  const count = $("#answer-count");
  if (count) count.textContent = String(m.answers);
}

// fillScenario shows the room's scenario in the trainer's form.
function fillScenario(runs) {
  const q = new URLSearchParams(runs[0].query);
  const form = $("#room-scenario");
  form.design.value = runs[0].design;
  form.compare.value = runs[1]?.design || "";
  for (const name of ["faults", "payments", "seed"]) form[name].value = q.get(name) || "";
}

if (trainer) {
  $("#room-scenario").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.target;
    const params = Object.fromEntries(new URLSearchParams(current[0]?.query || ""));
    for (const k of ["compare", "speed", "autoplay"]) delete params[k];
    params.design = form.design.value;
    for (const name of ["faults", "payments", "seed"]) params[name] = form[name].value.trim();
    errorEl.textContent = "";
    player.run({ params, compare: form.compare.value });
  });
  $("#show-lesson-step")?.addEventListener("click", () => {
    const [lesson, step] = $("#lesson-step").value.split(":");
    errorEl.textContent = "";
    socket.send({ type: "lesson-step", lesson, step: Number(step) });
  });
  const pollForm = $("#poll-form");
  const kindChanged = () => ($("#choices-field").hidden = pollForm.kind.value !== "choice");
  pollForm.addEventListener("change", kindChanged);
  kindChanged();
  pollForm.addEventListener("submit", (e) => {
    e.preventDefault();
    errorEl.textContent = "";
    socket.send({
      type: "poll-open",
      question: pollForm.question.value,
      kind: pollForm.kind.value,
      choices: pollForm.choices.value.split("\n").map((s) => s.trim()).filter(Boolean),
      metric: pollForm.metric.value,
    });
  });
  $("#end-room").addEventListener("click", () => {
    if (confirm(`End room ${code}? Everyone sees it ended and the results.`)) socket.send({ type: "end" });
  });
  const dialog = $("#project-dialog");
  $("#project").addEventListener("click", () => dialog.showModal());
}

// ---------- "Try it myself" ----------

if (!trainer) {
  const mine = $("#my-run");
  let own = null;
  $("#try-it").addEventListener("click", () => {
    if (!current.length) return;
    const q = Object.fromEntries(new URLSearchParams(current[0].query));
    for (const k of ["compare", "speed", "autoplay"]) delete q[k];
    const src = new RunSocket();
    own = { src, player: mountPlayer($("[data-player]", mine), { source: src }) };
    own.player.run({ params: q, compare: current[1]?.design || "" });
    roomRun.hidden = true;
    mine.hidden = false;
    root.dataset.following = "false";
    $("#following").textContent = "You are trying the room's scenario on your own.";
    $("#try-it").hidden = true;
    $("#back-to-room").hidden = false;
  });
  $("#back-to-room").addEventListener("click", () => {
    own?.player.destroy();
    own?.src.close();
    own = null;
    mine.hidden = true;
    roomRun.hidden = false;
    root.dataset.following = "true";
    $("#following").textContent = "You follow the trainer's run.";
    $("#try-it").hidden = false;
    $("#back-to-room").hidden = true;
    // The room's player kept following while hidden; draw it at its size.
    window.dispatchEvent(new Event("resize"));
  });
}

performance.mark("room-ready");
root.dataset.roomReady = "1";
