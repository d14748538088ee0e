package checklist

import "partialtruth/sim"

// Item is one question a reviewer asks of a change that keeps state in more
// than one place, with what it protects, what good code looks like, and how
// a run proves or refutes it. Items are data, not prose in a template, so
// the reference page, the Markdown export, the verdicts and the compare
// matrix all read the same words.
type Item struct {
	// ID is stable: it appears in URLs (/checklist#atomic-publish), in
	// verdicts and in the compare matrix's data-item attributes. Never
	// rename one; add a new item instead.
	ID string
	// Title names the practice in a few words.
	Title string
	// Question is what the reviewer asks, answerable yes or no.
	Question string
	// Why says what goes wrong without it, in money and AML terms.
	Why string
	// Bad and Good are a short code pair in the handbook's style. Good is
	// filled from GoodFrom when that is set.
	Bad, Good string
	// GoodFrom names the marked region of a design's source (see
	// sim.Snippet) that Good is cut from, so the code a reviewer copies is
	// the code that ran; Items fills Good, GoodFunc and GoodDesign from it.
	// Empty where the practice is broader than the simulation.
	GoodFrom string
	// GoodFunc is the function Good is cut from and GoodDesign a design
	// that runs it, for the link to the whole function.
	GoodFunc, GoodDesign string
	// Follows names the published practice a snippet follows where it is
	// broader than the simulation, so a reviewer can check it at source.
	Follows string
	// Invariants are the report keys that count violations of this item.
	// A key the report does not carry is one the simulator does not measure
	// yet, and an item none of whose keys are measured is not demonstrable.
	Invariants []string
	// Situation says in words what the item guards against, as it happens
	// in a run ("a duplicate delivery reached the consumer"): a clean
	// result means something only if it happened at least once.
	Situation string
	// Exercise lists the report keys that count the Situation, measured by
	// the simulator for every design of a family alike (sim.Report's
	// situation keys, such as duplicate_deliveries); the item is exercised
	// when one of them is positive. Fault names do not belong here: a
	// fault that fired is not yet a situation the design had to handle.
	Exercise []string
	// TurnOn names the faults to suggest when the situation never arose.
	TurnOn []string
	// Rerun is a scenario in which the situation arises, whatever the
	// design: a not-exercised verdict links to it, run with its own design.
	Rerun Rerun
	// Part, if set, is a report key that counts a part of the design the
	// item is about (relay_polls counts an outbox relay's work); PartName
	// names the part ("an outbox relay"). A run that measures Part at zero
	// is of a design without it, and the item fails: a missing part is a
	// failure of the design, not a pass on a run where it was not needed.
	Part, PartName string
	// Tip says what else would exercise the item when that is a scenario
	// setting rather than a fault ("raise jitter").
	Tip string
	// Costs are report keys that measure the price a design pays to hold
	// the invariant (requests refused under a partition, say). They are
	// reported as evidence, never counted as violations.
	Costs []string
	// Demos are runs that show the item failing in one design and holding
	// in another, on the same seed and faults.
	Demos []Demo
	// Gap says what runs cannot show about this item, so that a reviewer
	// knows which part to check by reading the code. For an item with no
	// invariants it is the whole reason the item is not demonstrable.
	Gap string
}

// Rerun is a scenario of the simulator, less its design: a seed, a number
// of payments and a fault mix, every other parameter at its default.
type Rerun struct {
	// Faults is the fault mix in the CLI's and the URL's form.
	Faults   string
	Seed     uint64
	Payments int
}

// Scenario is the rerun's scenario for design.
func (r Rerun) Scenario(design string) (sim.Scenario, error) {
	return scenarioFor(design, r.Seed, r.Payments, r.Faults)
}

// scenarioFor is the default scenario with design, seed, payments and the
// fault mix faults, validated.
func scenarioFor(design string, seed uint64, payments int, faults string) (sim.Scenario, error) {
	sc := sim.DefaultScenario()
	sc.Design = design
	sc.Seed = seed
	sc.Payments = payments
	f, err := sim.ParseFaults(faults)
	if err != nil {
		return sc, err
	}
	sc.Faults = f
	return sc, sc.Validate()
}

// ItemByID returns the item with this id, its good code filled in as
// Items fills it.
func ItemByID(id string) (Item, bool) {
	for _, it := range Items() {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// SourceURL is the page that shows the whole function Good is cut from,
// with the constants it uses; empty when Good is not cut from a design.
func (it Item) SourceURL() string {
	if it.GoodFunc == "" {
		return ""
	}
	return "/source/" + it.GoodDesign + "#" + it.GoodFunc
}

// withSnippet fills Good from the design source GoodFrom names. A name
// that is not marked leaves Good empty, which the items' test refuses.
func withSnippet(it Item) Item {
	if it.GoodFrom == "" {
		return it
	}
	s, err := sim.LookupSnippet(it.GoodFrom)
	if err != nil {
		it.Good = ""
		return it
	}
	it.Good, it.GoodFunc, it.GoodDesign = s.Code, s.Func, s.Design
	return it
}

// Items lists every item in the order the checklist presents them. The
// demos of designs the simulator does not have yet are left out, so every
// link the checklist shows opens a run that exists.
func Items() []Item {
	out := make([]Item, len(items))
	for i, it := range items {
		it.Demos = availableDemos(it.Demos)
		out[i] = withSnippet(it)
	}
	return out
}
