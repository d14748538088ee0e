package checklist

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
	// Bad and Good are a short code pair in the handbook's style.
	Bad, Good string
	// Invariants are the report keys that count violations of this item.
	// A key the report does not carry is one the simulator does not measure
	// yet, and an item none of whose keys are measured is not demonstrable.
	Invariants []string
	// Exercise lists what must have happened in a run for a clean result to
	// mean anything: fault names (counted in the report's injected map) or
	// report keys that count exposure ("retries": a positive value means
	// the run was exposed).
	Exercise []string
	// TurnOn names the faults to suggest when nothing in Exercise happened;
	// empty means the faults in Exercise.
	TurnOn []string
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

// ItemByID returns the item with this id.
func ItemByID(id string) (Item, bool) {
	for _, it := range items {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// Items lists every item in the order the checklist presents them. The
// demos of designs the simulator does not have yet are left out, so every
// link the checklist shows opens a run that exists.
func Items() []Item {
	out := make([]Item, len(items))
	for i, it := range items {
		it.Demos = availableDemos(it.Demos)
		out[i] = it
	}
	return out
}
