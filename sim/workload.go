package sim

import "strconv"

// The workload every family runs: one payment request every
// requestIntervalUs, amounts and accounts keyed on the seed, and the
// messages payments produce.

// Payment is one charge a client asks the payment service to make.
type Payment struct {
	ID          int
	Account     string
	AmountCents int64
	// Key is the idempotency key the client sends with every attempt of
	// this payment, "" when it sends none.
	Key string
}

// Message is the event a payment produces for the rest of the system.
type Message struct {
	// ID is the event id a consumer deduplicates on. It is derived from the
	// payment, so every copy and every republish carries the same id.
	ID          string
	Payment     int
	Account     string
	AmountCents int64
	// Status and Version describe a status change (the reordering
	// designs): the payment's new status and its place in the payment's
	// life, 1 for the first. Zero for a plain payment event.
	Status  string
	Version int
	// Schema is the version of the format the message is written in: 0
	// for the one every consumer reads. bus.poison writes a payment's
	// event in a newer one (see poisonSchema), which the ledger's
	// consumer can never parse.
	Schema int
}

// Event is the message this payment produces for the ledger.
func (pay Payment) Event() Message {
	return Message{ID: "pmt-" + strconv.Itoa(pay.ID), Payment: pay.ID, Account: pay.Account, AmountCents: pay.AmountCents}
}

// workload: payment i is requested at i × requestIntervalUs.
const requestIntervalUs = 1_000

// nthPayment returns request i of the workload; amounts and accounts are
// keyed on the seed and the payment id.
func (w *world) nthPayment(i int) Payment {
	amount := 100 + int64(uniform(w.sc.Seed, tagAmount, uint64(i), 0, 0)*99_900)
	account := 1 + int(uniform(w.sc.Seed, tagAccount, uint64(i), 0, 0)*20)
	return Payment{ID: i, Account: "A-" + strconv.Itoa(account), AmountCents: amount}
}

// cents writes an amount of money for a note: €12.34.
func cents(c int64) string {
	s := strconv.FormatInt(c/100, 10) + "." + strconv.FormatInt(100+c%100, 10)[1:]
	return "€" + s
}
