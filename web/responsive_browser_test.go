package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// longTaskBudgetMs is the longest a task may hold the page's main thread
// while a run streams in: beyond it, a click or a key waits visibly.
const longTaskBudgetMs = 100

// bigCompareQuery is the run that held the page longest: a 5,000-payment
// compare (some 240,000 events) played at full speed.
const bigCompareQuery = "design=dual-write&compare=outbox-idempotent&seed=42&payments=5000&faults=bus.publish.fail=0.1&speed=0&autoplay=1"

// longTaskObserver is page script, run before the page's own: it keeps
// the duration of every long task (over 50 ms) in window.__longTasks.
const longTaskObserver = `
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longTasks.push(Math.round(e.duration));
}).observe({ type: "longtask" });`

// beforePageScript runs src in every document the tab opens, before the
// document's own scripts.
func beforePageScript(src string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	})
}

// frameWatch is page script, run before the page's own. It records in
// window.__forcedLayouts each time the page's code (a script under
// /static/) reads layout (a box's size or place, or scrolls to one) after
// changing the page in the same task or callback, which makes the browser
// lay the page out there and then and again for the frame: a forced
// synchronous layout. And it records in window.__messageWrites each run
// socket message other than a meta (events, cursor, report, done) whose
// handling changed the page, which should wait for the next frame and be
// drawn once there. A change is what a MutationObserver has queued and not
// yet delivered: what happened since the task or callback began.
const frameWatch = `(() => {
  const changes = new MutationObserver(() => {});
  changes.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  window.__forcedLayouts = [];
  window.__messageWrites = [];
  const check = (what) => {
    if (!changes.takeRecords().length) return;
    const at = (new Error().stack || "").split("\n").slice(1).find((l) => l.includes("/static/"));
    if (at) window.__forcedLayouts.push(what + " " + at.trim());
  };
  const getter = (proto, name) => {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    Object.defineProperty(proto, name, { ...d, get() { check(name); return d.get.call(this); } });
  };
  const method = (proto, name) => {
    const f = proto[name];
    proto[name] = function (...args) { check(name); return f.apply(this, args); };
  };
  for (const n of ["clientWidth", "clientHeight", "clientTop", "clientLeft", "scrollWidth", "scrollHeight", "scrollTop", "scrollLeft"]) getter(Element.prototype, n);
  for (const n of ["offsetWidth", "offsetHeight", "offsetTop", "offsetLeft", "offsetParent", "innerText"]) getter(HTMLElement.prototype, n);
  for (const n of ["getBoundingClientRect", "getClientRects", "scrollIntoView"]) method(Element.prototype, n);
  const listen = WebSocket.prototype.addEventListener;
  WebSocket.prototype.addEventListener = function (type, fn, ...rest) {
    if (type !== "message" || !this.url.endsWith("/ws/run")) return listen.call(this, type, fn, ...rest);
    return listen.call(this, type, function (e) {
      changes.takeRecords();
      const out = fn.call(this, e);
      const type = /^\{"type":"([a-z]+)"/.exec(e.data)?.[1];
      if (type !== "meta" && changes.takeRecords().length) window.__messageWrites.push(type);
      return out;
    }, ...rest);
  };
})();`

// TestBrowserBigCompareDrawsOncePerFrame checks, without a clock, what
// keeps the page responsive while a 5,000-payment compare (some 240
// messages of 1,000 events) streams in at full speed: handling a message
// writes nothing to the page (the next frame draws it, once, however many
// messages came in between), and the page's code never reads layout after
// writing to the page in the same task, which would make the browser lay
// the page out twice in a frame. Then the end of the run reads as it
// should: the selection is the first violation.
func TestBrowserBigCompareDrawsOncePerFrame(t *testing.T) {
	b := newBrowser(t)
	b.do(t, "play a 5,000-payment compare at full speed", beforePageScript(frameWatch),
		chromedp.Navigate(b.base+"/play?"+bigCompareQuery), waitState("done"),
		chromedp.WaitVisible(chromedp.CSS(`#details[data-selected-side]`)))
	type watched struct {
		Forced []string `json:"forced"`
		Writes []string `json:"writes"`
	}
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[watched](`({ forced: window.__forcedLayouts, writes: window.__messageWrites })`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Writes) > 0 {
		t.Errorf("handling %d run messages changed the page at once rather than in the next frame: %v", len(got.Writes), got.Writes[:min(10, len(got.Writes))])
	}
	if len(got.Forced) > 0 {
		t.Errorf("the page read layout after changing it in the same task %d times, first: %s", len(got.Forced), strings.Join(got.Forced[:min(5, len(got.Forced))], "; "))
	}
	note := b.text(t, "#details .sel-note")
	if !strings.Contains(note, "first violation") {
		t.Errorf("the finished run's details say %q; want its first violation", note)
	}
	b.noConsoleErrors(t)
}
