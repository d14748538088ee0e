package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"partialtruth/checklist"
	"partialtruth/sim"
)

// The end-to-end tests drive the real page in headless Chromium against an
// in-process server. They wait on the page's own state attributes with a
// generous deadline and never sleep-then-assert, so a slow machine makes
// them slower, not flaky.

// browserDeadline bounds one browser test; a run that never reaches the
// state a test waits for fails at this deadline instead of hanging.
const browserDeadline = 90 * time.Second

// browser is one headless Chromium tab on a test server, with every console
// error and uncaught exception the page produced.
type browser struct {
	ctx  context.Context
	base string

	mu       sync.Mutex
	errors   []string
	requests []string // every path the server was asked for, in order
}

// newBrowser starts a server on an in-memory database and a Chromium tab,
// both closed with the test. It skips the test when Chromium is absent.
func newBrowser(t testing.TB) *browser {
	t.Helper()
	exe := chromiumPath()
	if exe == "" {
		t.Skip("skipping the browser tests: no Chromium found (looked for /usr/bin/chromium, chromium, chromium-browser, google-chrome); install it with apt-get install chromium")
	}
	srv := newTestServer(t)
	b := &browser{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.requests = append(b.requests, r.URL.Path)
		b.mu.Unlock()
		srv.Handler().ServeHTTP(w, r)
	}))
	b.base = ts.URL
	closeTab := b.openTab(exe)
	t.Cleanup(func() {
		closeTab()
		ts.Close()
	})
	return b
}

// chromiumPath is the Chromium to drive, or "" when there is none.
func chromiumPath() string {
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// openTab starts Chromium (exe) with one tab for b, collecting the page's
// console errors; the returned func closes it all.
func (b *browser) openTab(exe string) (closeTab func()) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // the tests run as root in CI containers
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelDeadline := context.WithTimeout(ctx, browserDeadline)
	b.ctx = ctx
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return func() {
		cancelDeadline()
		cancelTab()
		cancelAlloc()
		<-done
	}
}

// do runs actions in the tab, failing the test with what it was doing.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// noConsoleErrors fails the test if the page logged an error or threw.
func (b *browser) noConsoleErrors(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		t.Errorf("console: %s", e)
	}
}

// waitState waits until the page's root says the run is in state.
func waitState(state string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`html[data-run-state="` + state + `"]`))
}

// wantReport is what `run -json` prints for the scenario in q, as a map
// from report key to its JSON text.
func wantReport(t *testing.T, q url.Values, design string) map[string]string {
	t.Helper()
	get := func(name string) string {
		if name == "design" {
			return design
		}
		return q.Get(name)
	}
	sc, err := sim.FromParams(get)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(checklist.NewReport(res.Report))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range raw {
		out[k] = string(v)
	}
	return out
}

// sideMetrics reads, per side (keyed by data-design), each counter's shown
// value and the value counted from the streamed events alone.
const sideMetrics = `Object.fromEntries([...document.querySelectorAll("section[data-design]")].map((s) => [
  s.dataset.design,
  Object.fromEntries([...s.querySelectorAll("[data-metric]")].map((e) => [e.dataset.metric, [e.textContent, e.dataset.counted]])),
]))`

func TestBrowserShareLinkPlaysToTheReportOfRunJSON(t *testing.T) {
	for _, query := range []string{
		// The handbook's example, paced at a large speed.
		"design=dual-write&compare=outbox-idempotent&seed=42&payments=200&faults=bus.publish.fail=0.1,net.drop=0.02&latency=5ms&jitter=5ms&speed=1000&autoplay=1",
		// Lost acks, duplicates and crashes: duplicate effects on one side.
		"design=outbox&compare=dual-write-retry&seed=7&payments=120&faults=bus.ack.lost=0.1,net.dup=0.05,crash.consumer=0.02,crash.relay=0.02&speed=0&autoplay=1",
		// One design alone: failed commits after a publish are phantoms.
		"design=publish-first&seed=3&payments=150&faults=db.fail=0.1,crash.service=0.02&speed=0&autoplay=1",
		// The later families: their own lanes, counters and invariants.
		"design=retry-naive&compare=retry-idempotency-key&seed=5&payments=80&faults=net.drop=0.1&speed=0&autoplay=1",
		"design=decide-from-replica&compare=decide-from-primary&seed=5&payments=80&speed=0&autoplay=1",
		"design=partition-ap&compare=partition-cp&seed=5&payments=80&faults=net.partition=0.02&speed=0&autoplay=1",
		"design=consumer-naive&compare=consumer-versioned&seed=5&payments=60&faults=net.drop=0.05,bus.redeliver=0.1&speed=0&autoplay=1",
	} {
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		name := q.Get("design")
		if c := q.Get("compare"); c != "" {
			name += "-vs-" + c
		}
		t.Run(name, func(t *testing.T) {
			b := newBrowser(t)
			b.do(t, "open the share link and wait for the run to finish",
				chromedp.Navigate(b.base+"/play?"+query), waitState("done"))
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]map[string][2]string](sideMetrics))
			if err != nil {
				t.Fatal(err)
			}
			designs := []string{q.Get("design")}
			if c := q.Get("compare"); c != "" {
				designs = append(designs, c)
			}
			if len(got) != len(designs) {
				t.Fatalf("page shows sides %v, want %v", keys(got), designs)
			}
			for _, design := range designs {
				d, _ := sim.LookupDesign(design)
				want := wantReport(t, q, design)
				side := got[design]
				if len(side) != len(d.Metrics) {
					t.Errorf("%s shows counters %v, want %v", design, keys(side), d.Metrics)
				}
				for _, key := range d.Metrics {
					shown, counted := side[key][0], side[key][1]
					if shown != want[key] {
						t.Errorf(`[data-design=%q] [data-metric=%q] shows %q; run -json says %s`, design, key, shown, want[key])
					}
					// data-counted is what the streamed events add up to:
					// every key is counted live, and ends on the report.
					if counted != want[key] {
						t.Errorf("%s %s counted from the streamed events is %q; run -json says %s", design, key, counted, want[key])
					}
				}
			}
			b.noConsoleErrors(t)
		})
	}
}

// TestBrowserHomeStartsTheExampleInOneClick is the "done when" as
// a new user meets it: one click from the front page plays dual write
// against the outbox under 10% publish failures, and only dual write loses
// payments.
func TestBrowserHomeStartsTheExampleInOneClick(t *testing.T) {
	b := newBrowser(t)
	b.do(t, "open the front page and click the example",
		chromedp.Navigate(b.base+"/"), chromedp.Click(chromedp.ID("start")), waitState("done"))
	lost := func(design string) string {
		t.Helper()
		s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(`[data-design="`+design+`"] [data-metric="lost"]`)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if n := lost("dual-write"); n == "0" || n == "" {
		t.Errorf("dual write lost %q payments in the handbook's example; it should lose some", n)
	}
	if n := lost("outbox-idempotent"); n != "0" {
		t.Errorf("the outbox lost %q payments; it should lose none", n)
	}
	summary, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.ID("summary")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(summary, "dual-write: "+lost("dual-write")+" of 200 payments lost") {
		t.Errorf("the live summary says %q", summary)
	}
	b.noConsoleErrors(t)
}

func TestBrowserKeyboardStepsMoveTheSelection(t *testing.T) {
	b := newBrowser(t)
	selected := func(id int) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#details[data-selected-event="%d"]`, id)))
	}
	b.do(t, "open a paused run", chromedp.Navigate(b.base+"/play?design=dual-write&payments=5&seed=42"), waitState("paused"))
	b.do(t, "→ selects the first event", chromedp.KeyEvent(kb.ArrowRight), selected(1))
	b.do(t, "→ again selects the second", chromedp.KeyEvent(kb.ArrowRight), selected(2))
	b.do(t, "← goes back to the first", chromedp.KeyEvent(kb.ArrowLeft), selected(1))
	b.do(t, "the diagram highlights the selected row", chromedp.WaitVisible(chromedp.CSS(`.diagram .rowhit.sel[data-i="0"]`)))
	b.do(t, "? opens the shortcuts", chromedp.KeyEvent("?"), chromedp.WaitVisible(chromedp.CSS(`dialog#shortcuts[open]`)))
	b.do(t, "Escape closes them", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(chromedp.CSS(`dialog#shortcuts[open]`)))
	b.do(t, "+ plays faster", chromedp.KeyEvent("+"))
	speed, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("speed").value + " " + location.search`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(speed, "64 ") || !strings.Contains(speed, "speed=64") {
		t.Errorf("after + the speed and URL are %q, want 64 ms/s in both", speed)
	}
	b.do(t, "Space plays the run through", chromedp.KeyEvent(" "), waitState("done"))
	b.noConsoleErrors(t)
}

func TestBrowserViolationCounterJumpsToTheFirstViolation(t *testing.T) {
	b := newBrowser(t)
	q, _ := url.ParseQuery("design=dual-write&seed=42&payments=200&faults=bus.publish.fail=0.1&speed=0&autoplay=1")
	b.do(t, "play the handbook's bad example", chromedp.Navigate(b.base+"/play?"+q.Encode()), waitState("done"))
	var first struct {
		FirstViolation map[string]int `json:"first_violation"`
	}
	if err := json.Unmarshal([]byte("{\"first_violation\":"+wantReport(t, q, "dual-write")["first_violation"]+"}"), &first); err != nil {
		t.Fatal(err)
	}
	id := first.FirstViolation["lost"]
	if id == 0 {
		t.Fatal("the scenario loses no payment; pick one that does")
	}
	b.do(t, "select the lost counter",
		chromedp.Click(chromedp.CSS(`[data-design="dual-write"] button[data-key="lost"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#details[data-selected-event="%d"]`, id))))
	detail, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(`#details`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "publish-fail") || !strings.Contains(detail, "bus.publish.fail") {
		t.Errorf("the first lost payment's evidence should be the failed publish; details say %q", detail)
	}
	b.do(t, "step away from it", chromedp.KeyEvent(kb.ArrowLeft),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#details:not([data-selected-event="%d"])`, id))))
	b.do(t, "the checklist's failing atomic-publish item shows the same event",
		chromedp.Click(chromedp.CSS(`[data-design="dual-write"] .ck-finding[data-items~="atomic-publish"] .ck-panel-jump`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#details[data-selected-event="%d"]`, id))))
	b.noConsoleErrors(t)
}

func TestBrowserFormErrorShowsBesideTheFieldAndTheSocketStaysUsable(t *testing.T) {
	b := newBrowser(t)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	b.do(t, "open a valid scenario", chromedp.Navigate(b.base+"/play?design=dual-write&payments=5&speed=0"), waitState("paused"))
	b.do(t, "enter a payment count out of range", chromedp.SetValue(chromedp.ID("payments"), "0"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("payments").dispatchEvent(new Event("input", { bubbles: true }))`))
	// The address bar describes the run on screen, not the edit; the form
	// says it holds something else.
	if q := eval(`location.search + " " + document.getElementById("scenario").dataset.changed`); !strings.Contains(q, "payments=5") || !strings.HasSuffix(q, " true") {
		t.Errorf("after editing payments the URL and the form's changed mark are %q; want the run on screen (payments=5) and true", q)
	}
	b.do(t, "run it and see the error beside the field",
		chromedp.Click(chromedp.ID("run")), chromedp.WaitVisible(chromedp.ID("payments-error")))
	if msg := text("#payments-error"); !strings.Contains(msg, "payments 0 is out of range") {
		t.Errorf("error beside payments = %q", msg)
	}
	if inv := eval(`document.getElementById("payments").getAttribute("aria-invalid")`); inv != "true" {
		t.Errorf("payments aria-invalid = %q, want true", inv)
	}
	b.do(t, "fix it and run again on the same socket",
		chromedp.SetValue(chromedp.ID("payments"), "4"),
		chromedp.Click(chromedp.ID("run")), waitState("done"), chromedp.WaitNotVisible(chromedp.ID("payments-error")))
	if n := text(`[data-design="dual-write"] [data-metric="committed"]`); n != "4" {
		t.Errorf("committed = %q after running 4 payments without faults", n)
	}
	if q := eval(`location.search + " " + document.getElementById("scenario").dataset.changed`); !strings.Contains(q, "payments=4") || !strings.HasSuffix(q, " false") {
		t.Errorf("after running 4 payments the URL and the form's changed mark are %q; want payments=4 and false", q)
	}
	b.do(t, "copy the link", chromedp.Click(chromedp.ID("copy-link")), chromedp.WaitVisible(chromedp.ID("copy-status")))
	link := eval(`document.getElementById("copy-fallback").hidden ? "" : document.getElementById("copy-fallback").value`)
	if link == "" {
		link = eval(`location.origin + "/play?" + new URLSearchParams(location.search).toString() + "&autoplay=1"`)
	}
	if !strings.Contains(link, "payments=4") || !strings.Contains(link, "autoplay=1") {
		t.Fatalf("copied link %q does not replay the scenario", link)
	}
	b.do(t, "open the copied link", chromedp.Navigate(link), waitState("done"))
	if n := text(`[data-design="dual-write"] [data-metric="committed"]`); n != "4" {
		t.Errorf("the copied link shows committed = %q, want 4", n)
	}
	b.noConsoleErrors(t)
}

// TestBrowserScrubbingShowsTheCountsAtThatTime drags the timeline back to
// mid-run and checks the counters against the simulator's own events up to
// that virtual time.
func TestBrowserScrubbingShowsTheCountsAtThatTime(t *testing.T) {
	b := newBrowser(t)
	query := "design=dual-write&seed=42&payments=200&faults=bus.publish.fail=0.1,net.dup=0.05&speed=0&autoplay=1"
	q, _ := url.ParseQuery(query)
	sc, err := sim.FromParams(q.Get)
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := sim.Record(sc)
	if err != nil {
		t.Fatal(err)
	}
	at := events[len(events)/2].AtUs
	want := map[string]int{}
	for _, ev := range events {
		if ev.AtUs > at {
			break
		}
		switch {
		case ev.Node == sim.NodeBus && ev.Kind == sim.KindPublish:
			want["published"]++
		case ev.Node == sim.NodeLedger && ev.Kind == sim.KindEffect:
			want["ledger_entries"]++
		}
		if ev.Violation != "" {
			want[ev.Violation]++
		}
	}
	b.do(t, "play the run, then drag the timeline back to mid-run",
		chromedp.Navigate(b.base+"/play?"+query), waitState("done"),
		chromedp.SetValue(chromedp.ID("timeline"), fmt.Sprint(at)), waitState("paused"))
	for _, key := range []string{"published", "ledger_entries", "lost", "duplicate_effects"} {
		sel := `[data-design="dual-write"] [data-metric="` + key + `"]`
		// The cursor message may trail the state change by a frame: wait for the value.
		if err := chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`%s[data-counted="%d"]`, sel, want[key])))); err != nil {
			got, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
			t.Errorf("%s at %d µs shows %q, want %d: %v", key, at, got, want[key], err)
			continue
		}
		if got, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel))); got != fmt.Sprint(want[key]) {
			t.Errorf("%s at %d µs shows %q though it counted %d", key, at, got, want[key])
		}
	}
	if want["lost"] == 0 || want["published"] == 0 {
		t.Fatalf("mid-run at %d µs has nothing to compare (%v); pick another scenario", at, want)
	}
	b.noConsoleErrors(t)
}

// TestBrowserPlayLoadsOnlyFromItsOrigin checks that no request leaves the
// server's origin, and logs how long the page took to become interactive
// (the numbers the README quotes; not asserted, since they are wall-clock).
func TestBrowserPlayLoadsOnlyFromItsOrigin(t *testing.T) {
	b := newBrowser(t)
	page := b.base + "/play?design=dual-write&compare=outbox-idempotent&faults=bus.publish.fail=0.1"
	b.do(t, "open the playground", chromedp.Navigate(page), waitState("paused"))
	b.measureLoad(t, "first load")
	b.do(t, "open it again", chromedp.Navigate(page+"&seed=43"), waitState("paused"))
	b.measureLoad(t, "second load")
	b.noConsoleErrors(t)
}

// measureLoad logs how long the page took to become interactive and checks
// that every resource it loaded came from the server's origin.
func (b *browser) measureLoad(t *testing.T, what string) {
	t.Helper()
	type timing struct {
		Resources        []string `json:"resources"`
		DOMContentLoaded float64  `json:"dcl"`
		Ready            float64  `json:"ready"`
		RunLoaded        float64  `json:"loaded"`
	}
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[timing](`({
  resources: performance.getEntriesByType("resource").map((r) => r.name),
  dcl: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
  ready: performance.getEntriesByName("playground-ready")[0].startTime,
  loaded: performance.getEntriesByName("run-state-paused")[0].startTime,
})`))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got.Resources {
		if !strings.HasPrefix(r, b.base+"/") {
			t.Errorf("the page requested %s, outside %s", r, b.base)
		}
	}
	t.Logf("/play, %s: DOMContentLoaded at %.0f ms, scripts ready at %.0f ms, first run loaded at %.0f ms after navigation start (%d resources)",
		what, got.DOMContentLoaded, got.Ready, got.RunLoaded, len(got.Resources))
}

// TestBrowserReloadAsksForNoStaticFileAgain: the page links its CSS and
// modules at content-hashed URLs served immutable, and its import map sends
// each module's imports there too, so a reload fetches the page and opens
// the socket but asks for no static file it already has.
func TestBrowserReloadAsksForNoStaticFileAgain(t *testing.T) {
	b := newBrowser(t)
	// story.js is imported once the page is idle after its first run:
	// wait for that too, so the first load is every file it asks for.
	b.do(t, "open the playground", chromedp.Navigate(b.base+"/play?design=dual-write&payments=5"), waitState("paused"),
		until(`performance.getEntriesByType("resource").some((e) => e.name.includes("/static/story."))`))
	b.mu.Lock()
	first := slices.Clone(b.requests)
	b.requests = nil
	b.mu.Unlock()
	static := func(paths []string) (out []string) {
		for _, p := range paths {
			if strings.HasPrefix(p, "/static/") {
				out = append(out, p)
			}
		}
		return out
	}
	if len(static(first)) < 5 {
		t.Fatalf("the first load asked for %v; want the page's CSS and every module", first)
	}
	for _, p := range static(first) {
		if !hashedStaticPath.MatchString(p) {
			t.Errorf("the first load asked for %s, not a content-hashed URL", p)
		}
	}
	b.do(t, "reload it", chromedp.Reload(), waitState("paused"))
	b.mu.Lock()
	again := slices.Clone(b.requests)
	b.mu.Unlock()
	if !slices.Contains(again, "/play") {
		t.Fatalf("the reload asked for %v, not even /play: did it happen?", again)
	}
	if s := static(again); len(s) > 0 {
		t.Errorf("the reload asked again for %v", s)
	}
	b.noConsoleErrors(t)
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestBrowserFaultsWithNoEffectFollowTheChosenDesign(t *testing.T) {
	b := newBrowser(t)
	choose := func(id, design string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.getElementById(%q); s.value = %q;
			s.dispatchEvent(new Event("change", { bubbles: true })); })()`, id, design))
	}
	na := func(fault string) string { return `.fault.na input[data-fault="` + fault + `"]` }
	b.do(t, "open the outbox", chromedp.Navigate(b.base+"/play?design=outbox&payments=5"), waitState("paused"),
		chromedp.WaitNotPresent(chromedp.CSS(na("bus.ack.lost"))), chromedp.WaitVisible(chromedp.CSS(`.fault.na`)))
	b.do(t, "retry-naive has no bus: its faults say they have no effect", choose("design", "retry-naive"),
		chromedp.WaitVisible(chromedp.CSS(na("bus.ack.lost"))), chromedp.WaitVisible(chromedp.CSS(`[id="fault-na-bus.ack.lost"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(na("net.drop"))))
	b.do(t, "comparing with the outbox brings the bus faults back", choose("compare", "outbox"),
		chromedp.WaitNotPresent(chromedp.CSS(na("bus.ack.lost"))), chromedp.WaitVisible(chromedp.CSS(na("net.partition"))))
	b.noConsoleErrors(t)
}
