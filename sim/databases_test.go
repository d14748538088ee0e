package sim

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// Design.Databases is what the Tables panel lists: exactly the databases a
// run of the design keeps, in lane order, and every starter query runs on
// the database it is listed for once the run has finished.
func TestDesignDatabasesAreTheRunsDatabasesAndTheirStartersRun(t *testing.T) {
	for _, d := range Designs() {
		var names []string
		_, err := run(context.Background(), familyScenario(d.Name, 4), nil, Options{}, func(w *world) error {
			for _, db := range w.dbs {
				names = append(names, db.name)
			}
			for i, info := range d.Databases {
				if i >= len(w.dbs) || w.dbs[i].name != info.Name {
					continue // reported below
				}
				if len(info.Starters) == 0 {
					t.Errorf("%s: %s has no starter query", d.Name, info.Name)
				}
				for _, s := range info.Starters {
					if s.Label == "" || !strings.HasPrefix(s.SQL, "SELECT ") {
						t.Errorf("%s: %s: starter %+v needs a label and one SELECT", d.Name, info.Name, s)
					}
					rows, err := w.dbs[i].conn.QueryContext(bg, s.SQL)
					if err != nil {
						t.Errorf("%s: %s: starter %q: %v", d.Name, info.Name, s.Label, err)
						continue
					}
					rows.Close()
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		var listed []string
		lane := -1
		for _, info := range d.Databases {
			listed = append(listed, info.Name)
			at := slices.Index(d.Nodes, info.Name)
			if at < 0 {
				at = slices.Index(d.Nodes, strings.TrimSuffix(info.Name, ".db"))
			}
			if at <= lane {
				t.Errorf("%s: %s is not in lane order in %v (lanes %v)", d.Name, info.Name, listed, d.Nodes)
			}
			lane = at
		}
		if !slices.Equal(listed, names) {
			t.Errorf("%s: Databases lists %v, a run keeps %v", d.Name, listed, names)
		}
	}
}
