package sim

// Where faults strike: every decision is keyed (keyed.go) on how often
// its subject has been decided before, counted here per payment.

// counters are one payment's occurrence counters: how often each fault was
// rolled for it (db.fail per database), and how many messages of each
// channel it sent. A run keeps them in a slice indexed by payment rather
// than in maps keyed by (fault, scope, payment): it counts on nearly every
// step, and a map lookup there cost more than the keyed hash itself.
type counters struct {
	rolls   [numFaults]uint32 // scope 0
	dbRolls [numScopes]uint32 // db.fail, by the database's scope
	msgs    [maxChannels]uint32
	// unacked counts the broker's deliveries of the payment that no
	// consumer has acknowledged yet (see noteWorkLeft).
	unacked int32
}

// numScopes bounds a roll's scope: 0, or, for db.fail only, a database's
// scope (openDB's scope argument, 1 to 6 today).
const numScopes = 8

// countersOf returns payment's counters.
func (w *world) countersOf(payment int) *counters {
	if payment >= len(w.counters) { // payments are 0 to sc.Payments; this is a guard
		w.counters = append(w.counters, make([]counters, payment+1-len(w.counters))...)
	}
	return &w.counters[payment]
}

// roll decides whether fault f hits the next occurrence of (scope, payment)
// and counts it if it does. With p = 0 it costs nothing and counts nothing:
// each fault has its own occurrence counters, so turning one fault on never
// moves another.
func (w *world) roll(f Fault, scope uint32, payment int) bool {
	p := w.sc.Faults[f]
	if p == 0 {
		return false
	}
	cs := w.countersOf(payment)
	c := &cs.rolls[f]
	if scope != 0 {
		if f != DBFail {
			panic("sim: only db.fail rolls per database scope")
		}
		c = &cs.dbRolls[scope]
	}
	n := *c
	*c++
	if uniform(w.sc.Seed, uint64(f)+1, uint64(scope), uint64(payment), uint64(n)) < p {
		w.injected[f]++
		return true
	}
	return false
}
