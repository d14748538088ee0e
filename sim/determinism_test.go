package sim

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// allFaults turns every fault on at p, the harshest mix the tests use.
func allFaults(p float64) Faults {
	var fs Faults
	for f := range fs {
		fs[f] = p
	}
	return fs
}

func scenario(design string, seed uint64, payments int, faults Faults) Scenario {
	sc := DefaultScenario()
	sc.Design, sc.Seed, sc.Payments, sc.Faults = design, seed, payments, faults
	return sc
}

// stream runs sc and returns its events as JSON lines followed by the
// report: the bytes a golden file holds.
func stream(t testing.TB, sc Scenario) []byte {
	t.Helper()
	events, report, err := Record(sc)
	if err != nil {
		t.Fatalf("seed %d: %v", sc.Seed, err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Encode(report); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSameScenarioGivesIdenticalStreams(t *testing.T) {
	for _, design := range DesignNames() {
		for _, seed := range []uint64{1, 2, 42, 1 << 40} {
			sc := scenario(design, seed, 60, allFaults(0.05))
			a, b := stream(t, sc), stream(t, sc)
			if !bytes.Equal(a, b) {
				t.Errorf("%s seed %d: two runs of one scenario differ", design, seed)
			}
		}
	}
}

func TestDifferentSeedsGiveDifferentStreams(t *testing.T) {
	for _, design := range DesignNames() {
		seen := map[string]uint64{}
		for _, seed := range []uint64{1, 2, 3, 4, 5} {
			s := string(stream(t, scenario(design, seed, 60, allFaults(0.05))))
			if prev, ok := seen[s]; ok {
				t.Errorf("%s: seeds %d and %d gave the same stream", design, prev, seed)
			}
			seen[s] = seed
		}
	}
}

// TestGoldenStreams pins one small scenario per design, every fault on, so
// that any change to what a run does shows up as a diff to review.
// Refresh with: go test ./sim -run Golden -update
func TestGoldenStreams(t *testing.T) {
	for _, design := range DesignNames() {
		t.Run(design, func(t *testing.T) {
			matchGolden(t, filepath.Join("testdata", design+".golden"), stream(t, scenario(design, 7, 30, allFaults(0.02))))
		})
	}
}

// matchGolden compares a seed-7 stream with the golden file at path, or
// writes the file under -update.
func matchGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("seed 7: stream differs from %s; inspect the diff and rerun with -update if the change is intended\n%s", path, firstDiff(want, got))
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) && i < len(gl); i++ {
		if !bytes.Equal(wl[i], gl[i]) {
			return fmt.Sprintf("line %d\nwant %s\ngot  %s", i+1, wl[i], gl[i])
		}
	}
	return fmt.Sprintf("want %d lines, got %d", len(wl), len(gl))
}
