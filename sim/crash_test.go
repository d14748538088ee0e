package sim

import (
	"slices"
	"strings"
	"testing"
)

// actor is the node that did what ev records, "" when ev records
// something that happened to a node rather than something it did (a
// message reaching it while it was down, its crash, a link breaking). A
// database's statements are done by the node whose process ran them.
func actor(ev Event) string {
	switch ev.Kind {
	case KindDown, KindDrop, KindPartition, KindHeal, KindCrash, KindRestart:
		return ""
	}
	if strings.HasSuffix(ev.Node, ".db") {
		if ev.Kind == KindRollback || ev.Kind == KindReplicate {
			return "" // a crash's forced rollback; a replica applying the log
		}
		return ev.Peer
	}
	return ev.Node
}

// A crash takes the whole node until it restarts: between a node's crash
// and its restart, nothing on it runs a statement, sends a message or
// retries, for every design a crash fault can hit.
func TestACrashedNodeDoesNothingUntilItRestarts(t *testing.T) {
	var mix Faults
	mix[CrashService], mix[CrashRelay], mix[CrashConsumer] = 0.1, 0.08, 0.08
	mix[NetDup], mix[NetDrop] = 0.05, 0.05
	mix[NetPartition] = 0.3
	for _, d := range Designs() {
		if !slices.Contains(d.Faults, CrashService) {
			continue
		}
		crashes := 0
		for seed := uint64(1); seed <= 12; seed++ {
			events, _, err := Record(scenario(d.Name, seed, 80, mix))
			if err != nil {
				t.Fatal(err)
			}
			down := map[string]int{} // node → the event that crashed it
			for _, ev := range events {
				switch ev.Kind {
				case KindCrash:
					down[ev.Node] = ev.ID
					crashes++
					continue
				case KindRestart:
					delete(down, ev.Node)
					continue
				}
				if by, ok := down[actor(ev)]; ok {
					t.Errorf("%s seed %d faults %s: event %d (%s on %s: %s) while %s was down since event %d",
						d.Name, seed, mix, ev.ID, ev.Kind, ev.Node, ev.Note, actor(ev), by)
				}
			}
		}
		if crashes == 0 {
			t.Errorf("%s: no crash in 12 seeds: the property was not tested", d.Name)
		}
	}
}

// The repro from issue 9: region-a crashed at event 207 and still sent
// two replicated debits before its restart.
func TestACrashedRegionSendsNothingWhileDown(t *testing.T) {
	sc := scenario("partition-cp", 2310949707, 50, Faults{}.Set(CrashService, 0.1))
	events, _, err := Record(sc)
	if err != nil {
		t.Fatal(err)
	}
	crashes := 0
	down := map[string]bool{}
	for _, ev := range events {
		switch ev.Kind {
		case KindCrash:
			down[ev.Node] = true
			crashes++
		case KindRestart:
			down[ev.Node] = false
		case KindSend, KindRetry:
			if down[ev.Node] {
				t.Errorf("seed %d: event %d: %s sent %q while down", sc.Seed, ev.ID, ev.Node, ev.Note)
			}
		}
	}
	if crashes == 0 {
		t.Fatalf("seed %d: no crash at all", sc.Seed)
	}
}
