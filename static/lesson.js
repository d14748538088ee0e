// One lesson's page. The page works without it (every step is a link,
// every answer a form); this module adds the keys n and p for the next
// and previous step, puts the focus where the learner's work is, mounts
// the playground's player on each embedded run, and makes the
// explanation's event links jump into the run.

import { mountPlayer } from "./player.js";
import { RunSocket } from "./socket.js";

const root = document.documentElement;

// Keys that move between steps, ignored while the learner types or works
// a player (whose own keys are Space, arrows, + − and ?).
document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLElement && (t.isContentEditable || t.closest("input, select, textarea, dialog, [data-player]"))) return;
  const link = { n: "#next", p: "#prev" }[e.key];
  const el = link && document.querySelector(link);
  if (el) {
    e.preventDefault();
    el.click();
  }
});

// Each figure.ls-run holds a ui.Player and the scenario it plays.
const players = [...document.querySelectorAll("figure.ls-run[data-query]")].map((fig) => {
  const q = new URLSearchParams(fig.dataset.query);
  const compare = q.get("compare") || "";
  q.delete("compare");
  const player = mountPlayer(fig.querySelector("[data-player]"), { source: new RunSocket(), stateEl: fig });
  const speed = Number(fig.dataset.speed);
  player.run({ params: Object.fromEntries(q), compare, autoplay: fig.dataset.autoplay === "true", speed: Number.isFinite(speed) ? speed : undefined });
  return { fig, player };
});

// whenShown calls f once the figure's run has reached the page (its
// state leaves "idle"): from then on the player can jump to any event of
// it, played yet or not.
function whenShown(fig, f) {
  const shown = () => (fig.dataset.runState || "idle") !== "idle";
  if (shown()) return f();
  const mo = new MutationObserver(() => {
    if (!shown()) return;
    mo.disconnect();
    f();
  });
  mo.observe(fig, { attributes: true, attributeFilter: ["data-run-state"] });
}

// An event link (#event-<id>, from a lesson's {{event "lost"}}) selects
// that event in the step's run, on its first side.
document.addEventListener("click", (e) => {
  const a = e.target instanceof Element && e.target.closest('a[href^="#event-"]');
  if (!a || !players.length) return;
  const id = Number(a.getAttribute("href").slice("#event-".length));
  if (!Number.isInteger(id) || id <= 0) return;
  e.preventDefault();
  const { fig, player } = players[0];
  fig.scrollIntoView({ block: "start", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
  whenShown(fig, () => {
    player.jumpToEvent(0, id);
    fig.querySelector('[data-part="details"]')?.focus({ preventScroll: true });
  });
});

// Focus: a refused answer first, so the message beside it is read; then a
// verdict just given; else the step's heading once the learner has moved
// in the lesson.
const invalid = document.querySelector('.ls-step [aria-invalid="true"]');
if (invalid) invalid.focus();
else if (location.hash === "#verdict") document.getElementById("verdict")?.focus();
else if (new URLSearchParams(location.search).has("step")) document.getElementById("step-title")?.focus();

// A mark, so load time can be measured from the page itself.
performance.mark("lesson-ready");
root.dataset.lessonReady = "1";
