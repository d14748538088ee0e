package lessons

import (
	"context"
	"errors"
	"strings"
	"testing"

	"partialtruth/sim"
)

// FuzzParse feeds the lesson parser any file: it never panics, and every
// error is Problems whose every line names the file and a line within it.
func FuzzParse(f *testing.F) {
	good, err := content.ReadFile("content/02-two-writes.md")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("---\nid: x\ntitle: t\nsummary: s\n---\n## Read\nhi\n"))
	f.Add([]byte("---\n: [\n---\n"))
	f.Add([]byte("---\nid: x\ntitle: t\nsummary: s\nteaches: {a: b}\n---\n## Run\n```step\nscenario: design=dual-write&x=1\n```\n"))
	f.Add([]byte("---\nid: x\ntitle: t\nsummary: s\n---\n## Read\n{{report \"lost\"}}\n## Challenge\n```step\ngoal: lost = 0\n```\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		l, err := Parse("f.md", src)
		if err == nil {
			if l.ID == "" || l.Title == "" || len(l.Steps) == 0 {
				t.Fatalf("parsed a lesson with no id, title or steps: %+v", l)
			}
			return
		}
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("error %T is not Problems: %v", err, err)
		}
		lines := 1 + strings.Count(string(src), "\n")
		for _, p := range ps {
			if p.File != "f.md" || p.Line < 1 || p.Line > lines+1 {
				t.Fatalf("problem %q names line %d of a %d-line file", p.Error(), p.Line, lines)
			}
		}
	})
}

// FuzzFrontMatter varies only the front matter of a good lesson.
func FuzzFrontMatter(f *testing.F) {
	body := "\n## Read\n\nText.\n"
	for _, fm := range []string{"id: a\ntitle: t\nsummary: s\nteaches: [atomic-publish]",
		"id: a-b\ntitle: \"x: y\"\nsummary: |\n  two\n  lines", "id: [a]\ntitle: {}", "&a x: *a", "id: a\nid: b"} {
		f.Add(fm)
	}
	f.Fuzz(func(t *testing.T, fm string) {
		src := []byte("---\n" + fm + "\n---\n" + body)
		l, err := Parse("f.md", src)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %T is not Problems: %v", err, err)
			}
			for _, p := range ps {
				if p.Line < 1 || p.Line > 3+strings.Count(fm, "\n")+4 {
					t.Fatalf("problem %q names a line outside the file", p.Error())
				}
			}
			return
		}
		if !idPattern.MatchString(l.ID) || strings.Contains(l.Title, "\n") || strings.Contains(l.Summary, "\n") {
			t.Fatalf("accepted id %q title %q summary %q", l.ID, l.Title, l.Summary)
		}
	})
}

// FuzzChallengeCheck answers the built-in challenges with anything: a run
// challenge any scenario, a query challenge any SQL, a review challenge any
// picks. Check never panics, refuses with a *sim.InputError or gives a
// verdict with a reason, and a solved verdict is one the goal agrees with.
func FuzzChallengeCheck(f *testing.F) {
	f.Add("design=outbox-idempotent&payments=200&faults=bus.publish.fail=0.1", "SELECT payment_id FROM ledger_entries", "idempotent-consumer,reconcile-and-alert")
	f.Add("design=dual-write&payments=3", "SELECT 1; DROP TABLE payments", "")
	f.Add("payments=0&design=x", "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r) SELECT i FROM r", "atomic-publish,,x")
	ls, err := Builtin()
	if err != nil {
		f.Fatal(err)
	}
	var run, query, review *Challenge
	for _, l := range ls {
		for _, st := range l.Steps {
			if c := st.Challenge; c != nil {
				switch {
				case c.Kind == ChallengeRun && run == nil && l.ID == "two-writes":
					run = c
				case c.Kind == ChallengeQuery:
					query = c
				case c.Kind == ChallengeReview:
					review = c
				}
			}
		}
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, scenario, sql, items string) {
		refusedOrJudged := func(v Verdict, err error) {
			t.Helper()
			var in *sim.InputError
			if err != nil && !errors.As(err, &in) {
				t.Fatalf("error %T is not an input error: %v", err, err)
			}
			if err == nil && v.Why == "" {
				t.Fatal("a verdict without a reason")
			}
		}
		if sc, _, err := ParseScenario(scenario, false); err == nil && sc.Payments <= 50 {
			v, err := run.Check(ctx, Answer{Scenario: sc})
			refusedOrJudged(v, err)
			if err == nil && v.Solved {
				res, _ := sim.Run(sc, nil)
				if ok, err := run.Goal.Eval(res.Report); !ok || err != nil {
					t.Fatalf("%s solved, but the goal says %v %v", scenario, ok, err)
				}
			}
		}
		refusedOrJudged(query.Check(ctx, Answer{Query: Query{DB: "ledger.db", SQL: sql}}))
		refusedOrJudged(review.Check(ctx, Answer{Items: strings.Split(items, ",")}))
	})
}
