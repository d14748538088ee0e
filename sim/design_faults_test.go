package sim

import (
	"slices"
	"testing"
)

// Design.Faults is derived from each design's topology; this holds it to
// what runs do: under a mix that turns every fault on hard, exactly the
// listed faults fire, and the others never do.
func TestDesignFaultsAreExactlyTheFaultsThatFire(t *testing.T) {
	var all Faults
	for f := range all {
		all[f] = 0.3
	}
	all[CrashService], all[CrashRelay], all[CrashConsumer] = 0.05, 0.05, 0.05
	all[NetPartition] = 0.9
	for _, d := range Designs() {
		sc := scenario(d.Name, 42, 200, all)
		sc.Deadline = Duration(30e9)
		res, err := Run(sc, nil)
		if err != nil {
			t.Fatal(err)
		}
		var fired []string
		for _, f := range AllFaults() {
			if res.Report.Injected[f.String()] > 0 {
				fired = append(fired, f.String())
			}
		}
		var listed []string
		for _, f := range d.Faults {
			listed = append(listed, f.String())
		}
		if !slices.Equal(fired, listed) {
			t.Errorf("%s seed 42: faults that fired %v, Design.Faults lists %v", d.Name, fired, listed)
		}
	}
}
