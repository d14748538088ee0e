package checklist

import "partialtruth/sim"

// StandardFaults is the fault mix the compare matrix runs every design
// under. Every fault the simulator has is on (a test holds it to that), at
// a rate that fires it a few times in a few hundred payments, so that every
// item the simulator can demonstrate is exercised and every design meets
// the same failures at the same business steps. net.partition is the
// fraction of the workload during which the regions' link is down: at 0.5
// the regions split for half the time debits are flowing, so partition-cp
// refuses some and partition-ap overdraws. bus.poison acts only on the
// poison-message designs, about 15 of whose 300 payments it poisons.
const StandardFaults = "net.drop=0.02,net.dup=0.02,bus.publish.fail=0.05,bus.ack.lost=0.05,bus.redeliver=0.02," +
	"db.fail=0.02,crash.service=0.01,crash.relay=0.1,crash.consumer=0.005,net.partition=0.5,bus.poison=0.05"

// StandardSeed and StandardPayments complete the compare matrix's scenario.
const (
	StandardSeed     = 42
	StandardPayments = 300
)

// StandardScenario is the compare matrix's scenario for design.
func StandardScenario(design string) sim.Scenario {
	sc := sim.DefaultScenario()
	sc.Design = design
	sc.Seed = StandardSeed
	sc.Payments = StandardPayments
	f, err := sim.ParseFaults(StandardFaults)
	if err != nil {
		panic("checklist: StandardFaults does not parse: " + err.Error())
	}
	sc.Faults = f
	return sc
}
