package sim

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
	// Lost counts committed payments with no ledger entry.
	Lost int `json:"lost"`
	// Phantom counts payments with a ledger entry that were never committed.
	Phantom int `json:"phantom"`
	// DuplicateEffects counts ledger entries beyond the first for a payment.
	DuplicateEffects int `json:"duplicate_effects"`
	// Converged is true when Lost, Phantom and DuplicateEffects are all 0.
	Converged bool `json:"converged"`
	// Events is how many events the run produced.
	Events int `json:"events"`
	// EndMs is the virtual time the run stopped at, in milliseconds.
	EndMs int64 `json:"end_ms"`
	// Stopped says why the run ended: "quiet" (nothing left to do),
	// "deadline" or "event-limit".
	Stopped string `json:"stopped"`
	// Injected counts, per fault name, how often that fault fired.
	Injected map[string]int `json:"injected"`
	// FirstViolation maps each violated report key to the id of the first
	// event that shows it. Keys with no violation are absent.
	FirstViolation map[string]int `json:"first_violation"`
}

// Violation report keys, the names Event.Violation and FirstViolation use.
const (
	ViolationLost      = "lost"
	ViolationPhantom   = "phantom"
	ViolationDuplicate = "duplicate_effects"
)

// Violations lists the violation keys in report order.
var Violations = []string{ViolationLost, ViolationPhantom, ViolationDuplicate}

// Count returns the report's value for a violation key.
func (r Report) Count(key string) int {
	switch key {
	case ViolationLost:
		return r.Lost
	case ViolationPhantom:
		return r.Phantom
	case ViolationDuplicate:
		return r.DuplicateEffects
	}
	return 0
}
