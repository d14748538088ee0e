package lessons

import (
	"strings"
	"testing"

	"partialtruth/sim"
)

func TestCondEvaluatesInTheReportsVocabulary(t *testing.T) {
	r := sim.Report{Design: "dual-write", Payments: 200, Committed: 200, Lost: 18, LedgerEntries: 182,
		Injected: map[string]int{"bus.publish.fail": 18}}
	cases := []struct {
		src  string
		want bool
	}{
		{"lost = 0", false},
		{"lost=18", true},
		{"lost == 18 and phantom = 0", true},
		{"lost = 0 or ledger_entries < committed", true},
		{"lost > 0 and phantom > 0 or converged = true", false},
		{"converged = false", true},
		{"committed = payments", true},
		{"injected.bus.publish.fail >= 18 and injected.net.drop = 0", true},
		{"0 < lost", true},
		{"lost != 18", false},
	}
	for _, c := range cases {
		cond, err := ParseCond(c.src)
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
			continue
		}
		got, err := cond.Eval(r)
		if err != nil || got != c.want {
			t.Errorf("%q on the report = %v, %v; want %v", c.src, got, err, c.want)
		}
	}
}

func TestCondExplainsEachFailingComparison(t *testing.T) {
	r := sim.Report{Design: "dual-write", Lost: 18, DuplicateEffects: 3}
	c, err := ParseCond("lost = 0 and duplicate_effects = 0 and phantom = 0")
	if err != nil {
		t.Fatal(err)
	}
	why, err := c.Explain(r)
	if err != nil || why != "lost is 18, not = 0; duplicate_effects is 3, not = 0" {
		t.Errorf("Explain = %q, %v", why, err)
	}
}

func TestCondTermsJudgeEachComparison(t *testing.T) {
	c, err := ParseCond("lost=0 and converged = false or double_charges < committed")
	if err != nil {
		t.Fatal(err)
	}
	got := c.Terms(sim.Report{Design: "dual-write", Lost: 18, Committed: 200})
	want := []Term{
		{Text: "lost = 0", Holds: false, Measured: "lost is 18"},
		{Text: "converged = false", Holds: true, Measured: "converged is false"},
		{Text: "double_charges < committed", Measured: "report key double_charges is not measured by design dual-write; it measures payments, converged, events, end_ms, committed, published, delivered, ledger_entries, lost, phantom, duplicate_effects"},
	}
	if len(got) != len(want) {
		t.Fatalf("terms %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("term %d = %+v; want %+v", i, got[i], want[i])
		}
	}
}

func TestCondRefusesAKeyTheDesignDoesNotMeasure(t *testing.T) {
	c, err := ParseCond("double_charges = 0")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Eval(sim.Report{Design: "dual-write"})
	if err == nil || !strings.Contains(err.Error(), "double_charges is not measured by design dual-write") {
		t.Errorf("err %v", err)
	}
	if ok, err := c.Eval(sim.Report{Design: "retry-naive", Counts: []sim.KeyCount{{Key: "double_charges"}}}); !ok || err != nil {
		t.Errorf("retry-naive with no double charges: %v %v", ok, err)
	}
}

func TestParseCondNamesWhatIsWrong(t *testing.T) {
	for src, want := range map[string]string{
		"":                      "condition is empty",
		"lost":                  "ends early",
		"lost = ":               "ends early",
		"losts = 0":             `report key "losts" is unknown`,
		"lost => 0":             `operator "=>" is unknown`,
		"lost = 0 but phantom":  `"but" follows a comparison`,
		"1 = 1":                 "compares two numbers",
		"injected.net.drip > 0": `fault "net.drip" is unknown`,
		"lost = 0 and":          "ends early",
		strings.Repeat("lost = 0 and ", 100) + "lost = 0": "allowed: at most 1000",
	} {
		if _, err := ParseCond(src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want %q", src, err, want)
		}
	}
}

// FuzzCond parses any text as a condition and evaluates what parses on
// reports of every design: nothing panics, a condition's String parses to
// the same condition, and Explain is empty exactly when Eval holds.
func FuzzCond(f *testing.F) {
	for _, s := range []string{"lost = 0 and duplicate_effects = 0", "injected.bus.ack.lost > 0 or converged = true",
		"charges > payments", "0 < lost", "a = = b", "lost=0and", "lost <= -9223372036854775808"} {
		f.Add(s, 3, 1)
	}
	designs := sim.DesignNames()
	f.Fuzz(func(t *testing.T, src string, n, d int) {
		c, err := ParseCond(src)
		if err != nil {
			return
		}
		again, err := ParseCond(c.String())
		if err != nil || again.String() != c.String() {
			t.Fatalf("%q reparsed as %v, %v", c.String(), again, err)
		}
		design := designs[(d%len(designs)+len(designs))%len(designs)]
		r := sim.Report{Design: design, Payments: n, Lost: n, Committed: 2 * n, Injected: map[string]int{"net.drop": n}}
		for _, k := range sim.FamilyReportKeys() {
			r.Counts = append(r.Counts, sim.KeyCount{Key: k, N: n})
		}
		ok, err := c.Eval(r)
		why, err2 := c.Explain(r)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Eval err %v, Explain err %v", err, err2)
		}
		if err == nil && ok != (why == "") {
			t.Fatalf("%q: Eval %v but Explain %q", src, ok, why)
		}
	})
}
