package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Report is the checker's verdict on one run. Its JSON keys are a contract
// shared by `run -json`, the WebSocket stream, the UI's data-metric
// attributes and the checklist.
type Report struct {
	Design   string `json:"design"`
	Seed     uint64 `json:"seed"`
	Payments int    `json:"payments"`
	// Committed counts payments saved in the payment service's database.
	Committed int `json:"committed"`
	// Published counts messages the broker stored, duplicates included.
	Published int `json:"published"`
	// Delivered counts messages that reached the ledger consumer.
	Delivered int `json:"delivered"`
	// LedgerEntries counts rows in the ledger: money that moved.
	LedgerEntries int `json:"ledger_entries"`
	// Lost counts committed payments with no ledger entry (in the
	// poison-message designs, with no dead letter either).
	Lost int `json:"lost"`
	// Phantom counts payments with a ledger entry that were never committed.
	Phantom int `json:"phantom"`
	// DuplicateEffects counts ledger entries beyond the first for a payment.
	DuplicateEffects int `json:"duplicate_effects"`
	// Converged is true when the run settled (see Settled) and none of the
	// design's invariants (see Design.Invariants) is violated: for the
	// dual-write and outbox designs, Lost, Phantom and DuplicateEffects are
	// all 0. A run cut before it settled is not converged, and not
	// diverged either: its JSON says "settled":false.
	Converged bool `json:"converged"`
	// Events is how many events the run produced.
	Events int `json:"events"`
	// EndMs is the virtual time the run stopped at, in milliseconds.
	EndMs int64 `json:"end_ms"`
	// Stopped says why the run ended: "quiet" (nothing left to do),
	// "deadline", "event-limit" (the event budget was spent) or "cancelled"
	// (the run's context was cancelled; see RunContext).
	Stopped string `json:"stopped"`
	// Injected counts, per fault name, how often that fault fired.
	Injected map[string]int `json:"injected"`
	// FirstViolation maps each violated report key to the id of the first
	// event that shows it. Keys with no violation are absent.
	FirstViolation map[string]int `json:"first_violation"`
	// InFlight is nil for a run that settled. For a cut run it says what
	// was still on its way, which the checker counts as no violation: its
	// key "payments" (InFlightPayments) counts the payments with work
	// left, "not_sent" (InFlightNotSent) those the workload had not sent
	// yet, and a family adds the keys its in-flight work would have
	// moved on landing: "ledger_entries" for committed payments whose
	// entry was still on its way (not lost), "committed" for posted
	// payments whose commit was still running (not phantom), "applied"
	// for payments whose newest status had not been applied yet (not out
	// of order). In JSON, a cut run's report carries "settled":false and
	// "in_flight" after first_violation; a settled run's has neither.
	InFlight map[string]int `json:"-"`

	// Counts holds the keys the design's family counts beyond the fields
	// above, in the order its family_*.go file declares them. In JSON each
	// is a key of its own after first_violation, as `run -json` prints it.
	// A design's report holds exactly its family's keys, so a zero always
	// means "measured, and it held", never "not measured". The family's
	// situation keys come last: how often the run put the design in a
	// situation a checklist item guards against, or ran a part a design
	// may lack (each family_*.go file says what each of its keys counts):
	//
	//   payments:    split_writes, failed_saves, relay_polls, duplicate_deliveries, timeouts
	//   retry:       timeouts, retries_after_charge, keyed_requests
	//   stale-read:  lagged_decisions, limit_hidden_by_lag
	//   partition:   debits_in_partition
	//   reordering:  out_of_order_deliveries, versioned_statuses
	//   poison:      poison_messages (after its counters dead_lettered, alerts)
	Counts []KeyCount `json:"-"`
}

// Violation report keys, the names Event.Violation and FirstViolation use.
// Each later family declares its own in its family_*.go file.
const (
	ViolationLost      = "lost"
	ViolationPhantom   = "phantom"
	ViolationDuplicate = "duplicate_effects"
)

// Report.InFlight's keys every cut run may carry.
const (
	// InFlightPayments counts the payments with work still under way
	// when the run was cut.
	InFlightPayments = "payments"
	// InFlightNotSent counts the workload's payments the run was cut
	// before sending; absent when it sent them all.
	InFlightNotSent = "not_sent"
)

// Settled says whether the run ended because nothing was left to do
// ("quiet"), rather than being cut by its deadline, its event budget or
// its context with work in flight.
func (r Report) Settled() bool { return r.Stopped == "quiet" }

// cut says whether r is the report of a run that stopped before it
// settled; the zero Report is neither.
func (r Report) cut() bool { return r.Stopped != "" && !r.Settled() }

// InFlightCount is how many payments still had work under way when the
// run was cut: 0 for a run that settled.
func (r Report) InFlightCount() int { return r.InFlight[InFlightPayments] }

// Count returns the report's value for a counter key (any key a design
// lists in Metrics), so the UI's counters and the converged check read every
// key one way; it is 0 for a key the run did not measure.
func (r Report) Count(key string) int {
	n, _ := r.count(key)
	return n
}

func (r Report) count(key string) (int, bool) {
	switch key {
	case "committed":
		return r.Committed, true
	case "published":
		return r.Published, true
	case "delivered":
		return r.Delivered, true
	case "ledger_entries":
		return r.LedgerEntries, true
	case ViolationLost:
		return r.Lost, true
	case ViolationPhantom:
		return r.Phantom, true
	case ViolationDuplicate:
		return r.DuplicateEffects, true
	}
	for _, c := range r.Counts {
		if c.Key == key {
			return c.N, true
		}
	}
	return 0, false
}

// One-key Moves, shared by every event that moves that key so that setting
// Event.Moves allocates nothing.
var (
	movesCommitted     = []string{"committed"}
	movesPublished     = []string{"published"}
	movesDelivered     = []string{"delivered"}
	movesLedgerEntries = []string{"ledger_entries"}
	movesRetries       = []string{"retries"}
	movesAccepted      = []string{"accepted"}
	movesDeclined      = []string{"declined"}
	movesRejected      = []string{"rejected"}
)

// KeyCount is one of a family's report keys with its value.
type KeyCount struct {
	Key string
	N   int
}

// reportKey is a report key a family declares: its JSON name and what it
// counts.
type reportKey struct {
	key, doc string
}

// set gives the family key key its value. checkRun lists the family's
// keys, in order and at zero, before its checker runs; setting one it did
// not declare is a bug in the family.
func (r *Report) set(key string, n int) {
	for i := range r.Counts {
		if r.Counts[i].Key == key {
			r.Counts[i].N = n
			return
		}
	}
	panic("sim: report key " + key + " is not declared by design " + r.Design + "'s family")
}

// FamilyReportKeys lists every key a family declares beyond the fields
// every report has, as JSON names them, each once, in the order reports
// print them.
func FamilyReportKeys() []string { return slices.Clone(familyReportKeys) }

var familyReportKeys = func() []string {
	var out []string
	for _, d := range designs {
		for _, k := range slices.Concat(d.family.reportKeys, d.family.situations) {
			if !slices.Contains(out, k.key) {
				out = append(out, k.key)
			}
		}
	}
	return out
}()

// reportFields is Report without its methods, for encoding/json to write
// and read the fields every report has.
type reportFields Report

// coreKeys are the JSON keys of Report's own fields.
var coreKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[Report]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "-" {
			keys[name] = true
		}
	}
	keys["settled"], keys["in_flight"] = true, true // written by MarshalJSON
	return keys
}()

// MarshalJSON writes the report's fields, then its family's keys in their
// order, as one object.
func (r Report) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(reportFields(r))
	if err != nil || len(r.Counts) == 0 && !r.cut() {
		return b, err
	}
	b = b[:len(b)-1] // the closing brace
	if r.cut() {
		flight, err := json.Marshal(r.InFlight) // encoding/json sorts the keys
		if err != nil {
			return nil, err
		}
		if r.InFlight == nil {
			flight = []byte("{}")
		}
		b = append(append(b, `,"settled":false,"in_flight":`...), flight...)
	}
	for i, c := range r.Counts {
		if coreKeys[c.Key] || slices.ContainsFunc(r.Counts[:i], func(o KeyCount) bool { return o.Key == c.Key }) {
			return nil, fmt.Errorf("report key %q appears twice", c.Key)
		}
		k, err := json.Marshal(c.Key)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, ','), k...), ':')
		b = strconv.AppendInt(b, int64(c.N), 10)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes: a key some family declares
// (FamilyReportKeys) goes to Counts, in the order it comes, and its value
// must be an integer; other unknown keys are ignored, as encoding/json
// does.
func (r *Report) UnmarshalJSON(data []byte) error {
	var f reportFields
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // the opening brace
		return err
	}
	var counts []KeyCount
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		if key == "in_flight" {
			if err := dec.Decode(&f.InFlight); err != nil {
				return fmt.Errorf("report key in_flight: want an object of integers: %w", err)
			}
			continue
		}
		if !slices.Contains(familyReportKeys, key) {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		var n int
		if err := dec.Decode(&n); err != nil {
			return fmt.Errorf("report key %q: want an integer: %w", key, err)
		}
		counts = append(counts, KeyCount{key, n})
	}
	*r = Report(f)
	r.Counts = counts
	return nil
}
