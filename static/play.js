// The playground page: mounts a player (player.js) on the run socket and
// drives it from the scenario form. Running the form sends its scenario;
// the URL follows the form, so the address bar is always the share link.

import { $ } from "./dom.js";
import { mountPlayer } from "./player.js";
import { ScenarioForm, copyLink } from "./form.js";
import { RunSocket } from "./socket.js";

const form = new ScenarioForm($("#scenario"));
const player = mountPlayer($("[data-player]"), {
  source: new RunSocket(),
  keys: document,
  summaryOf: (design) => $(`#design option[value="${CSS.escape(design)}"]`)?.dataset.summary || "",
  start: run,
  onMeta: (runs) => (document.title = `${runs.map((r) => r.design).join(" vs ")} · Partial Truth playground`),
  onError: (field, message) => form.showError(field, message),
  onSpeed: () => form.syncURL(),
});

function run(autoplay) {
  form.clearErrors();
  form.syncURL();
  player.run({ params: form.params(), compare: form.compare, autoplay });
}

$("#scenario").addEventListener("submit", (e) => {
  if (e.submitter?.id === "start-room") return; // posts the scenario to /rooms
  e.preventDefault();
  run(true);
});
$("#scenario").addEventListener("input", () => form.syncURL());
$("#scenario").addEventListener("change", () => form.syncURL());
$("#copy-link").addEventListener("click", () => copyLink(form.shareURL(), $("#copy-status"), $("#copy-fallback")));

// Start: load the URL's run (playing it through with autoplay=1), unless the
// server already found the scenario invalid and shows why beside the field.
performance.mark("playground-ready");
if (form.hasServerError) {
  document.querySelector('#scenario [aria-invalid="true"]')?.focus();
} else {
  run(new URLSearchParams(location.search).get("autoplay") === "1");
}
