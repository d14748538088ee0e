package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"partialtruth/sim"
)

// The "done when", as a new user meets it with no README: from the
// front page to "I see why dual write lost payment 13 and the outbox did
// not" in at most three clicks, on a laptop and on a phone, with a mouse
// and with a keyboard alone.

// firstLostPayment is the payment of the first event in events that is
// evidence of a violation, or 0.
func firstLostPayment(events []sim.Event) int {
	for _, ev := range events {
		if ev.Violation != "" && ev.Payment > 0 {
			return ev.Payment
		}
	}
	return 0
}

// storyOnScreen says whether payment's story is open with both designs'
// steps and its top is on screen, where the reader's eyes are.
func storyOnScreen(payment int) string {
	return fmt.Sprintf(`(() => {
  const s = document.querySelector('.story[data-payment="%d"]');
  if (!s || s.querySelectorAll('.story-side').length !== 2 || !s.querySelector('.story-side[data-side="1"] .story-step')) return false;
  const r = s.getBoundingClientRect();
  return r.top > -1 && r.top < innerHeight - 100; // a scroll may leave it a fraction of a pixel above
})()`, payment)
}

func TestBrowserNewUserSeesWhyDualWriteLostAPaymentWithinThreeClicks(t *testing.T) {
	q, _ := url.ParseQuery(exampleQuery)
	_, runs := recordSides(t, q)
	payment := firstLostPayment(runs[0])
	if payment == 0 {
		t.Fatal("the front page's example loses no payment")
	}
	if p := firstLostPayment(runs[1]); p != 0 {
		t.Fatalf("the outbox loses payment %d in the front page's example; it should lose none", p)
	}
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"laptop", 1400, 900}, {"phone", 390, 844}} {
		for _, how := range []string{"mouse", "keyboard"} {
			t.Run(vp.name+" "+how, func(t *testing.T) {
				b := newBrowser(t)
				b.do(t, "open the front page at "+vp.name+" size", chromedp.EmulateViewport(vp.w, vp.h),
					chromedp.Navigate(b.base+"/"), chromedp.WaitVisible(chromedp.ID("start")))
				clicks, keys := 0, 0
				if how == "mouse" {
					b.do(t, "click the first call to action", chromedp.Click(chromedp.ID("start")))
					clicks++
				} else {
					// Tab to the call to action (past the skip link, the
					// brand and the menu) and press Enter.
					for !strings.HasPrefix(b.active(t), "start") {
						if keys == 12 {
							t.Fatalf("12 Tabs from the top of the front page do not reach its first link; focus is on %q", b.active(t))
						}
						b.do(t, "Tab", chromedp.KeyEvent(kb.Tab))
						keys++
					}
					b.do(t, "press Enter on it", chromedp.KeyEvent(kb.Enter))
					clicks++
				}
				b.do(t, "wait for the run to finish with payment "+fmt.Sprint(payment)+"'s story on screen",
					waitState("done"), until(storyOnScreen(payment)))
				if clicks > 3 {
					t.Errorf("%d clicks to the story, want at most 3", clicks)
				}
				t.Logf("%s, %s: payment %d's story on screen after %d click(s) and %d Tab(s)", vp.name, how, payment, clicks, keys)
				checkStory(t, b, runs, payment)
				// The summary agrees with the story: the first payment lost.
				if s := b.text(t, "#summary"); !strings.Contains(s, fmt.Sprintf("First lost: payment %d", payment)) {
					t.Errorf("the summary says %q, not that payment %d was the first lost", s, payment)
				}
				if how == "keyboard" {
					// Focus is on the page, not lost: Tab goes on from the player.
					b.do(t, "Tab once more", chromedp.KeyEvent(kb.Tab))
					if a := b.active(t); a == "" || a == "BODY" {
						t.Errorf("after the run, Tab lands on %q", a)
					}
				}
				width, err := chromedp.Run(b.ctx, chromedp.Evaluate[[2]int](`[document.documentElement.scrollWidth, innerWidth]`))
				if err != nil {
					t.Fatal(err)
				}
				if width[0] > width[1] {
					t.Errorf("the page with the story open is %d px wide on a %d px screen", width[0], width[1])
				}
				b.noConsoleErrors(t)
			})
		}
	}
}

// active names the focused element: its id, else its tag.
func (b *browser) active(t *testing.T) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const e = document.activeElement; return e ? e.id || e.tagName : ""; })()`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBrowserStoryLinkOpensCopiesAndRefusesBadValues(t *testing.T) {
	q, _ := url.ParseQuery(finishedCompare)
	_, runs := recordSides(t, q)
	payment := firstLostPayment(runs[0])
	b := newBrowser(t)
	b.do(t, "open the finished comparison with story="+fmt.Sprint(payment),
		chromedp.Navigate(fmt.Sprintf("%s/play?%s&story=%d", b.base, finishedCompare, payment)),
		waitState("done"), until(storyOnScreen(payment)))
	checkStory(t, b, runs, payment)
	if v := b.attr(t, "#story", "value"); v != fmt.Sprint(payment) {
		t.Errorf("the story's field holds %q, want %d", v, payment)
	}
	// The clipboard is the page's to write, not the test's to read: keep
	// what the page writes to it (or the fallback field, without one).
	b.do(t, "copy the link",
		chromedp.Evaluate[chromedp.Void](`if (navigator.clipboard) navigator.clipboard.writeText = (text) => { window.copied = text; return Promise.resolve(); }`),
		chromedp.Click(chromedp.ID("copy-link")), chromedp.WaitVisible(chromedp.ID("copy-status")))
	link := b.eval(t, `window.copied || (document.getElementById("copy-fallback").hidden ? "" : document.getElementById("copy-fallback").value)`)
	if !strings.Contains(link, fmt.Sprintf("&story=%d", payment)) || !strings.Contains(link, "autoplay=1") {
		t.Errorf("the copied link %q does not open payment %d's story", link, payment)
	}

	// Another payment, by number: the address bar follows; closing drops it.
	b.do(t, "follow payment 7 by number",
		chromedp.SetValue(chromedp.ID("story"), "7"), chromedp.Click(chromedp.CSS(`.story-pick button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.story[data-payment="7"] .story-step`)))
	if s := b.eval(t, `location.search`); !strings.Contains(s, "story=7") {
		t.Errorf("with payment 7's story open the address bar says %q", s)
	}
	if c := b.eval(t, `document.activeElement.className`); !strings.Contains(c, "story-title") {
		t.Errorf("after Show its story the focus is on %q (%s), not the story's title", b.active(t), c)
	}
	b.do(t, "close the story", chromedp.Click(chromedp.CSS(`[data-part="story-close"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.story[data-payment=""]`)))
	if s := b.eval(t, `location.search`); strings.Contains(s, "story=") {
		t.Errorf("with no story open the address bar still names one: %q", s)
	}
	b.do(t, "a number past the run's payments is refused beside the field",
		chromedp.SetValue(chromedp.ID("story"), "201"), chromedp.Click(chromedp.CSS(`.story-pick button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("story-error")))
	if msg := b.text(t, "#story-error"); !strings.Contains(msg, "story") || !strings.Contains(msg, "1 to 200") {
		t.Errorf("the story's error says %q; want the field and the allowed range", msg)
	}

	// A link's bad story: the page says why beside the story's field,
	// which has the focus, and runs nothing until it is fixed.
	for _, bad := range []struct{ value, want string }{
		{"abc", `story "abc" is not a payment number; allowed: a whole number from 1 to 200`},
		{"0", "story 0 is out of range; allowed: 1 to 200"},
		{"201", "story 201 is out of range; allowed: 1 to 200"},
	} {
		b.do(t, "open a link with story="+bad.value,
			chromedp.Navigate(b.base+"/play?"+finishedCompare+"&story="+bad.value), chromedp.WaitVisible(chromedp.ID("story-error")))
		if msg := b.text(t, "#story-error"); !strings.Contains(msg, bad.want) {
			t.Errorf("story=%s: the field's error says %q, want %q", bad.value, msg, bad.want)
		}
		if inv := b.attr(t, "#story", "aria-invalid"); inv != "true" {
			t.Errorf("story=%s: the field's aria-invalid is %q", bad.value, inv)
		}
		if a := b.active(t); a != "story" {
			t.Errorf("story=%s: the focus is on %q, not the story's field", bad.value, a)
		}
		if st := b.eval(t, `document.documentElement.dataset.runState`); st != "idle" {
			t.Errorf("story=%s: the page ran (%s) despite the refused value", bad.value, st)
		}
	}
	b.do(t, "fix it: the run starts and opens the story",
		chromedp.SetValue(chromedp.ID("story"), fmt.Sprint(payment)), chromedp.Click(chromedp.CSS(`.story-pick button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.story[data-payment="%d"] .story-step`, payment))),
		chromedp.WaitNotVisible(chromedp.ID("story-error")))
	// The refused links were answered 400, which the console reports.
	b.noConsoleErrorsBut(t, "the server responded with a status of 400")
}

// smallTargets lists the page's visible controls (links, buttons, fields,
// disclosures) smaller than a finger's 24 by 24 px (WCAG 2.5.8), but for
// links that are words in a sentence, which the rule lets be.
const smallTargets = `[...document.querySelectorAll("a[href], button, input, select, summary")]
  .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== "hidden")
  .filter((e) => !(e.tagName === "A" && getComputedStyle(e).display === "inline" && e.parentElement.tagName === "P"))
  .map((e) => [e, e.getBoundingClientRect()])
  .filter(([, r]) => r.width < 24 || r.height < 24)
  .slice(0, 8)
  .map(([e, r]) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + String(e.className).trim().split(/\s+/).join(".") : "") +
    " " + JSON.stringify((e.textContent || "").trim().slice(0, 24)) + " " + Math.round(r.width) + "×" + Math.round(r.height))`

func TestBrowserTheWalksTargetsFitAFingerOnAPhone(t *testing.T) {
	b := newBrowser(t)
	b.do(t, "size the tab as a phone", chromedp.EmulateViewport(390, 844))
	for _, p := range []page{
		{"home", "/", "#start"},
		{"play with a story", "/play?" + finishedCompare + "&story=" + fmt.Sprint(exampleStory()), `html[data-run-state="done"] .story-side[data-side="1"] .story-step`},
	} {
		b.do(t, "open "+p.name, chromedp.Navigate(b.base+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		small, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](smallTargets))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range small {
			t.Errorf("%s: %s is smaller than 24×24 px", p.name, s)
		}
	}
	b.noConsoleErrors(t)
}
