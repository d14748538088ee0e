package sim

import (
	"errors"
	"time"
)

// The retry family: a client that hears nothing back tries again. But no
// answer does not mean no charge: the charge may have committed and only
// the answer been lost, or the answer may just be slow.

var retryDesigns = []*Design{
	{
		Name:    "retry-naive",
		Summary: "the client retries a charge it heard nothing back about; the service charges every request it gets, so a lost answer charges twice",
		Client:  payWithRetries, Handle: chargeEveryRequest,
	},
	{
		Name:    "retry-idempotency-key",
		Summary: "the client sends one key with every attempt; the service claims it with the charge in one transaction and answers retries from it",
		Client:  payWithKey, Handle: chargeOnce,
	},
}

// clientAttempts bounds a client's tries for one payment.
const clientAttempts = 4

// retryBackoff is the first wait between two attempts; it doubles after.
const retryBackoff = Duration(5 * time.Millisecond)

// insertCharge takes a customer's money: every row is a charge.
const insertCharge = `INSERT INTO charges (account, amount_cents) VALUES (?, ?)`

// payWithRetries is the client the handbook warns about: on a timeout or an
// error it sends the same charge again, and nothing in the request says it
// is the same charge.
func payWithRetries(c *Client, pay Payment) {
	for attempt := 1; attempt <= clientAttempts; attempt++ {
		if err := c.Call(pay); err == nil {
			return
		}
		if attempt < clientAttempts {
			c.Backoff(attempt, retryBackoff)
		}
	}
}

// chargeEveryRequest charges whatever arrives. To it, a retry is a new
// charge: the customer pays twice.
func chargeEveryRequest(s *Service, pay Payment) error {
	tx := s.DB.Begin()
	if err := tx.Exec(insertCharge, pay.Account, pay.AmountCents); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// payWithKey retries the same way, but makes one idempotency key per
// payment, before the first attempt, and sends it with every attempt.
func payWithKey(c *Client, pay Payment) {
	pay.Key = c.NewKey() // once per payment, never per attempt
	for attempt := 1; attempt <= clientAttempts; attempt++ {
		if err := c.Call(pay); err == nil {
			return
		}
		if attempt < clientAttempts {
			c.Backoff(attempt, retryBackoff)
		}
	}
}

// chargeOnce claims the request's key under a unique constraint in the same
// transaction as the charge: the key and the charge commit together or not
// at all. A retry finds the key taken and gets the stored response; so does
// an attempt that runs while the first is still in flight, because its
// insert of the key waits for the first transaction and then fails.
func chargeOnce(s *Service, pay Payment) error {
	response := "charged " + cents(pay.AmountCents) + " to " + pay.Account
	tx := s.DB.Begin()
	err := tx.Exec(`INSERT INTO idempotency_keys (key, response) VALUES (?, ?)`, pay.Key, response)
	if errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		rows := s.DB.Query(`SELECT response FROM idempotency_keys WHERE key = ?`, pay.Key)
		rows.Next()
		rows.Scan(&response)
		s.Reply(response) // the first attempt's answer; no money moves
		return nil
	}
	if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Exec(insertCharge, pay.Account, pay.AmountCents); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err // nothing committed, not even the key: a retry may charge
	}
	s.Reply(response)
	return nil
}
