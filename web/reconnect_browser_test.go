package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// until waits for a script to be true on the page.
func until(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](js)(ctx, t)
		return err
	})
}

// servedOn serves a fresh app (its own in-memory database) on addr until
// the returned stop is called; stop closes the listener, then every
// socket the way a stopping server does.
func servedOn(t *testing.T, addr string) (stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s again: %v", addr, err)
	}
	srv := newTestServer(t)
	hs := &http.Server{Handler: srv.Handler()}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	return func() {
		hs.Close()
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serving on %s: %v", addr, err)
		}
	}
}

// TestBrowserRunCarriesOnAfterTheServerRestarts stops the server under a
// paused run and starts a new one on the same address: the page says what
// happened, its run state says it is reconnecting (not paused), and once
// the server is back it is at the same playhead with the same selection
// and counters, without a word of the protocol.
func TestBrowserRunCarriesOnAfterTheServerRestarts(t *testing.T) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("skipping the browser tests: no Chromium found; install it with apt-get install chromium")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop := servedOn(t, addr)
	b := &browser{base: "http://" + addr}
	t.Cleanup(b.openTab(exe))

	type place struct {
		Timeline, Time, Event, Side, Lost string
	}
	where := func() place {
		t.Helper()
		p, err := chromedp.Run(b.ctx, chromedp.Evaluate[place](`({
  timeline: document.getElementById("timeline").value,
  time: document.getElementById("time").textContent,
  event: document.getElementById("details").dataset.selectedEvent || "",
  side: document.getElementById("details").dataset.selectedSide || "",
  lost: document.querySelector('[data-design="dual-write"] [data-metric="lost"]').dataset.counted,
})`))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	query := "design=dual-write&compare=outbox-idempotent&seed=42&payments=200&faults=bus.publish.fail=0.1&speed=0"
	b.do(t, "open a run and move to its middle",
		chromedp.Navigate(b.base+"/play?"+query), waitState("paused"),
		chromedp.SetValue(chromedp.ID("timeline"), "150000"),
		chromedp.WaitVisible(chromedp.CSS(`#details[data-selected-event]`)),
		until(`document.getElementById("time").textContent.startsWith("150 ms")`))
	// Selecting an event moves the playhead to it: wait for the playhead
	// to arrive there before noting where the reader is.
	b.do(t, "select a row of the other side's diagram", chromedp.Click(chromedp.CSS(`[data-side="1"] .diagram .rowhit[data-i]`)),
		chromedp.WaitVisible(chromedp.CSS(`#details[data-selected-side="1"]`)),
		until(`document.getElementById("timeline").value !== "150000"`))
	before := where()
	at, _, _ := strings.Cut(before.Time, " /")
	if before.Event == "" || before.Lost == "" || before.Lost == "0" {
		t.Fatalf("mid-run the page shows %+v; want a selection and some lost payments", before)
	}

	stop()
	b.do(t, "the page sees the server go", waitState("reconnecting"))
	down := b.text(t, "#conn")
	if !strings.Contains(down, "restarting") || !strings.Contains(down, at) {
		t.Errorf("while the server is down the page says %q; want what happened and where the run carries on", down)
	}

	stop = servedOn(t, addr)
	defer stop()
	// The playhead, the selection and the counters come back from the
	// events the server sends again, which may take more than one frame:
	// wait for all three, not for the first.
	b.do(t, "the page comes back by itself", waitState("paused"),
		until(`document.getElementById("conn").textContent.startsWith("Connected again")`))
	if err := chromedp.Do(b.ctx, until(`document.getElementById("time").textContent.startsWith("`+at+`") &&
  document.getElementById("details").dataset.selectedEvent === `+"`"+before.Event+"`"+` &&
  document.querySelector('[data-design="dual-write"] [data-metric="lost"]').dataset.counted === `+"`"+before.Lost+"`")); err != nil {
		t.Fatalf("after the restart the page shows %+v, before it %+v (%v)", where(), before, err)
	}
	if after := where(); after != before {
		t.Errorf("after the restart the page shows %+v, before it %+v", after, before)
	}
	for _, sel := range []string{"#conn", "#summary", "[data-error-for]"} {
		if s := b.text(t, sel); strings.Contains(s, "run message") || strings.Contains(s, "needs a run") {
			t.Errorf("%s speaks the protocol: %q", sel, s)
		}
	}
	// The browser itself logs each refused try to reconnect.
	b.noConsoleErrorsBut(t, "ERR_CONNECTION_REFUSED")
}
