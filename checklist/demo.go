package checklist

import "partialtruth/sim"

// Demo is a pair of runs on one seed and one fault mix: a design that
// breaks the item and one that keeps it. It is the link a reviewer pastes
// when someone asks "does this really happen?".
type Demo struct {
	// Bad is the design that breaks the item; Good the one that keeps it.
	Bad, Good string
	// Faults is the fault mix in the CLI's and the URL's form; it goes
	// through sim.ParseFaults, so a misspelt name cannot reach a link.
	Faults string
	// Seed and Payments complete the scenario; the rest is the default.
	Seed     uint64
	Payments int
	// Isolation is the limit-check designs' isolation level, as the
	// scenario and the playground's isolation parameter spell it; empty
	// is the default, serializable.
	Isolation string
}

// Scenario is the demo's scenario for design, which is Bad or Good.
func (d Demo) Scenario(design string) (sim.Scenario, error) {
	sc, err := scenarioFor(design, d.Seed, d.Payments, d.Faults)
	if err != nil || d.Isolation == "" {
		return sc, err
	}
	sc.Isolation = d.Isolation
	return sc, sc.Validate()
}

// URL is the playground link that runs Bad and Good side by side.
func (d Demo) URL() string {
	sc, err := d.Scenario(d.Bad)
	if err != nil {
		return "" // availableDemos never lets such a demo out
	}
	return PlayURL(sc, d.Good)
}

// availableDemos keeps the demos whose designs and faults the simulator
// has, so that no page links to a run that would fail to start.
func availableDemos(ds []Demo) []Demo {
	var out []Demo
	for _, d := range ds {
		if _, err := d.Scenario(d.Bad); err != nil {
			continue
		}
		if _, err := d.Scenario(d.Good); err != nil {
			continue
		}
		out = append(out, d)
	}
	return out
}

// PlayURL is the playground link that plays sc, compared with the design
// named compare unless it is empty, written by sim's one link writer, so a
// link can never drift from what the playground parses. It plays through
// as soon as it opens, at sim.PlayThroughSpeed, which shows a few hundred
// payments in seconds.
func PlayURL(sc sim.Scenario, compare string) string {
	return "/play?" + sc.PlayQuery(sim.View{Compare: compare, Speed: sim.PlayThroughSpeed, Autoplay: true})
}
