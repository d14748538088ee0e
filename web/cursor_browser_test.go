package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserPlayRunsTheChangedForm is what you see is what runs: a fault
// changed in the form marks the form as changed, and Play (not only the
// Run button) runs the changed scenario to the report `run -json` prints
// for it; the address bar then describes that run.
func TestBrowserPlayRunsTheChangedForm(t *testing.T) {
	b := newBrowser(t)
	b.do(t, "open a run with no faults, paused",
		chromedp.Navigate(b.base+"/play?design=dual-write&seed=42&payments=60&speed=0"), waitState("paused"))
	b.do(t, "set bus.publish.fail to 0.3 in its number field",
		chromedp.SetValue(chromedp.CSS(`input[type="number"][data-fault="bus.publish.fail"]`), "0.3"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('input[type="number"][data-fault="bus.publish.fail"]').dispatchEvent(new Event("input", { bubbles: true }))`),
		chromedp.WaitVisible(chromedp.CSS(`#scenario[data-changed="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-part="changed"]`)))
	b.do(t, "press Play and wait for the end", chromedp.Click(chromedp.ID("play")), waitState("done"),
		chromedp.WaitVisible(chromedp.CSS(`#scenario[data-changed="false"]`)))
	q, _ := url.ParseQuery("design=dual-write&seed=42&payments=60&faults=bus.publish.fail=0.3")
	want := wantReport(t, q, "dual-write")
	if want["lost"] == "0" {
		t.Fatal("the changed scenario loses nothing; pick one that does, so the test can tell the runs apart")
	}
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]map[string][2]string](sideMetrics))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"committed", "published", "delivered", "ledger_entries", "lost"} {
		if got["dual-write"][key][0] != want[key] {
			t.Errorf("after Play %s shows %q; run -json for the changed scenario says %s", key, got["dual-write"][key][0], want[key])
		}
	}
	loc, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.search`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(loc, "faults=bus.publish.fail=0.3") {
		t.Errorf("the address bar says %s; it should describe the run on screen", loc)
	}
	b.noConsoleErrors(t)
}

// TestBrowserTheSelectionIsThePlayhead selects the lost evidence from its
// counter, then steps with → and ←: each time the details show the event
// next to it on the merged timeline of both designs, and the playhead
// (the timeline and the diagram's selected row) is on that event.
func TestBrowserTheSelectionIsThePlayhead(t *testing.T) {
	const query = "design=dual-write&compare=outbox-idempotent&seed=42&payments=200&faults=bus.publish.fail=0.1&speed=0&autoplay=1"
	q, _ := url.ParseQuery(query)
	_, runs := recordSides(t, q)
	lost := 0
	for _, ev := range runs[0] {
		if ev.Violation == "lost" {
			lost = ev.ID
			break
		}
	}
	if lost == 0 {
		t.Fatal("the scenario loses no payment; pick one that does")
	}
	// The event after the lost evidence on the merged timeline, ordered by
	// time, then side: side 0's next event, or side 1's first one after it.
	at := runs[0][lost-1].AtUs
	nextSide, nextID, nextAt := 0, lost+1, runs[0][lost].AtUs
	for _, ev := range runs[1] {
		if ev.AtUs >= at {
			if ev.AtUs < nextAt {
				nextSide, nextID, nextAt = 1, ev.ID, ev.AtUs
			}
			break
		}
	}
	at1 := func(side, id int) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#details[data-selected-side="%d"][data-selected-event="%d"]`, side, id)))
	}

	b := newBrowser(t)
	check := func(what string, side, id int, atUs int64) {
		t.Helper()
		expr := fmt.Sprintf(`[
  document.getElementById("timeline").value,
  document.querySelector('[data-side="%d"] .diagram .rowhit.sel')?.dataset.i ?? "none",
  document.documentElement.dataset.runState,
].join(" ")`, side)
		want := fmt.Sprintf("%d %d paused", atUs, id-1)
		// The server's cursor answers the selection a moment later; wait
		// for it, then say what the page shows if it never came.
		if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr+" === "+strconv.Quote(want), chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			got, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
			t.Errorf("%s: timeline, selected row and state are %q; want %q (side %d event %d)", what, got, want, side, id)
		}
	}
	b.do(t, "play the example through", chromedp.Navigate(b.base+"/play?"+query), waitState("done"))
	b.do(t, "the finished run lands on its first violation", at1(0, lost))
	b.do(t, "select the lost evidence", chromedp.Click(chromedp.CSS(`[data-design="dual-write"] button[data-key="lost"]`)), at1(0, lost), waitState("paused"))
	check("on the lost evidence", 0, lost, at)
	b.do(t, "→ steps to the next event of the merged timeline", chromedp.KeyEvent(kb.ArrowRight), at1(nextSide, nextID))
	check("after →", nextSide, nextID, nextAt)
	b.do(t, "← steps back to the evidence", chromedp.KeyEvent(kb.ArrowLeft), at1(0, lost))
	check("after ←", 0, lost, at)
	b.do(t, "← again steps before it", chromedp.KeyEvent(kb.ArrowLeft), chromedp.WaitVisible(chromedp.CSS(`#details:not([data-selected-event="`+strconv.Itoa(lost)+`"])`)))
	b.noConsoleErrors(t)
}
