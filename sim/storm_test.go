package sim

import (
	"context"
	"runtime"
	"testing"
)

// allocated runs fn and returns the bytes and objects it allocated.
func allocated(fn func()) (bytes, objects uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

// Issue 9's duplication storm passed 1 GB and kept growing: the broker
// took a duplicated or stale consumer ack for the ack of its current
// delivery attempt, and under bus.redeliver = 1 each such ack started
// another delivery. Now an ack counts only for its own attempt and an
// acknowledged message comes back at most maxRedeliveriesAfterAck times:
// the storm settles, with nothing lost, in a few megabytes.
func TestDuplicationStormSettlesSmall(t *testing.T) {
	for _, payments := range []int{20, 100} {
		sc := storm(t)
		sc.Payments = payments
		var res Result
		var err error
		var peak uint64
		b, _ := allocated(func() {
			// Every thousand events, what the run holds: each waiting
			// process holds a coroutine stack, so a pile of them shows.
			res, err = RunContext(context.Background(), sc, func(ev *Event) {
				if ev.ID%1000 == 0 {
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					peak = max(peak, m.HeapInuse+m.StackInuse)
				}
			}, Options{MaxEvents: 300_000})
		})
		if err != nil {
			t.Fatal(err)
		}
		r := res.Report
		if !r.Settled() || !r.Converged {
			t.Errorf("%d payments: stopped %q after %d events, converged %v: want a quiet, converged run", payments, r.Stopped, r.Events, r.Converged)
		}
		if b > 32<<20 || peak > 64<<20 {
			t.Errorf("%d payments: the run allocated %d MB and held up to %d MB, want under 32 MB and 64 MB", payments, b>>20, peak>>20)
		}
	}
}
