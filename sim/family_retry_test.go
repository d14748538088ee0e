package sim

import (
	"slices"
	"testing"
	"time"
)

// retryScenario is a retry-family run with the client's timeout set.
func retryScenario(design string, seed uint64, payments int, faults Faults, timeout time.Duration) Scenario {
	sc := scenario(design, seed, payments, faults)
	sc.ClientTimeout = Duration(timeout)
	return sc
}

// The keyed service never charges a request twice, whatever is lost, slow,
// crashed or failed, and whatever the client's timeout: down to timeouts
// shorter than a round trip, where every attempt is in flight at once.
func TestIdempotencyKeyNeverDoubleCharges(t *testing.T) {
	timeouts := []time.Duration{0, 12 * time.Millisecond, 6 * time.Millisecond, time.Millisecond}
	for seed := uint64(1); seed <= 40; seed++ {
		mix := randomMix(seed, 0.15)
		timeout := timeouts[seed%uint64(len(timeouts))]
		r := runReport(t, retryScenario("retry-idempotency-key", seed, 80, mix, timeout))
		if measured(t, r, ViolationDoubleCharge) != 0 {
			t.Errorf("seed %d faults %s timeout %v: double_charges %v, want a measured 0", seed, mix, timeout, measured(t, r, ViolationDoubleCharge))
		}
		if !r.Converged || r.Stopped != "quiet" {
			t.Errorf("seed %d faults %s timeout %v: converged %v stopped %q", seed, mix, timeout, r.Converged, r.Stopped)
		}
	}
}

// A lost answer makes the naive client retry a charge that happened, and
// the naive service charges it again; the first double charge is marked
// on the lost answer that made the client ask again.
func TestNaiveRetriesDoubleChargeWhenAnswersAreLost(t *testing.T) {
	events, r, err := Record(retryScenario("retry-naive", 42, 300, Faults{}.Set(NetDrop, 0.1), 0))
	if err != nil {
		t.Fatal(err)
	}
	if measured(t, r, ViolationDoubleCharge) == 0 || r.Converged {
		t.Fatalf("seed 42 net.drop=0.1: double_charges %v converged %v, want some and not converged", measured(t, r, ViolationDoubleCharge), r.Converged)
	}
	first := events[r.FirstViolation[ViolationDoubleCharge]-1]
	if first.Kind != KindDrop || first.Violation != ViolationDoubleCharge {
		t.Errorf("seed 42: first double charge is event %d %s %q marked %q, want the lost answer marked double_charges",
			first.ID, first.Kind, first.Note, first.Violation)
	}
	marked := 0
	for _, ev := range events {
		if ev.Violation == ViolationDoubleCharge {
			marked++
		}
	}
	if marked != measured(t, r, ViolationDoubleCharge) {
		t.Errorf("seed 42: %d events marked double_charges, report counts %d", marked, measured(t, r, ViolationDoubleCharge))
	}
}

// With no jitter and every message duplicated by the network, both copies
// of a request reach the service at the same instant: two attempts are in
// flight at once, the second waiting on the first's transaction. The naive
// service charges both; the keyed one charges each payment exactly once.
func TestConcurrentAttemptsChargeOnceWithAKey(t *testing.T) {
	const payments = 50
	for _, c := range []struct {
		design      string
		wantCharges int
	}{
		{"retry-naive", 2 * payments},
		{"retry-idempotency-key", payments},
	} {
		sc := retryScenario(c.design, 5, payments, Faults{}.Set(NetDup, 1), 0)
		sc.Jitter = 0
		events, r, err := Record(sc)
		if err != nil {
			t.Fatal(err)
		}
		if measured(t, r, "charges") != c.wantCharges {
			t.Errorf("%s: charges %d, want %d", c.design, measured(t, r, "charges"), c.wantCharges)
		}
		// Evidence that the attempts overlapped: a payment's later request
		// arrived at the service before any answer to it was sent.
		arrived, answered := map[int]int{}, map[int]bool{}
		overlapped := 0
		for _, ev := range events {
			switch {
			case ev.Node == NodeService && (ev.Kind == KindDeliver || ev.Kind == KindDuplicate) && ev.Peer == NodeClient:
				if arrived[ev.Payment]++; arrived[ev.Payment] == 2 && !answered[ev.Payment] {
					overlapped++
				}
			case ev.Node == NodeService && ev.Kind == KindSend && ev.Peer == NodeClient:
				answered[ev.Payment] = true
			}
		}
		if overlapped == 0 {
			t.Errorf("%s: no payment had two attempts in flight at once; the test proves nothing", c.design)
		}
	}
}

// Both designs meet the same lost messages: on one seed, the payments
// whose first answer is lost are the ones the naive design charges twice
// (with no other fault, and a timeout long enough for any answer).
func TestNaiveDoubleChargesAreThePaymentsWhoseAnswerWasLost(t *testing.T) {
	sc := retryScenario("retry-naive", 9, 300, Faults{}.Set(NetDrop, 0.1), 0)
	events, _, err := Record(sc)
	if err != nil {
		t.Fatal(err)
	}
	lostAnswer, doubled := map[int]bool{}, map[int]bool{}
	for _, ev := range events {
		if ev.Kind == KindDrop && ev.Node == NodeClient {
			lostAnswer[ev.Payment] = true
		}
		if ev.Violation == ViolationDoubleCharge {
			doubled[ev.Payment] = true
		}
	}
	if len(doubled) == 0 {
		t.Fatal("seed 9: nothing charged twice")
	}
	for id := range doubled {
		if !lostAnswer[id] {
			t.Errorf("seed 9: payment %d charged twice but none of its answers was lost", id)
		}
	}
	keyed, _, err := Record(retryScenario("retry-idempotency-key", 9, 300, Faults{}.Set(NetDrop, 0.1), 0))
	if err != nil {
		t.Fatal(err)
	}
	keyedLost := map[int]bool{}
	for _, ev := range keyed {
		if ev.Kind == KindDrop && ev.Node == NodeClient {
			keyedLost[ev.Payment] = true
		}
	}
	for id := range doubled {
		if !keyedLost[id] {
			t.Errorf("seed 9: payment %d's answer was lost in retry-naive but not in retry-idempotency-key", id)
		}
	}
}

func TestRetryFamilyReportsOnlyItsOwnKeys(t *testing.T) {
	r := runReport(t, retryScenario("retry-naive", 1, 20, Faults{}, 0))
	want := []string{"charges", "retries", ViolationDoubleCharge, "timeouts", "retries_after_charge", "keyed_requests"}
	var got []string
	for _, c := range r.Counts {
		got = append(got, c.Key)
	}
	if !slices.Equal(got, want) {
		t.Errorf("retry-naive reports keys %v, want %v", got, want)
	}
	o := runReport(t, scenario("outbox", 1, 20, Faults{}))
	for _, c := range o.Counts {
		if slices.Contains(want, c.Key) && c.Key != "timeouts" {
			t.Errorf("outbox reports the retry family's key %s", c.Key)
		}
	}
}
