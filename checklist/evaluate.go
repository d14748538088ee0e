package checklist

import "partialtruth/sim"

// Verdict is one checklist item's verdict on one run.
type Verdict struct {
	ID       string `json:"id"`
	Verdict  string `json:"verdict"`
	Evidence string `json:"evidence"`
}

// Evaluate gives every checklist item a verdict from the evidence in r.
// (The items arrive with the checklist issue; until then there are none.)
func Evaluate(r sim.Report) []Verdict {
	return []Verdict{}
}
