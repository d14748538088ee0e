package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"partialtruth/checklist"
	"partialtruth/sim"
	"partialtruth/web/ui"
)

// compareMatrix is /compare's content. Runs are deterministic, so it is
// computed once per process, on first use, and never goes stale.
var compareMatrix = sync.OnceValues(buildCompare)

// handleCompare is /compare: every design × every checklist item under
// the standard scenario.
func (s *Server) handleCompare(w http.ResponseWriter, r *http.Request) {
	v, err := compareMatrix()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, ui.ComparePage(v))
}

// buildCompare runs every design on checklist.StandardScenario and scores
// each run.
func buildCompare() (ui.CompareView, error) {
	std := checklist.StandardScenario("")
	v := ui.CompareView{
		Seed: std.Seed, Payments: std.Payments,
		FaultList: std.Faults.String(),
	}
	for _, kv := range std.Params() {
		switch kv[0] {
		case "design", "seed", "payments", "faults":
		default:
			v.Settings = append(v.Settings, kv[0]+"="+kv[1])
		}
	}
	for _, f := range sim.AllFaults() {
		if p := std.Faults[f]; p > 0 {
			v.Faults = append(v.Faults, ui.CompareFault{Name: f.String(), Summary: f.Summary(), P: strconv.FormatFloat(p, 'g', -1, 64)})
		}
	}
	items := checklist.Items()
	v.Rows = make([]ui.CompareRow, len(items))
	for i, it := range items {
		v.Rows[i].Item = it
	}
	for _, d := range sim.Designs() {
		sc := checklist.StandardScenario(d.Name)
		res, err := sim.Run(sc, nil)
		if err != nil {
			return ui.CompareView{}, fmt.Errorf("compare: run %s: %w", d.Name, err)
		}
		r := res.Report
		url := checklist.PlayURL(sc, "")
		cd := ui.CompareDesign{Name: d.Name, Summary: d.Summary, URL: url, Converged: r.Converged}
		for _, k := range d.Invariants {
			if n := r.Count(k); n > 0 {
				cd.Violations = append(cd.Violations, strconv.Itoa(n)+" "+strings.ReplaceAll(k, "_", " "))
			}
		}
		v.Designs = append(v.Designs, cd)
		// Failures with one root cause (the same first event of the same
		// counter) are one finding: later cells name the first item.
		firstOf := map[string]string{}
		for i, vd := range checklist.Evaluate(r) {
			if vd.ID != v.Rows[i].Item.ID {
				return ui.CompareView{}, fmt.Errorf("compare: verdict %d is for %s, row is %s", i, vd.ID, v.Rows[i].Item.ID)
			}
			cell := ui.CompareCell{Design: d.Name, Item: vd.ID,
				Verdict: vd.Verdict, Evidence: vd.Evidence, Count: vd.Count, URL: url, Rerun: vd.Rerun}
			if vd.Verdict == checklist.Fail && vd.Event > 0 {
				cause := vd.Metric + " " + strconv.Itoa(vd.Event)
				if first, ok := firstOf[cause]; ok {
					cell.SameAs = first
				} else {
					firstOf[cause] = vd.ID
				}
			}
			v.Rows[i].Cells = append(v.Rows[i].Cells, cell)
		}
	}
	return v, nil
}
