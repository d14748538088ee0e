package web

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// holdableSockets wraps the page's WebSocket, before its first script, so
// a test can drop the page's sockets (window.dropSockets()) and keep it
// from reaching the server until it lets go (window.holdSockets = false):
// while held, every new socket asks for a path the server does not have
// and fails, as a try on a dropped network does.
const holdableSockets = `(() => {
  const Real = window.WebSocket;
  const open = [];
  window.holdSockets = false;
  window.dropSockets = () => { window.holdSockets = true; for (const ws of open.splice(0)) ws.close(); };
  window.WebSocket = class extends Real {
    constructor(url, protocols) {
      super(window.holdSockets ? "ws://" + location.host + "/held-by-the-test" : url, protocols);
      open.push(this);
    }
  };
})()`

// TestBrowserRoomParticipantRejoinsAtTheTrainersEvent drops a
// participant's socket and keeps it down while the trainer steps on: once
// it can reach the server again, the participant's page reconnects by
// itself and shows the trainer's current event, playhead and counters.
func TestBrowserRoomParticipantRejoinsAtTheTrainersEvent(t *testing.T) {
	tr := newBrowser(t)
	tr.do(t, "start a room from the front page and show the example",
		chromedp.Navigate(tr.base+"/"), chromedp.Click(chromedp.ID("start-room")),
		chromedp.WaitVisible(chromedp.CSS(`html[data-role="trainer"][data-room-ready="1"]`)),
		chromedp.SetValue(chromedp.ID("payments"), "60"),
		chromedp.Click(chromedp.ID("run")),
		chromedp.WaitVisible(chromedp.CSS(`#room-run [data-design="outbox-idempotent"]`)),
		waitState("paused"))
	joinURL := tr.text(t, "#join-url")

	fresh, cancel := chromedp.NewContext(tr.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	pa := &browser{ctx: fresh, base: tr.base}
	install := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: holdableSockets})
		return err
	})
	pa.do(t, "join as Ada", install, chromedp.Navigate(joinURL), chromedp.SendKeys(chromedp.ID("name"), "Ada"),
		chromedp.Click(chromedp.ID("join-room")),
		chromedp.WaitVisible(chromedp.CSS(`html[data-role="participant"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#room-run [data-design="outbox-idempotent"]`)))
	tr.do(t, "step a few events in", chromedp.Click(chromedp.ID("step-fwd")), chromedp.Click(chromedp.ID("step-fwd")),
		chromedp.WaitVisible(chromedp.CSS(`#details[data-selected-event]`)))
	sameRunShown(t, tr, pa, "before the drop")

	pa.do(t, "drop the participant's socket and keep it down",
		chromedp.Evaluate[chromedp.Void](`window.dropSockets()`),
		until(`document.getElementById("room-error").textContent.includes("reconnecting")`))
	selected := func(b *browser) string {
		return b.eval(t, `(() => { const d = document.querySelector("#room-run #details"); return (d.dataset.selectedSide || "") + "/" + (d.dataset.selectedEvent || ""); })()`)
	}
	before := selected(tr)
	tr.do(t, "the trainer moves on while Ada is away",
		chromedp.SetValue(chromedp.ID("timeline"), "120000"),
		until(`document.getElementById("time").textContent.startsWith("120 ms")`),
		chromedp.Click(chromedp.ID("step-fwd")))
	tr.do(t, "the step lands", until(`document.querySelector("#room-run #details").dataset.selectedEvent !== undefined && !document.getElementById("time").textContent.startsWith("120 ms")`))
	at := selected(tr)
	if at == before {
		t.Fatalf("the trainer's event did not change while the participant was away (%s)", at)
	}
	if p := selected(pa); p == at {
		t.Fatalf("the participant shows the trainer's new event %s while its socket is down", at)
	}

	pa.do(t, "let Ada's page reach the server again; it reconnects by itself",
		chromedp.Evaluate[chromedp.Void](`window.holdSockets = false`),
		until(`document.getElementById("room-error").textContent === ""`))
	sameRunShown(t, tr, pa, "after the reconnect")
	if p := selected(pa); p != at {
		t.Errorf("after the reconnect the participant is on event %s, the trainer on %s", p, at)
	}
	tr.noConsoleErrors(t)
	// The browser logs the tries that found the network down.
	pa.noConsoleErrorsBut(t, "/held-by-the-test' failed")
}
