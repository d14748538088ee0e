package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"partialtruth/sim"
)

// TestBrowserAPaymentsStoryListsItsEventsInBothDesigns opens, from the
// summary, the story of the first payment dual write lost, and holds it to
// the simulator's events (what `run -events` writes): in each design the
// steps carry exactly that payment's events, each once, in order; dual
// write's ends in the loss, the outbox's retries the failed publish and
// moves the money once.
func TestBrowserAPaymentsStoryListsItsEventsInBothDesigns(t *testing.T) {
	const query = "design=dual-write&compare=outbox-idempotent&seed=42&payments=200&faults=bus.publish.fail=0.1&speed=0&autoplay=1"
	q, _ := url.ParseQuery(query)
	_, runs := recordSides(t, q)
	payment := 0
	for _, ev := range runs[0] {
		if ev.Violation == "lost" {
			payment = ev.Payment
			break
		}
	}
	if payment == 0 {
		t.Fatal("the scenario loses no payment; pick one that does")
	}
	b := newBrowser(t)
	b.do(t, "play the example and open the first lost payment's story from the summary",
		chromedp.Navigate(b.base+"/play?"+query), waitState("done"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#summary button[data-story="%d"]`, payment))),
		// A script's click: the page may still be scrolling to the first
		// violation, which moves the button under a pointer's click.
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('#summary button[data-story="%d"]').click()`, payment)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.story[data-payment="%d"] .story-side[data-side="1"] .story-step`, payment))))
	checkStory(t, b, runs, payment)
	b.noConsoleErrors(t)
}

// storySide is one design's column of a payment's story, as the page shows it.
type storySide struct {
	IDs   []string `json:"ids"`
	Texts []string `json:"texts"`
	End   string   `json:"end"`
	Tint  int      `json:"tint"`
}

// checkStory holds the story open on the page to the simulator's events
// (runs, what `run -events` writes, one per side) for payment: in each
// design the steps carry exactly that payment's events, each once, in
// order, and the diagram tints its rows; dual write's (side 0) ends in the
// loss, the outbox's (side 1) retries the failed publish and moves the
// money once.
func checkStory(t *testing.T, b *browser, runs [][]sim.Event, payment int) {
	t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]storySide](`[...document.querySelectorAll(".story-side")].map((s) => ({
  ids: [...s.querySelectorAll(".story-step")].map((li) => li.dataset.ids),
  texts: [...s.querySelectorAll(".story-step .story-text")].map((e) => e.textContent),
  end: s.querySelector(".story-end").textContent,
  tint: document.querySelectorAll('section.side[data-side="' + s.dataset.side + '"] .diagram .rowhit.same, section.side[data-side="' + s.dataset.side + '"] .diagram .rowhit.sel').length,
}))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(runs) {
		t.Fatalf("the story has %d sides, want %d", len(got), len(runs))
	}
	for s, events := range runs {
		var want []int
		for _, ev := range events {
			if ev.Payment == payment {
				want = append(want, ev.ID)
			}
		}
		var ids []int
		firsts := []int{}
		for _, step := range got[s].IDs {
			for k, f := range strings.Fields(step) {
				n, _ := strconv.Atoi(f)
				ids = append(ids, n)
				if k == 0 {
					firsts = append(firsts, n)
				}
			}
		}
		sorted := slices.Clone(ids)
		slices.Sort(sorted)
		if !slices.Equal(sorted, want) || len(slices.Compact(slices.Clone(sorted))) != len(ids) {
			t.Errorf("side %d: the story carries events %v; the events file has %v for payment %d", s, sorted, want, payment)
		}
		if !slices.IsSorted(firsts) {
			t.Errorf("side %d: the steps are not in the order of their first events: %v", s, firsts)
		}
		if got[s].Tint == 0 {
			t.Errorf("side %d: the diagram tints none of payment %d's rows", s, payment)
		}
	}
	all := func(s int) string { return strings.Join(got[s].Texts, "\n") }
	// Each side's verdict says what the steps show: dual write failed once
	// and never tried again; the outbox failed and retried.
	if !strings.Contains(all(0), "failed") || !strings.Contains(all(0), "lost") || !strings.Contains(got[0].End, "money moved 0 times") ||
		!strings.Contains(got[0].End, "no retry") || !strings.HasSuffix(got[0].End, ": lost.") {
		t.Errorf("dual write's story does not show the failed publish losing the payment:\n%s\n%s", all(0), got[0].End)
	}
	if !strings.Contains(all(1), "failed") || !strings.Contains(all(1), "retried") || !strings.Contains(got[1].End, "money moved once") ||
		!strings.Contains(got[1].End, " retr") || strings.Contains(got[1].End, "no retry") {
		t.Errorf("the outbox's story does not show the retry that saves the payment:\n%s\n%s", all(1), got[1].End)
	}
}
