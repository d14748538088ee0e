package sim

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// storm is issue 9's duplication storm, which grew past 1 GB before the
// broker matched each consumer ack to its own delivery attempt (see
// storm_test.go).
func storm(t testing.TB) Scenario {
	t.Helper()
	args := map[string]string{
		"design": "outbox-idempotent", "seed": "15868062813455624671", "payments": "20",
		"latency": "1ms", "jitter": "2ms",
		"faults": "net.dup=0.5,bus.redeliver=1.0,crash.service=0.1",
	}
	sc, err := FromParams(func(name string) string { return args[name] })
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// endless is a scenario from issue 10 that can never settle: every
// publish fails, so the relay publishes its one payment for as long as the
// run lasts.
func endless(t testing.TB) Scenario {
	t.Helper()
	args := map[string]string{"design": "outbox", "payments": "1", "faults": "bus.publish.fail=1", "deadline": "24h"}
	sc, err := FromParams(func(name string) string { return args[name] })
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// The event budget stops a run that never ends at exactly the budget.
func TestEventBudgetStopsAnEndlessRunExactly(t *testing.T) {
	for _, limit := range []int{1, 2, 999, 5000} {
		var n int
		res, err := RunContext(context.Background(), endless(t), func(*Event) { n++ }, Options{MaxEvents: limit})
		if err != nil {
			t.Fatal(err)
		}
		r := res.Report
		if r.Stopped != "event-limit" || r.Events != limit || n != limit {
			t.Errorf("budget %d: stopped %q after %d events (sink saw %d), want event-limit after exactly %d",
				limit, r.Stopped, r.Events, n, limit)
		}
	}
}

// For every design, a budget smaller than the full run gives exactly the
// first events of the unbounded run, with the same ids and times, and
// nothing after them; a budget the run does not reach changes nothing.
func TestEventBudgetIsAPrefixOfTheFullRun(t *testing.T) {
	for _, name := range DesignNames() {
		sc := familyScenario(name, 6)
		sc.Faults = sc.Faults.Set(NetDup, 0.3)
		// The full run's events as emitted, before the checker marks its
		// evidence on them.
		var full []Event
		whole, err := Run(sc, func(ev *Event) { full = append(full, *ev) })
		if err != nil {
			t.Fatal(err)
		}
		rep := whole.Report
		limit := len(full) / 3
		var got []Event
		res, err := RunContext(context.Background(), sc, func(ev *Event) { got = append(got, *ev) }, Options{MaxEvents: limit})
		if err != nil {
			t.Fatal(err)
		}
		if res.Report.Stopped != "event-limit" || res.Report.Events != limit || len(got) != limit {
			t.Errorf("%s: budget %d of %d: stopped %q with %d events", name, limit, len(full), res.Report.Stopped, len(got))
		}
		for i := range got {
			want := full[i]
			if !eventsEqual(got[i], want) {
				t.Errorf("%s: event %d differs under a budget:\n got %+v\nwant %+v", name, i+1, got[i], want)
				break
			}
		}
		res, err = RunContext(context.Background(), sc, nil, Options{MaxEvents: len(full)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Report.Stopped != rep.Stopped || res.Report.Events != rep.Events {
			t.Errorf("%s: a budget of exactly its %d events stopped it %q after %d, want %q after %d",
				name, len(full), res.Report.Stopped, res.Report.Events, rep.Stopped, rep.Events)
		}
	}
}

func eventsEqual(a, b Event) bool {
	return a.ID == b.ID && a.AtUs == b.AtUs && a.Kind == b.Kind && a.Node == b.Node &&
		a.Payment == b.Payment && a.Note == b.Note && a.SQL == b.SQL && slices.Equal(a.Moves, b.Moves)
}

// Cancelling a running 10,000-payment run stops it within a bounded number
// of steps of the cancellation, reports "cancelled", and leaves no
// goroutine or coroutine behind.
func TestCancelStopsARunningRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	sc := DefaultScenario()
	sc.Design, sc.Payments = "outbox-idempotent", 10_000
	sc.Faults = sc.Faults.Set(NetDup, 0.1).Set(CrashService, 0.01)

	const at = 20_000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := RunContext(ctx, sc, func(ev *Event) {
		if ev.ID == at {
			cancel()
		}
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	if r.Stopped != "cancelled" {
		t.Fatalf("stopped %q, want cancelled", r.Stopped)
	}
	// One look at ctx every cancelEvery steps; a step emits a handful of
	// events at most.
	if r.Events < at || r.Events > at+8*cancelEvery {
		t.Errorf("cancelled at event %d, stopped after %d; want within %d steps", at, r.Events, cancelEvery)
	}
}

// A cancellation from another goroutine, while the run is in progress,
// stops it too.
func TestCancelFromAnotherGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t)
	sc := DefaultScenario()
	sc.Design, sc.Payments = "dual-write", 10_000

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	done := make(chan Result)
	last := 0 // the highest payment seen; written by the run's goroutine
	go func() {
		res, err := RunContext(ctx, sc, func(ev *Event) {
			last = max(last, ev.Payment)
			if ev.ID == 1000 {
				close(started)
			}
		}, Options{})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	<-started
	cancel()
	res := <-done
	if res.Report.Stopped != "cancelled" {
		t.Fatalf("stopped %q, want cancelled", res.Report.Stopped)
	}
	if last >= sc.Payments {
		t.Errorf("the cancelled run reached payment %d of %d", last, sc.Payments)
	}
}

// A run whose context is cancelled before it starts takes no step: it
// emits at most what its topology announces when it is set up, and no
// payment is ever requested.
func TestCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("gone"))
	events, rep, snap, err := RecordSnapshotContext(ctx, familyScenario("outbox", 3), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stopped != "cancelled" || snap == nil || rep.EndMs != 0 {
		t.Errorf("stopped %q at %dms, snapshot %v; want cancelled at 0", rep.Stopped, rep.EndMs, snap != nil)
	}
	for _, ev := range events {
		if ev.Payment != 0 || ev.AtUs != 0 {
			t.Errorf("a run cancelled before it started emitted %+v", ev)
		}
	}
}

// BenchmarkCancelLatency measures how long a 10,000-payment run takes to
// return once its context is cancelled mid-run.
func BenchmarkCancelLatency(b *testing.B) {
	sc := DefaultScenario()
	sc.Design, sc.Payments = "outbox-idempotent", 10_000
	var total time.Duration
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		var t0 time.Time
		_, err := RunContext(ctx, sc, func(ev *Event) {
			if ev.ID == 20_000 {
				t0 = time.Now()
				cancel()
			}
		}, Options{})
		total += time.Since(t0)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)/float64(b.N)/1e3, "µs/cancel")
}
