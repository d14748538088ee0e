package sim

import (
	"testing"
	"time"
)

func staleScenario(design string, seed uint64, payments int, faults Faults, lag time.Duration) Scenario {
	sc := scenario(design, seed, payments, faults)
	sc.ReplicaLag = Duration(lag)
	return sc
}

// Deciding on the primary, inside the transaction that records the
// payment, never decides on an old total and never lets a customer over
// the limit: whatever the faults and however far the replica lags.
func TestDecideFromPrimaryNeverStaleNeverBreaches(t *testing.T) {
	lags := []time.Duration{0, 5 * time.Millisecond, DefaultReplicaLag, time.Second}
	tested := 0
	for seed := uint64(1); seed <= 40; seed++ {
		mix := randomMix(seed, 0.15)
		lag := lags[seed%uint64(len(lags))]
		r := runReport(t, staleScenario("decide-from-primary", seed, 300, mix, lag))
		if measured(t, r, ViolationStale) != 0 || measured(t, r, ViolationLimitBreach) != 0 {
			t.Errorf("seed %d faults %s lag %v: stale_decisions %v limit_breaches %v, want measured zeros",
				seed, mix, lag, measured(t, r, ViolationStale), measured(t, r, ViolationLimitBreach))
		}
		if !r.Converged || r.Stopped != "quiet" {
			t.Errorf("seed %d faults %s lag %v: converged %v stopped %q", seed, mix, lag, r.Converged, r.Stopped)
		}
		if measured(t, r, "declined") > 0 {
			tested++
		}
	}
	if tested < 20 {
		t.Errorf("only %d of 40 runs declined anything: the limit was hardly tested", tested)
	}
}

// Deciding on a lagging replica decides on old totals and lets customers
// over their limit; the evidence is the stale read and the commit that
// took the customer over.
func TestDecideFromReplicaBreachesTheLimit(t *testing.T) {
	events, r, err := Record(staleScenario("decide-from-replica", 42, 200, Faults{}, DefaultReplicaLag))
	if err != nil {
		t.Fatal(err)
	}
	if measured(t, r, ViolationStale) == 0 || measured(t, r, ViolationLimitBreach) == 0 || r.Converged {
		t.Fatalf("seed 42: stale_decisions %d limit_breaches %d converged %v, want both and not converged",
			measured(t, r, ViolationStale), measured(t, r, ViolationLimitBreach), r.Converged)
	}
	marked := map[string]int{}
	for _, ev := range events {
		switch ev.Violation {
		case ViolationStale:
			marked[ev.Violation]++
			if ev.Node != NodeReplicaDB || ev.Kind != KindQuery {
				t.Errorf("event %d marked stale is %s on %s, want a read of the replica", ev.ID, ev.Kind, ev.Node)
			}
		case ViolationLimitBreach:
			marked[ev.Violation]++
			if ev.Node != NodeServiceDB || ev.Kind != KindCommit {
				t.Errorf("event %d marked limit_breaches is %s on %s, want the commit that went over", ev.ID, ev.Kind, ev.Node)
			}
		}
	}
	if marked[ViolationStale] != measured(t, r, ViolationStale) || marked[ViolationLimitBreach] != measured(t, r, ViolationLimitBreach) {
		t.Errorf("marked %v, report counts stale %d breaches %d", marked, measured(t, r, ViolationStale), measured(t, r, ViolationLimitBreach))
	}
}

// The checker's definition, counted independently: with a replica that
// trails by more than the whole run, every total read from it is zero, so
// every accepted payment but each customer's first was decided on a stale
// total.
func TestReplicaLagIsWhatMakesDecisionsStale(t *testing.T) {
	events, r, err := Record(staleScenario("decide-from-replica", 3, 200, Faults{}, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	wantStale := 0
	for _, ev := range events {
		if ev.Kind == KindExec && ev.Node == NodeServiceDB && ev.SQL == insertPayment {
			account := ev.Args[1].(string)
			if seen[account] {
				wantStale++
			}
			seen[account] = true
		}
	}
	if wantStale == 0 || measured(t, r, ViolationStale) != wantStale {
		t.Errorf("lag 1m: stale_decisions %d, want %d (every accepted payment but each customer's first)", measured(t, r, ViolationStale), wantStale)
	}
}

// A confirmation page that reads the customer's own payment where it was
// written never makes a customer pay twice, whatever the faults and the
// lag; one that reads the replica does so readily, whenever the replica
// lags behind the round trip.
func TestConfirmationPageReadsYourWrites(t *testing.T) {
	lags := []time.Duration{5 * time.Millisecond, DefaultReplicaLag, time.Second}
	badFailed, exercised := 0, 0
	const seeds = 30
	for seed := uint64(1); seed <= seeds; seed++ {
		mix := randomMix(seed, 0.15)
		lag := lags[seed%uint64(len(lags))]
		good := runReport(t, staleScenario("confirm-read-your-writes", seed, 200, mix, lag))
		if n := measured(t, good, ViolationDoublePayment); n != 0 {
			t.Errorf("confirm-read-your-writes seed %d faults %s lag %v: double_payments %d, want 0", seed, mix, lag, n)
		}
		if measured(t, good, "confirm_lagged") > 0 {
			exercised++
		}
		if !good.Converged && good.Stopped == "quiet" {
			t.Errorf("confirm-read-your-writes seed %d faults %s lag %v: not converged", seed, mix, lag)
		}
		bad := runReport(t, staleScenario("confirm-from-replica", seed, 200, mix, lag))
		if measured(t, bad, ViolationDoublePayment) > 0 {
			badFailed++
			if bad.Converged {
				t.Errorf("confirm-from-replica seed %d: double payments, yet converged", seed)
			}
		}
	}
	if exercised < seeds*2/3 {
		t.Errorf("the good design's page read missed its own write in only %d of %d runs: hardly tested", exercised, seeds)
	}
	if badFailed < seeds*9/10 {
		t.Errorf("confirm-from-replica paid twice in only %d of %d runs, want nearly all", badFailed, seeds)
	}
}

// The evidence of a double payment is the commit of its second charge,
// and the report counts exactly the payments the database holds twice.
func TestConfirmFromReplicaMarksTheSecondCharge(t *testing.T) {
	events, r, err := Record(staleScenario("confirm-from-replica", 42, 100, Faults{}, DefaultReplicaLag))
	if err != nil {
		t.Fatal(err)
	}
	// Counted independently: the inserts of a charge whose commit followed,
	// per payment.
	inserted := map[int]int{}
	for _, ev := range events {
		if ev.Kind == KindExec && ev.Node == NodeServiceDB && ev.SQL == insertKeyedCharge {
			inserted[ev.Payment]++
		}
	}
	twice := 0
	for _, n := range inserted {
		if n > 1 {
			twice++
		}
	}
	marked := 0
	for _, ev := range events {
		if ev.Violation == ViolationDoublePayment {
			marked++
			if ev.Node != NodeServiceDB || ev.Kind != KindCommit {
				t.Errorf("event %d marked double_payments is %s on %s, want the second charge's commit", ev.ID, ev.Kind, ev.Node)
			}
		}
	}
	if got := measured(t, r, ViolationDoublePayment); got == 0 || got != twice || marked != got {
		t.Errorf("double_payments %d, payments inserted twice %d, marked %d: want equal and positive", got, twice, marked)
	}
	if measured(t, r, "confirm_lagged") < twice {
		t.Errorf("confirm_lagged %d below double_payments %d: each double payment began with a page read that missed its charge", measured(t, r, "confirm_lagged"), twice)
	}
}

// With a replica that keeps up within the round trip, the page finds the
// charge and nobody pays twice, even reading the replica: the lag is the
// cause, not the replica.
func TestConfirmFromReplicaHoldsWithoutLag(t *testing.T) {
	r := runReport(t, staleScenario("confirm-from-replica", 42, 100, Faults{}, 0))
	if measured(t, r, ViolationDoublePayment) != 0 || measured(t, r, "confirm_lagged") != 0 {
		t.Errorf("lag 0: double_payments %d confirm_lagged %d, want 0 and 0",
			measured(t, r, ViolationDoublePayment), measured(t, r, "confirm_lagged"))
	}
}
