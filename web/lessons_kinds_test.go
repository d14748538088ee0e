package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"partialtruth/lessons"
)

// A query challenge and a review challenge, from test lessons: the page
// offers the right fields, refuses what is not allowed beside the field,
// and the server's check alone solves them.

func testLessons(t *testing.T) (map[string]*lessons.Lesson, string) {
	t.Helper()
	ls, err := lessons.LoadDir("testdata/lessons")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{DBPath: ":memory:", Lessons: ls})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	out := map[string]*lessons.Lesson{}
	for _, l := range ls {
		out[l.ID] = l
	}
	return out, ts.URL
}

func challengeState(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`data-challenge="(\w+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no data-challenge on the page")
	}
	return m[1]
}

func TestQueryChallengeIsSolvedByTheQueryThatFindsExactlyTheLostPayments(t *testing.T) {
	ls, base := testLessons(t)
	l := ls["test-reconcile"]
	ci := challengeStep(l)
	c := l.Steps[ci].Challenge
	me := newLearner(t, base)
	_, page := me.get("/lessons/" + l.ID)
	if !strings.Contains(page, `<option value="service.db" selected`) || !strings.Contains(page, `<option value="ledger.db"`) ||
		!strings.Contains(page, `<textarea id="ch-sql" name="sql"`) {
		t.Fatal("the query challenge does not offer the run's databases and a query box")
	}
	if !strings.Contains(page, `<figure class="ls-run"`) || !strings.Contains(page, `id="try">Run the query and check<`) {
		t.Error("the query challenge does not embed the run it reads, or its button does not say what it does")
	}
	try := func(db, sql string) (int, string) {
		return me.post("/lessons/"+l.ID+"/challenge", url.Values{"step": {strconv.Itoa(ci)}, "db": {db}, "sql": {sql}})
	}
	code, page := try("service.db", c.StartQuery.SQL)
	if code != http.StatusOK || challengeState(t, page) != "unsolved" || !strings.Contains(page, "Not yet") {
		t.Fatalf("the start query: %d %s", code, challengeState(t, page))
	}
	code, page = try("service.db", "DELETE FROM payments")
	if code != http.StatusBadRequest || !regexp.MustCompile(`id="ch-sql-error"[^>]*>[^<]+<`).MatchString(page) {
		t.Errorf("a write: %d; want 400 with the message beside the query", code)
	}
	if !strings.Contains(page, "DELETE FROM payments</textarea>") {
		t.Errorf("the refused query is not kept as typed")
	}
	want, err := c.Expected()
	if err != nil || len(want) == 0 {
		t.Fatalf("the run loses %v (%v); the test lesson needs some lost", want, err)
	}
	code, page = try("service.db", "SELECT id FROM payments WHERE id IN ("+strings.Join(want, ",")+") ORDER BY id")
	if code != http.StatusOK || challengeState(t, page) != "solved" {
		t.Fatalf("the query for exactly %v: %d %s", want, code, challengeState(t, page))
	}
	if p := me.export().Lessons[l.ID]; p.Tries != 2 || !p.Solved {
		t.Fatalf("progress %+v, want 2 tries and solved", p)
	}
}

func TestReviewChallengeIsSolvedByExactlyTheFailingItems(t *testing.T) {
	ls, base := testLessons(t)
	l := ls["test-review"]
	ci := challengeStep(l)
	c := l.Steps[ci].Challenge
	me := newLearner(t, base)
	_, page := me.get(`/lessons/` + l.ID + `?step=` + strconv.Itoa(ci))
	if n := strings.Count(page, `type="checkbox" name="items"`); n != len(checklistItems()) {
		t.Fatalf("the review offers %d items, want every one of the %d", n, len(checklistItems()))
	}
	try := func(items ...string) (int, string) {
		return me.post("/lessons/"+l.ID+"/challenge", url.Values{"step": {strconv.Itoa(ci)}, "items": items})
	}
	if code, page := try("no-such-item"); code != http.StatusBadRequest || !strings.Contains(page, `no-such-item`) {
		t.Errorf("an unknown item: %d; want 400 naming it", code)
	}
	want, err := c.Expected()
	if err != nil || len(want) == 0 {
		t.Fatalf("the design fails %v (%v)", want, err)
	}
	code, page := try(want[0])
	if len(want) > 1 && (code != http.StatusOK || challengeState(t, page) != "unsolved") {
		t.Errorf("one of %d failing items: %d %s", len(want), code, challengeState(t, page))
	}
	code, page = try(want...)
	if code != http.StatusOK || challengeState(t, page) != "solved" {
		t.Fatalf("exactly the failing items %v: %d %s", want, code, challengeState(t, page))
	}
	for _, id := range want {
		if !strings.Contains(page, `value="`+id+`" checked`) {
			t.Errorf("item %s is not shown checked after the try", id)
		}
	}
}
