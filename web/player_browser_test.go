package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"partialtruth/sim"
)

// TestBrowserASecondPlayerMountsOnAnySourceOfRuns is what a lesson or a
// room page relies on: importing static/player.js does nothing, and
// mountPlayer draws a run into a second copy of the player's markup from a
// source that is not a socket (a plain object with send and listen), with
// its own data-run-state, leaving the page's own player alone. Its controls
// talk to its source only, and destroy stops them.
func TestBrowserASecondPlayerMountsOnAnySourceOfRuns(t *testing.T) {
	sc := sim.DefaultScenario()
	sc.Design, sc.Seed, sc.Payments, sc.Faults = "outbox", 9, 30, sim.Faults{}.Set(sim.BusAckLost, 0.3)
	rec, err := record(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	n := rec.events()
	msgs := fmt.Sprintf(`[%s, {"type":"events","side":0,"events":[%s]}, {"type":"cursor","at_us":%d,"shown":[%d],"playing":false,"speed":16}, {"type":"report","side":0,"report":%s}, {"type":"done"}]`,
		mustJSON(t, metaMsg{Type: msgMeta, Runs: []runMeta{rec.meta(0)}}), rec.eventsJSON(0, n), rec.endUs(), n, rec.report)
	var want map[string]json.RawMessage
	if err := json.Unmarshal(rec.report, &want); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	b.do(t, "open a paused run", chromedp.Navigate(b.base+"/play?design=dual-write&payments=5&seed=42"), waitState("paused"))
	type result struct {
		StateBefore string            `json:"before"`
		Imported    string            `json:"imported"`
		Second      string            `json:"second"`
		Page        string            `json:"page"`
		Counters    map[string]string `json:"counters"`
		PageSides   []string          `json:"pageSides"`
		Sent        []string          `json:"sent"`
		SentAfter   int               `json:"sentAfter"`
	}
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[result](`(async () => {
  const html = document.documentElement;
  const before = html.dataset.runState;
  const { mountPlayer } = await import("/static/player.js");
  const imported = html.dataset.runState + " " + document.querySelectorAll("[data-player]").length;

`+secondMarkup+`

  const sent = [];
  let feed = null;
  const source = { send: (m) => sent.push(m.type), listen: (onMessage) => ((feed = onMessage), () => (feed = null)) };
  const player = mountPlayer(copy, { source, stateEl: box });
  for (const m of `+msgs+`) feed(m);
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));

  const counters = Object.fromEntries([...box.querySelectorAll("[data-metric]")].map((e) => [e.dataset.metric, e.textContent]));
  copy.querySelector("[data-part=play]").click();
  player.destroy();
  const sentBefore = sent.length;
  copy.querySelector("[data-part=play]").click();
  copy.querySelector("[data-part=step-fwd]").click();
  return {
    before, imported, counters, sent,
    second: box.dataset.runState,
    page: html.dataset.runState,
    pageSides: [...document.querySelectorAll("section[data-design]")].filter((s) => !box.contains(s)).map((s) => s.dataset.design),
    sentAfter: sent.length - sentBefore,
  };
})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if got.Imported != got.StateBefore+" 1" {
		t.Errorf("importing player.js changed the page: run state and players %q, were %q and 1", got.Imported, got.StateBefore)
	}
	if got.Second != "done" || got.Page != "paused" {
		t.Errorf("the second player's data-run-state is %q and the page's %q; want done and paused", got.Second, got.Page)
	}
	d, _ := sim.LookupDesign("outbox")
	if len(got.Counters) != len(d.Metrics) {
		t.Errorf("the second player shows counters %v, want %v", keys(got.Counters), d.Metrics)
	}
	for _, key := range d.Metrics {
		if got.Counters[key] != string(want[key]) {
			t.Errorf("the second player's %s shows %q; the report says %s", key, got.Counters[key], want[key])
		}
	}
	if fmt.Sprint(got.PageSides) != "[dual-write]" {
		t.Errorf("the page's own player shows %v, want [dual-write]", got.PageSides)
	}
	if fmt.Sprint(got.Sent) != "[seek play]" || got.SentAfter != 0 {
		t.Errorf("Replay on the second player sent %v to its source, and %d messages after destroy; want [seek play] and none", got.Sent, got.SentAfter)
	}
	b.noConsoleErrors(t)
}

// secondMarkup is page script that makes box and copy: a second player's
// markup, copied from the playground's, with ids of its own and its speed
// select in no form.
const secondMarkup = `
  const box = document.createElement("div");
  box.id = "second";
  const copy = document.querySelector("[data-player]").cloneNode(true);
  copy.dataset.player = "second-";
  for (const e of copy.querySelectorAll("[id]")) e.id = "second-" + e.id;
  copy.querySelector("[data-part=speed]").removeAttribute("form");
  copy.querySelector("[data-part=sides]").replaceChildren();
  box.append(copy);
  document.querySelector("main").append(box);`

// TestBrowserJumpingToAnEventTheRunHasNotReached is a lesson's "show me the
// first lost payment" on a run nobody has played: the player fetches the
// run, then shows it up to that event, selected, with the counters there.
func TestBrowserJumpingToAnEventTheRunHasNotReached(t *testing.T) {
	const query = "design=dual-write&seed=42&payments=200&faults=bus.publish.fail=0.1&speed=16"
	q, _ := url.ParseQuery(query)
	_, runs := recordSides(t, q)
	id := 0
	for _, ev := range runs[0] {
		if ev.Violation == "lost" {
			id = ev.ID
			break
		}
	}
	if id == 0 {
		t.Fatal("the scenario loses no payment; pick one that does")
	}
	at := runs[0][id-1].AtUs
	want := movesUpTo(runs[0], at)
	params, _ := json.Marshal(map[string]string{"design": "dual-write", "seed": "42", "payments": "200", "faults": "bus.publish.fail=0.1"})

	b := newBrowser(t)
	b.do(t, "open a paused run", chromedp.Navigate(b.base+"/play?design=outbox&payments=5"), waitState("paused"))
	b.do(t, "mount a second player on its own socket and load a run without playing it",
		chromedp.Evaluate[chromedp.Void](`(async () => {
  const { mountPlayer } = await import("/static/player.js");
  const { RunSocket } = await import("/static/socket.js");`+secondMarkup+`
  window.second = mountPlayer(copy, { source: new RunSocket(), stateEl: box });
  window.second.run({ params: `+string(params)+` });
})()`, chromedp.EvalAwaitPromise),
		chromedp.WaitVisible(chromedp.CSS(`#second[data-run-state="paused"] [data-design="dual-write"]`)))
	b.do(t, "jump to the first lost payment",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.second.jumpToEvent(0, %d)`, id)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#second [data-part="details"][data-selected-event="%d"]`, id))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#second [data-metric="lost"][data-counted="%d"]`, want["lost"]))))
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]string](`({
  state: document.getElementById("second").dataset.runState,
  page: document.documentElement.dataset.runState,
  committed: document.querySelector('#second [data-metric="committed"]').textContent,
  published: document.querySelector('#second [data-metric="published"]').textContent,
})`))
	if err != nil {
		t.Fatal(err)
	}
	if got["state"] != "paused" || got["page"] != "paused" {
		t.Errorf("after the jump the second player is %q and the page %q; want both paused", got["state"], got["page"])
	}
	for _, key := range []string{"committed", "published"} {
		if got[key] != fmt.Sprint(want[key]) {
			t.Errorf("at event %d %s shows %q; the events up to it move it by %d", id, key, got[key], want[key])
		}
	}
	b.noConsoleErrors(t)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
