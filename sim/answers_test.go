package sim

import (
	"testing"
	"time"
)

// The repro of issue 9: decide-from-primary under net.dup=0.2 counted 219
// answers for 200 payments, because a duplicated request that its own
// first copy had already accepted was declined as well. A payment is
// counted once.
func TestDuplicatedRequestsAreNotDeclinedAgain(t *testing.T) {
	fs, err := ParseFaults("net.dup=0.2")
	if err != nil {
		t.Fatal(err)
	}
	r := runReport(t, scenario("decide-from-primary", 1, 200, fs))
	accepted, declined := measured(t, r, "accepted"), measured(t, r, "declined")
	if accepted+declined > 200 {
		t.Errorf("accepted %d + declined %d = %d for 200 payments", accepted, declined, accepted+declined)
	}
	if r.Injected["net.dup"] == 0 || declined == 0 {
		t.Fatalf("net.dup fired %d times, declined %d: the scenario no longer tests duplicates that meet the limit", r.Injected["net.dup"], declined)
	}
}

// Over every design and many seeds and fault mixes, with the network
// duplicating requests and partitions refusing them, the payments counted
// as accepted, declined and rejected never add up to more than the
// payments sent: each key counts payments, not copies of a request.
func TestAnswersNeverExceedThePaymentsSent(t *testing.T) {
	const seeds, payments = 20, 60
	for _, d := range Designs() {
		for seed := uint64(1); seed <= seeds; seed++ {
			sc := scenario(d.Name, seed, payments, randomMix(seed, 0.1).Set(NetDup, 0.3))
			if seed%2 == 0 {
				sc.Faults[NetPartition] = 0.9
				sc.PartitionDuration = Duration(time.Duration(20+seed%3*40) * time.Millisecond)
			}
			r := runReport(t, sc)
			sum := r.Count("accepted") + r.Count("declined") + r.Count("rejected")
			if sum > payments {
				t.Errorf("%s seed %d faults %s: accepted %d + declined %d + rejected %d = %d > %d payments sent",
					d.Name, seed, sc.Faults, r.Count("accepted"), r.Count("declined"), r.Count("rejected"), sum, payments)
			}
		}
	}
}
