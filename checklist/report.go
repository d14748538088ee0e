package checklist

import (
	"encoding/json"

	"partialtruth/sim"
)

// Report is what `run -json` prints and what the playground's socket sends
// at the end of a run: the checker's report and the checklist's verdicts on
// it, one object, so the CLI and the web app can never disagree.
type Report struct {
	sim.Report
	Checklist []Verdict `json:"checklist"`
}

// NewReport scores r against the checklist.
func NewReport(r sim.Report) Report {
	return Report{Report: r, Checklist: Evaluate(r)}
}

// MarshalJSON writes the simulator's report with "checklist" as its last
// key. Without it, the embedded sim.Report's own MarshalJSON would write
// the whole object and leave the verdicts out.
func (r Report) MarshalJSON() ([]byte, error) {
	b, err := r.Report.MarshalJSON()
	if err != nil {
		return nil, err
	}
	c, err := json.Marshal(r.Checklist)
	if err != nil {
		return nil, err
	}
	b = append(b[:len(b)-1], `,"checklist":`...)
	return append(append(b, c...), '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Report) UnmarshalJSON(data []byte) error {
	if err := r.Report.UnmarshalJSON(data); err != nil {
		return err
	}
	var c struct {
		Checklist []Verdict `json:"checklist"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	r.Checklist = c.Checklist
	return nil
}
