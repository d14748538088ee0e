package web

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"partialtruth/checklist"
	"partialtruth/lessons"
	"partialtruth/web/ui"
)

// learner is one browser on a test server: a client with its own cookie
// jar, following redirects as a browser does.
type learner struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newLearner(t *testing.T, base string) *learner {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &learner{t: t, base: base, c: &http.Client{Jar: jar}}
}

// lessonServer serves an in-memory app over HTTP for learners.
func lessonServer(t *testing.T) (*Server, string) {
	t.Helper()
	s := newTestServer(t)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func (l *learner) get(path string) (int, string) {
	l.t.Helper()
	res, err := l.c.Get(l.base + path)
	if err != nil {
		l.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (l *learner) post(path string, form url.Values) (int, string) {
	l.t.Helper()
	res, err := l.c.PostForm(l.base+path, form)
	if err != nil {
		l.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// importFile uploads b as a progress file, as the import form does.
func (l *learner) importFile(b []byte) (int, string) {
	l.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "progress.json")
	if err != nil {
		l.t.Fatal(err)
	}
	fw.Write(b)
	mw.Close()
	res, err := l.c.Post(l.base+"/lessons/progress", mw.FormDataContentType(), &body)
	if err != nil {
		l.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out)
}

// export is the learner's progress file, parsed.
func (l *learner) export() progressFile {
	l.t.Helper()
	code, body := l.get("/lessons/progress.json")
	if code != http.StatusOK {
		l.t.Fatalf("export: %d %s", code, body)
	}
	var f progressFile
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		l.t.Fatalf("export is not JSON: %v\n%s", err, body)
	}
	return f
}

// progressMarks reads data-progress per lesson from /lessons.
func progressMarks(page string) map[string]string {
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`data-lesson="([^"]+)" data-progress="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// twoWrites is lesson 2, dual write, and the index of its first step of
// each kind.
func twoWrites(t *testing.T) (*lessons.Lesson, map[lessons.Kind]int) {
	t.Helper()
	ls, err := lessons.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) < 2 {
		t.Fatalf("only %d built-in lessons", len(ls))
	}
	l := ls[1]
	at := map[lessons.Kind]int{}
	for i := len(l.Steps) - 1; i >= 0; i-- {
		at[l.Steps[i].Kind] = i
	}
	for _, k := range []lessons.Kind{lessons.KindPredict, lessons.KindRun, lessons.KindReveal, lessons.KindChallenge} {
		if _, ok := at[k]; !ok {
			t.Fatalf("lesson 2 (%s) has no %s step", l.ID, k)
		}
	}
	if l.Steps[at[lessons.KindChallenge]].Challenge.Kind != lessons.ChallengeRun {
		t.Fatalf("lesson 2's challenge is a %s challenge; these tests solve it by changing the design", l.Steps[at[lessons.KindChallenge]].Challenge.Kind)
	}
	return l, at
}

// challengeForm is the form that tries the challenge with design.
func challengeForm(l *lessons.Lesson, step int, design string) url.Values {
	c := l.Steps[step].Challenge
	f := url.Values{"step": {strconv.Itoa(step)}}
	for _, name := range c.May {
		f.Set(name, c.Start.Param(name))
	}
	f.Set("design", design)
	return f
}

func TestLessonsPageListsEveryLessonAndSetsAnAnonymousCookie(t *testing.T) {
	s, _ := lessonServer(t)
	res := get(t, s.Handler(), "/lessons")
	page := body(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /lessons = %d", res.StatusCode)
	}
	marks := progressMarks(page)
	for _, l := range s.lessons {
		if marks[l.ID] != "not-started" {
			t.Errorf("lesson %s: data-progress %q, want not-started", l.ID, marks[l.ID])
		}
		for _, text := range []string{l.Title, l.Summary} {
			if !strings.Contains(page, escapeHTML(text)) {
				t.Errorf("lesson %s: /lessons does not show %q", l.ID, text)
			}
		}
	}
	if len(marks) != len(s.lessons) {
		t.Errorf("/lessons lists %d lessons, want %d", len(marks), len(s.lessons))
	}
	raw := res.Header.Get("Set-Cookie")
	for _, want := range []string{learnerCookie + "=", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="} {
		if !strings.Contains(raw, want) {
			t.Errorf("Set-Cookie %q lacks %s", raw, want)
		}
	}
	if strings.Contains(raw, "Secure") {
		t.Errorf("Set-Cookie %q is Secure on plain HTTP: the browser would drop it", raw)
	}
}

func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestUnknownLessonIsA404PageWithTheWayBack(t *testing.T) {
	h := newTestServer(t).Handler()
	for _, path := range []string{"/lessons/no-such-lesson", "/lessons/two-writes?step=99", "/lessons/two-writes?step=x"} {
		res := get(t, h, path)
		page := body(t, res)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
		if !strings.Contains(page, `href="/lessons`) || !strings.Contains(page, "<html") {
			t.Errorf("GET %s: the 404 is not a page with a link back to the lessons:\n%s", path, page)
		}
	}
}

func TestLessonPageCarriesItsStepOnTheRoot(t *testing.T) {
	_, base := lessonServer(t)
	l, at := twoWrites(t)
	me := newLearner(t, base)
	for _, step := range []int{0, at[lessons.KindPredict], at[lessons.KindChallenge]} {
		code, page := me.get(ui.StepURL(l.ID, step))
		if code != http.StatusOK || !strings.Contains(page, `<html lang="en" data-run-state="idle" data-lesson-step="`+strconv.Itoa(step)+`"`) {
			t.Errorf("step %d: %d, root is %q", step, code, firstLine(page, "<html"))
		}
	}
	// Reopening the lesson without a step resumes at the last one opened.
	_, page := me.get("/lessons/" + l.ID)
	if want := `data-lesson-step="` + strconv.Itoa(at[lessons.KindChallenge]) + `"`; !strings.Contains(page, want) {
		t.Errorf("reopening the lesson shows %q, want %s", firstLine(page, "<html"), want)
	}
}

func firstLine(page, prefix string) string {
	i := strings.Index(page, prefix)
	if i < 0 {
		return ""
	}
	end := strings.IndexByte(page[i:], '>')
	if end < 0 {
		return page[i:]
	}
	return page[i : i+end+1]
}

func TestPredictionOutOfRangeIsRefusedBesideTheFieldAndChangesNothing(t *testing.T) {
	_, base := lessonServer(t)
	l, at := twoWrites(t)
	pi := at[lessons.KindPredict]
	pr := l.Steps[pi].Predict
	me := newLearner(t, base)
	ok := strconv.FormatInt(pr.Min, 10)
	if code, _ := me.post("/lessons/"+l.ID+"/predict", url.Values{"step": {strconv.Itoa(pi)}, "answer": {ok}}); code != http.StatusOK {
		t.Fatalf("saving prediction %s: %d", ok, code)
	}
	for _, bad := range []string{strconv.FormatInt(pr.Max+1, 10), "-1", "lots", ""} {
		code, page := me.post("/lessons/"+l.ID+"/predict", url.Values{"step": {strconv.Itoa(pi)}, "answer": {bad}})
		if code != http.StatusBadRequest {
			t.Errorf("answer %q: %d, want 400", bad, code)
		}
		m := regexp.MustCompile(`id="answer-error"[^>]*>([^<]+)<`).FindStringSubmatch(page)
		if m == nil {
			t.Errorf("answer %q: no message beside the field", bad)
		} else if bad != "" && !strings.Contains(m[1], strconv.FormatInt(pr.Max, 10)) {
			t.Errorf("answer %q: message %q does not say what is allowed", bad, m[1])
		}
		if !strings.Contains(page, `aria-invalid="true"`) {
			t.Errorf("answer %q: the field is not marked invalid", bad)
		}
	}
	if got := me.export().Lessons[l.ID].Predictions[pi]; got != ok {
		t.Fatalf("after refused answers the saved prediction is %q, want %q", got, ok)
	}
}

func TestPredictionIsLockedOnceRevealed(t *testing.T) {
	_, base := lessonServer(t)
	l, at := twoWrites(t)
	pi, ri := at[lessons.KindPredict], at[lessons.KindReveal]
	me := newLearner(t, base)
	me.post("/lessons/"+l.ID+"/predict", url.Values{"step": {strconv.Itoa(pi)}, "answer": {"3"}})
	_, page := me.get(ui.StepURL(l.ID, ri))
	_, measured, err := l.Measured(ri)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, `data-prediction="3" data-measured="`+measured+`"`) {
		t.Fatalf("the reveal does not show prediction 3 beside %s: %s", measured, firstLine(page, `<section class="ls-reveal`))
	}
	code, _ := me.post("/lessons/"+l.ID+"/predict", url.Values{"step": {strconv.Itoa(pi)}, "answer": {measured}})
	if code != http.StatusBadRequest {
		t.Fatalf("changing a revealed prediction: %d, want 400", code)
	}
	if got := me.export().Lessons[l.ID].Predictions[pi]; got != "3" {
		t.Fatalf("the revealed prediction became %q", got)
	}
}

func TestChallengeIsSolvedOnlyByARunThatMeetsIt(t *testing.T) {
	_, base := lessonServer(t)
	l, at := twoWrites(t)
	ci := at[lessons.KindChallenge]
	c := l.Steps[ci].Challenge
	me := newLearner(t, base)
	path := "/lessons/" + l.ID + "/challenge"
	state := func(page string) string {
		m := regexp.MustCompile(`data-challenge="(\w+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no data-challenge on the page")
		}
		return m[1]
	}
	code, page := me.post(path, challengeForm(l, ci, c.Start.Design))
	if code != http.StatusOK || state(page) != "unsolved" || !strings.Contains(page, "Not yet") {
		t.Fatalf("the start design: %d, %s", code, state(page))
	}
	// What the challenge keeps fixed is refused, and changes nothing.
	bad := challengeForm(l, ci, c.Solution.Design)
	bad.Set("payments", "5")
	if !contains(c.May, "payments") {
		if code, _ := me.post(path, bad); code != http.StatusBadRequest {
			t.Errorf("changing payments, which the challenge keeps: %d, want 400", code)
		}
	}
	bad = challengeForm(l, ci, "no-such-design")
	code, page = me.post(path, bad)
	if code != http.StatusBadRequest || !regexp.MustCompile(`id="ch-design-error"[^>]*>[^<]*no-such-design`).MatchString(page) {
		t.Errorf("an unknown design: %d; the message is not beside the design field", code)
	}
	if p := me.export().Lessons[l.ID]; p.Tries != 1 || p.Solved {
		t.Fatalf("after refused answers: %+v, want 1 try, unsolved", p)
	}
	if code, _ := me.post("/lessons/"+l.ID+"/solution", nil); code != http.StatusOK {
		t.Fatalf("show the solution after a try: %d", code)
	}
	code, page = me.post(path, challengeForm(l, ci, c.Solution.Design))
	if code != http.StatusOK || state(page) != "solved" || !strings.Contains(page, `data-solution="shown"`) {
		t.Fatalf("the solution's design: %d, %s", code, state(page))
	}
	_, page = me.get("/lessons")
	if m := progressMarks(page)[l.ID]; m != "done" || !strings.Contains(page, "solution shown") {
		t.Fatalf("/lessons marks the solved lesson %q", m)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestSolutionIsRefusedBeforeTheFirstTry(t *testing.T) {
	_, base := lessonServer(t)
	l, _ := twoWrites(t)
	me := newLearner(t, base)
	me.get("/lessons")
	if code, page := me.post("/lessons/"+l.ID+"/solution", nil); code != http.StatusBadRequest || !strings.Contains(page, "at least once") {
		t.Fatalf("solution before a try: %d %q, want 400 asking for a try", code, page)
	}
	if p := me.export().Lessons[l.ID]; p.SolutionShown {
		t.Fatal("the solution was marked shown")
	}
}

func TestResetThrowsTheLessonAway(t *testing.T) {
	_, base := lessonServer(t)
	l, at := twoWrites(t)
	me := newLearner(t, base)
	me.post("/lessons/"+l.ID+"/predict", url.Values{"step": {strconv.Itoa(at[lessons.KindPredict])}, "answer": {"1"}})
	if code, _ := me.post("/lessons/"+l.ID+"/reset", nil); code != http.StatusOK {
		t.Fatalf("reset: %d", code)
	}
	if p, ok := me.export().Lessons[l.ID]; ok {
		t.Fatalf("after a reset the lesson still has %+v", p)
	}
}

func TestCrossSitePostsAreRefused(t *testing.T) {
	_, base := lessonServer(t)
	l, _ := twoWrites(t)
	req, _ := http.NewRequest(http.MethodPost, base+"/lessons/"+l.ID+"/reset", nil)
	req.Header.Set("Origin", "https://elsewhere.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site reset: %d, want 403", res.StatusCode)
	}
}

func TestExportedProgressImportsInAnotherBrowser(t *testing.T) {
	_, base := lessonServer(t)
	l, at := twoWrites(t)
	ci := at[lessons.KindChallenge]
	me := newLearner(t, base)
	me.post("/lessons/"+l.ID+"/predict", url.Values{"step": {strconv.Itoa(at[lessons.KindPredict])}, "answer": {"7"}})
	me.post("/lessons/"+l.ID+"/challenge", challengeForm(l, ci, l.Steps[ci].Challenge.Solution.Design))
	code, file := me.get("/lessons/progress.json")
	if code != http.StatusOK {
		t.Fatal(code)
	}
	other := newLearner(t, base)
	if got := other.export().Lessons; len(got) != 0 {
		t.Fatalf("a fresh browser starts with %+v", got)
	}
	code, page := other.importFile([]byte(file))
	if code != http.StatusOK || !strings.Contains(page, "Imported") {
		t.Fatalf("import: %d", code)
	}
	if progressMarks(page)[l.ID] != "done" {
		t.Errorf("after the import /lessons marks %s %q, want done", l.ID, progressMarks(page)[l.ID])
	}
	if !strings.Contains(page, `id="continue" href="/lessons/`+l.ID+`"`) {
		t.Errorf("after the import, continue does not lead to %s", l.ID)
	}
	if a, b := me.export(), other.export(); !jsonEqual(t, a, b) {
		t.Errorf("the imported progress differs:\n%+v\n%+v", a, b)
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestImportRefusesMalformedOrForeignFilesAndChangesNothing(t *testing.T) {
	_, base := lessonServer(t)
	l, at := twoWrites(t)
	me := newLearner(t, base)
	me.post("/lessons/"+l.ID+"/predict", url.Values{"step": {strconv.Itoa(at[lessons.KindPredict])}, "answer": {"7"}})
	before := me.export()
	good, _ := encodeProgress(before.Lessons, before.Order)
	for _, c := range []struct{ name, file, want string }{
		{"not json", "hello", "not a Partial Truth progress file"},
		{"foreign json", `{"name":"my notes"}`, "not a Partial Truth progress file"},
		{"unknown lesson", strings.Replace(string(good), `"`+l.ID+`"`, `"no-such-lesson"`, -1), "no such lesson"},
		{"step out of range", strings.Replace(string(good), `"step": `+strconv.Itoa(before.Lessons[l.ID].Step), `"step": 999`, 1), "step 999 is out of range"},
		{"prediction out of range", strings.Replace(string(good), `"7"`, `"99999999"`, 1), "out of range"},
		{"too big", `{"format":"` + strings.Repeat("x", maxProgressFile) + `"}`, "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			other := newLearner(t, base)
			other.post("/lessons/"+l.ID+"/predict", url.Values{"step": {strconv.Itoa(at[lessons.KindPredict])}, "answer": {"1"}})
			mine := other.export()
			code, page := other.importFile([]byte(c.file))
			if code != http.StatusBadRequest {
				t.Errorf("import: %d, want 400", code)
			}
			m := regexp.MustCompile(`id="import-error" role="alert">([^<]+)<`).FindStringSubmatch(page)
			if m == nil || !strings.Contains(m[1], c.want) || !strings.Contains(m[1], "Nothing was imported") {
				t.Errorf("the message beside the import is %q, want it to say nothing was imported and %q", m, c.want)
			}
			if after := other.export(); !jsonEqual(t, mine, after) {
				t.Errorf("a refused import changed the progress: %+v → %+v", mine, after)
			}
		})
	}
}

func TestProgressSurvivesAServerRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.db")
	l, at := twoWrites(t)
	serve := func() (*Server, *httptest.Server) {
		s, err := New(Config{DBPath: file})
		if err != nil {
			t.Fatal(err)
		}
		return s, httptest.NewServer(s.Handler())
	}
	s, ts := serve()
	me := newLearner(t, ts.URL)
	me.post("/lessons/"+l.ID+"/predict", url.Values{"step": {strconv.Itoa(at[lessons.KindPredict])}, "answer": {"7"}})
	before := me.export()
	ts.Close()
	s.Close()

	s, ts = serve()
	defer s.Close()
	defer ts.Close()
	u, _ := url.Parse(ts.URL)
	old, _ := url.Parse(me.base)
	me.c.Jar.SetCookies(u, me.c.Jar.Cookies(old)) // the same browser, the server on a new port
	me.base = ts.URL
	if after := me.export(); !jsonEqual(t, before, after) || after.Lessons[l.ID].Predictions[at[lessons.KindPredict]] != "7" {
		t.Fatalf("after a restart the progress is %+v, want %+v", after, before)
	}
	_, page := me.get("/lessons/" + l.ID)
	if !strings.Contains(page, `data-lesson-step="`+strconv.Itoa(at[lessons.KindPredict]+1)+`"`) {
		t.Errorf("after a restart the lesson does not resume at the step after the prediction: %s", firstLine(page, "<html"))
	}
}

// TestLessonPageFitsTheBudgetOfPlay weighs a lesson's run step as a
// browser loads it, against /play's budget.
func TestLessonPageFitsTheBudgetOfPlay(t *testing.T) {
	l, at := twoWrites(t)
	h := newTestServer(t).Handler()
	for _, step := range []int{at[lessons.KindRun], at[lessons.KindChallenge]} {
		total, files := pageWeight(t, h, ui.StepURL(l.ID, step))
		t.Logf("%s step %d weighs %d bytes in %d files", l.ID, step, total, files)
		if total > playBudgetBytes {
			t.Errorf("%s step %d weighs %d bytes; the budget is %d", l.ID, step, total, playBudgetBytes)
		}
	}
}

func TestHomePlaygroundAndChecklistLinkToTheLessons(t *testing.T) {
	s := newTestServer(t)
	h := s.Handler()
	for _, path := range []string{"/", "/play"} {
		if page := body(t, get(t, h, path)); !strings.Contains(page, `id="to-lessons" href="/lessons"`) && !strings.Contains(page, `href="/lessons" id="to-lessons"`) {
			t.Errorf("%s does not link to the lessons", path)
		}
	}
	page := body(t, get(t, h, "/checklist"))
	for _, it := range checklistItems() {
		l, ok := lessons.Teaching(s.lessons, it)
		if !ok {
			continue
		}
		want := `<p class="ck-lesson" data-lesson="` + l.ID + `"><strong>Learn it.</strong> <a href="/lessons/` + l.ID + `"`
		section := page[strings.Index(page, `<section class="ck-item" id="`+it+`"`):]
		section = section[:strings.Index(section, "</section>")]
		if !strings.Contains(section, want) {
			t.Errorf("checklist item %s does not link to lesson %s, which teaches it", it, l.ID)
		}
	}
}

func checklistItems() []string {
	var out []string
	for _, it := range checklist.Items() {
		out = append(out, it.ID)
	}
	return out
}

// TestEveryBuiltInStepRenders opens every step of every built-in lesson,
// as a learner who skips ahead would.
func TestEveryBuiltInStepRenders(t *testing.T) {
	s, base := lessonServer(t)
	me := newLearner(t, base)
	for _, l := range s.lessons {
		for i, st := range l.Steps {
			code, page := me.get(ui.StepURL(l.ID, i))
			if code != http.StatusOK {
				t.Errorf("%s step %d (%s): %d", l.ID, i, st.Kind, code)
				continue
			}
			if st.Kind == lessons.KindChallenge && !strings.Contains(page, `data-challenge="unsolved"`) {
				t.Errorf("%s step %d: the challenge is not shown unsolved", l.ID, i)
			}
			if st.Kind == lessons.KindRun && !strings.Contains(page, `<figure class="ls-run"`) {
				t.Errorf("%s step %d: the run step embeds no player", l.ID, i)
			}
		}
	}
}
