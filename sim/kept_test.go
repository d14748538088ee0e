package sim

import (
	"context"
	"reflect"
	"testing"
)

// A run that keeps its evidence hands back the very events its report's
// first_violation ids name, as a recording shows them, notes and all, for
// every design, on quiet and on cut runs: no second run is needed to show
// them. Keeping them changes nothing else.
func TestKeptEvidenceIsTheRecordedFirstViolation(t *testing.T) {
	shown := 0
	for _, name := range DesignNames() {
		for seed := range uint64(3) {
			sc := familyScenario(name, seed+1)
			sc.Faults = sc.Faults.Set(NetDup, 0.2).Set(BusPublishFail, 0.1).Set(NetDrop, 0.1)
			full, _, err := Record(sc)
			if err != nil {
				t.Fatal(err)
			}
			for _, budget := range []int{0, len(full) / 2} {
				// The recording of the same run, cut where it is cut: a cut
				// run marks what it can tell by then.
				events, rep, err := record(context.Background(), sc, Options{MaxEvents: budget}, nil)
				if err != nil {
					t.Fatal(err)
				}
				res, err := RunContext(context.Background(), sc, nil, Options{KeepEvidence: true, MaxEvents: budget})
				if err != nil {
					t.Fatalf("%s seed %d budget %d: %v", name, seed+1, budget, err)
				}
				if !reflect.DeepEqual(res.Report, rep) {
					t.Errorf("%s seed %d budget %d: keeping evidence changed the report", name, seed+1, budget)
				}
				if len(res.FirstEvents) != len(res.Report.FirstViolation) {
					t.Errorf("%s seed %d budget %d: %d first events for %d violated keys", name, seed+1, budget, len(res.FirstEvents), len(res.Report.FirstViolation))
				}
				for k, id := range res.Report.FirstViolation {
					want := events[id-1]
					if got := res.FirstEvents[k]; !reflect.DeepEqual(got, want) {
						t.Errorf("%s seed %d budget %d: first %s kept as\n%+v\nrecorded as\n%+v", name, seed+1, budget, k, got, want)
					}
					shown++
				}
			}
		}
	}
	if shown < 20 {
		t.Errorf("only %d first violations compared: the scenarios violate too little to test this", shown)
	}
}
