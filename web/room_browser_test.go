package web

import (
	"bytes"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	qr "github.com/piglig/go-qr"
)

// metricsJS reads every counter of the page's room player as
// "design/key=value" lines, in page order.
const metricsJS = `[...document.querySelectorAll("#room-run [data-design] [data-metric]")].map((e) =>
	e.closest("[data-design]").dataset.design + "/" + e.dataset.metric + "=" + e.textContent).join("\n")`

// playheadJS is the room player's time label: where its playhead is.
const playheadJS = `document.querySelector("#room-run [data-part=time]").textContent`

// eval runs js in the browser's page and returns its string result.
func (b *browser) eval(t *testing.T, js string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("evaluating %.60s: %v", js, err)
	}
	return s
}

// sameRunShown waits until the participant's player shows the trainer's
// playhead and counters, and returns the counters. It reads both pages
// until they agree; a participant that never catches up fails the test
// at its deadline.
func sameRunShown(t *testing.T, trainer, participant *browser, what string) string {
	t.Helper()
	for {
		tm, pm := trainer.eval(t, metricsJS), participant.eval(t, metricsJS)
		th, ph := trainer.eval(t, playheadJS), participant.eval(t, playheadJS)
		if tm != "" && tm == pm && th == ph {
			return tm
		}
		select {
		case <-trainer.ctx.Done():
			t.Fatalf("%s: the participant never showed the trainer's run\ntrainer at %s:\n%s\nparticipant at %s:\n%s", what, th, tm, ph, pm)
		case <-time.After(50 * time.Millisecond): // polling both pages, not timing anything
		}
	}
}

// TestBrowserRoomTrainerAndParticipant is the whole flow of a training
// room in two browser contexts (separate cookies): the trainer starts a
// room from the front page and shows dual-write against
// outbox-idempotent; a participant joins and follows it at the trainer's
// playhead; a poll is opened, answered, counted and revealed; a reload
// keeps the participant's answer.
func TestBrowserRoomTrainerAndParticipant(t *testing.T) {
	tr := newBrowser(t)
	tr.do(t, "start a room from the front page", chromedp.Navigate(tr.base+"/"), chromedp.Click(chromedp.ID("start-room")),
		chromedp.WaitVisible(chromedp.CSS(`html[data-role="trainer"][data-room-ready="1"]`)))
	code := tr.attr(t, "html", "data-room")
	if _, ok := normalCode(code); !ok {
		t.Fatalf("room code %q", code)
	}
	joinURL := tr.text(t, "#join-url")
	if joinURL != tr.base+"/r/"+code {
		t.Fatalf("the join link reads %q, want %s/r/%s", joinURL, tr.base, code)
	}
	shot, err := chromedp.Run(tr.ctx, chromedp.Screenshot(chromedp.ID("qr")))
	if err != nil {
		t.Fatalf("photograph the QR code: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := qr.Decode(img); err != nil || got != joinURL {
		t.Fatalf("the QR code on the page reads %q (%v), want %q", got, err, joinURL)
	}
	tr.do(t, "show dual-write against outbox-idempotent",
		chromedp.SetValue(chromedp.ID("design"), "dual-write"),
		chromedp.SetValue(chromedp.ID("compare"), "outbox-idempotent"),
		chromedp.SetValue(chromedp.ID("payments"), "120"),
		chromedp.Click(chromedp.ID("run")),
		chromedp.WaitVisible(chromedp.CSS(`#room-run [data-design="outbox-idempotent"]`)),
		waitState("paused"))

	fresh, cancel := chromedp.NewContext(tr.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	pa := &browser{ctx: fresh, base: tr.base}
	pa.do(t, "join as Ada", chromedp.Navigate(joinURL), chromedp.SendKeys(chromedp.ID("name"), "Ada"),
		chromedp.Click(chromedp.ID("join-room")),
		chromedp.WaitVisible(chromedp.CSS(`html[data-role="participant"][data-room="`+code+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#room-run [data-design="outbox-idempotent"]`)))
	tr.do(t, "the trainer sees Ada", chromedp.WaitVisible(chromedp.CSS(`#connected[data-connected="1"]`)))
	if names := tr.text(t, "#names"); names != "Ada" {
		t.Errorf("the trainer's list of who is here reads %q, want Ada", names)
	}

	tr.do(t, "play through at full speed", chromedp.SetValue(chromedp.ID("speed"), "0"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("speed").dispatchEvent(new Event("change"))`),
		chromedp.Click(chromedp.ID("play")), waitState("done"))
	pa.do(t, "the participant's run is done too", waitState("done"))
	end := sameRunShown(t, tr, pa, "at the end")
	if !strings.Contains(end, "dual-write/lost=") || strings.Contains(end, "dual-write/lost=0\n") {
		t.Errorf("at the end dual-write should have lost payments:\n%s", end)
	}
	endAt := tr.eval(t, playheadJS)
	tr.do(t, "seek to the middle", chromedp.Evaluate[chromedp.Void](`{const t = document.getElementById("timeline");
		t.value = String(Math.floor(Number(t.max) / 2)); t.dispatchEvent(new Event("input"));}`), waitState("paused"),
		// the state can read paused before the seek's answer arrives: wait
		// for the trainer's own playhead to leave the end, then compare
		until(fmt.Sprintf(`%s !== %q`, playheadJS, endAt)))
	mid := sameRunShown(t, tr, pa, "in the middle")
	if mid == end {
		t.Errorf("the counters in the middle equal those at the end:\n%s", mid)
	}

	tr.do(t, "open a poll", chromedp.SendKeys(chromedp.ID("question"), "How many payments will dual write lose?"),
		chromedp.SetValue(chromedp.ID("metric"), "lost"), chromedp.Click(chromedp.ID("open-poll")),
		chromedp.WaitVisible(chromedp.CSS(`#poll[data-poll="open"]`)))
	pa.do(t, "answer it", chromedp.WaitVisible(chromedp.CSS(`#poll[data-poll="open"] #answer`)),
		chromedp.SendKeys(chromedp.ID("answer"), "5"), chromedp.Click(chromedp.ID("send-answer")),
		chromedp.WaitVisible(chromedp.CSS(`#your-answer[data-answer="5"]`)))
	tr.do(t, "the trainer sees one answer and reveals", chromedp.WaitVisible(chromedp.CSS(`#poll[data-answers="1"]`)),
		chromedp.Click(chromedp.ID("reveal-poll")), chromedp.WaitVisible(chromedp.CSS(`#poll[data-poll="revealed"]`)))
	pa.do(t, "the participant sees the distribution", chromedp.WaitVisible(chromedp.CSS(`#poll[data-poll="revealed"] #distribution li[data-answer="5"][data-count="1"]`)),
		chromedp.WaitVisible(chromedp.ID("measured")))
	lost := strings.Split(strings.SplitAfter(end, "dual-write/lost=")[1], "\n")[0]
	if m := pa.text(t, "#measured"); !strings.Contains(m, fmt.Sprintf("%s (dual-write)", lost)) {
		t.Errorf("the reveal says %q; want the run's lost, %s, for dual-write", m, lost)
	}
	pa.do(t, "reload", chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`html[data-role="participant"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#poll[data-poll="revealed"] #distribution li.mine[data-answer="5"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#your-answer[data-answer="5"]`)))
	tr.noConsoleErrors(t)
}
