package sim

// Keyed randomness. Every random decision in a run is a pure function of the
// seed and of what the decision is about, never a draw from a shared stream.
// Whether "payment 17's first publish is lost" depends on (seed,
// bus.publish.fail, payment 17, attempt 1) alone, so two designs run on one
// seed meet the same faults at the same business steps, and adding a fault
// elsewhere does not shift the ones already there.

// mix is the splitmix64 finaliser: a cheap bijection whose output bits all
// depend on all input bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// uniform maps (seed, a, b, c, d) to a float in [0, 1).
func uniform(seed, a, b, c, d uint64) float64 {
	h := mix(seed + 0x9e3779b97f4a7c15)
	h = mix(h ^ a)
	h = mix(h ^ b)
	h = mix(h ^ c)
	h = mix(h ^ d)
	return float64(h>>11) / (1 << 53)
}

// Tags for keyed decisions that are not faults. They sit above every Fault
// value so the two never collide.
const (
	tagDelay uint64 = 1000 + iota
	tagAmount
	tagAccount
	tagBackoff
	tagKey
	tagRegion
	tagRefund
)

// counters are one payment's occurrence counters: how often each fault was
// rolled for it (db.fail per database), and how many messages of each
// channel it sent. A run keeps them in a slice indexed by payment rather
// than in maps keyed by (fault, scope, payment): it counts on nearly every
// step, and a map lookup there cost more than the keyed hash itself.
type counters struct {
	rolls   [numFaults]uint32 // scope 0
	dbRolls [numScopes]uint32 // db.fail, by the database's scope
	msgs    [len(channelNotes)]uint32
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
