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

// A constant is shown once, after the first function that uses it, with
// its doc comment, and a SQL constant says so in its role.
func TestDesignSourceShowsEachConstantOnceAfterItsFirstUse(t *testing.T) {
	src, err := DesignSource("dual-write")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range src {
		names = append(names, f.Role+":"+f.Name)
	}
	want := "service:saveThenPublish sql:insertPayment consumer:postToLedger sql:insertLedgerEntry"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("dual-write source lists %s, want %s", got, want)
	}
	if c := src[1].Code; !strings.HasPrefix(c, "// insertPayment ") || !strings.Contains(c, "const insertPayment = `INSERT INTO payments") {
		t.Errorf("insertPayment's code is %q, want its doc comment and declaration", c)
	}
}
