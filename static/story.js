// A payment's story: the events of one payment in one design, grouped into
// a short list of steps in plain words, each step carrying the ids of the
// events it is made of. The words are the simulator's own notes; this
// module only groups them (a transaction is one step, a message and its
// arrival are one step, a send right after a failed publish is a retry),
// so it knows no design. Every event of the payment is in exactly one step.

import { h, ms, label } from "./dom.js";
import { isDB } from "./run.js";

const ARRIVALS = new Set(["deliver", "duplicate", "drop", "down"]);

/**
 * storyOf returns the steps of payment in side (a run.js Side), over the
 * events received so far: [{text, ids, bad, fault, at}], and how many
 * times money moved for it.
 */
export function storyOf(side, payment) {
  const events = side.events;
  const mine = [];
  for (let i = 0; i < events.length; i++) if (events[i].payment === payment) mine.push(i);
  const used = new Set();
  const steps = [];
  let moved = 0;
  const failedAt = new Map(); // "node peer" → time of its last failed publish
  for (const i of mine) {
    const ev = events[i];
    if (used.has(i)) continue;
    used.add(i);
    const step = { ids: [ev.id], at: ev.at_us, bad: !!ev.violation, fault: !!ev.fault, text: "" };
    if (ev.kind === "begin" && isDB(ev)) {
      // One step per transaction: its statements, and how it ended.
      const stmts = [];
      let end = "still open";
      for (const j of mine) {
        if (j <= i || used.has(j)) continue;
        const e = events[j];
        if (e.node !== ev.node || e.peer !== ev.peer || !isDB(e)) continue;
        used.add(j);
        step.ids.push(e.id);
        step.bad ||= !!e.violation;
        step.fault ||= !!e.fault;
        if (e.kind === "exec" || e.kind === "query") stmts.push(statement(e.sql));
        else if (e.kind === "commit" || e.kind === "rollback" || e.kind === "commit-err") {
          end = e.note || e.kind;
          break;
        }
      }
      step.text = `${ev.node}${ev.peer ? ` (for ${ev.peer})` : ""}: ${counted(stmts).join(", ") || "nothing"}; ${end}`;
    } else if (ev.kind === "send" || ev.kind === "request") {
      const route = `${ev.node} ${ev.peer}`;
      const retry = failedAt.has(route) ? `retried ${ms(ev.at_us - failedAt.get(route))} after the failed publish: ` : "";
      failedAt.delete(route);
      let fate = "not arrived yet";
      for (const j of side.effects.get(ev.id) || []) {
        const e = events[j];
        if (!ARRIVALS.has(e.kind)) continue;
        used.add(j);
        step.ids.push(e.id);
        step.bad ||= !!e.violation;
        step.fault ||= !!e.fault;
        if (e.kind === "deliver") fate = `arrived ${ms(e.at_us - ev.at_us)} later`;
        else if (e.kind === "duplicate") fate = "arrived a second time (duplicated)";
        else fate = `lost on the way (${e.note || e.kind})`;
      }
      step.text = `${retry}${ev.node} → ${ev.peer}: ${ev.note || ev.kind}; ${fate}`;
    } else {
      if (ev.kind === "publish-fail") failedAt.set(`${ev.node} ${ev.peer}`, ev.at_us);
      if (ev.kind === "effect") moved++;
      step.text = `${ev.node}: ${ev.note || ev.kind}`;
    }
    for (const id of step.ids) {
      const v = events[id - 1]?.violation;
      // The simulator's note may already end on the verdict: "… (lost)".
      if (v && !step.text.endsWith(`(${label(v)})`)) step.text += ` → ${label(v)}`;
    }
    steps.push(step);
  }
  const failures = steps.filter((st) => st.fault).length;
  const retries = steps.filter((st) => st.text.startsWith("retried ")).length;
  const bad = steps.some((st) => st.bad);
  return { steps, moved, failures, retries, bad, events: mine.length };
}

// plural says n things: "1 retry", "2 retries".
function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

// firstViolation is the key of payment's first violation evidence in side.
function firstViolation(side, payment) {
  return side.events.find((e) => e.payment === payment && e.violation)?.violation || "";
}

// statement is the gist of one SQL statement: "INSERT payments", "SELECT outbox".
function statement(sql = "") {
  const m = /^\s*(INSERT INTO|UPDATE|DELETE FROM|SELECT .*? FROM)\s+(\w+)/i.exec(sql);
  if (!m) return sql.split(/\s+/)[0] || "statement";
  return `${m[1].split(" ")[0].toUpperCase()} ${m[2]}`;
}

// counted folds repeats: ["UPDATE outbox", "UPDATE outbox"] → ["UPDATE outbox ×2"].
function counted(list) {
  const out = [];
  for (const s of list) {
    const last = out[out.length - 1];
    if (last && last.s === s) last.n++;
    else out.push({ s, n: 1 });
  }
  return out.map((x) => (x.n > 1 ? `${x.s} ×${x.n}` : x.s));
}

/**
 * renderStory fills box with payment's story in every side, side by side;
 * goTo(side, id) puts the playhead on an event. atUs dims the steps the
 * playhead has not reached.
 */
export function renderStory(box, sides, payment, atUs, goTo) {
  const cols = sides.map((side, s) => {
    const { steps, moved, failures, retries, bad, events } = storyOf(side, payment);
    const list = h("ol", { class: "story-steps" });
    for (const st of steps) {
      const ids = h("span", { class: "story-ids" });
      for (const id of st.ids) {
        const b = h("button", { type: "button", class: "link", text: `#${id}`, "data-event": id });
        b.addEventListener("click", () => goTo(s, id));
        ids.append(b, " ");
      }
      const cls = ["story-step", st.bad ? "bad" : st.fault ? "fault" : "", st.at > atUs ? "later" : ""].filter(Boolean).join(" ");
      list.append(h("li", { class: cls, "data-ids": st.ids.join(" ") }, h("span", { class: "story-text", text: st.text }), " ", ids));
    }
    const done = side.events.length >= side.total;
    // The verdict first, so the two sides read against each other before
    // their steps: lost here, moved once there, and after what.
    const after = !failures && !retries ? "" : `${plural(failures, "failure", "failures")} and ${retries ? plural(retries, "retry", "retries") : "no retry"}`;
    const end = !events
      ? `No event of payment ${payment}${done ? " in this run" : " yet"}.`
      : `${done ? "In the end" : "So far"} money moved ${moved === 1 ? "once" : `${moved} times`} for payment ${payment}${after ? `, after ${after}` : ""}${bad ? `: ${label(firstViolation(side, payment))}` : ""}.`;
    const tone = !events || !done ? "" : bad || moved !== 1 ? " bad" : " good";
    return h("section", { class: "story-side", "data-design": side.meta.design, "data-side": s },
      h("h3", { text: side.meta.design }), h("p", { class: "story-end" + tone, text: end }), list);
  });
  box.replaceChildren(...cols);
}
