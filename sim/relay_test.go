package sim

import (
	"strconv"
	"testing"
)

// Issue 9's repro: under crash.relay = 0.3 the outbox relay, which marked a
// 32-row batch in a transaction of 34 steps, published 327,375 times for
// 200 payments and hit the event limit. A relay that marks each batch in
// one statement keeps its progress: up to p = 0.5 every seed settles,
// nothing is lost, and a payment is published about 1/(1−p) times.
func TestRelayKeepsItsProgressUnderCrashes(t *testing.T) {
	for _, p := range []float64{0.3, 0.5} {
		for seed := range uint64(4) {
			sc := scenarioOf(t, map[string]string{"design": "outbox-idempotent", "payments": "200",
				"seed": strconv.FormatUint(seed+1, 10), "faults": "crash.relay=" + strconv.FormatFloat(p, 'g', -1, 64)})
			res, err := Run(sc, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := res.Report
			perPayment := float64(r.Published) / float64(r.Committed)
			// A crash is one decision per batch, and a run has only a
			// dozen or so batches, so one seed's mean strays from
			// 1/(1−p); twice that still rules out the livelock, which
			// published over 1,600 times per payment.
			limit := 2 / (1 - p)
			if !r.Settled() || !r.Converged || r.Lost != 0 || perPayment > limit {
				t.Errorf("crash.relay=%g seed %d: stopped %q, converged %v, lost %d, %.2f publishes per payment (want at most %.2f)",
					p, seed+1, r.Stopped, r.Converged, r.Lost, perPayment, limit)
			}
		}
	}
}
