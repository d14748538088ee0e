package web

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// BenchmarkBrowserBigCompareLongTasks plays the 5,000-payment compare at
// full speed in headless Chromium, once per iteration in a fresh page, and
// reports what the browser's long-task observer saw until the run was
// done: the worst task (worst-longtask-ms, the budget is 100), the
// long tasks' time in all per run (longtask-total-ms) and how many there
// were per run (longtasks/op). A long task is one over 50 ms of the main
// thread, page load included.
//
// These are wall-clock figures of a browser sharing the machine with the
// server that streams the run: quote them with the machine's load.
//
//	go test ./web -run '^$' -bench BrowserBigCompareLongTasks -benchtime 3x -count 3
func BenchmarkBrowserBigCompareLongTasks(b *testing.B) {
	if chromiumPath() == "" {
		b.Skip("skipping: no Chromium found (looked for /usr/bin/chromium, chromium, chromium-browser, google-chrome); install it with apt-get install chromium")
	}
	br := newBrowser(b)
	if err := chromedp.Do(br.ctx, beforePageScript(longTaskObserver)); err != nil {
		b.Fatal(err)
	}
	worst, total, count := 0, 0, 0
	for b.Loop() {
		if err := chromedp.Do(br.ctx, chromedp.Navigate(br.base+"/play?"+bigCompareQuery), waitState("done")); err != nil {
			b.Fatalf("playing the 5,000-payment compare: %v", err)
		}
		tasks, err := chromedp.Run(br.ctx, chromedp.Evaluate[[]int](`window.__longTasks`))
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range tasks {
			total += d
			worst = max(worst, d)
		}
		count += len(tasks)
		// The next iteration's page starts blank, so its load is its own.
		if err := chromedp.Do(br.ctx, chromedp.Navigate("about:blank")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(worst), "worst-longtask-ms")
	b.ReportMetric(float64(total)/float64(b.N), "longtask-total-ms")
	b.ReportMetric(float64(count)/float64(b.N), "longtasks/op")
}
