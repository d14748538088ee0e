package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestProgressSurvivesReopeningTheDatabaseFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.db")
	db, err := OpenDB(file)
	if err != nil {
		t.Fatal(err)
	}
	want := Progress{Step: 3, Predictions: map[int]string{1: "100"}, Challenge: "design=outbox", Tries: 2, Solved: true}
	if _, err := (progressStore{db}).update(t.Context(), "learner-a", "dual-write", func(p *Progress) error {
		*p = want
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = OpenDB(file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := (progressStore{db}).get(t.Context(), "learner-a", "dual-write")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopening, progress is %+v, want %+v", got, want)
	}
}

func TestProgressUpdateThatFailsChangesNothing(t *testing.T) {
	ps := progressStore{MustOpenDB(t)}
	ctx := t.Context()
	if _, err := ps.update(ctx, "l", "x", func(p *Progress) error { p.Step = 2; return nil }); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("out of range")
	if _, err := ps.update(ctx, "l", "x", func(p *Progress) error { p.Step = 9; return refused }); !errors.Is(err, refused) {
		t.Fatalf("update returned %v, want the change's error", err)
	}
	if p, _ := ps.get(ctx, "l", "x"); p.Step != 2 {
		t.Fatalf("a refused change left step %d, want 2", p.Step)
	}
}

func TestProgressAllNamesTheLessonTouchedLast(t *testing.T) {
	ps := progressStore{MustOpenDB(t)}
	ctx := t.Context()
	for _, id := range []string{"a", "b", "a", "c", "b"} {
		if _, err := ps.update(ctx, "l", id, func(p *Progress) error { p.Step++; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	all, order, err := ps.all(ctx, "l")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(order, []string{"a", "c", "b"}) || all["a"].Step != 2 || all["b"].Step != 2 || all["c"].Step != 1 {
		t.Fatalf("all = %+v, order %q; want a and b at step 2, c at 1, order a c b", all, order)
	}
	other, order, _ := ps.all(ctx, "someone-else")
	if len(other) != 0 || len(order) != 0 {
		t.Fatalf("another learner sees %+v, order %q", other, order)
	}
}

func TestLearnerCookieIsRandomHttpOnlyAndLax(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		rec := httptest.NewRecorder()
		id := learnerID(rec, httptest.NewRequest(http.MethodGet, "/lessons", nil))
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("set %d cookies, want 1", len(cookies))
		}
		c := cookies[0]
		if c.Name != learnerCookie || c.Value != id || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge <= 0 {
			t.Fatalf("cookie %+v: want %s=<id>, HttpOnly, SameSite=Lax, Path=/, a positive Max-Age", c, learnerCookie)
		}
		if !validLearnerID(id) || len(id) < 22 {
			t.Fatalf("id %q is not 128 random bits", id)
		}
		if seen[id] {
			t.Fatalf("id %q drawn twice", id)
		}
		seen[id] = true
	}
	// A valid cookie is kept; a forged short one is replaced.
	req := httptest.NewRequest(http.MethodGet, "/lessons", nil)
	keep := newLearnerID()
	req.AddCookie(&http.Cookie{Name: learnerCookie, Value: keep})
	rec := httptest.NewRecorder()
	if got := learnerID(rec, req); got != keep || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("a valid cookie gave id %q and set %v", got, rec.Result().Cookies())
	}
	req = httptest.NewRequest(http.MethodGet, "/lessons", nil)
	req.AddCookie(&http.Cookie{Name: learnerCookie, Value: "admin"})
	if got := learnerID(httptest.NewRecorder(), req); got == "admin" {
		t.Fatal("a hand-made cookie value was taken as a learner id")
	}
}

func TestDecodeProgressRefusesMalformedAndForeignFiles(t *testing.T) {
	known := func(lesson string, p Progress) error {
		if lesson != "dual-write" {
			return errors.New("no such lesson here")
		}
		return nil
	}
	for _, c := range []struct{ name, file, want string }{
		{"empty", ``, "empty"},
		{"not json", `hello`, "not a Partial Truth progress file"},
		{"foreign json", `{"name":"my notes"}`, "not a Partial Truth progress file"},
		{"wrong format", `{"format":"other","version":1,"lessons":{},"order":[]}`, `format is "other"`},
		{"future version", `{"format":"partialtruth-progress","version":2,"lessons":{},"order":[]}`, "version 2"},
		{"unknown lesson", `{"format":"partialtruth-progress","version":1,"lessons":{"x":{"step":0}},"order":["x"]}`, `lesson "x": no such lesson here`},
		{"negative step", `{"format":"partialtruth-progress","version":1,"lessons":{"dual-write":{"step":-1}},"order":["dual-write"]}`, "step -1"},
		{"order mismatch", `{"format":"partialtruth-progress","version":1,"lessons":{"dual-write":{"step":1}},"order":[]}`, "order lists 0"},
		{"two values", `{"format":"partialtruth-progress","version":1,"lessons":{},"order":[]} {}`, "more than one"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeProgress([]byte(c.file), known)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("decodeProgress(%s) = %v, want an error containing %q", c.file, err, c.want)
			}
		})
	}
	b, err := encodeProgress(map[string]Progress{"dual-write": {Step: 2, Predictions: map[int]string{1: "7"}}}, []string{"dual-write"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := decodeProgress(b, known)
	if err != nil || f.Lessons["dual-write"].Predictions[1] != "7" {
		t.Fatalf("a file export wrote does not read back: %+v, %v\n%s", f, err, b)
	}
}

// FuzzDecodeProgress feeds the import arbitrary files: it must never
// panic, and a file it accepts must encode and decode to the same thing.
func FuzzDecodeProgress(f *testing.F) {
	good, _ := encodeProgress(map[string]Progress{"two-writes": {Step: 2, Predictions: map[int]string{1: "7"}, Challenge: "design=outbox", Tries: 1, Solved: true}}, []string{"two-writes"})
	for _, s := range []string{string(good), "", "{}", `{"format":"partialtruth-progress","version":1,"lessons":null,"order":null}`, `[1,2]`, `{"format":1}`} {
		f.Add([]byte(s))
	}
	anyLesson := func(string, Progress) error { return nil }
	f.Fuzz(func(t *testing.T, b []byte) {
		pf, err := decodeProgress(b, anyLesson)
		if err != nil {
			return
		}
		again, err := encodeProgress(pf.Lessons, pf.Order)
		if err != nil {
			t.Fatalf("an accepted file does not encode: %v", err)
		}
		pf2, err := decodeProgress(again, anyLesson)
		if err != nil || !reflect.DeepEqual(pf.Lessons, pf2.Lessons) && len(pf.Lessons) > 0 {
			t.Fatalf("an accepted file does not round-trip: %v\n%s\n%s", err, b, again)
		}
	})
}
