package checklist

import (
	"encoding/json"
	"fmt"
	"strings"

	"partialtruth/sim"
)

// The five verdicts an item can get from a run.
const (
	// Pass: the situation the item guards against arose in the run
	// (Exposure times), and the item held.
	Pass = "pass"
	// Fail: the run violated the item (Count and Event say how and
	// where), or the design lacks the part the item is about (Lacks).
	Fail = "fail"
	// NotExercised: the situation the item guards against never arose in
	// the run, so a clean result proves nothing; Rerun links to a run of
	// the same design where it does, and TurnOn names the faults that
	// bring it about.
	NotExercised = "not-exercised"
	// NotDemonstrable: the run does not measure what the item is about,
	// because the simulator does not model it yet or because this kind of
	// design's runs do not count it; the evidence says which.
	NotDemonstrable = "not-demonstrable"
	// Inconclusive: the run was cut by its deadline, its event budget or
	// its cancellation before it settled, with work still in flight, so a
	// clean result so far proves nothing; the evidence says where it
	// stopped and what was in flight. A violation a cut run did count
	// stays a Fail: work in flight is never counted as one.
	Inconclusive = "inconclusive"
)

// Verdict is one checklist item's verdict on one run. The JSON keys are a
// contract: `run -json`, the WebSocket's final report and the playground's
// checklist panel all read them.
type Verdict struct {
	// ID is the item's stable id (/checklist#<id>).
	ID string `json:"id"`
	// Verdict is Pass, Fail, NotExercised, NotDemonstrable or Inconclusive.
	Verdict string `json:"verdict"`
	// Evidence says in a sentence what the run showed, with numbers.
	Evidence string `json:"evidence"`
	// Count is how many violations the run counted for the item (fail only).
	Count int `json:"count,omitempty"`
	// Event is the id of the first event that shows a violation (fail
	// only), so the playground can jump to it.
	Event int `json:"event,omitempty"`
	// Metric is the report key Event is the first violation of.
	Metric string `json:"metric,omitempty"`
	// TurnOn lists the faults that would exercise the item (not-exercised
	// only), for a "try it with" link.
	TurnOn []string `json:"turn_on,omitempty"`
	// Situation says in words what the item guards against, as it happens
	// in a run ("a delivery reached the consumer for a payment it had
	// posted or was posting already"); empty for an item no run can judge.
	Situation string `json:"situation,omitempty"`
	// Exposure is how often the run put the design in that situation, as
	// the simulator counted it (the item's Exercise keys); a pass needs it
	// to be at least 1.
	Exposure int `json:"exposure,omitempty"`
	// Rerun (not-exercised only) is a playground link that runs the same
	// design in a scenario where the situation arises.
	Rerun string `json:"rerun,omitempty"`
	// Lacks (fail only) names the part of the design the item is about
	// that this design does not have ("outbox relay"): its run measured
	// that part's work at zero. Count and Event stay 0 unless the run also
	// counted violations.
	Lacks string `json:"lacks,omitempty"`
}

// Evaluate gives every checklist item a verdict from the evidence in r. It
// judges by the report's numbers alone, never by the design's name: two
// designs with the same numbers get the same verdicts. The name serves
// only to build a not-exercised verdict's Rerun link to a run of the same
// design.
func Evaluate(r sim.Report) []Verdict {
	f := factsOf(r)
	out := make([]Verdict, len(items))
	for i, it := range items {
		out[i] = it.evaluate(f)
		if !r.Settled() && r.Stopped != "" {
			out[i] = inconclusive(out[i], r)
		}
	}
	return out
}

// inconclusive is v on a run cut before it settled: a pass or a
// not-exercised proves nothing there, since what was in flight could still
// have broken the item or tested it.
func inconclusive(v Verdict, r sim.Report) Verdict {
	if v.Verdict != Pass && v.Verdict != NotExercised {
		return v
	}
	why := map[string]string{
		"deadline":    "reached its deadline",
		"event-limit": "spent its event budget",
		"cancelled":   "was cancelled",
	}[r.Stopped]
	if why == "" {
		why = "stopped (" + r.Stopped + ")"
	}
	return Verdict{ID: v.ID, Verdict: Inconclusive, Situation: v.Situation, Exposure: v.Exposure, Evidence: fmt.Sprintf(
		"Inconclusive: the run %s before it settled, with %s in flight; a run that settles (a longer deadline or fewer payments) can judge this item.",
		why, plural(r.InFlightCount(), "payment", "payments"))}
}

// facts is a report read through its JSON keys. The keys are the contract
// sim documents for the report, and a key a run does not measure is absent
// from it, so when the simulator starts measuring a new invariant, the item
// that names its key gets a real verdict without a change here.
type facts struct {
	design   string
	numbers  map[string]int
	injected map[string]int
	first    map[string]int
}

// pipelineKeys are the checker's comparison of the payments database with
// the ledger. The report always carries them; they mean something only in a
// run where payments were committed or money moved in a ledger, so in a run
// with neither (the retry, stale-read, partition and reordering families
// have no ledger) they count as not measured.
var pipelineKeys = []string{sim.ViolationLost, sim.ViolationPhantom, sim.ViolationDuplicate}

func factsOf(r sim.Report) facts {
	f := facts{design: r.Design, numbers: map[string]int{}, injected: r.Injected, first: r.FirstViolation}
	b, err := json.Marshal(r)
	if err != nil {
		return f // a report always marshals; an empty one yields not-demonstrable
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		return f
	}
	for k, v := range raw {
		var n int
		if json.Unmarshal(v, &n) == nil {
			f.numbers[k] = n
		}
	}
	if r.Committed+r.LedgerEntries == 0 {
		for _, k := range pipelineKeys {
			delete(f.numbers, k)
		}
	}
	return f
}

func (it Item) evaluate(f facts) Verdict {
	v := Verdict{ID: it.ID}
	var measured []string
	for _, k := range it.Invariants {
		if _, ok := f.numbers[k]; ok {
			measured = append(measured, k)
		}
	}
	if len(measured) == 0 {
		v.Verdict = NotDemonstrable
		v.Evidence = it.notDemonstrable()
		return v
	}
	v.Situation = it.Situation

	exposedMeasured := false
	for _, k := range it.Exercise {
		if n, ok := f.numbers[k]; ok {
			exposedMeasured = true
			v.Exposure += n
		}
	}
	if !exposedMeasured {
		// The run cannot tell whether the item's situation arose, so its
		// violations are not the item's: a poison-message design that
		// loses a payment to its consumer counts lost, yet says nothing
		// about whether its payments and outbox commit together.
		v.Verdict = NotDemonstrable
		v.Situation = ""
		v.Evidence = fmt.Sprintf("Not measured: this run does not count whether %s.", it.Situation)
		return v
	}
	if n, ok := f.numbers[it.Part]; ok && it.Part != "" && n == 0 {
		v.Lacks = it.PartName
	}

	var broken []string
	for _, k := range measured {
		if n := f.numbers[k]; n > 0 {
			v.Count += n
			broken = append(broken, violationPhrase(k, n, f))
			if ev, ok := f.first[k]; ok && ev > 0 && (v.Event == 0 || ev < v.Event) {
				v.Event, v.Metric = ev, k
			}
		}
	}
	if len(broken) > 0 {
		v.Verdict = Fail
		v.Evidence = capitalise(joinAnd(broken))
		if v.Event > 0 {
			v.Evidence += fmt.Sprintf("; first at event %d", v.Event)
		}
		if v.Lacks != "" {
			v.Evidence += fmt.Sprintf("; the design has no %s (%s 0)", v.Lacks, it.Part)
		}
		v.Evidence += "."
		return v
	}
	if v.Lacks != "" {
		v.Verdict = Fail
		v.Evidence = fmt.Sprintf("The design has no %s (%s 0), so nothing here does what this item asks", v.Lacks, it.Part)
		if v.Exposure > 0 {
			v.Evidence += fmt.Sprintf("; %s, and this run happened not to need it", exposureSentence(it, v.Exposure))
		}
		v.Evidence += "."
		return v
	}
	if v.Exposure == 0 {
		v.Verdict = NotExercised
		v.TurnOn = it.suggest()
		v.Evidence = fmt.Sprintf("Not tested: it never happened in this run that %s (%s 0), so a clean result proves nothing.",
			it.Situation, joinOr(it.Exercise))
		if len(v.TurnOn) > 0 {
			v.Evidence += fmt.Sprintf(" Turn on %s to test it.", joinOr(v.TurnOn))
		}
		if it.Tip != "" {
			v.Evidence += " " + it.Tip
		}
		if sc, err := it.Rerun.Scenario(f.design); err == nil && it.Rerun.Payments > 0 {
			v.Rerun = PlayURL(sc, "")
		}
		return v
	}
	v.Verdict = Pass
	held := make([]string, len(measured))
	for i, k := range measured {
		held[i] = heldPhrase(k)
	}
	v.Evidence = fmt.Sprintf("Tested: %s, and %s", exposureSentence(it, v.Exposure), joinAnd(held))
	for _, k := range it.Costs {
		if n, ok := f.numbers[k]; ok {
			v.Evidence += "; " + costPhrase(k, n)
		}
	}
	v.Evidence += "."
	return v
}

// exposureSentence says how often the item's situation arose, and which
// report keys counted it: "it happened 44 times that a delivery reached
// the consumer … (duplicate_deliveries)".
func exposureSentence(it Item, n int) string {
	times := "once"
	if n > 1 {
		times = fmt.Sprintf("%d times", n)
	}
	return fmt.Sprintf("it happened %s that %s (%s)", times, it.Situation, joinAnd(it.Exercise))
}

// isFault tells a fault name ("net.drop") from a report key ("stale_reads"):
// fault names are dotted, report keys never are.
func isFault(x string) bool { return strings.Contains(x, ".") }

// exposureName names something that exercises an item: a fault by its own
// name, a report key in words.
func exposureName(x string) string {
	if isFault(x) {
		return x
	}
	if w, ok := keyWords[x]; ok {
		return w
	}
	return strings.ReplaceAll(x, "_", " ")
}

// keyWords says what a report key counts, where its name alone is terse.
var keyWords = map[string]string{
	"retries":              "client retries",
	"declined":             "payments declined by the limit",
	"accepted":             "accepted payments",
	"ignored":              "late status events ignored",
	"rejected":             "requests refused for lack of consistency",
	"double_charges":       "double charges",
	"stale_decisions":      "stale decisions",
	"limit_breaches":       "limit breaches",
	"out_of_order_applied": "out-of-order statuses",
	"duplicate_effects":    "duplicate effects",
	"lost":                 "lost payments",
	"phantom":              "phantom payments",
}

// exposurePhrase says how often x happened: "net.drop ×25", "12 stale reads".
func exposurePhrase(x string, n int) string {
	if isFault(x) {
		return fmt.Sprintf("%s ×%d", x, n)
	}
	return fmt.Sprintf("%d %s", n, exposureName(x))
}

// suggest lists the faults that would exercise the item.
func (it Item) suggest() []string { return it.TurnOn }

// notDemonstrable says honestly why this run cannot judge the item, and
// where to look instead.
func (it Item) notDemonstrable() string {
	if len(it.Invariants) == 0 {
		return it.Gap
	}
	names := make([]string, len(it.Invariants))
	for i, k := range it.Invariants {
		names[i] = fmt.Sprintf("%s (%s)", exposureName(k), k)
	}
	if demos := availableDemos(it.Demos); len(demos) > 0 {
		return fmt.Sprintf("Not measured: this run does not count %s. Run %s against %s to see it.",
			joinOr(names), demos[0].Bad, demos[0].Good)
	}
	return fmt.Sprintf("Not measured: the simulator does not count %s yet, so no run can show this; check it by reading the code.",
		joinOr(names))
}

// violationPhrase says what n violations of key mean, in words a reviewer
// can paste.
func violationPhrase(key string, n int, f facts) string {
	switch key {
	case sim.ViolationLost:
		return fmt.Sprintf("lost %d of %d committed payments", n, f.numbers["committed"])
	case sim.ViolationPhantom:
		return fmt.Sprintf("moved money for %s never committed", plural(n, "payment", "payments"))
	case sim.ViolationDuplicate:
		return fmt.Sprintf("posted %s", plural(n, "duplicate ledger entry", "duplicate ledger entries"))
	case "double_charges":
		return fmt.Sprintf("charged %s more than once", plural(n, "request", "requests"))
	case "stale_decisions":
		return fmt.Sprintf("made %s on stale data", plural(n, "decision", "decisions"))
	case "limit_breaches":
		return fmt.Sprintf("let %s exceed their limit", plural(n, "customer", "customers"))
	case "overdrafts":
		return fmt.Sprintf("left %s overdrawn", plural(n, "account", "accounts"))
	case "out_of_order_applied":
		return fmt.Sprintf("left %s with an older status than the last one sent", plural(n, "payment", "payments"))
	}
	return fmt.Sprintf("counted %d %s", n, strings.ReplaceAll(key, "_", " "))
}

// heldPhrase says that key's invariant held.
func heldPhrase(key string) string {
	switch key {
	case sim.ViolationLost:
		return "no committed payment was lost"
	case sim.ViolationPhantom:
		return "no money moved for an uncommitted payment"
	case sim.ViolationDuplicate:
		return "no ledger entry was posted twice"
	case "double_charges":
		return "no request was charged twice"
	case "stale_decisions":
		return "no decision read stale data"
	case "limit_breaches":
		return "no customer exceeded their limit"
	case "overdrafts":
		return "no account was overdrawn"
	case "out_of_order_applied":
		return "every payment ended with its latest status"
	}
	return "no " + strings.ReplaceAll(key, "_", " ") + " were counted"
}

// costPhrase states the price a design paid to hold an invariant.
func costPhrase(key string, n int) string {
	if key == "rejected" {
		if n == 0 {
			return "no request was refused"
		}
		return "the price: " + plural(n, "request", "requests") + " refused"
	}
	return fmt.Sprintf("the price: %d %s", n, strings.ReplaceAll(key, "_", " "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func joinAnd(xs []string) string { return joinWith(xs, "and") }
func joinOr(xs []string) string  { return joinWith(xs, "or") }

func joinWith(xs []string, word string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	case 2:
		return xs[0] + " " + word + " " + xs[1]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + ", " + word + " " + xs[len(xs)-1]
}

func capitalise(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
