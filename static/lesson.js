// One lesson's page. The page works without it (every step is a link,
// every answer a form); this module adds the keys n and p for the next
// and previous step, puts the focus where the learner's work is, and
// mounts the playground's player on each [data-player].

const root = document.documentElement;

// Keys that move between steps, ignored while the learner types.
document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLElement && (t.isContentEditable || t.closest("input, select, textarea, [data-player]"))) return;
  const link = { n: "#next", p: "#prev" }[e.key];
  const el = link && document.querySelector(link);
  if (el) {
    e.preventDefault();
    el.click();
  }
});

// Focus: a refused answer first, so the message beside it is read; else
// the step's heading once the learner has moved in the lesson.
const invalid = document.querySelector('.ls-step [aria-invalid="true"]');
if (invalid) invalid.focus();
else if (new URLSearchParams(location.search).has("step")) document.getElementById("step-title")?.focus();

root.dataset.lessonReady = "1";
