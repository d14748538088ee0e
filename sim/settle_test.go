package sim

import (
	"context"
	"testing"
)

// A good design under any fault probabilities below 1 settles within the
// default limits, or its report says which limit cut it and what was
// still in flight; either way it reports no violation. The mixes are
// extreme: random ones with each fault up to 0.99, and every fault at 0.9.
func TestGoodDesignsSettleOrSayWhyUnderExtremeFaults(t *testing.T) {
	runs, settled := 0, 0
	// The designs whose guarantees hold under every fault.
	for _, design := range []string{"outbox-idempotent", "retry-idempotency-key", "decide-from-primary", "partition-cp", "consumer-versioned",
		"cache-versioned", "psp-atomic-phases", "consumer-dead-letter"} {
		for seed := uint64(1); seed <= 6; seed++ {
			mix := randomMix(seed*7919, 0.99)
			if seed%3 == 0 {
				mix = allFaults(0.9)
			}
			sc := DefaultScenario()
			sc.Design, sc.Seed, sc.Faults, sc.Payments = design, seed, mix, 50
			res, err := RunContext(context.Background(), sc, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := res.Report
			runs++
			switch {
			case r.Settled():
				settled++
			case r.Stopped != "deadline" && r.Stopped != "event-limit":
				t.Errorf("%s seed %d faults %s: stopped %q", design, seed, mix, r.Stopped)
			case r.InFlightCount() == 0:
				t.Errorf("%s seed %d faults %s: cut by its %s with nothing in flight (%v)", design, seed, mix, r.Stopped, r.InFlight)
			}
			if len(r.FirstViolation) != 0 {
				t.Errorf("%s seed %d faults %s: stopped %q with violations %v", design, seed, mix, r.Stopped, r.FirstViolation)
			}
		}
	}
	if settled*4 < runs*3 {
		t.Errorf("only %d of %d runs settled within the default limits", settled, runs)
	}
}
