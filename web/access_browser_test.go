package web

import (
	"context"
	_ "embed"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"partialtruth/static"
)

// The pages as everyone meets them: on a phone, from the keyboard, with a
// screen reader, and under axe-core's rules.

// axeSource is axe-core, vendored as a test fixture only (web/testdata/axe
// says which version and under which licence); the server never serves it.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// finishedCompare is the front page's comparison, played through at once.
const finishedCompare = "design=dual-write&compare=outbox-idempotent&seed=42&payments=200&faults=bus.publish.fail=0.1&speed=0&autoplay=1"

// page is one page of the site and what shows it is ready.
type page struct {
	name, path, ready string
}

// everyPage is each kind of page the site has: the front page, the
// playground idle, with a finished comparison and with a payment's story
// open, the checklist, the
// design matrix, the lessons and a lesson.
func everyPage(t *testing.T) []page {
	l, _ := twoWrites(t)
	return []page{
		{"home", "/", "#start"},
		{"play idle", "/play", `html[data-run-state="paused"]`},
		{"play finished compare", "/play?" + finishedCompare, `html[data-run-state="done"]`},
		// The front page's first link: the comparison played through, with
		// the story of the first payment dual write lost open.
		{"play with a story", "/play?" + finishedCompare + "&story=" + strconv.Itoa(exampleStory()), `html[data-run-state="done"] .story-side[data-side="1"] .story-step`},
		{"checklist", "/checklist", "main h1"},
		{"compare", "/compare", "main h1"},
		{"lessons", "/lessons", "main h1"},
		{"lesson", "/lessons/" + l.ID, "html[data-lesson-ready]"},
	}
}

// darkScheme makes the tab prefer a dark colour scheme (or not).
func darkScheme(on bool) chromedp.Action[chromedp.Void] {
	value := "light"
	if on {
		value = "dark"
	}
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: value}},
		})
		return err
	})
}

// phoneLayout is what a page measures at a phone's width: how wide it
// scrolls, which elements stick out, whether the menu's links are on
// screen, and its h1s.
const phoneLayout = `(() => {
  const W = innerWidth;
  // Only elements that widen the page: not those inside a box that scrolls.
  const inScroller = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement)
      if (getComputedStyle(p).overflowX !== "visible") return true;
    return false;
  };
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > W + 0.5 && !inScroller(e))
    .slice(0, 5)
    .map((e) => e.tagName.toLowerCase() + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") + " to " + Math.round(e.getBoundingClientRect().right) + " px");
  const offMenu = [...document.querySelectorAll(".site-nav a")]
    .filter((a) => { const r = a.getBoundingClientRect(); return r.width === 0 || r.left < 0 || r.right > W; })
    .map((a) => a.textContent);
  return { scroll: document.documentElement.scrollWidth, inner: W, wide, offMenu,
    menu: document.querySelectorAll(".site-nav a").length, h1: document.querySelectorAll("h1").length };
})()`

func TestBrowserEveryPageFitsAPhoneWithoutScrollingSideways(t *testing.T) {
	b := newBrowser(t)
	b.do(t, "size the tab as a phone", chromedp.EmulateViewport(390, 844))
	for _, p := range everyPage(t) {
		b.do(t, "open "+p.name, chromedp.Navigate(b.base+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[struct {
			Scroll, Inner, Menu, H1 int
			Wide, OffMenu           []string
		}](phoneLayout))
		if err != nil {
			t.Fatal(err)
		}
		if got.Inner != 390 {
			t.Fatalf("%s: the window is %d px wide, want 390", p.name, got.Inner)
		}
		if got.Scroll > got.Inner {
			t.Errorf("%s (%s) is %d px wide on a %d px screen; sticking out: %v", p.name, p.path, got.Scroll, got.Inner, got.Wide)
		}
		if got.Menu == 0 || len(got.OffMenu) > 0 {
			t.Errorf("%s: the site menu has %d links, %v off screen", p.name, got.Menu, got.OffMenu)
		}
		if got.H1 != 1 {
			t.Errorf("%s has %d h1 elements, want 1", p.name, got.H1)
		}
	}

	// Compare on a phone: the two sides' counters side by side, then the
	// two diagrams one after the other, each as wide as the screen allows.
	b.do(t, "open the comparison", chromedp.Navigate(b.base+"/play?"+finishedCompare), waitState("done"))
	type box struct{ Top, Left, Width float64 }
	boxes, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string][]box](`(() => {
  const boxes = (sel) => [...document.querySelectorAll(sel)].map((e) => { const r = e.getBoundingClientRect(); return { top: r.top, left: r.left, width: r.width }; });
  return { counters: boxes(".sides.compare .side .counters"), diagrams: boxes(".sides.compare .side .diagram") };
})()`))
	if err != nil {
		t.Fatal(err)
	}
	c, d := boxes["counters"], boxes["diagrams"]
	if len(c) != 2 || len(d) != 2 {
		t.Fatalf("the comparison shows %d counter groups and %d diagrams, want 2 of each", len(c), len(d))
	}
	if c[0].Top != c[1].Top || c[0].Left >= c[1].Left {
		t.Errorf("the two sides' counters are not side by side: %+v", c)
	}
	if d[1].Top <= d[0].Top || d[0].Width < 300 || d[1].Width < 300 {
		t.Errorf("the diagrams should follow one another, each at least 300 px wide: %+v", d)
	}
	b.noConsoleErrors(t)
}

// axeFinding is one of axe-core's violations, as the test reports it.
type axeFinding struct {
	ID, Impact, Help string
	Nodes            []string
}

// runAxe injects axe-core into the page and returns its violations of
// impact serious or critical.
func (b *browser) runAxe(t *testing.T) []axeFinding {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
		t.Fatalf("injecting axe-core: %v", err)
	}
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]axeFinding](`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
  r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + ": " + ((n.any[0] || n.all[0] || n.none[0] || {}).message || "")),
  })))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core: %v", err)
	}
	return got
}

func TestBrowserAxeFindsNothingSeriousOnAnyPageInEitherTheme(t *testing.T) {
	// A tab per page, each with its own deadline: axe-core takes a while
	// on a long page.
	for _, p := range everyPage(t) {
		t.Run(p.name, func(t *testing.T) {
			b := newBrowser(t)
			for _, dark := range []bool{false, true} {
				theme := "light"
				if dark {
					theme = "dark"
				}
				// Loaded again in each theme: switched in place, colours
				// would still be in their transition when axe reads them.
				b.do(t, "open "+p.name+" in the "+theme+" theme", darkScheme(dark), chromedp.Navigate(b.base+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
				scheme, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`matchMedia("(prefers-color-scheme: dark)").matches`))
				if err != nil || scheme != dark {
					t.Fatalf("the page does not see the %s theme (%v)", theme, err)
				}
				for _, v := range b.runAxe(t) {
					t.Errorf("%s, %s theme: %s %s: %s\n\t%s", p.path, theme, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n\t"))
				}
			}
			b.noConsoleErrors(t)
		})
	}
}

func TestBrowserKeyboardAndScreenReaderReachThePlayer(t *testing.T) {
	b := newBrowser(t)
	active := func() string {
		t.Helper()
		s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const e = document.activeElement; return e.id || e.className || e.tagName; })()`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	b.do(t, "open a paused run", chromedp.Navigate(b.base+"/play?design=dual-write&payments=5&seed=42"), waitState("paused"))

	// The first Tab stop skips to the player; the next is Play.
	b.do(t, "Tab once", chromedp.KeyEvent(kb.Tab))
	if got := active(); got != "skip-link" {
		t.Fatalf("the first Tab stop is %q, want the skip link", got)
	}
	b.do(t, "follow the skip link and Tab on", chromedp.KeyEvent(kb.Enter), chromedp.KeyEvent(kb.Tab))
	if got := active(); got != "play" {
		t.Fatalf("after the skip link, Tab reaches %q, want play", got)
	}
	// Without the skip link, Play still comes right after the site's menu.
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]")]
  .filter((e) => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length).findIndex((e) => e.id === "play") + 1`))
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 || n > 8 {
		t.Errorf("Play is Tab stop %d, want one of the first 8", n)
	}
	if b.attr(t, "#play", "aria-pressed") != "" {
		t.Errorf("Play has aria-pressed as well as a changing label")
	}

	// The timeline steps by events from the keyboard, and says where it is in ms.
	selected := func(id int) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#details[data-selected-event="%d"]`, id)))
	}
	b.do(t, "→ on the timeline steps to the first event", chromedp.Focus(chromedp.ID("timeline")), chromedp.KeyEvent(kb.ArrowRight), selected(1))
	b.do(t, "→ again steps to the second", chromedp.KeyEvent(kb.ArrowRight), selected(2))
	b.do(t, "← steps back to the first", chromedp.KeyEvent(kb.ArrowLeft), selected(1))
	if got := active(); got != "timeline" {
		t.Errorf("stepping on the timeline moved the focus to %q", got)
	}
	if text := b.attr(t, "#timeline", "aria-valuetext"); !strings.Contains(text, " ms of ") {
		t.Errorf("the timeline's aria-valuetext is %q, want the playhead in ms", text)
	}

	// The diagram's rows as a list of buttons: each selects its event.
	b.do(t, "open the event list and pick its second row",
		chromedp.Focus(chromedp.ID("timeline")), chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight), selected(3),
		chromedp.Click(chromedp.CSS(`.event-list summary`)),
		chromedp.WaitVisible(chromedp.CSS(`.event-list-rows button[data-i="1"]`)),
		chromedp.Focus(chromedp.CSS(`.event-list-rows button[data-i="1"]`)),
		chromedp.KeyEvent(kb.Enter), selected(2),
		chromedp.WaitVisible(chromedp.CSS(`.event-list-rows button[data-i="1"][aria-current="true"]`)))

	// What a screen reader hears: not the summary ticking, but the start
	// and the end of a run.
	if got := b.attr(t, "#summary", "aria-live"); got != "" {
		t.Errorf("the summary is a live region (aria-live=%q): it would be read out at every tick", got)
	}
	b.do(t, "Play plays the run through", chromedp.Click(chromedp.ID("play")), waitState("done"))
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.getElementById("announce").textContent.includes("Run finished")`)); err != nil {
		t.Errorf("the end of the run was not announced: %q (%v)", b.text(t, "#announce"), err)
	}
	if got := b.attr(t, "#announce", "role"); got != "status" {
		t.Errorf("the announcer's role is %q, want status", got)
	}
	b.noConsoleErrors(t)
}

// TestAxeIsOnlyATestFixture: axe-core is third-party code, so the app
// never serves it; it lives in testdata for the browser tests alone.
func TestAxeIsOnlyATestFixture(t *testing.T) {
	if !strings.Contains(axeSource[:200], "axe v4.") {
		t.Fatalf("web/testdata/axe/axe.min.js does not start as axe-core does: %.80q", axeSource)
	}
	entries, err := fs.ReadDir(static.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(strings.ToLower(e.Name()), "axe") {
			t.Errorf("static/ holds %s: axe-core is a test fixture and must not be served", e.Name())
		}
	}
	h := newTestServer(t).Handler()
	for _, path := range []string{"/static/axe.min.js", "/static/axe.js"} {
		if res := get(t, h, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
	}
}
