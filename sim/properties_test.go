package sim

import (
	"math"
	"testing"
)

// randomMix draws a fault mix from the seed itself: each fault on with some
// probability, at up to maxP. Deterministic, so a failure names its seed.
func randomMix(seed uint64, maxP float64) Faults {
	var fs Faults
	for f := range fs {
		if uniform(seed, 7, uint64(f), 0, 0) < 0.5 {
			fs[f] = math.Round(uniform(seed, 8, uint64(f), 0, 0)*maxP*1000) / 1000
		}
	}
	return fs
}

func runReport(t *testing.T, sc Scenario) Report {
	t.Helper()
	res, err := Run(sc, nil)
	if err != nil {
		t.Fatalf("seed %d faults %s: %v", sc.Seed, sc.Faults, err)
	}
	return res.Report
}

// The guarantees each design makes, checked over many seeds and fault mixes.
func TestDesignGuaranteesHoldOverManySeeds(t *testing.T) {
	const seeds = 60
	for seed := uint64(1); seed <= seeds; seed++ {
		mix := randomMix(seed, 0.1)
		for _, design := range []string{"outbox-idempotent", "outbox", "dual-write", "publish-first"} {
			r := runReport(t, scenario(design, seed, 80, mix))
			if r.Stopped != "quiet" {
				t.Errorf("%s seed %d faults %s: stopped %q, want quiet (the deadline is generous)", design, seed, mix, r.Stopped)
			}
			switch design {
			case "outbox-idempotent":
				if !r.Converged {
					t.Errorf("outbox-idempotent seed %d faults %s: lost %d phantom %d duplicates %d, want converged",
						seed, mix, r.Lost, r.Phantom, r.DuplicateEffects)
				}
			case "outbox":
				if r.Lost != 0 || r.Phantom != 0 {
					t.Errorf("outbox seed %d faults %s: lost %d phantom %d, want neither", seed, mix, r.Lost, r.Phantom)
				}
			case "dual-write":
				if r.Phantom != 0 {
					t.Errorf("dual-write seed %d faults %s: phantom %d, want 0: it saves before it publishes", seed, mix, r.Phantom)
				}
			case "publish-first":
				if r.Lost != 0 {
					t.Errorf("publish-first seed %d faults %s: lost %d, want 0: it publishes before it saves", seed, mix, r.Lost)
				}
			}
		}
	}
}

// Each bad design fails where the handbook says it does, on a fixed seed.
func TestBadDesignsFailWhereTheyShould(t *testing.T) {
	cases := []struct {
		design, faults, key string
	}{
		{"dual-write", "bus.publish.fail=0.1", ViolationLost},
		{"dual-write", "crash.service=0.01", ViolationLost},
		{"publish-first", "db.fail=0.1", ViolationPhantom},
		{"outbox", "bus.ack.lost=0.1", ViolationDuplicate},
		{"outbox", "crash.relay=0.02", ViolationDuplicate},
		{"dual-write-retry", "bus.ack.lost=0.1", ViolationDuplicate},
	}
	for _, c := range cases {
		fs, err := ParseFaults(c.faults)
		if err != nil {
			t.Fatal(err)
		}
		r := runReport(t, scenario(c.design, 42, 500, fs))
		if r.Count(c.key) == 0 {
			t.Errorf("%s seed 42 %s: %s = 0, want > 0", c.design, c.faults, c.key)
			continue
		}
		if r.FirstViolation[c.key] == 0 {
			t.Errorf("%s seed 42 %s: %s = %d but no first_violation event", c.design, c.faults, c.key, r.Count(c.key))
		}
	}
}

// The evidence events the checker marks are what the UI jumps to: there is
// one mark per counted violation, and each points at an event about a payment.
func TestMarksMatchCountsAndPointAtEvidence(t *testing.T) {
	for _, design := range DesignNames() {
		sc := scenario(design, 11, 200, allFaults(0.03))
		events, r, err := Record(sc)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, ev := range events {
			if ev.Violation == "" {
				continue
			}
			count[ev.Violation]++
			if ev.Payment == 0 {
				t.Errorf("%s seed 11: event %d marked %s is about no payment", design, ev.ID, ev.Violation)
			}
			if first := r.FirstViolation[ev.Violation]; first > ev.ID {
				t.Errorf("%s seed 11: first_violation[%s] = %d, but event %d is marked earlier", design, ev.Violation, first, ev.ID)
			}
		}
		for _, key := range Violations {
			if count[key] != r.Count(key) {
				t.Errorf("%s seed 11: %d events marked %s, report counts %d", design, count[key], key, r.Count(key))
			}
		}
	}
}

// A lost payment's evidence is the fault that lost it: under
// bus.publish.fail alone, the failed publish itself.
func TestLostEvidenceIsTheFailedPublish(t *testing.T) {
	events, r, err := Record(scenario("dual-write", 42, 300, Faults{}.Set(BusPublishFail, 0.1)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Lost == 0 {
		t.Fatal("seed 42: no payment lost under bus.publish.fail=0.1")
	}
	ev := events[r.FirstViolation[ViolationLost]-1]
	if ev.Kind != KindPubFail || ev.Fault != BusPublishFail.String() {
		t.Errorf("seed 42: first lost evidence is %s/%s (%q), want the publish-fail event", ev.Kind, ev.Fault, ev.Note)
	}
}

// With only bus.publish.fail=p, dual-write loses each committed payment
// with probability p: the fraction lost must sit within statistical bounds.
func TestLossRateMatchesPublishFailProbability(t *testing.T) {
	const n = 4000
	for _, p := range []float64{0.02, 0.1, 0.3} {
		for _, seed := range []uint64{1, 2, 3} {
			r := runReport(t, scenario("dual-write", seed, n, Faults{}.Set(BusPublishFail, p)))
			if r.Committed != n {
				t.Fatalf("seed %d p %v: committed %d of %d with no other fault", seed, p, r.Committed, n)
			}
			got := float64(r.Lost) / float64(r.Committed)
			sd := math.Sqrt(p * (1 - p) / n)
			if math.Abs(got-p) > 4.5*sd {
				t.Errorf("seed %d p %v: lost fraction %.4f, want within 4.5σ (%.4f) of p", seed, p, got, 4.5*sd)
			}
		}
	}
}

// Faults are keyed: on one seed, the payments whose first publish fails
// are the same whichever design does the publishing.
func TestFirstPublishFailuresAreTheSameAcrossDesigns(t *testing.T) {
	firstFailed := func(design string) map[int]bool {
		events, _, err := Record(scenario(design, 99, 400, Faults{}.Set(BusPublishFail, 0.15)))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		failed := map[int]bool{}
		for _, ev := range events {
			isPublish := ev.Kind == KindPubFail || (ev.Kind == KindSend && ev.Peer == NodeBus && len(ev.Note) > 8 && ev.Note[:8] == "publish ")
			if !isPublish || seen[ev.Payment] {
				continue
			}
			seen[ev.Payment] = true
			if ev.Kind == KindPubFail {
				failed[ev.Payment] = true
			}
		}
		if len(seen) == 0 {
			t.Fatalf("%s: no publishes seen", design)
		}
		return failed
	}
	dual, outbox := firstFailed("dual-write"), firstFailed("outbox")
	if len(dual) == 0 {
		t.Fatal("seed 99: no first publish failed at p = 0.15")
	}
	for id := range dual {
		if !outbox[id] {
			t.Errorf("seed 99: payment %d's first publish failed in dual-write but not in outbox", id)
		}
	}
	for id := range outbox {
		if !dual[id] {
			t.Errorf("seed 99: payment %d's first publish failed in outbox but not in dual-write", id)
		}
	}
}
