package sim

import "time"

// The dual-write family: the payment service writes to its database and to
// the bus as two separate operations, with no plan for a failure between
// them.

var dualWriteDesigns = []*Design{
	{
		Name:    "dual-write",
		Summary: "save the payment, then publish the event: a failure between the two loses the event for good",
		Handle:  saveThenPublish, Consume: postToLedger,
	},
	{
		Name:    "publish-first",
		Summary: "publish the event, then save the payment: a failed save leaves the ledger moving money that was never charged",
		Handle:  publishThenSave, Consume: postToLedger,
	},
	{
		Name:    "dual-write-retry",
		Summary: "save, then publish with bounded retries and backoff: fewer losses, and a timeout retried becomes a duplicate",
		Handle:  saveThenPublishWithRetry, Consume: postToLedger,
	},
}

// insertPayment saves a payment; the primary key makes a repeated request
// for the same payment fail instead of charging twice.
const insertPayment = `INSERT INTO payments (id, account, amount_cents) VALUES (?, ?, ?)`

// insertLedgerEntry posts money to the ledger: one row per movement.
const insertLedgerEntry = `INSERT INTO ledger_entries (event_id, payment_id, account, amount_cents) VALUES (?, ?, ?, ?)`

// saveThenPublish is the handbook's bad example, line for line:
// db.Save(payment); bus.Publish(paymentEvent).
func saveThenPublish(s *Service, pay Payment) error {
	tx := s.DB.Begin()
	if err := tx.Exec(insertPayment, pay.ID, pay.Account, pay.AmountCents); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// The payment is saved. A crash or a network blip from here on and the
	// ledger never hears of it: the two systems disagree forever.
	return s.Bus.Publish(pay.Event())
}

// publishThenSave swaps the two writes. Now a failed save leaves an event
// for a payment that does not exist, and the ledger moves money for it.
func publishThenSave(s *Service, pay Payment) error {
	if err := s.Bus.Publish(pay.Event()); err != nil {
		return err // a timeout may still have stored the event
	}
	tx := s.DB.Begin()
	if err := tx.Exec(insertPayment, pay.ID, pay.Account, pay.AmountCents); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// publishAttempts bounds the retries of saveThenPublishWithRetry.
const publishAttempts = 5

// saveThenPublishWithRetry saves, then retries the publish with exponential
// backoff. It loses fewer events, but a timeout means "outcome unknown", not
// "failed": retrying one whose first copy was stored publishes it twice.
func saveThenPublishWithRetry(s *Service, pay Payment) error {
	tx := s.DB.Begin()
	if err := tx.Exec(insertPayment, pay.ID, pay.Account, pay.AmountCents); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	var err error
	for attempt := 1; attempt <= publishAttempts; attempt++ {
		if err = s.Bus.Publish(pay.Event()); err == nil {
			return nil
		}
		if attempt < publishAttempts {
			s.Backoff(attempt, Duration(2*time.Millisecond))
		}
	}
	return err // gave up: the payment is saved and the ledger will never know
}

// postToLedger posts one ledger entry per delivered event. It is not
// idempotent: a second delivery of the same event moves the money again.
func postToLedger(c *Consumer, m Message) error {
	tx := c.DB.Begin()
	if err := tx.Exec(insertLedgerEntry, m.ID, m.Payment, m.Account, m.AmountCents); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
