package checklist

import "partialtruth/sim"

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
