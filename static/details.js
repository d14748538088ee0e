// The selected event's details: what happened, where, to which payment,
// the fault behind it, and the SQL it ran with its arguments.

import { h, ms, label } from "./dom.js";

/**
 * renderDetails fills box with state.sel's event; goTo(side, id) selects
 * another event (the cause link). The box carries data-selected-event and
 * data-selected-side so tests and tools can see the selection.
 */
export function renderDetails(box, state, goTo, openStory) {
  const sel = state.sel;
  const side = sel && state.sides[sel.side];
  const ev = side && side.events[sel.i];
  const key = (ev ? `${state.run}:${sel.side}:${ev.id}` : "") + `:${state.note || ""}`;
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  // A note says why this is the selection (a finished run's first
  // violation) or, with no selection, what the run came to.
  const note = state.note ? h("p", { class: "sel-note", text: state.note }) : null;
  if (!ev) {
    delete box.dataset.selectedEvent;
    delete box.dataset.selectedSide;
    box.replaceChildren(
      h("h3", { text: "Selected event" }),
      note || h("p", { class: "empty", text: "Select a row in the diagram, or step with ← and →. Its SQL and arguments show here." }),
    );
    return;
  }
  box.dataset.selectedEvent = String(ev.id);
  box.dataset.selectedSide = String(sel.side);
  const who = state.sides.length > 1 ? `${side.meta.design} · ` : "";
  const facts = [
    ["node", ev.node],
    ["message", ev.msg],
    ["peer", ev.peer],
  ];
  const dl = h("dl");
  for (const [k, v] of facts) if (v) dl.append(h("div", {}, h("dt", { text: k }), h("dd", { text: v })));
  if (ev.payment) {
    // The payment opens its story: its path through every design.
    const dd = h("dd", { text: String(ev.payment) });
    if (openStory) {
      const link = h("button", { type: "button", class: "link story-link", "data-story": ev.payment, text: "its story" });
      link.addEventListener("click", () => openStory(ev.payment));
      dd.append(" · ", link);
    }
    dl.prepend(h("div", {}, h("dt", { text: "payment" }), dd));
  }
  if (ev.cause) {
    const link = h("button", { type: "button", class: "link", text: `#${ev.cause}` });
    link.addEventListener("click", () => goTo(sel.side, ev.cause));
    dl.append(h("div", {}, h("dt", { text: "cause" }), h("dd", {}, link)));
  }
  if (ev.fault) dl.append(h("div", {}, h("dt", { text: "fault" }), h("dd", { class: "fault", text: ev.fault })));
  if (ev.violation) dl.append(h("div", {}, h("dt", { text: "evidence of" }), h("dd", { class: "fault", text: label(ev.violation) })));
  const sql = ev.sql
    ? h("pre", {}, ev.sql + (ev.args && ev.args.length ? `\n-- args: ${ev.args.map((a) => JSON.stringify(a)).join(", ")}` : ""))
    : null;
  box.replaceChildren(
    ...(note ? [note] : []),
    h("h3", { text: `${who}event #${ev.id} at ${ms(ev.at_us)}` }),
    h("p", { class: "headline" }, h("span", { class: "kind", text: `${ev.node} ${ev.kind}` }), ev.note ? ` — ${ev.note}` : ""),
    dl,
    ...(sql ? [sql] : []),
  );
}
