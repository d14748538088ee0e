package web

import (
	"fmt"
	"net/url"
	"sort"
	"testing"

	"github.com/chromedp/chromedp"

	"partialtruth/sim"
)

// The page adds what the simulator says each event moves; it never
// recounts. These tests hold every counter, at a playhead in the middle of
// a run, to the sum over the simulator's own events up to that playhead.

// movesUpTo is what each counter should show with the playhead at atUs:
// one for each key an event moves and one for the violation it is the
// evidence of, over the events up to that virtual time.
func movesUpTo(events []sim.Event, atUs int64) map[string]int {
	sum := map[string]int{}
	for _, ev := range events {
		if ev.AtUs > atUs {
			break
		}
		for _, k := range ev.Moves {
			sum[k]++
		}
		if ev.Violation != "" {
			sum[ev.Violation]++
		}
	}
	return sum
}

// recordSides simulates the query's design and, if any, its compare
// partner, as the server does.
func recordSides(t *testing.T, q url.Values) ([]string, [][]sim.Event) {
	t.Helper()
	designs := []string{q.Get("design")}
	if c := q.Get("compare"); c != "" {
		designs = append(designs, c)
	}
	var runs [][]sim.Event
	for _, d := range designs {
		sc, err := sim.FromParams(func(name string) string {
			if name == "design" {
				return d
			}
			return q.Get(name)
		})
		if err != nil {
			t.Fatal(err)
		}
		events, _, err := sim.Record(sc)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, events)
	}
	return designs, runs
}

// seekPaused opens query without playing it, seeks to atUs, and waits
// until the page shows the playhead there: the selection follows the
// cursor to the newest event at or before atUs on the merged timeline,
// which orders by time, then side (so the later side on a tie).
func seekPaused(t *testing.T, b *browser, query string, runs [][]sim.Event, atUs int64) {
	t.Helper()
	side, id, last := -1, 0, int64(-1)
	for s, events := range runs {
		i := sort.Search(len(events), func(i int) bool { return events[i].AtUs > atUs }) - 1
		if i >= 0 && events[i].AtUs >= last {
			side, id, last = s, events[i].ID, events[i].AtUs
		}
	}
	b.do(t, fmt.Sprintf("open %s paused and seek to %d µs", query, atUs),
		chromedp.Navigate(b.base+"/play?"+query), waitState("paused"),
		chromedp.SetValue(chromedp.ID("timeline"), fmt.Sprint(atUs)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#details[data-selected-side="%d"][data-selected-event="%d"]`, side, id))))
}

// TestBrowserEveryCounterMovesWithThePlayhead seeks each family's pair of
// designs to the middle of its run before anything was played, so the page
// has neither the later events nor the report, and checks every counter of
// both sides against the simulator's moves up to the playhead.
func TestBrowserEveryCounterMovesWithThePlayhead(t *testing.T) {
	for _, query := range []string{
		"design=dual-write&compare=outbox-idempotent&seed=42&payments=200&faults=bus.publish.fail=0.1,net.dup=0.05,bus.ack.lost=0.05&speed=16",
		"design=publish-first&compare=outbox&seed=3&payments=150&faults=db.fail=0.1,crash.service=0.02,crash.relay=0.02&speed=16",
		"design=retry-naive&compare=retry-idempotency-key&seed=5&payments=80&faults=net.drop=0.2&client-timeout=20ms&speed=16",
		"design=decide-from-replica&compare=decide-from-primary&seed=5&payments=80&speed=16",
		"design=partition-ap&compare=partition-cp&seed=5&payments=80&faults=net.partition=0.99&speed=16",
		"design=consumer-naive&compare=consumer-versioned&seed=5&payments=60&faults=net.drop=0.05,bus.redeliver=0.1&jitter=2ms&speed=16",
	} {
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(q.Get("design")+"-vs-"+q.Get("compare"), func(t *testing.T) {
			designs, runs := recordSides(t, q)
			at := runs[0][len(runs[0])/2].AtUs
			b := newBrowser(t)
			seekPaused(t, b, query, runs, at)
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]map[string][2]string](sideMetrics))
			if err != nil {
				t.Fatal(err)
			}
			moved := 0
			for s, design := range designs {
				want := movesUpTo(runs[s], at)
				d, _ := sim.LookupDesign(design)
				if len(got[design]) != len(d.Metrics) {
					t.Errorf("%s shows counters %v, want %v", design, keys(got[design]), d.Metrics)
				}
				for _, key := range d.Metrics {
					shown, counted := got[design][key][0], got[design][key][1]
					if shown != fmt.Sprint(want[key]) || counted != shown {
						t.Errorf("%s %s at %d µs shows %q (counted %q); the events up to there move it by %d", design, key, at, shown, counted, want[key])
					}
					if want[key] > 0 {
						moved++
					}
				}
			}
			if moved < 3 {
				t.Errorf("mid-run at %d µs only %d counters have moved (%v); pick a scenario that moves more", at, moved, got)
			}
			b.noConsoleErrors(t)
		})
	}
}

// TestBrowserAcceptedAndAppliedCountMidRun: the counters the checker only
// settles from a database at the end of a run (accepted limit decisions,
// applied status events) count up with the playhead like every other.
func TestBrowserAcceptedAndAppliedCountMidRun(t *testing.T) {
	const query = "design=decide-from-replica&compare=consumer-naive&seed=5&payments=80&speed=16"
	q, _ := url.ParseQuery(query)
	_, runs := recordSides(t, q)
	at := runs[0][len(runs[0])/4].AtUs
	if end := runs[1][len(runs[1])-1].AtUs; end < at {
		at = end / 2
	}
	b := newBrowser(t)
	seekPaused(t, b, query, runs, at)
	for _, c := range []struct{ design, key string }{{"decide-from-replica", "accepted"}, {"consumer-naive", "applied"}} {
		sel := fmt.Sprintf(`[data-design=%q] [data-metric=%q]`, c.design, c.key)
		got, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		if got == "0" || got == "" || got == "–" {
			t.Errorf("%s %s shows %q at %d µs, a quarter into the run", c.design, c.key, got, at)
		}
	}
	state, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.documentElement.dataset.runState + " " + document.querySelectorAll(".verdict.good, .verdict.bad").length`))
	if err != nil {
		t.Fatal(err)
	}
	if state != "paused 0" {
		t.Errorf("the page is %q; it should be paused mid-run with no verdict yet", state)
	}
	b.noConsoleErrors(t)
}
