package sim

import (
	"context"
	"reflect"
	"slices"
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

// A duplicate ledger entry is marked on what put the second copy on its
// way (a request or publish the network duplicated, a lost ack, a
// redelivery, a crash, or when none is known the delivery that reached the
// consumer again), or on the entry itself, whose note then names its
// payment; never on an event about another payment unless it is a crash.
// A run that keeps its evidence hands back the same first duplicate.
func TestDuplicateEvidenceIsWhatMadeTheCopy(t *testing.T) {
	causes := 0
	copyKinds := []string{KindDeliver, KindDuplicate, KindRedeliver, KindPublish, KindAckLost, KindTimeout, KindCrash, KindDown, KindDrop}
	for seed := uint64(1); seed <= 10; seed++ {
		for _, design := range []string{"dual-write", "outbox", "dual-write-retry"} {
			sc := scenario(design, seed, 60, randomMix(seed, 0.15))
			events, rep, err := Record(sc)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range events {
				if ev.Violation != ViolationDuplicate {
					continue
				}
				id, ok := notedPayment(ev.Note)
				if !ok || !strings.Contains(ev.Note, "(duplicate_effects)") {
					t.Errorf("%s seed %d: event %d's note %q does not name its payment", design, seed, ev.ID, ev.Note)
					continue
				}
				switch {
				case ev.Kind == KindEffect && ev.Payment == id:
				case slices.Contains(copyKinds, ev.Kind) && (ev.Payment == id || ev.Kind == KindCrash):
					causes++
				default:
					t.Errorf("%s seed %d: payment %d's duplicate is marked on event %d (%s, payment %d)", design, seed, id, ev.ID, ev.Kind, ev.Payment)
				}
			}
			res, err := RunContext(context.Background(), sc, nil, Options{KeepEvidence: true})
			if err != nil {
				t.Fatal(err)
			}
			if id, ok := rep.FirstViolation[ViolationDuplicate]; ok {
				if got := res.FirstEvents[ViolationDuplicate]; !reflect.DeepEqual(got, events[id-1]) {
					t.Errorf("%s seed %d: first duplicate kept as\n%+v\nrecorded as\n%+v", design, seed, got, events[id-1])
				}
			}
		}
	}
	if causes < 20 {
		t.Errorf("only %d duplicates were marked on their cause", causes)
	}
}

// The outbox under lost broker acks: the relay publishes a payment again
// because the broker's ack of its first publish was lost, and the ledger
// posts it twice. The first duplicate is marked on that lost ack, an event
// before the second ledger entry, and the note says so.
func TestDuplicateIsMarkedOnTheLostAck(t *testing.T) {
	sc := scenario("outbox", 1, 100, Faults{}.Set(BusAckLost, 0.2))
	events, rep, err := Record(sc)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := rep.FirstViolation[ViolationDuplicate]
	if !ok {
		t.Fatalf("no duplicate under bus.ack.lost=0.2: %+v", rep)
	}
	ev := events[id-1]
	if ev.Kind != KindAckLost || ev.Violation != ViolationDuplicate {
		t.Fatalf("the first duplicate is marked on event %d (%s, %q), want a lost ack", id, ev.Kind, ev.Violation)
	}
	if !strings.Contains(ev.Note, "another copy of payment "+strconv.Itoa(ev.Payment)+"'s event") {
		t.Errorf("event %d's note %q does not say it sent another copy", id, ev.Note)
	}
	entries := 0
	for _, e := range events {
		if e.Kind == KindEffect && e.Payment == ev.Payment {
			if entries++; entries == 2 && e.ID < id {
				t.Errorf("payment %d's second entry, event %d, comes before its cause %d", ev.Payment, e.ID, id)
			}
		}
	}
	if entries < 2 {
		t.Errorf("payment %d was posted %d times, want a duplicate", ev.Payment, entries)
	}
	res, err := RunContext(context.Background(), sc, nil, Options{KeepEvidence: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.FirstEvents[ViolationDuplicate]; !reflect.DeepEqual(got, ev) {
		t.Errorf("first duplicate kept as\n%+v\nrecorded as\n%+v", got, ev)
	}
}

// A double charge is marked on what made the request reach the service
// again (the request duplicated by the network, the answer lost, a crash,
// or the timeout of a slow answer), an event before the second charge,
// or on the second charge when that event is another payment's evidence.
// A run that keeps its evidence hands back the same first double charge.
func TestDoubleChargeEvidenceIsWhatMadeTheRetry(t *testing.T) {
	causes := 0
	for seed := uint64(1); seed <= 8; seed++ {
		sc := scenario("retry-naive", seed, 60, Faults{}.Set(NetDrop, 0.1).Set(NetDup, 0.1).Set(CrashService, 0.02))
		events, rep, err := Record(sc)
		if err != nil {
			t.Fatal(err)
		}
		charges := map[int][]int{}
		for _, ev := range events {
			if ev.Kind == KindEffect {
				charges[ev.Payment] = append(charges[ev.Payment], ev.ID)
			}
		}
		for _, ev := range events {
			if ev.Violation != ViolationDoubleCharge {
				continue
			}
			id, ok := notedPayment(ev.Note)
			if !ok || len(charges[id]) < 2 {
				t.Errorf("seed %d: event %d's note %q names no payment charged twice", seed, ev.ID, ev.Note)
				continue
			}
			switch {
			case ev.ID == charges[id][1]:
			case ev.ID < charges[id][1] && (ev.Kind == KindDuplicate || ev.Kind == KindDrop || ev.Kind == KindTimeout) && ev.Payment == id,
				ev.ID < charges[id][1] && ev.Kind == KindCrash:
				causes++
			default:
				t.Errorf("seed %d: payment %d's double charge is marked on event %d (%s, payment %d)", seed, id, ev.ID, ev.Kind, ev.Payment)
			}
		}
		res, err := RunContext(context.Background(), sc, nil, Options{KeepEvidence: true})
		if err != nil {
			t.Fatal(err)
		}
		if id, ok := rep.FirstViolation[ViolationDoubleCharge]; ok {
			if got := res.FirstEvents[ViolationDoubleCharge]; !reflect.DeepEqual(got, events[id-1]) {
				t.Errorf("seed %d: first double charge kept as\n%+v\nrecorded as\n%+v", seed, got, events[id-1])
			}
		}
	}
	if causes < 10 {
		t.Errorf("only %d double charges were marked on their cause", causes)
	}
}
