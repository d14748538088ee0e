package checklist_test

import (
	"fmt"

	"partialtruth/checklist"
	"partialtruth/sim"
)

// Run the handbook's example, dual write with one bus publish in ten
// failing, and read the first items' verdicts: payments lost between the
// database and the bus fail the items about publishing, with the event
// that shows it (the failed publish), an item about a part dual write does
// not have (a relay) says so, and an item whose situation never arose
// says so instead of passing.
func ExampleEvaluate() {
	sc := sim.DefaultScenario()
	sc.Design = "dual-write"
	sc.Faults = sim.Faults{}.Set(sim.BusPublishFail, 0.1)
	res, err := sim.Run(sc, nil)
	if err != nil {
		panic(err)
	}
	for _, v := range checklist.Evaluate(res.Report)[:3] {
		fmt.Printf("%s: %s: %s\n", v.ID, v.Verdict, v.Evidence)
	}
	// Output:
	// atomic-publish: fail: Lost 18 of 200 committed payments; first at event 117.
	// source-of-truth: not-exercised: Not tested: it never happened in this run that a payment's save in the payments database failed (failed_saves 0), so a clean result proves nothing. Turn on db.fail or crash.service to test it.
	// relay-until-acked: fail: Lost 18 of 200 committed payments; first at event 117; the design has no outbox relay (relay_polls 0).
}
