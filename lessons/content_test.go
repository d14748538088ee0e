package lessons

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"partialtruth/sim"
)

// TestBuiltinLessonsPassTheirCheck is `lessons check` over the built-in
// lessons: every run runs, every expectation holds, every prediction has
// one answer in range, every challenge is unsolved at its start and solved
// by its solution, and no prose number is typed by hand.
func TestBuiltinLessonsPassTheirCheck(t *testing.T) {
	ls, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range CheckAll(context.Background(), ls) {
		t.Error(p)
	}
}

func TestBuiltinLessonsCoverEveryDesignFaultAndItem(t *testing.T) {
	ls, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	items, designs, faults := Coverage(ls)
	if len(items)+len(designs)+len(faults) > 0 {
		t.Errorf("not covered: items %v, designs %v, faults %v", items, designs, faults)
	}
}

// TestBuiltinLessonsFollowTheIssuesOrder holds the path to the order the
// lessons are taught in, and each to the steps a learner expects: a
// prediction before a run, a reveal after it, and a challenge.
func TestBuiltinLessonsFollowTheIssuesOrder(t *testing.T) {
	ls, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"calls-take-time", "two-writes", "publish-first", "retry-the-publish", "outbox",
		"idempotent-consumer", "idempotency-keys", "stale-reads", "partitions", "reordering", "reconcile", "review", "caches", "third-party",
		"poison-messages"}
	var got []string
	for _, l := range ls {
		got = append(got, l.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("lessons %v; want %v", got, want)
	}
	for _, l := range ls {
		var kinds []Kind
		for _, st := range l.Steps {
			kinds = append(kinds, st.Kind)
		}
		if !slices.Contains(kinds, KindChallenge) {
			t.Errorf("%s has no challenge", l.ID)
		}
		if l.ID != "review" && (!slices.Contains(kinds, KindPredict) || !slices.Contains(kinds, KindRun) || !slices.Contains(kinds, KindReveal)) {
			t.Errorf("%s steps %v; want a prediction, a run and a reveal", l.ID, kinds)
		}
	}
	// The query and review challenges are where the issue puts them.
	kindOf := func(l *Lesson) ChallengeKind {
		for _, st := range l.Steps {
			if st.Challenge != nil {
				return st.Challenge.Kind
			}
		}
		return ""
	}
	if k := kindOf(ls[10]); k != ChallengeQuery {
		t.Errorf("lesson 11's challenge is %q; want a query", k)
	}
	if k := kindOf(ls[11]); k != ChallengeReview {
		t.Errorf("lesson 12's challenge is %q; want a review", k)
	}
}

// TestEveryRunInALessonIsSmall keeps `lessons check` fast: a lesson shows
// a few hundred payments, never a load test.
func TestEveryRunInALessonIsSmall(t *testing.T) {
	ls, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		for _, st := range l.Steps {
			var scs []sim.Scenario
			if st.Run != nil {
				scs = append(scs, st.Run.Scenario)
			}
			if st.Challenge != nil {
				scs = append(scs, st.Challenge.Start, st.Challenge.Solution)
			}
			for _, sc := range scs {
				if sc.Payments > 500 {
					t.Errorf("%s:%d runs %d payments; keep lessons to a few hundred", l.File, st.Line, sc.Payments)
				}
			}
		}
	}
}

// TestALessonServesManyLearnersAtOnce renders every step and prepares
// every challenge's start from several goroutines at once; run with -race it
// holds the promise that a Lesson is safe for concurrent use.
func TestALessonServesManyLearnersAtOnce(t *testing.T) {
	ls, err := load(content, "content", "lessons/content") // fresh: nothing run yet
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ByID(ls, "reconcile")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 4 {
		wg.Go(func() {
			for i, st := range l.Steps {
				if _, err := l.Render(i); err != nil {
					errs <- err
				}
				if st.Challenge != nil {
					// The start run, made once however many ask. (Check's
					// query runs under the sandbox's wall-clock limit,
					// which a race-detector build on a loaded machine can
					// exceed; what is shared is this.)
					if ids, err := st.Challenge.Expected(); err != nil || len(ids) == 0 {
						errs <- fmt.Errorf("expected ids %v: %v", ids, err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
