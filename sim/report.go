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
	// Converged is true when none of the design's invariants (see
	// Design.Invariants) is violated: for the dual-write and outbox designs,
	// Lost, Phantom and DuplicateEffects are all 0.
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

	// The keys below belong to the later families. Each is set only by the
	// designs that measure it (see Design.Metrics) and absent otherwise, so
	// a zero always means "measured, and it held", never "not measured".

	// Charges counts charges committed in the payment service's database,
	// every retry's included.
	Charges *int `json:"charges,omitempty"`
	// Retries counts client attempts beyond the first for a payment.
	Retries *int `json:"retries,omitempty"`
	// DoubleCharges counts client requests (payments) charged more than once.
	DoubleCharges *int `json:"double_charges,omitempty"`
	// Accepted counts payments the service accepted and recorded.
	Accepted *int `json:"accepted,omitempty"`
	// Declined counts requests refused by a business rule: over the
	// customer's limit, or not enough money in the account.
	Declined *int `json:"declined,omitempty"`
	// StaleDecisions counts payments accepted on a running total that
	// missed a payment the primary had committed before this one.
	StaleDecisions *int `json:"stale_decisions,omitempty"`
	// LimitBreaches counts customers whose accepted total exceeds their
	// limit.
	LimitBreaches *int `json:"limit_breaches,omitempty"`
	// Rejected counts requests refused for lack of consistency (the
	// primary could not be reached): the price of consistency, not a
	// violation.
	Rejected *int `json:"rejected,omitempty"`
	// Overdrafts counts accounts below zero once both regions have merged
	// every debit.
	Overdrafts *int `json:"overdrafts,omitempty"`
	// Applied counts status events the consumer applied.
	Applied *int `json:"applied,omitempty"`
	// Ignored counts status events the consumer ignored as older than what
	// it had.
	Ignored *int `json:"ignored,omitempty"`
	// OutOfOrderApplied counts payments whose final status at the consumer
	// is older than the last status sent for them.
	OutOfOrderApplied *int `json:"out_of_order_applied,omitempty"`
}

// Violation report keys, the names Event.Violation and FirstViolation use.
const (
	ViolationLost      = "lost"
	ViolationPhantom   = "phantom"
	ViolationDuplicate = "duplicate_effects"
	// The later families' invariants.
	ViolationDoubleCharge = "double_charges"
	ViolationStale        = "stale_decisions"
	ViolationLimitBreach  = "limit_breaches"
	ViolationOverdraft    = "overdrafts"
	ViolationOutOfOrder   = "out_of_order_applied"
)

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
	var p *int
	switch key {
	case "charges":
		p = r.Charges
	case "retries":
		p = r.Retries
	case ViolationDoubleCharge:
		p = r.DoubleCharges
	case "accepted":
		p = r.Accepted
	case "declined":
		p = r.Declined
	case ViolationStale:
		p = r.StaleDecisions
	case ViolationLimitBreach:
		p = r.LimitBreaches
	case "rejected":
		p = r.Rejected
	case ViolationOverdraft:
		p = r.Overdrafts
	case "applied":
		p = r.Applied
	case "ignored":
		p = r.Ignored
	case ViolationOutOfOrder:
		p = r.OutOfOrderApplied
	}
	if p == nil {
		return 0, false
	}
	return *p, true
}

// One-key Moves, shared by every event that moves that key so that setting
// Event.Moves allocates nothing.
var (
	movesCommitted     = []string{"committed"}
	movesPublished     = []string{"published"}
	movesDelivered     = []string{"delivered"}
	movesLedgerEntries = []string{"ledger_entries"}
	movesCharges       = []string{"charges"}
	movesRetries       = []string{"retries"}
	movesAccepted      = []string{"accepted"}
	movesDeclined      = []string{"declined"}
	movesRejected      = []string{"rejected"}
	movesApplied       = []string{"applied"}
	movesIgnored       = []string{"ignored"}
)
