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

// crashStory is what one run's events say about the crashes of one node:
// for each payment a crash struck, the moment of its story its first crash
// struck at as the events show it ("before its save committed" or "after it"), and
// which payments were disturbed by a crash they did not cause (their
// request reached the node while it was down, or their process was in
// flight on it when another payment's step crashed it).
type crashStory struct {
	crashed   map[int]string
	disturbed map[int]bool
}

func crashStoryOf(events []Event, node string) crashStory {
	st := crashStory{crashed: map[int]string{}, disturbed: map[int]bool{}}
	inFlight := map[int]bool{} // payments whose request the node took and has not answered
	saved := map[int]bool{}    // of those, the ones whose transaction committed
	for _, ev := range events {
		switch {
		case ev.Node == node && ev.Kind == KindCrash:
			// The first crash of a payment only: after it, designs may
			// differ by design (a retry the key design answers from its
			// key commits nothing).
			if st.crashed[ev.Payment] == "" {
				st.crashed[ev.Payment] = "before its save committed"
				if saved[ev.Payment] {
					st.crashed[ev.Payment] = "after its save committed"
				}
			}
			for pay := range inFlight {
				if pay != ev.Payment {
					st.disturbed[pay] = true
				}
			}
			clear(inFlight)
			clear(saved)
		case ev.Node == node && ev.Kind == KindDown:
			st.disturbed[ev.Payment] = true
		case ev.Node == node && (ev.Kind == KindDeliver || ev.Kind == KindDuplicate) && ev.Peer == NodeClient:
			inFlight[ev.Payment] = true
			delete(saved, ev.Payment)
		case ev.Kind == KindCommit && ev.Peer == node:
			saved[ev.Payment] = true
		case ev.Node == node && ev.Kind == KindSend && ev.Peer == NodeClient:
			delete(inFlight, ev.Payment)
		}
	}
	return st
}

// Crash faults strike at business moments (before a commit, right after
// it, before the answer), not at the n-th step, so two designs run on one
// seed crash the service on the same payments at the same point of their
// story: of the payments neither run's other crashes disturbed, the share
// crashed at the same point in both is all of those crashed in either.
// The pairs are the ones the README says align. Keyed by step number they
// did not: the fourth step is dual-write's publish, after its save, and
// the outbox's commit, before it.
func TestServiceCrashesStrikeTheSamePaymentsAcrossDesigns(t *testing.T) {
	pairs := [][2]string{
		{"dual-write", "outbox"},
		{"dual-write", "publish-first"},
		{"outbox", "outbox-idempotent"},
		{"dual-write-retry", "outbox-idempotent"},
		{"retry-naive", "retry-idempotency-key"},
		{"consumer-naive", "consumer-versioned"},
	}
	for _, pair := range pairs {
		either, both := 0, 0
		for seed := uint64(1); seed <= 10; seed++ {
			var stories [2]crashStory
			for i, design := range pair {
				events, _, err := Record(scenario(design, seed, 200, Faults{}.Set(CrashService, 0.02)))
				if err != nil {
					t.Fatal(err)
				}
				stories[i] = crashStoryOf(events, NodeService)
			}
			a, b := stories[0], stories[1]
			for pay := 1; pay <= 200; pay++ {
				if a.disturbed[pay] || b.disturbed[pay] || (a.crashed[pay] == "" && b.crashed[pay] == "") {
					continue
				}
				either++
				if a.crashed[pay] == b.crashed[pay] {
					both++
				} else {
					t.Errorf("%s and %s seed %d: payment %d crashed the service %q in %s, %q in %s",
						pair[0], pair[1], seed, pay, a.crashed[pay], pair[0], b.crashed[pay], pair[1])
				}
			}
		}
		if either < 20 {
			t.Errorf("%s and %s: only %d crashed payments over 10 seeds: the alignment was hardly tested", pair[0], pair[1], either)
		}
		t.Logf("%s and %s: %d of %d crashed payments shared", pair[0], pair[1], both, either)
	}
}
