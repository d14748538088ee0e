package checklist

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"partialtruth/sim"
)

// measuredFacts is a report that measures every invariant, situation and
// cost any item names, all at zero, and every part an item asks for, with
// nothing injected: the baseline each case edits.
func measuredFacts() facts {
	f := facts{design: "outbox-idempotent", numbers: map[string]int{"committed": 1000}, injected: map[string]int{}, first: map[string]int{}}
	for _, it := range items {
		for _, k := range slices.Concat(it.Invariants, it.Exercise, it.Costs) {
			f.numbers[k] = 0
		}
		if it.Part != "" {
			f.numbers[it.Part] = 9
		}
	}
	return f
}

// expose records that x happened n times, as a fault or a report key.
func (f facts) expose(x string, n int) {
	if isFault(x) {
		f.injected[x] = n
	} else {
		f.numbers[x] = n
	}
}

func TestEvaluateEveryVerdictOfEveryItem(t *testing.T) {
	for _, it := range items {
		t.Run(it.ID+"/not-demonstrable", func(t *testing.T) {
			f := facts{numbers: map[string]int{"committed": 1000}, injected: map[string]int{}, first: map[string]int{}}
			for _, x := range it.Exercise {
				f.expose(x, 5) // exposure alone proves nothing without a measure
			}
			if it.Part != "" {
				f.numbers[it.Part] = 0 // nor does a missing part
			}
			v := it.evaluate(f)
			if v.Verdict != NotDemonstrable || v.Evidence == "" {
				t.Fatalf("got %+v, want not-demonstrable with evidence", v)
			}
			for _, k := range it.Invariants {
				if !strings.Contains(v.Evidence, k) {
					t.Errorf("evidence %q does not name the missing key %s", v.Evidence, k)
				}
			}
		})
		if len(it.Invariants) == 0 {
			continue
		}
		t.Run(it.ID+"/not-exercised", func(t *testing.T) {
			v := it.evaluate(measuredFacts())
			if v.Verdict != NotExercised {
				t.Fatalf("got %+v, want not-exercised", v)
			}
			if !slices.Equal(v.TurnOn, it.suggest()) {
				t.Errorf("got turn_on %v, want %v", v.TurnOn, it.suggest())
			}
			for _, x := range v.TurnOn {
				if !isFault(x) || !strings.Contains(v.Evidence, x) {
					t.Errorf("turn_on %q is not a fault, or evidence %q does not suggest it", x, v.Evidence)
				}
			}
			if v.Situation != it.Situation || !strings.Contains(v.Evidence, it.Situation) {
				t.Errorf("situation %q, evidence %q: want both to say %q", v.Situation, v.Evidence, it.Situation)
			}
			sc, compare := scenarioOf(t, v.Rerun)
			if want, _ := it.Rerun.Scenario("outbox-idempotent"); sc != want || compare != "" {
				t.Errorf("rerun %q opens %+v, want the item's rerun scenario %+v with the verdict's design", v.Rerun, sc, want)
			}
		})
		t.Run(it.ID+"/exposure-unmeasured-is-not-demonstrable", func(t *testing.T) {
			f := measuredFacts()
			for _, x := range it.Exercise {
				delete(f.numbers, x)
			}
			if v := it.evaluate(f); v.Verdict != NotDemonstrable || !strings.Contains(v.Evidence, it.Situation) {
				t.Fatalf("got %+v, want not-demonstrable naming the situation it cannot see", v)
			}
		})
		if it.Part != "" {
			t.Run(it.ID+"/a-missing-part-fails", func(t *testing.T) {
				for _, exposure := range []int{0, 3} {
					f := measuredFacts()
					f.numbers[it.Part] = 0
					f.expose(it.Exercise[0], exposure)
					v := it.evaluate(f)
					if v.Verdict != Fail || v.Lacks != it.PartName || v.Count != 0 || !strings.Contains(v.Evidence, it.PartName) {
						t.Fatalf("exposure %d: got %+v, want a fail saying the design has no %s", exposure, v, it.PartName)
					}
				}
				f := measuredFacts()
				f.numbers[it.Part] = 0
				f.numbers[it.Invariants[0]] = 2
				if v := it.evaluate(f); v.Verdict != Fail || v.Count != 2 || v.Lacks != it.PartName {
					t.Fatalf("got %+v, want the violations counted and the missing part named", v)
				}
			})
		}
		for _, x := range it.Exercise {
			t.Run(it.ID+"/pass-under-"+x, func(t *testing.T) {
				f := measuredFacts()
				f.expose(x, 7)
				v := it.evaluate(f)
				if v.Verdict != Pass || v.Count != 0 || v.Event != 0 || v.Exposure != 7 || v.Rerun != "" {
					t.Fatalf("got %+v, want a clean pass with exposure 7", v)
				}
				if !strings.Contains(v.Evidence, "7 times") || !strings.Contains(v.Evidence, x) || !strings.Contains(v.Evidence, it.Situation) {
					t.Errorf("evidence %q does not say %s happened 7 times", v.Evidence, x)
				}
			})
		}
		for i, k := range it.Invariants {
			t.Run(it.ID+"/fail-on-"+k, func(t *testing.T) {
				f := measuredFacts()
				f.expose(it.Exercise[0], 2)
				f.numbers[k] = 3 + i
				f.first[k] = 117 + i
				v := it.evaluate(f)
				if v.Verdict != Fail || v.Count != 3+i || v.Event != 117+i || v.Metric != k {
					t.Fatalf("got %+v, want fail with count %d at event %d of %s", v, 3+i, 117+i, k)
				}
				if !strings.Contains(v.Evidence, fmt.Sprintf("first at event %d", 117+i)) ||
					!strings.Contains(v.Evidence, fmt.Sprint(3+i)) {
					t.Errorf("evidence %q does not give the count and the event", v.Evidence)
				}
			})
			t.Run(it.ID+"/fail-on-"+k+"-even-unexercised", func(t *testing.T) {
				// A violation is a violation whatever caused it.
				f := measuredFacts()
				f.numbers[k] = 1
				if v := it.evaluate(f); v.Verdict != Fail {
					t.Fatalf("got %+v, want fail", v)
				}
			})
		}
		if len(it.Invariants) > 1 {
			t.Run(it.ID+"/fail-sums-and-points-at-the-earliest", func(t *testing.T) {
				f := measuredFacts()
				for i, k := range it.Invariants {
					f.numbers[k] = 2
					f.first[k] = 500 - i
				}
				last := it.Invariants[len(it.Invariants)-1]
				v := it.evaluate(f)
				if v.Count != 2*len(it.Invariants) || v.Event != 500-(len(it.Invariants)-1) || v.Metric != last {
					t.Fatalf("got %+v, want count %d, earliest event of %s", v, 2*len(it.Invariants), last)
				}
			})
			t.Run(it.ID+"/partly-measured-judges-what-is-measured", func(t *testing.T) {
				f := measuredFacts()
				delete(f.numbers, it.Invariants[1])
				f.numbers[it.Invariants[0]] = 4
				if v := it.evaluate(f); v.Verdict != Fail || v.Count != 4 {
					t.Fatalf("got %+v, want fail on %s alone", v, it.Invariants[0])
				}
			})
		}
		for _, k := range it.Costs {
			t.Run(it.ID+"/pass-reports-its-price-"+k, func(t *testing.T) {
				f := measuredFacts()
				f.expose(it.Exercise[0], 1)
				f.numbers[k] = 12
				if v := it.evaluate(f); v.Verdict != Pass || !strings.Contains(v.Evidence, "12") {
					t.Fatalf("got %+v, want a pass that states the price", v)
				}
			})
		}
	}
}

// TestEvaluateReadsTheReportsKeys checks the path from a real sim.Report:
// its JSON keys, injected map and first violations reach the items.
func TestEvaluateReadsTheReportsKeys(t *testing.T) {
	r := sim.Report{Committed: 1000, Lost: 97, DuplicateEffects: 2,
		Injected:       map[string]int{"bus.publish.fail": 12, "db.fail": 4},
		FirstViolation: map[string]int{"lost": 117, "duplicate_effects": 300},
		Counts: []sim.KeyCount{{Key: "split_writes", N: 12}, {Key: "failed_saves", N: 0}, {Key: "relay_polls", N: 30},
			{Key: "duplicate_deliveries", N: 2}}}
	got := verdictsByID(Evaluate(r))
	if len(got) != len(items) {
		t.Fatalf("got %d verdicts, want one per item (%d)", len(got), len(items))
	}
	ap := got["atomic-publish"]
	if ap.Verdict != Fail || ap.Count != 97 || ap.Event != 117 || ap.Metric != "lost" {
		t.Errorf("atomic-publish: got %+v", ap)
	}
	if want := "Lost 97 of 1000 committed payments; first at event 117."; ap.Evidence != want {
		t.Errorf("atomic-publish evidence: got %q, want %q", ap.Evidence, want)
	}
	if v := got["source-of-truth"]; v.Verdict != NotExercised {
		t.Errorf("source-of-truth: got %+v, want not-exercised (db.fail fired, but no save failed)", v)
	}
	if v := got["idempotent-consumer"]; v.Verdict != Fail || v.Event != 300 {
		t.Errorf("idempotent-consumer: got %+v", v)
	}
	clean := sim.Report{Committed: 10, Injected: map[string]int{"net.dup": 3}, FirstViolation: map[string]int{},
		Counts: []sim.KeyCount{{Key: "duplicate_deliveries", N: 0}}}
	if v := verdictsByID(Evaluate(clean))["idempotent-consumer"]; v.Verdict != NotExercised {
		t.Errorf("idempotent-consumer on a clean run where net.dup fired but no duplicate reached the consumer: got %+v, want not-exercised", v)
	}
	clean.Counts[0].N = 3
	if v := verdictsByID(Evaluate(clean))["idempotent-consumer"]; v.Verdict != Pass || v.Exposure != 3 {
		t.Errorf("idempotent-consumer on a clean run where 3 duplicates reached the consumer: got %+v, want pass", v)
	}
}

// TestEvaluateLeavesTheLedgerUnjudgedInRunsWithoutOne checks that a run
// with no payments database or ledger (the retry family's) does not pass
// the outbox items on zeros it never measured.
func TestEvaluateLeavesTheLedgerUnjudgedInRunsWithoutOne(t *testing.T) {
	r := sim.Report{Counts: []sim.KeyCount{{Key: "double_charges", N: 2}, {Key: "keyed_requests", N: 5},
		{Key: "timeouts", N: 3}, {Key: "retries_after_charge", N: 2}},
		Injected: map[string]int{"net.drop": 9, "db.fail": 3}, FirstViolation: map[string]int{"double_charges": 40}}
	got := verdictsByID(Evaluate(r))
	for _, id := range []string{"atomic-publish", "source-of-truth", "idempotent-consumer", "reconcile-and-alert"} {
		if v := got[id]; v.Verdict != NotDemonstrable {
			t.Errorf("%s: got %+v, want not-demonstrable", id, v)
		}
	}
	if v := got["idempotency-key"]; v.Verdict != Fail || v.Event != 40 {
		t.Errorf("idempotency-key: got %+v, want fail at event 40", v)
	}
	if v := got["timeout-is-unknown"]; v.Verdict != Fail || v.Count != 2 {
		t.Errorf("timeout-is-unknown judges double_charges alone here: got %+v", v)
	}
	r.Committed = 1 // one payment reached the database: now the ledger is compared
	r.Counts = append(r.Counts, sim.KeyCount{Key: "failed_saves", N: 2})
	if v := verdictsByID(Evaluate(r))["source-of-truth"]; v.Verdict != Pass {
		t.Errorf("source-of-truth with a committed payment and two failed saves: got %+v, want pass", v)
	}
}

func TestEvaluateIgnoresTheDesignsName(t *testing.T) {
	sc := StandardScenario("dual-write")
	res, err := sim.Run(sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Evaluate(res.Report)
	for _, name := range []string{"outbox-idempotent", "", "anything"} {
		r := res.Report
		r.Design = name
		if got := Evaluate(r); !slices.EqualFunc(got, want, verdictEqual) {
			t.Errorf("renaming the design to %q changed the verdicts", name)
		}
	}
}

func verdictsByID(vs []Verdict) map[string]Verdict {
	m := map[string]Verdict{}
	for _, v := range vs {
		m[v.ID] = v
	}
	return m
}

func verdictEqual(a, b Verdict) bool {
	return a.ID == b.ID && a.Verdict == b.Verdict && a.Evidence == b.Evidence &&
		a.Count == b.Count && a.Event == b.Event && a.Metric == b.Metric && slices.Equal(a.TurnOn, b.TurnOn) &&
		a.Situation == b.Situation && a.Exposure == b.Exposure && a.Lacks == b.Lacks
}

// A checklist report goes through JSON and back to the same bytes, the
// simulator's keys (its family's included) first and "checklist" last.
func TestReportJSONRoundTrips(t *testing.T) {
	for _, design := range sim.DesignNames() {
		sc := sim.DefaultScenario()
		sc.Design, sc.Payments = design, 30
		res, err := sim.Run(sc, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(NewReport(res.Report))
		if err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", design, err)
		}
		again, err := json.Marshal(back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Errorf("%s: round trip changed the bytes:\n%s\n%s", design, b, again)
		}
		simOnly, _ := json.Marshal(res.Report)
		want := string(simOnly[:len(simOnly)-1]) + `,"checklist":`
		if !strings.HasPrefix(string(b), want) || len(back.Checklist) == 0 {
			t.Errorf("%s: %s does not start with the simulator's report and then its checklist", design, b)
		}
	}
}
