// The playground's checklist panel: one side's verdicts on the current run,
// each linked to the event that proves it. The verdicts come from the
// server (report.checklist, computed by checklist.Evaluate in Go); this
// module only decides how much of them the viewer has earned so far, so the
// scoring is never written twice.
//
// While the run plays, a failing item shows as soon as the playhead has
// passed its first violating event; every other verdict waits for the end
// of the run, because a pass is only a pass once nothing more can happen.
//
// Usage, from play.js:
//
//   import { checklistPanel } from "./checklist-panel.js";
//   const panel = checklistPanel(design, (eventId, metric) => jump(side, eventId, metric), rerunWith);
//   sideElement.append(panel.el);
//   ...on every render:
//   panel.update(side.report, side.shown, side.finished);
//
// Failures with one root cause (the same evidence event and counter) are
// one finding, listing every item they fail. A "turn on X" verdict links to
// the same run with X on, when the page says how (rerunWith).
//
// The page must load /static/checklist.css, which styles .ck-panel.

import { h } from "./dom.js";

const WORDS = { pass: "pass", fail: "fail", "not-exercised": "not tested", "not-demonstrable": "not measured", inconclusive: "inconclusive" };

/** TURN_ON is the probability a "turn on X" link sets a fault to. */
export const TURN_ON = 0.1;

/**
 * checklistPanel builds an empty panel for one design. onJump(eventId,
 * metric) is called when the reader asks for a verdict's evidence; metric
 * is the report key the event is the first violation of. rerunWith(faults)
 * (optional) is the URL of this run with those faults on at TURN_ON.
 */
export function checklistPanel(design, onJump, rerunWith) {
  const summary = h("p", { class: "ck-panel-sum" }, "Verdicts appear as the run shows its evidence.");
  const list = h("ol", { class: "ck-panel-list" });
  const unjudged = h("details", { class: "ck-panel-unjudged", hidden: true });
  const el = h(
    "section",
    { class: "ck-panel", "aria-label": `Checklist verdicts for ${design}` },
    h("h3", {}, "Checklist ", h("a", { href: "/checklist", class: "ck-panel-ref" }, "what each item asks")),
    summary,
    list,
    unjudged,
  );
  let last = "";

  /**
   * update shows what report (null until the server sends it) proves about
   * the first `shown` events; finished says the whole run is shown.
   */
  function update(report, shown, finished) {
    const verdicts = report?.checklist || [];
    // What the panel shows changes only when a failure's evidence comes
    // into view or the run finishes, not at every event shown.
    const seenFails = verdicts.filter((v) => v.verdict === "fail" && v.event > 0 && v.event <= shown).length;
    const key = `${verdicts.length}:${seenFails}:${finished}`;
    if (key === last) return;
    last = key;

    const judged = [];
    const notMeasured = [];
    for (const v of verdicts) {
      if (v.verdict === "not-demonstrable") notMeasured.push(v);
      else judged.push(v);
    }
    const rows = [];
    const counts = { pass: 0, fail: 0, "not-exercised": 0, inconclusive: 0, pending: 0 };
    const findings = new Map(); // "metric event" → where the finding goes and the items it fails
    for (const v of judged) {
      const seen = v.verdict === "fail" && v.event > 0 && v.event <= shown;
      const known = finished || seen;
      const verdict = known ? v.verdict : "pending";
      counts[verdict]++;
      if (verdict === "fail" && v.event > 0) {
        const cause = `${v.metric || ""} ${v.event}`;
        const f = findings.get(cause);
        if (f) f.items.push(v);
        else {
          findings.set(cause, { at: rows.length, items: [v] });
          rows.push(null);
        }
        continue;
      }
      rows.push(row(v, verdict, known));
    }
    for (const f of findings.values()) rows[f.at] = f.items.length > 1 ? finding(f.items) : row(f.items[0], "fail", true);
    list.replaceChildren(...rows);

    if (!verdicts.length) {
      summary.textContent = finished ? "This run carries no checklist verdicts." : "Verdicts appear as the run shows its evidence.";
    } else {
      const parts = [];
      if (counts.fail) parts.push(`${counts.fail} fail`);
      if (counts.pass) parts.push(`${counts.pass} pass`);
      if (counts["not-exercised"]) parts.push(`${counts["not-exercised"]} not tested`);
      if (counts.inconclusive) parts.push(`${counts.inconclusive} inconclusive: the run stopped before it settled`);
      if (counts.pending) parts.push(`${counts.pending} waiting for the end of the run`);
      summary.textContent = parts.join(" · ") || "Nothing this run can judge.";
    }

    unjudged.hidden = notMeasured.length === 0;
    unjudged.replaceChildren(
      h("summary", {}, `${notMeasured.length} ${notMeasured.length === 1 ? "item" : "items"} this run cannot judge`),
      h("ul", {}, notMeasured.map((v) => h("li", { "data-item": v.id, "data-verdict": v.verdict },
        h("a", { href: `/checklist#${v.id}` }, v.id), " ", h("span", { class: "ck-panel-evidence" }, v.evidence)))),
    );
  }

  // finding is one root cause failing several items: its evidence and
  // event once, then the items it fails.
  function finding(items) {
    const v = items[0];
    const li = h("li", { class: "ck-panel-item v-fail ck-finding", "data-items": items.map((x) => x.id).join(" "), "data-verdict": "fail", "data-event": v.event },
      h("span", { class: "ck-finding-title" }, `One finding fails ${items.length} items`),
      h("span", { class: "ck-panel-verdict" }, `fail${v.count ? ` ${v.count}` : ""}`),
      h("p", { class: "ck-panel-evidence" }, v.evidence),
      h("p", { class: "ck-finding-items" }, "Fails: ", ...items.flatMap((x, k) => [k ? ", " : "", h("a", { class: "ck-panel-id", href: `/checklist#${x.id}`, "data-item": x.id }, x.id), more(x, v)])),
    );
    li.append(jump(v));
    return li;
  }

  // more is what an item's evidence adds to its finding's ("the design
  // has no outbox relay"), in brackets, or nothing.
  function more(x, v) {
    const common = v.evidence.replace(/\.$/, "");
    if (x.evidence === v.evidence) return "";
    const extra = x.evidence.startsWith(common) ? x.evidence.slice(common.length).replace(/^[;,]\s*/, "").replace(/\.$/, "") : x.evidence;
    return extra ? ` (${extra})` : "";
  }

  function jump(v) {
    const b = h("button", { type: "button", class: "ck-panel-jump", "data-event": v.event }, `Show event ${v.event}`);
    b.addEventListener("click", () => onJump(v.event, v.metric || ""));
    return b;
  }

  function row(v, verdict, known) {
    const li = h("li", { class: `ck-panel-item v-${verdict}`, "data-item": v.id, "data-verdict": verdict },
      h("a", { class: "ck-panel-id", href: `/checklist#${v.id}` }, v.id),
      h("span", { class: "ck-panel-verdict" }, verdict === "pending" ? "…" : WORDS[verdict] + (verdict === "fail" && v.count ? ` ${v.count}` : "")),
    );
    if (known) {
      li.append(h("p", { class: "ck-panel-evidence" }, v.evidence));
      // The server's verdict carries a link to a run of this design in
      // which the situation the item guards against arises; failing that,
      // the same run with the fault it names turned on.
      if (verdict === "not-exercised" && v.rerun) {
        li.append(h("a", { class: "ck-panel-rerun", href: v.rerun }, "Rerun where it happens"));
      } else if (verdict === "not-exercised" && v.turn_on?.length && rerunWith) {
        const links = h("p", { class: "ck-panel-rerun" }, "Rerun with ");
        v.turn_on.forEach((f, k) => links.append(k ? " or " : "", h("a", { href: rerunWith([f]), "data-turn-on": f }, `${f} on`)));
        li.append(links);
      }
      if (verdict === "fail" && v.event > 0) li.append(jump(v));
    }
    return li;
  }

  return { el, update };
}
