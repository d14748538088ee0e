package sim

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
)

// poisonedPayments lists, from a run's events, the payments whose event
// the broker stored poisoned (bus.poison), and those the consumer parked
// in dead_letters (the commits that moved dead_lettered).
func poisonedPayments(events []Event) (poisoned, parked []int) {
	for _, ev := range events {
		switch {
		case ev.Kind == KindPublish && ev.Fault == BusPoison.String() && !slices.Contains(poisoned, ev.Payment):
			poisoned = append(poisoned, ev.Payment)
		case ev.Kind == KindCommit && slices.Contains(ev.Moves, deadLettered):
			parked = append(parked, ev.Payment)
		}
	}
	slices.Sort(poisoned)
	slices.Sort(parked)
	return poisoned, parked
}

// consumer-dead-letter never loses a payment silently and never posts one
// twice, whatever the faults; it parks exactly the poisoned payments (a
// failed commit of its own database is retried, never parked), once each,
// and raises an alert for each unless a crash of the consumer falls
// between the commit that parked it and the alert.
func TestDeadLetterLosesNothingAndParksExactlyThePoisoned(t *testing.T) {
	settled, parkedAny := 0, 0
	for seed := uint64(1); seed <= 30; seed++ {
		mix := randomMix(seed, 0.15).Set(BusPoison, 0.05)
		if seed%3 == 0 {
			mix = mix.Set(DBFail, 0.3) // commits that fail often, and pass on a later try
		}
		events, r, err := Record(scenario("consumer-dead-letter", seed, 150, mix))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Settled() {
			continue
		}
		settled++
		if r.Lost != 0 || r.Phantom != 0 || r.DuplicateEffects != 0 {
			t.Errorf("seed %d faults %s: lost %d, phantom %d, duplicate_effects %d; want none", seed, mix, r.Lost, r.Phantom, r.DuplicateEffects)
		}
		poisoned, parked := poisonedPayments(events)
		if !slices.Equal(poisoned, parked) {
			t.Errorf("seed %d faults %s: poisoned %v, parked %v; want the same payments, each once", seed, mix, poisoned, parked)
		}
		dead, alerted, reached := measured(t, r, deadLettered), measured(t, r, alerts), measured(t, r, poisonMessages)
		if dead != len(parked) || reached != len(poisoned) {
			t.Errorf("seed %d: dead_lettered %d, poison_messages %d; the events show %d parked, %d poisoned", seed, dead, reached, len(parked), len(poisoned))
		}
		if alerted > dead || mix[CrashConsumer] == 0 && alerted != dead {
			t.Errorf("seed %d faults %s: %d alerts for %d dead letters", seed, mix, alerted, dead)
		}
		if dead > 0 {
			parkedAny++
		}
	}
	if settled < 25 || parkedAny < 20 {
		t.Errorf("%d of 30 runs settled and %d parked anything: the property was hardly tested", settled, parkedAny)
	}
}

// consumer-ack-drop loses payments readily: the poison messages, and,
// with no poison at all, payments whose ledger commit failed once. Each
// loss is marked on the consumer's log line after which it acknowledged
// the delivery.
func TestAckDropLosesPoisonAndTransientFailuresSilently(t *testing.T) {
	for _, c := range []struct {
		name   string
		faults Faults
	}{
		{"bus.poison", Faults{}.Set(BusPoison, 0.05)},
		{"db.fail alone", Faults{}.Set(DBFail, 0.05)},
	} {
		lossy := 0
		for seed := uint64(1); seed <= 20; seed++ {
			events, r, err := Record(scenario("consumer-ack-drop", seed, 200, c.faults))
			if err != nil {
				t.Fatal(err)
			}
			if r.Lost > 0 {
				lossy++
			}
			if measured(t, r, deadLettered) != 0 || measured(t, r, alerts) != 0 {
				t.Errorf("%s seed %d: ack-drop parked %d and alerted %d; it does neither", c.name, seed, measured(t, r, deadLettered), measured(t, r, alerts))
			}
			marked := 0
			for _, ev := range events {
				if ev.Violation != ViolationLost {
					continue
				}
				marked++
				if ev.Node != NodeLedger || ev.Kind != KindError {
					t.Errorf("%s seed %d: lost payment %d is marked on %s %s, want the consumer's log line", c.name, seed, ev.Payment, ev.Node, ev.Kind)
				}
			}
			if marked != r.Lost {
				t.Errorf("%s seed %d: %d marks for %d lost", c.name, seed, marked, r.Lost)
			}
		}
		if lossy < 18 {
			t.Errorf("%s: consumer-ack-drop lost payments on only %d of 20 seeds; it should lose readily", c.name, lossy)
		}
	}
}

// Poison strikes payments, not runs: on one seed the same payments are
// poisoned in both designs, and db.fail strikes the ledger's commits of
// the same payments as in outbox-idempotent, whose databases and relay
// these designs share.
func TestPoisonAndLedgerFailuresStrikeTheSamePayments(t *testing.T) {
	firstLedgerFailures := func(design string, faults Faults) []int {
		events, _, err := Record(scenario(design, 5, 200, faults))
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, ev := range events {
			if ev.Kind == KindCommitErr && ev.Node == NodeLedgerDB && !slices.Contains(out, ev.Payment) {
				out = append(out, ev.Payment)
			}
		}
		slices.Sort(out)
		return out
	}
	poison := Faults{}.Set(BusPoison, 0.05)
	var sets [][]int
	for _, design := range []string{"consumer-ack-drop", "consumer-dead-letter"} {
		events, _, err := Record(scenario(design, 5, 200, poison))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := poisonedPayments(events)
		sets = append(sets, p)
	}
	if len(sets[0]) == 0 || !slices.Equal(sets[0], sets[1]) {
		t.Errorf("seed 5: consumer-ack-drop poisoned %v, consumer-dead-letter %v; want the same, and some", sets[0], sets[1])
	}
	fail := Faults{}.Set(DBFail, 0.05)
	a, b, c := firstLedgerFailures("outbox-idempotent", fail), firstLedgerFailures("consumer-ack-drop", fail), firstLedgerFailures("consumer-dead-letter", fail)
	if len(a) == 0 || !slices.Equal(a, b) || !slices.Equal(a, c) {
		t.Errorf("seed 5: the ledger's commit failed for %v in outbox-idempotent, %v in consumer-ack-drop, %v in consumer-dead-letter; want the same", a, b, c)
	}
}

// bus.poison has nothing to act on outside this family: a run of another
// design is the same bytes with it on, and counts it nowhere.
func TestPoisonLeavesOtherFamiliesAlone(t *testing.T) {
	for _, design := range []string{"outbox-idempotent", "consumer-versioned"} {
		plain := scenario(design, 9, 60, randomMix(9, 0.1).Set(BusPoison, 0))
		poisoned := plain
		poisoned.Faults = poisoned.Faults.Set(BusPoison, 0.5)
		if !bytes.Equal(stream(t, plain), stream(t, poisoned)) {
			t.Errorf("%s: bus.poison=0.5 changed the run", design)
		}
		if d, _ := LookupDesign(design); slices.Contains(d.Faults, BusPoison) {
			t.Errorf("%s lists bus.poison among its faults", design)
		}
	}
	for _, design := range []string{"consumer-ack-drop", "consumer-dead-letter"} {
		if d, _ := LookupDesign(design); !slices.Contains(d.Faults, BusPoison) {
			t.Errorf("%s does not list bus.poison among its faults", design)
		}
	}
}

// TestPoisonGoldenStreams pins a run of each design in which poison and
// failed ledger commits meet the consumer, which the every-design golden
// (every fault at 0.02 on 30 payments) happens not to show.
// Refresh with: go test ./sim -run PoisonGolden -update
func TestPoisonGoldenStreams(t *testing.T) {
	for _, design := range []string{"consumer-ack-drop", "consumer-dead-letter"} {
		t.Run(design, func(t *testing.T) {
			got := stream(t, scenario(design, 7, 30, Faults{}.Set(BusPoison, 0.1).Set(DBFail, 0.05)))
			matchGolden(t, filepath.Join("testdata", design+".poison.golden"), got)
		})
	}
}
