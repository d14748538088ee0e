package checklist

import (
	"strings"
	"testing"

	"partialtruth/sim"
)

// Issue 9's repro: a fault-free outbox cut off by its deadline failed four
// items. Cut before it settled, it proves nothing either way: every item
// it can measure is inconclusive and says why; nothing passes or fails.
func TestCutRunIsInconclusive(t *testing.T) {
	args := map[string]string{"design": "outbox-idempotent", "payments": "200", "deadline": "100ms"}
	sc, err := sim.FromParams(func(name string) string { return args[name] })
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range Evaluate(res.Report) {
		switch v.Verdict {
		case NotDemonstrable:
		case Inconclusive:
			n++
			if !strings.Contains(v.Evidence, "reached its deadline before it settled") || !strings.Contains(v.Evidence, " payments in flight") {
				t.Errorf("%s: evidence %q does not say why", v.ID, v.Evidence)
			}
		default:
			t.Errorf("%s: %s (%s) on a cut run with no violation", v.ID, v.Verdict, v.Evidence)
		}
	}
	if n == 0 {
		t.Error("no item is inconclusive")
	}
}

// A violation a cut run counted is still a failure: dual write's failed
// publishes are lost whatever was in flight.
func TestCutRunStillFailsWhatItBroke(t *testing.T) {
	r := sim.Report{Design: "dual-write", Stopped: "event-limit", Committed: 10, Lost: 2,
		FirstViolation: map[string]int{sim.ViolationLost: 7}, InFlight: map[string]int{sim.InFlightPayments: 3},
		Injected: map[string]int{"bus.publish.fail": 2}, Counts: []sim.KeyCount{{Key: "split_writes", N: 2}}}
	for _, v := range Evaluate(r) {
		if v.ID == "atomic-publish" && (v.Verdict != Fail || v.Event != 7) {
			t.Errorf("atomic-publish: %s at event %d, want fail at 7", v.Verdict, v.Event)
		}
		if v.Verdict == Pass || v.Verdict == NotExercised {
			t.Errorf("%s: %s on a cut run", v.ID, v.Verdict)
		}
	}
}
