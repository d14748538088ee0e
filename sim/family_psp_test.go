package sim

import (
	"slices"
	"strings"
	"testing"
)

// psp-atomic-phases never has the provider charge a card twice, whatever
// the faults: the key is fixed before the first try and committed before
// the provider is called, and an unknown outcome is looked up.
func TestAtomicPhasesNeverChargeTwice(t *testing.T) {
	retried := 0
	for seed := uint64(1); seed <= 30; seed++ {
		mix := randomMix(seed, 0.15)
		r := runReport(t, scenario("psp-atomic-phases", seed, 200, mix))
		if n := measured(t, r, ViolationDoubleCharge); n != 0 {
			t.Errorf("seed %d faults %s: double_charges %d, want 0", seed, mix, n)
		}
		if measured(t, r, "retries") > 0 {
			retried++
		}
	}
	if retried < 20 {
		t.Errorf("only %d of 30 runs retried anything: the claim was hardly tested", retried)
	}
}

// psp-naive charges cards twice on most seeds once answers get lost, and
// each double charge is marked on the provider's second charge.
func TestNaiveProviderCallsChargeTwice(t *testing.T) {
	failed := 0
	for seed := uint64(1); seed <= 20; seed++ {
		events, r, err := Record(scenario("psp-naive", seed, 200, Faults{}.Set(NetDrop, 0.05)))
		if err != nil {
			t.Fatal(err)
		}
		if measured(t, r, ViolationDoubleCharge) > 0 {
			failed++
		}
		for _, ev := range events {
			if ev.Violation == ViolationDoubleCharge && (ev.Node != NodePSP || ev.Kind != KindEffect) {
				t.Errorf("seed %d: event %d marked double_charges is %s on %s, want a charge at the provider", seed, ev.ID, ev.Kind, ev.Node)
			}
		}
	}
	if failed < 18 {
		t.Errorf("psp-naive charged twice on %d of 20 seeds under net.drop=0.05; it should fail readily", failed)
	}
}

// The idempotency-key item's old good form called the provider inside the
// transaction that claims the key: a commit that fails after the charge
// rolls the key back, and the retry charges again. Under db.fail alone,
// psp-naive (whose record of the charge commits after the call) charges
// twice, each time for a payment whose commit failed after the provider
// had charged it; the atomic phases, which commit the key first, meet the
// same failed commits after a charge and never charge twice.
func TestCommitFailureAfterAProviderCharge(t *testing.T) {
	// afterCharge lists the payments whose service commit failed after the
	// provider had charged their card.
	afterCharge := func(events []Event) map[int]bool {
		charged, out := map[int]bool{}, map[int]bool{}
		for _, ev := range events {
			switch {
			case ev.Node == NodePSP && ev.Kind == KindEffect:
				charged[ev.Payment] = true
			case ev.Node == NodeServiceDB && ev.Kind == KindCommitErr && charged[ev.Payment]:
				out[ev.Payment] = true
			}
		}
		return out
	}
	naive, phased, phasedMet := 0, 0, 0
	for seed := uint64(1); seed <= 10; seed++ {
		sc := scenario("psp-naive", seed, 200, Faults{}.Set(DBFail, 0.1))
		events, r, err := Record(sc)
		if err != nil {
			t.Fatal(err)
		}
		naive += measured(t, r, ViolationDoubleCharge)
		failed := afterCharge(events)
		for _, ev := range events {
			if ev.Violation == ViolationDoubleCharge && !failed[ev.Payment] {
				t.Errorf("psp-naive seed %d: payment %d charged twice without a failed commit after its charge", seed, ev.Payment)
			}
		}
		sc.Design = "psp-atomic-phases"
		events, r, err = Record(sc)
		if err != nil {
			t.Fatal(err)
		}
		phased += measured(t, r, ViolationDoubleCharge)
		phasedMet += len(afterCharge(events))
	}
	if naive == 0 || phased != 0 || phasedMet == 0 {
		t.Errorf("under db.fail=0.1 over 10 seeds: psp-naive charged %d payments twice, psp-atomic-phases %d after %d failed commits after a charge; want some, none and some",
			naive, phased, phasedMet)
	}
}

// A timeout is resolved by asking: psp-atomic-phases looks the key up, and
// a look-up that finds the charge settles the payment without charging.
func TestAtomicPhasesLookUpAnUnknownOutcome(t *testing.T) {
	events, r, err := Record(scenario("psp-atomic-phases", 3, 200, Faults{}.Set(NetDrop, 0.1)))
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, ev := range events {
		if ev.Node == NodePSP && ev.Kind == KindQuery && strings.Contains(ev.Note, "was charged") {
			found++
		}
	}
	if found == 0 || measured(t, r, ViolationDoubleCharge) != 0 {
		t.Errorf("seed 3: %d look-ups found an earlier charge, double_charges %d; want some and 0", found, measured(t, r, ViolationDoubleCharge))
	}
}

// The client's requests meet the same network faults as in the retry
// family: the payments whose first request is lost are the same. (Later
// attempts differ by design, since whether a client retries depends on
// what the design answered.)
func TestThirdPartyFamilyMeetsTheSameRequestDrops(t *testing.T) {
	first := func(design string) []int {
		events, _, err := Record(scenario(design, 11, 200, Faults{}.Set(NetDrop, 0.1)))
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		seen := map[int]bool{}
		for _, ev := range events {
			if ev.Kind == KindRequest && !seen[ev.Payment] {
				seen[ev.Payment] = true
				for _, d := range events[ev.ID:] {
					if d.Cause == ev.ID && d.Kind == KindDrop {
						out = append(out, ev.Payment)
					}
				}
			}
		}
		slices.Sort(out)
		return out
	}
	a, b := first("psp-naive"), first("retry-naive")
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Errorf("seed 11: psp-naive lost the first requests of %v, retry-naive of %v; want the same, and some", a, b)
	}
}
