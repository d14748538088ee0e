package sim

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// laterDesigns are the designs of the families after dual write and the
// outbox.
var laterDesigns = []string{
	"retry-naive", "retry-idempotency-key", "decide-from-replica", "decide-from-primary",
	"confirm-from-replica", "confirm-read-your-writes",
	"partition-ap", "partition-cp", "partition-budget", "consumer-naive", "consumer-versioned",
	"cache-aside-delete", "cache-versioned", "psp-naive", "psp-atomic-phases",
	"consumer-ack-drop", "consumer-dead-letter",
}

// familyScenario turns on what each family's parameters control: a tight
// client timeout, a lagging replica, partitions.
func familyScenario(design string, seed uint64) Scenario {
	sc := scenario(design, seed, 60, allFaults(0.05).Set(NetPartition, 0.9))
	sc.ClientTimeout = Duration(10 * time.Millisecond)
	sc.ReplicaLag = Duration(20 * time.Millisecond)
	sc.PartitionDuration = Duration(50 * time.Millisecond)
	return sc
}

func TestLaterDesignsAreListed(t *testing.T) {
	for _, name := range laterDesigns {
		if !slices.Contains(DesignNames(), name) {
			t.Errorf("design %s is not listed", name)
		}
	}
}

// Every design's runs are a pure function of the scenario, with the
// family's own parameters in play: the same scenario gives the same bytes,
// different seeds give different streams.
func TestLaterDesignsAreDeterministicWithTheirParams(t *testing.T) {
	for _, design := range laterDesigns {
		seen := map[string]uint64{}
		for _, seed := range []uint64{1, 2, 3, 4} {
			a, b := stream(t, familyScenario(design, seed)), stream(t, familyScenario(design, seed))
			if !bytes.Equal(a, b) {
				t.Errorf("%s seed %d: two runs of one scenario differ", design, seed)
			}
			if prev, ok := seen[string(a)]; ok {
				t.Errorf("%s: seeds %d and %d gave the same stream", design, prev, seed)
			}
			seen[string(a)] = seed
		}
	}
}

// The playground draws one lane per entry of Design.Nodes: every event of
// every design happens on one of its lanes, and talks to one of them.
func TestEveryEventIsOnOneOfTheDesignsLanes(t *testing.T) {
	for _, d := range Designs() {
		events, _, err := Record(familyScenario(d.Name, 3))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if !slices.Contains(d.Nodes, ev.Node) || (ev.Peer != "" && !slices.Contains(d.Nodes, ev.Peer)) {
				t.Errorf("%s: event %d (%s) is on %q with peer %q; lanes are %v", d.Name, ev.ID, ev.Kind, ev.Node, ev.Peer, d.Nodes)
				break
			}
		}
	}
}

// A report carries the keys of the design's own counters and no other
// family's; each invariant has one marked event per counted violation, the
// first of them named in first_violation; converged means none is broken.
func TestReportsCarryTheDesignsOwnKeysAndMarks(t *testing.T) {
	base := map[string]bool{}
	var r0 Report
	b, _ := json.Marshal(r0)
	var m0 map[string]any
	json.Unmarshal(b, &m0)
	for k := range m0 {
		base[k] = true
	}
	for _, d := range Designs() {
		for _, seed := range []uint64{5, 6} {
			events, r, err := Record(familyScenario(d.Name, seed))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(r)
			var m map[string]any
			json.Unmarshal(b, &m)
			for k := range m {
				if !base[k] && !slices.Contains(d.Metrics, k) && !slices.Contains(d.Situations, k) {
					t.Errorf("%s: report has key %q, which the design does not measure", d.Name, k)
				}
			}
			for _, k := range slices.Concat(d.Metrics, d.Situations) {
				if _, ok := m[k]; !ok {
					t.Errorf("%s: report lacks its key %q", d.Name, k)
				}
			}
			broken := false
			for _, k := range d.Invariants {
				marked, first := 0, 0
				for _, ev := range events {
					if ev.Violation == k {
						if marked++; first == 0 {
							first = ev.ID
						}
					}
				}
				if marked != r.Count(k) || r.FirstViolation[k] != first {
					t.Errorf("%s seed %d: %s counted %d with first %d; %d events marked, first %d",
						d.Name, seed, k, r.Count(k), r.FirstViolation[k], marked, first)
				}
				broken = broken || r.Count(k) > 0
			}
			if r.Converged == broken {
				t.Errorf("%s seed %d: converged %v, yet an invariant broken is %v", d.Name, seed, r.Converged, broken)
			}
		}
	}
}

// The UI shows the code a design runs, for every role it has.
func TestDesignSourceShowsEveryRole(t *testing.T) {
	want := map[string][]string{
		"retry-naive":              {"client", "service"},
		"retry-idempotency-key":    {"client", "service"},
		"decide-from-replica":      {"service"},
		"decide-from-primary":      {"service"},
		"confirm-from-replica":     {"client", "service"},
		"confirm-read-your-writes": {"client", "service"},
		"partition-ap":             {"service", "consumer"},
		"partition-cp":             {"service", "consumer"},
		"partition-budget":         {"service", "consumer"},
		"consumer-naive":           {"service", "consumer"},
		"consumer-versioned":       {"service", "consumer"},
	}
	for design, roles := range want {
		src, err := DesignSource(design)
		if err != nil {
			t.Fatalf("%s: %v", design, err)
		}
		var got []string
		for _, f := range src {
			got = append(got, f.Role)
			if !strings.Contains(f.Code, "func "+f.Name+"(") || !strings.HasPrefix(f.Code, "// "+f.Name) {
				t.Errorf("%s: %s's code does not start with its doc comment and declaration:\n%s", design, f.Name, f.Code)
			}
		}
		if !slices.Equal(got, roles) {
			t.Errorf("%s: roles %v, want %v", design, got, roles)
		}
	}
}

// The later families' parameters fail like every other: naming the field,
// the value and the allowed range.
func TestFamilyParamsRejectBadValuesNamingTheField(t *testing.T) {
	cases := []struct{ name, value, mentions string }{
		{"client-timeout", "-1ms", "negative"},
		{"client-timeout", "soon", "Go duration"},
		{"client-timeout", "61s", "0s to 1m0s"},
		{"replica-lag", "-1ms", "negative"},
		{"replica-lag", "2m", "0s to 1m0s"},
		{"partition-duration", "x", "Go duration"},
		{"partition-duration", "10.5s", "0s to 10s"},
	}
	for _, c := range cases {
		_, err := FromParams(func(n string) string {
			if n == c.name {
				return c.value
			}
			return ""
		})
		ie, ok := err.(*InputError)
		if !ok || ie.Field != c.name || !strings.Contains(ie.Msg, c.mentions) || !strings.Contains(ie.Msg, c.name) {
			t.Errorf("%s=%q: error %v, want an InputError on %s mentioning %q", c.name, c.value, err, c.name, c.mentions)
		}
	}
}

// The new parameters appear in a scenario's URL only when they differ
// from the default, so the URLs of existing scenarios do not change; and
// they read back to the same scenario.
func TestFamilyParamsAreCanonicalAndRoundTrip(t *testing.T) {
	for _, kv := range DefaultScenario().Params() {
		switch kv[0] {
		case "client-timeout", "replica-lag", "partition-duration":
			t.Errorf("the default scenario's params include %s=%s", kv[0], kv[1])
		}
	}
	sc := familyScenario("partition-cp", 77)
	got, err := FromParams(func(n string) string {
		for _, kv := range sc.Params() {
			if kv[0] == n {
				return kv[1]
			}
		}
		return ""
	})
	if err != nil || got != sc {
		t.Errorf("round trip: got %+v, %v; want %+v", got, err, sc)
	}
}

func FuzzFamilyParams(f *testing.F) {
	f.Add("10ms", "50ms", "100ms")
	f.Add("", "", "")
	f.Add("0s", "1m", "10s")
	f.Add("-1ns", "1e3h", "9223372036854775807ns")
	f.Fuzz(func(t *testing.T, timeout, lag, dur string) {
		v := map[string]string{"design": "partition-cp", "client-timeout": timeout, "replica-lag": lag, "partition-duration": dur}
		sc, err := FromParams(func(n string) string { return v[n] })
		if err != nil {
			if ie, ok := err.(*InputError); !ok || ie.Field == "" {
				t.Fatalf("%v: error %v does not name a field", v, err)
			}
			return
		}
		if err := sc.Validate(); err != nil {
			t.Fatalf("%v: accepted, then Validate says %v", v, err)
		}
	})
}
