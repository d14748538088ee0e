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
