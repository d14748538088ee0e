package checklist

import (
	"testing"

	"partialtruth/sim"
)

// The poison-messages item judges the poison-message designs: the one
// that acknowledges and drops fails it (with poison, and with failed
// ledger commits alone), the one that dead-letters passes it, and neither
// is tested where no poison message reached the consumer.
func TestPoisonMessagesVerdicts(t *testing.T) {
	cases := []struct {
		design, faults, want string
	}{
		{"consumer-ack-drop", "bus.poison=0.05", Fail},
		{"consumer-ack-drop", "bus.poison=0.05,db.fail=0.1", Fail},
		{"consumer-dead-letter", "bus.poison=0.05", Pass},
		{"consumer-dead-letter", "bus.poison=0.05,db.fail=0.1", Pass},
		{"consumer-dead-letter", "db.fail=0.1", NotExercised},
		{"consumer-dead-letter", "", NotExercised},
		{"consumer-ack-drop", "", NotExercised},
		{"consumer-ack-drop", "db.fail=0.1", Fail}, // it loses payments even without poison
	}
	for _, c := range cases {
		r, vs := runVerdicts(t, c.design, 42, 200, c.faults)
		v := vs["poison-messages"]
		if v.Verdict != c.want {
			t.Errorf("%s under %q: poison-messages got %s (%s), want %s", c.design, c.faults, v.Verdict, v.Evidence, c.want)
			continue
		}
		switch c.want {
		case Fail:
			if v.Count != r.Lost || v.Event != r.FirstViolation[sim.ViolationLost] || v.Metric != sim.ViolationLost {
				t.Errorf("%s under %q: %+v, want the %d lost payments, first at event %d", c.design, c.faults, v, r.Lost, r.FirstViolation[sim.ViolationLost])
			}
		case Pass:
			if n := r.Count("poison_messages"); v.Exposure != n || n == 0 || r.Count("dead_lettered") != n {
				t.Errorf("%s under %q: exposure %d, poison_messages %d, dead_lettered %d; want them equal and positive",
					c.design, c.faults, v.Exposure, n, r.Count("dead_lettered"))
			}
		case NotExercised:
			if len(v.TurnOn) == 0 || v.TurnOn[0] != "bus.poison" || v.Rerun == "" {
				t.Errorf("%s under %q: %+v, want bus.poison suggested and a rerun link", c.design, c.faults, v)
			}
		}
	}
}

// An item judges only runs that count its situation: a payment the
// poison-message consumer dropped is lost, but says nothing about whether
// the payment and its outbox row committed together, and dual write's lost
// payments say nothing about poison messages.
func TestLossesAreJudgedOnlyByItemsWhoseSituationTheRunCounts(t *testing.T) {
	r, vs := runVerdicts(t, "consumer-ack-drop", 42, 200, "bus.poison=0.05")
	if r.Lost == 0 {
		t.Fatal("consumer-ack-drop lost nothing; the test proves little")
	}
	for _, id := range []string{"atomic-publish", "relay-until-acked", "no-call-assumed", "reconcile-and-alert"} {
		if v := vs[id]; v.Verdict != NotDemonstrable {
			t.Errorf("consumer-ack-drop, %d lost: %s got %s (%s), want not-demonstrable", r.Lost, id, v.Verdict, v.Evidence)
		}
	}
	r, vs = runVerdicts(t, "dual-write", 42, 200, "bus.publish.fail=0.1")
	if v := vs["poison-messages"]; r.Lost == 0 || v.Verdict != NotDemonstrable {
		t.Errorf("dual-write, %d lost: poison-messages got %s (%s), want not-demonstrable", r.Lost, v.Verdict, v.Evidence)
	}
	if v := vs["atomic-publish"]; v.Verdict != Fail {
		t.Errorf("dual-write, %d lost: atomic-publish got %s, want fail", r.Lost, v.Verdict)
	}
}
