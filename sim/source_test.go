package sim

import (
	"strings"
	"testing"
)

// The source panel shows the SQL a design runs: every statement its code
// executed or queried in a run appears, word for word, in the source
// DesignSource returns, whether written inline or as a named constant.
func TestDesignSourceShowsTheSQLItRuns(t *testing.T) {
	for _, d := range Designs() {
		src, err := DesignSource(d.Name)
		if err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		for _, f := range src {
			all.WriteString(f.Code)
		}
		events, _, err := Record(familyScenario(d.Name, 9))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, ev := range events {
			if ev.Kind != KindExec && ev.Kind != KindQuery || seen[ev.SQL] {
				continue
			}
			seen[ev.SQL] = true
			if !strings.Contains(all.String(), ev.SQL) {
				t.Errorf("%s: event %d ran %q, which its source does not show", d.Name, ev.ID, ev.SQL)
			}
		}
		if len(seen) == 0 {
			t.Errorf("%s: a run executed no statement", d.Name)
		}
	}
}

// A function's code is followed by the constants it uses, each with its
// doc comment, once.
func TestDesignSourceAppendsTheConstantsAFunctionUses(t *testing.T) {
	src, err := DesignSource("dual-write")
	if err != nil {
		t.Fatal(err)
	}
	service := src[0].Code
	at := strings.Index(service, "// insertPayment saves a payment")
	if src[0].Name != "saveThenPublish" || at < strings.Index(service, "\n}") ||
		!strings.Contains(service[at:], "const insertPayment = `INSERT INTO payments") ||
		strings.Count(service, "const insertPayment") != 1 {
		t.Errorf("saveThenPublish's code does not end with insertPayment's, once:\n%s", service)
	}
}
