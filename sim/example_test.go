package sim_test

import (
	"fmt"

	"partialtruth/sim"
)

// Two designs meet the same faults on one seed: one publish in ten fails.
// Dual write loses the payments whose event never reached the bus; the
// outbox, with an idempotent consumer, converges.
func ExampleRun() {
	for _, design := range []string{"dual-write", "outbox-idempotent"} {
		sc := sim.DefaultScenario()
		sc.Design, sc.Seed, sc.Payments = design, 42, 200
		sc.Faults = sim.Faults{}.Set(sim.BusPublishFail, 0.1)
		moved := 0
		res, err := sim.Run(sc, func(ev *sim.Event) { moved += len(ev.Moves) })
		if err != nil {
			fmt.Println(err)
			return
		}
		r := res.Report
		fmt.Printf("%s: committed %d, ledger entries %d, lost %d, converged %v, first lost at event %d\n",
			design, r.Committed, r.LedgerEntries, r.Lost, r.Converged, r.FirstViolation[sim.ViolationLost])
		fmt.Printf("  counters moved %d times, the report counts %d\n",
			moved, r.Committed+r.Published+r.Delivered+r.LedgerEntries)
	}
	// Output:
	// dual-write: committed 200, ledger entries 182, lost 18, converged false, first lost at event 117
	//   counters moved 746 times, the report counts 746
	// outbox-idempotent: committed 200, ledger entries 200, lost 0, converged true, first lost at event 0
	//   counters moved 800 times, the report counts 800
}
