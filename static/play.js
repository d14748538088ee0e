// The playground page: mounts a player (player.js) on the run socket and
// drives it from the scenario form. What you see is what runs: Play, the
// Run button and Enter in any field run the form's scenario when it differs
// from the run on screen; a changed form says so; the address bar and
// "Copy link" always describe the run on screen.

import { $, $$ } from "./dom.js";
import { mountPlayer } from "./player.js";
import { ScenarioForm, copyLink } from "./form.js";
import { RunSocket } from "./socket.js";

const form = new ScenarioForm($("#scenario"));
let onScreen = null; // the snapshot of the run on screen
let pending = null; // the snapshot sent, until its run starts or is refused

const player = mountPlayer($("[data-player]"), {
  source: new RunSocket(),
  keys: document,
  summaryOf: (design) => $(`#design option[value="${CSS.escape(design)}"]`)?.dataset.summary || "",
  start: run,
  changed,
  onMeta: (runs) => {
    document.title = `${runs.map((r) => r.design).join(" vs ")} · Partial Truth playground`;
    if (pending) onScreen = pending;
    pending = null;
    form.syncURL(onScreen);
    markChanged();
  },
  onError: (field, message) => {
    pending = null;
    form.showError(field, message);
  },
  onSpeed: () => form.syncURL(onScreen || undefined),
  // The link's story=N opens payment N's story once the run is on the
  // page; the address bar and "Copy link" name the story open on screen.
  story: Number(new URLSearchParams(location.search).get("story")) || 0,
  onStory: (payment) => {
    form.story = payment;
    if (onScreen) form.syncURL(onScreen);
  },
});

/** changed says whether the form holds a scenario other than the run on screen. */
function changed() {
  return !!onScreen && !ScenarioForm.same(form.snapshot(), onScreen);
}

function markChanged() {
  const c = changed();
  $("#scenario").dataset.changed = String(c);
  for (const note of $$(".changed-note")) note.hidden = !c;
}

function run(autoplay) {
  form.clearErrors();
  pending = form.snapshot();
  player.run({ params: pending.params, compare: pending.compare, autoplay });
}

$("#scenario").addEventListener("submit", (e) => {
  if (e.submitter?.id === "start-room") return; // posts the scenario to /rooms
  e.preventDefault();
  run(true);
});
// Enter runs the form from any field, selects and sliders too (text fields
// submit the form by themselves).
$("#scenario").addEventListener("keydown", (e) => {
  if (e.key !== "Enter" || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLSelectElement || (t instanceof HTMLInputElement && (t.type === "range" || t.type === "checkbox"))) {
    e.preventDefault();
    run(true);
  }
});
$("#scenario").addEventListener("input", markChanged);
$("#scenario").addEventListener("change", markChanged);
$("#copy-link").addEventListener("click", () => {
  const url = form.shareURL(onScreen || undefined);
  copyLink(url, $("#copy-status"), $("#copy-fallback"), changed() ? " It is the run on screen, not your changes: press Play to run them first." : "");
});

// Start: load the URL's run (playing it through with autoplay=1), unless the
// server already found the scenario invalid and shows why beside the field.
performance.mark("playground-ready");
if (form.hasServerError) {
  document.querySelector('#main [aria-invalid="true"]')?.focus();
} else {
  run(new URLSearchParams(location.search).get("autoplay") === "1");
}
