package sim

import "fmt"

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
	firstFamilyTag // a family's own tags start here (see newTag)
)

// tagsTaken are the family tags newTag has handed out.
var tagsTaken = map[uint64]bool{}

// newTag declares tag t for a keyed decision a family makes, from the
// family's own file. A tag is part of its decisions' key, so it is written
// down rather than counted out: a new family moves no other family's
// decisions. It panics if t is below firstFamilyTag or already taken.
func newTag(t uint64) uint64 {
	if t < firstFamilyTag || tagsTaken[t] {
		panic(fmt.Sprintf("sim: tag %d: want a number from %d up that no other family has", t, firstFamilyTag))
	}
	tagsTaken[t] = true
	return t
}
