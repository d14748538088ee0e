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
	// crashes counts the crash rolls at each business moment, per crash
	// fault (crash.service first).
	crashes [numCrashFaults][numMoments]uint32
}

// numCrashFaults is how many crash faults there are: crash.service,
// crash.relay and crash.consumer, in that order.
const numCrashFaults = 3

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

// A crash fault strikes at a business moment, not at the n-th step: a
// step's number means different things in different designs (the third
// step is the publish in one, the commit in another), and two designs run
// on one seed are meant to crash at the same point of a payment's story.
// Every design meets the same few moments, in whatever order its code
// takes them, so whether "payment 17's service crashes right after its
// first commit" is one decision, keyed on (seed, fault, payment, moment,
// occurrence), in every design that commits payment 17.
type moment uint8

// The moments a crash can strike at. Numbers are part of the key: append,
// never renumber.
const (
	// momentBeforeCommit is a COMMIT about to run: the crash rolls the
	// transaction back, and nothing it wrote (the save, the effect)
	// happened.
	momentBeforeCommit moment = iota + 1
	// momentAfterCommit is the first step after a successful commit: the
	// save or the effect is durable, and nothing that was to follow it
	// (the publish, the reply, the ack) has happened.
	momentAfterCommit
	// momentBeforeReply is a node about to answer: a service's response to
	// its caller, a consumer's ack to the broker, a region's ack of a
	// merged debit. The work is done; the caller never hears so.
	momentBeforeReply
	numMoments
)

var momentNotes = [numMoments]string{"", "before its commit", "right after a commit", "before it answered"}

// String says in a few words when the moment is, for a crash's note.
func (m moment) String() string { return momentNotes[m] }

// rollCrash decides whether crash fault f strikes payment's next
// occurrence of moment m, and counts it if it does.
func (w *world) rollCrash(f Fault, m moment, payment int) bool {
	p := w.sc.Faults[f]
	if p == 0 {
		return false
	}
	c := &w.countersOf(payment).crashes[f-CrashService][m]
	n := *c
	*c++
	if uniform(w.sc.Seed, uint64(f)+1, uint64(m), uint64(payment), uint64(n)) < p {
		w.injected[f]++
		return true
	}
	return false
}
