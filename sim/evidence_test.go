package sim

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// The repro of issue 9: dual write under duplicated requests and failed
// publishes marked payment 200 lost at event 6216, a harmless duplicate of
// its request that arrived after its commit. The mark belongs on the
// publish that failed, event 6222, and its note says how that lost it.
func TestLostIsMarkedOnTheFailedPublish(t *testing.T) {
	sc := scenario("dual-write", 1, 300, Faults{}.Set(NetDup, 0.3).Set(BusPublishFail, 0.1))
	sc.Jitter = Duration(10 * time.Millisecond)
	events, r, err := Record(sc)
	if err != nil {
		t.Fatal(err)
	}
	var marked []Event
	for _, ev := range events {
		if ev.Payment == 200 && ev.Violation != "" {
			marked = append(marked, ev)
		}
	}
	if len(marked) != 1 {
		t.Fatalf("payment 200 has %d marked events, want 1 (lost %d)", len(marked), r.Lost)
	}
	ev := marked[0]
	if ev.ID != 6222 || ev.Kind != KindPubFail || ev.Violation != ViolationLost {
		t.Errorf("payment 200's evidence is event %d (%s, %s), want the failed publish, event 6222", ev.ID, ev.Kind, ev.Violation)
	}
	if !strings.Contains(ev.Note, "nothing published it again") || !strings.Contains(ev.Note, "(lost)") {
		t.Errorf("event 6222's note %q does not say how it lost the payment", ev.Note)
	}
	if d := events[6216-1]; d.Kind != KindDuplicate || d.Violation != "" {
		t.Errorf("event 6216 (%s) is marked %q, want the harmless duplicate unmarked", d.Kind, d.Violation)
	}
}

// Over many seeds and fault mixes, a lost payment's evidence is the fault
// that stopped it on its way to the bus (a failed publish, a publish lost
// in the network, a crash), or, when no fault did, its own commit; a
// phantom's is the fault that stopped its save, or its ledger entry. Every
// mark's note names its payment and its violation.
func TestLossEvidenceIsTheCause(t *testing.T) {
	causes := 0
	for seed := uint64(1); seed <= 12; seed++ {
		for _, design := range []string{"dual-write", "publish-first", "dual-write-retry"} {
			events, _, err := Record(scenario(design, seed, 80, randomMix(seed, 0.15)))
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range events {
				if ev.Violation != ViolationLost && ev.Violation != ViolationPhantom {
					continue
				}
				id, ok := notedPayment(ev.Note)
				if !ok || !strings.Contains(ev.Note, "("+ev.Violation+")") {
					t.Errorf("%s seed %d: event %d's note %q does not name its payment and violation", design, seed, ev.ID, ev.Note)
					continue
				}
				cause := ev.Fault != "" && (ev.Payment == id || ev.Kind == KindCrash)
				own := ev.Payment == id && (ev.Kind == KindCommit && ev.Violation == ViolationLost || ev.Kind == KindEffect && ev.Violation == ViolationPhantom)
				if !cause && !own {
					t.Errorf("%s seed %d: payment %d's %s evidence is event %d (%s, fault %q): neither a fault that struck it nor its own record",
						design, seed, id, ev.Violation, ev.ID, ev.Kind, ev.Fault)
				}
				if cause {
					causes++
					if ev.Fault == NetDup.String() || ev.Fault == BusRedeliver.String() {
						t.Errorf("%s seed %d: event %d, a copy (%s), is blamed for payment %d's %s", design, seed, ev.ID, ev.Fault, id, ev.Violation)
					}
				}
			}
		}
	}
	if causes < 20 {
		t.Errorf("only %d losses were blamed on a fault; the mixes hardly test the evidence", causes)
	}
}

// notedPayment reads the payment a mark's note is about ("… payment 12 …").
func notedPayment(note string) (int, bool) {
	_, after, ok := strings.Cut(note, "payment ")
	if !ok {
		return 0, false
	}
	end := strings.IndexFunc(after, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(after)
	}
	n, err := strconv.Atoi(after[:end])
	return n, err == nil
}
