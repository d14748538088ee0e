package web

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"partialtruth/lessons"
)

// The lesson pages, driven as a learner drives them: a form per answer, a
// player per run, the server judging every challenge.

// atStep waits for the lesson page at step i.
func atStep(i int) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`html[data-lesson-step="` + strconv.Itoa(i) + `"][data-lesson-ready] #step-title`))
}

// runDone waits for the step's embedded run to have played through.
func runDone(id string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`figure.ls-run[data-run-state="done"] #` + id + `play`))
}

// fastest sets the speed of the player with id prefix id to as fast as
// it can, as a learner picks it in the speed select.
func fastest(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.getElementById(%q); s.value = "0";
		s.dispatchEvent(new Event("change", { bubbles: true })); })()`, id+"speed"))
}

func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	// One evaluation, so a page that is replaced between finding the
	// node and reading it cannot fail the read.
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.textContent ?? "<absent>"`, sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *browser) attr(t *testing.T, sel, name string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) ?? ""`, sel, name)))
	if err != nil {
		t.Fatalf("reading %s[%s]: %v", sel, name, err)
	}
	return s
}

// lessonTwo is lesson 2 (dual write) and the index of each kind's step.
func lessonTwo(t *testing.T) (*lessons.Lesson, map[lessons.Kind]int) { return twoWrites(t) }

// TestBrowserLearnerCompletesLessonTwo is the learner: predicts,
// watches the run, reads the reveal, fails the challenge with the bad
// design, solves it by changing the design, sees the lesson done on
// /lessons, and after a reload finds it all kept.
func TestBrowserLearnerCompletesLessonTwo(t *testing.T) {
	b := newBrowser(t)
	l, at := lessonTwo(t)
	pi, ri, ci := at[lessons.KindPredict], at[lessons.KindReveal], at[lessons.KindChallenge]
	c := l.Steps[ci].Challenge
	entry := `[data-lesson="` + l.ID + `"]`

	b.do(t, "open the lessons and start lesson 2",
		chromedp.Navigate(b.base+"/lessons"),
		chromedp.WaitVisible(chromedp.CSS(entry+`[data-progress="not-started"]`)),
		chromedp.Click(chromedp.CSS(entry+" h2 a")), atStep(0))
	ms, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](`performance.getEntriesByName("lesson-ready")[0].startTime`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lesson 2's first step was ready %.0f ms after navigation start (first load of the lesson page)", ms)
	b.do(t, "go on to the prediction", chromedp.Click(chromedp.ID("next")), atStep(pi))
	b.do(t, "predict and save", chromedp.SendKeys(chromedp.ID("answer"), "12"),
		chromedp.Click(chromedp.ID("save-prediction")), atStep(pi+1))

	// The run step: the playground's player, on the lesson's scenario.
	ru := at[lessons.KindRun]
	b.do(t, "reach the run", chromedp.Navigate(b.base+"/lessons/"+l.ID+"?step="+strconv.Itoa(ru)), atStep(ru))
	b.do(t, "watch it to the end", fastest("run-"), runDone("run-"))
	res, _, err := l.Result(ru)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{}
	for _, kv := range res.Scenario.Params() {
		q.Set(kv[0], kv[1])
	}
	want := wantReport(t, q, res.Scenario.Design)
	if got := b.text(t, `#run-sides [data-design="dual-write"] [data-metric="lost"]`); got != want["lost"] {
		t.Errorf("the embedded player shows lost = %s; run -json says %s", got, want["lost"])
	}

	b.do(t, "read the reveal", chromedp.Click(chromedp.ID("next")), atStep(ri),
		chromedp.WaitVisible(chromedp.CSS(`.ls-reveal[data-prediction]`)))
	if p, m := b.attr(t, ".ls-reveal", "data-prediction"), b.attr(t, ".ls-reveal", "data-measured"); p != "12" || m != want["lost"] {
		t.Errorf("the reveal shows prediction %q beside %q; want 12 beside %s", p, m, want["lost"])
	}
	link := `.ls-step a[href^="#event-"]`
	first := b.attr(t, link, "href")
	if first == "" {
		t.Fatal("the reveal has no link to the first violating event")
	}
	b.do(t, "jump to the first lost payment", chromedp.Click(chromedp.CSS(link)),
		chromedp.WaitVisible(chromedp.CSS(`#replay-details[data-selected-event="`+strings.TrimPrefix(first, "#event-")+`"]`)))

	b.do(t, "go on to the challenge", chromedp.Click(chromedp.ID("next")), atStep(ci),
		chromedp.WaitVisible(chromedp.CSS(`[data-challenge="unsolved"]`)))
	choose := func(design string) chromedp.Action[chromedp.Void] {
		return chromedp.SetValue(chromedp.ID("ch-design"), design)
	}
	b.do(t, "try the start design: not yet", choose(c.Start.Design), chromedp.Click(chromedp.ID("try")),
		chromedp.WaitVisible(chromedp.CSS(`[data-challenge="unsolved"] #verdict`)), atStep(ci))
	if v := b.text(t, "#verdict p"); !strings.HasPrefix(v, "Not yet") {
		t.Errorf("the verdict on the start design is %q", v)
	}
	b.do(t, "change the design: solved", choose(c.Solution.Design), chromedp.Click(chromedp.ID("try")),
		chromedp.WaitVisible(chromedp.CSS(`[data-challenge="solved"] #verdict`)), runDone("challenge-"))
	if got := b.text(t, `#challenge-sides [data-metric="lost"]`); got != "0" {
		t.Errorf("the learner's own run shows lost = %s", got)
	}

	b.do(t, "the lesson is done on /lessons", chromedp.Navigate(b.base+"/lessons"),
		chromedp.WaitVisible(chromedp.CSS(entry+`[data-progress="done"]`)))
	b.do(t, "after a reload too", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(entry+`[data-progress="done"]`)))
	b.do(t, "reopening the lesson resumes at the challenge, solved", chromedp.Click(chromedp.CSS(entry+" h2 a")),
		atStep(ci), chromedp.WaitVisible(chromedp.CSS(`[data-challenge="solved"]`)))
	b.do(t, "and the prediction is kept", chromedp.Navigate(b.base+"/lessons/"+l.ID+"?step="+strconv.Itoa(ri)),
		chromedp.WaitVisible(chromedp.CSS(`.ls-reveal[data-prediction="12"]`)))
	b.noConsoleErrors(t)
}

// TestBrowserProgressMovesToAFreshBrowser exports progress from one
// browser and imports the file in another browser context, which has
// no cookie of the first.
func TestBrowserProgressMovesToAFreshBrowser(t *testing.T) {
	b := newBrowser(t)
	l, at := lessonTwo(t)
	pi := at[lessons.KindPredict]
	b.do(t, "predict in lesson 2", chromedp.Navigate(b.base+"/lessons/"+l.ID+"?step="+strconv.Itoa(pi)),
		chromedp.SendKeys(chromedp.ID("answer"), "7"), chromedp.Click(chromedp.ID("save-prediction")), atStep(pi+1))
	file, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch("/lessons/progress.json").then((r) => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "progress.json")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	other := &browser{ctx: fresh, base: b.base}
	entry := `[data-lesson="` + l.ID + `"]`
	other.do(t, "the fresh browser has no progress", chromedp.Navigate(b.base+"/lessons"),
		chromedp.WaitVisible(chromedp.CSS(entry+`[data-progress="not-started"]`)))
	other.do(t, "a foreign file is refused", chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{writeTemp(t, `{"hello":1}`)}),
		chromedp.Click(chromedp.ID("import")), chromedp.WaitVisible(chromedp.ID("import-error")),
		chromedp.WaitVisible(chromedp.CSS(entry+`[data-progress="not-started"]`)))
	if msg := other.text(t, "#import-error"); !strings.Contains(msg, "Nothing was imported") {
		t.Errorf("the refusal says %q", msg)
	}
	other.do(t, "import the exported file", chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{path}),
		chromedp.Click(chromedp.ID("import")), chromedp.WaitVisible(chromedp.CSS(entry+`[data-progress="in-progress"]`)))
	other.do(t, "continue leads to the prediction's next step", chromedp.Click(chromedp.ID("continue")), atStep(pi+1))
	other.do(t, "the prediction came along", chromedp.Navigate(b.base+"/lessons/"+l.ID+"?step="+strconv.Itoa(pi)),
		chromedp.WaitVisible(chromedp.CSS(`#answer[value="7"]`)))
	if cookies, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.cookie`)); err != nil || cookies != "" {
		t.Errorf("the learner cookie is readable from script: %q %v", cookies, err)
	}
	b.noConsoleErrors(t)
}

// noConsoleErrorsBut is noConsoleErrors, letting messages that contain
// expected through.
func (b *browser) noConsoleErrorsBut(t *testing.T, expected string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		if !strings.Contains(e, expected) {
			t.Errorf("console: %s", e)
		}
	}
}

func writeTemp(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "foreign.json")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBrowserLessonByKeyboardAlone goes through lesson 2 with keys only:
// n and p between steps, Tab to a field, typing, Enter to send.
func TestBrowserLessonByKeyboardAlone(t *testing.T) {
	b := newBrowser(t)
	l, at := lessonTwo(t)
	pi, ci := at[lessons.KindPredict], at[lessons.KindChallenge]
	focused := func() string {
		s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement?.id || document.activeElement?.tagName || ""`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	key := func(k string) chromedp.Action[chromedp.Void] { return chromedp.KeyEvent(k) }
	b.do(t, "open the lesson", chromedp.Navigate(b.base+"/lessons/"+l.ID), atStep(0))
	for i := 1; i <= pi; i++ {
		b.do(t, "n goes to the next step", key("n"), atStep(i))
	}
	b.do(t, "p goes back and n forward again", key("p"), atStep(pi-1), key("n"), atStep(pi))
	if f := focused(); f != "step-title" {
		t.Errorf("a step opens with the focus on %q, want its heading", f)
	}
	b.do(t, "Tab reaches the answer", key(kb.Tab))
	if f := focused(); f != "answer" {
		t.Fatalf("Tab from the heading reached %q, want the answer field", f)
	}
	b.do(t, "an answer out of range is refused beside the field", key("9999"), key(kb.Enter),
		chromedp.WaitVisible(chromedp.ID("answer-error")), atStep(pi))
	if f := focused(); f != "answer" {
		t.Errorf("after a refusal the focus is on %q, want the answer field", f)
	}
	b.do(t, "correct it and send with Enter",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("answer").select()`), key("5"), key(kb.Enter), atStep(pi+1))
	for i := pi + 2; i <= ci; i++ {
		b.do(t, "n goes on", key("n"), atStep(i))
	}
	b.do(t, "Tab reaches the design", key(kb.Tab))
	if f := focused(); f != "ch-design" {
		t.Fatalf("Tab from the challenge's heading reached %q, want the design", f)
	}
	c := l.Steps[ci].Challenge
	b.do(t, "type the design's name to choose it", key(c.Solution.Design+":"))
	chosen, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("ch-design").value`))
	if chosen != c.Solution.Design {
		t.Fatalf("typing chose %q, want %s", chosen, c.Solution.Design)
	}
	b.do(t, "Tab to the button and press Enter", key(kb.Tab))
	if f := focused(); f != "try" {
		t.Fatalf("Tab from the design reached %q, want the Run and check button", f)
	}
	b.do(t, "the server judges the run", key(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`[data-challenge="solved"] #verdict`)), atStep(ci))
	if f := focused(); f != "verdict" {
		t.Errorf("after a try the focus is on %q, want the verdict", f)
	}
	// The refused answer's page comes with a 400, which Chromium logs.
	b.noConsoleErrorsBut(t, "the server responded with a status of 400")
}
