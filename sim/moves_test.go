package sim

import (
	"slices"
	"testing"
	"time"
)

// A viewer keeps every counter live by adding each event's Moves, and one
// per marked Violation: over many seeds and random fault mixes, with each
// family's own parameters in play, that sum is exactly the report's count
// of every key the design measures, and no event moves a key the design
// does not measure.
func TestEventMovesAddUpToTheReport(t *testing.T) {
	const seeds = 20
	moved := map[string]bool{}
	for _, d := range Designs() {
		for seed := uint64(1); seed <= seeds; seed++ {
			sc := scenario(d.Name, seed, 60, randomMix(seed, 0.1))
			if seed%2 == 1 {
				sc.Faults[NetPartition] = 0.9
			}
			sc.ClientTimeout = Duration(time.Duration(5+seed%4*5) * time.Millisecond)
			sc.ReplicaLag = Duration(time.Duration(seed%3*20) * time.Millisecond)
			sc.PartitionDuration = Duration(time.Duration(20+seed%3*40) * time.Millisecond)
			sc.Jitter = Duration(time.Duration(seed%3) * time.Millisecond)
			events, r, err := Record(sc)
			if err != nil {
				t.Fatalf("%s seed %d faults %s: %v", d.Name, seed, sc.Faults, err)
			}
			sum := map[string]int{}
			for _, ev := range events {
				for _, k := range ev.Moves {
					if !slices.Contains(d.Metrics, k) {
						t.Errorf("%s seed %d: event %d (%s) moves %q, which the design does not measure", d.Name, seed, ev.ID, ev.Kind, k)
					}
					sum[k]++
				}
				if ev.Violation != "" {
					sum[ev.Violation]++
				}
			}
			for k, n := range sum {
				moved[k] = moved[k] || n > 0
			}
			for _, k := range d.Metrics {
				if sum[k] != r.Count(k) {
					t.Errorf("%s seed %d faults %s: events move %s by %d, the report counts %d", d.Name, seed, sc.Faults, k, sum[k], r.Count(k))
				}
			}
		}
	}
	// The mixes are harsh enough that every key an event moves does move
	// in some design, so none passes for want of anything to count (the
	// violations' marks have tests of their own).
	for _, d := range Designs() {
		for _, k := range d.Metrics {
			if !moved[k] && !slices.Contains(d.Invariants, k) {
				t.Errorf("%s never moved in any design over %d seeds", k, seeds)
				moved[k] = true // said once
			}
		}
	}
}
