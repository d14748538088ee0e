package sim

import "errors"

// The third-party family: the service charges cards through a payment
// provider. The provider deduplicates on the key it is sent; whether that
// saves the customer depends on which key the service sends, and on what
// it does when it cannot tell whether the card was charged.

var pspDesigns = []*Design{
	{
		Name:    "psp-naive",
		Summary: "a provider timeout marks the payment failed; the client retries with a new key, and the provider charges the card again",
		Client:  payWithFreshKeys, Handle: chargeProviderNaively,
	},
	{
		Name:    "psp-atomic-phases",
		Summary: "the key and a pending attempt commit first; the provider gets the same key on every try, and an unknown outcome is looked up",
		Client:  payWithKey, Handle: chargeInPhases,
	},
}

// insertPSPPayment records a payment and how its charge ended.
const insertPSPPayment = `INSERT INTO payments (id, account, amount_cents, status, psp_ref) VALUES (?, ?, ?, ?, ?)`

// payWithFreshKeys retries like any client, but makes a new key for each
// attempt: to the provider, every attempt is a new charge.
func payWithFreshKeys(c *Client, pay Payment) {
	for attempt := 1; attempt <= clientAttempts; attempt++ {
		pay.Key = c.NewKey() // a new key per attempt: the mistake
		if err := c.Call(pay); err == nil {
			return
		}
		if attempt < clientAttempts {
			c.Backoff(attempt, retryBackoff)
		}
	}
}

// chargeProviderNaively calls the provider and believes a timeout is a
// failure: it records the payment failed and tells the client, whose retry
// charges the card again. A commit that fails after the charge does the
// same.
func chargeProviderNaively(s *Service, pay Payment) error {
	ref, err := s.PSPCharge(pay.Key, pay)
	status := "charged"
	if err != nil {
		status = "failed" // a timeout is not a failure: the card may be charged
	}
	tx := s.DB.Begin()
	if err := tx.Exec(insertPSPPayment, pay.ID, pay.Account, pay.AmountCents, status, ref); err != nil && !errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err // the card is charged and the client hears it failed
	}
	return err
}

// lookupAttempts bounds how often one request asks the provider about an
// unknown outcome before it leaves the attempt pending for the next try.
const lookupAttempts = 3

// chargeInPhases is Stripe-like idempotency in three local transactions
// around one remote call. Phase 1 commits the key with a pending attempt
// before any money moves. Phase 2 calls the provider with the same key,
// so any retry, of this request or the client's, reaches the same charge;
// a timeout is resolved by looking the key up, never by assuming. Phase 3
// records the outcome. A crash or a failed commit anywhere leaves a
// pending attempt that the client's next try, with the same key, resumes.
// A client may never try again, so in production a recovery job must also
// pick up attempts left pending for longer than a request lasts and finish
// them the same way (Brandur Leach's "completer"): look the key up at the
// provider, record what it says. The simulation leaves that to the client.
func chargeInPhases(s *Service, pay Payment) error {
	// snippet:atomic-phases
	// Phase 1: claim the key and record a pending attempt, and commit.
	status := "pending"
	tx := s.DB.Begin()
	err := tx.Exec(`INSERT INTO attempts (key, payment_id, status) VALUES (?, ?, 'pending')`, pay.Key, pay.ID)
	if errors.Is(err, ErrDuplicate) {
		tx.Rollback() // on PostgreSQL the failed insert has ended the transaction
		if err := s.DB.QueryRow(`SELECT status FROM attempts WHERE key = ?`, pay.Key).Scan(&status); err != nil {
			return err
		}
	} else if err != nil {
		tx.Rollback()
		return err
	} else if err := tx.Commit(); err != nil {
		return err // nothing is recorded and nothing was charged
	}
	if status == "charged" {
		s.Reply("charged already under " + pay.Key)
		return nil // the first try's answer; no money moves
	}
	// Phase 2: the provider, outside any transaction, with the same key.
	ref, err := s.PSPCharge(pay.Key, pay)
	for i := 1; errors.Is(err, ErrTimeout) && i <= lookupAttempts; i++ {
		s.Backoff(i, retryBackoff)
		ref, err = s.PSPLookup(pay.Key) // unknown: ask, never assume
	}
	if errors.Is(err, errNoSuchCharge) {
		ref, err = s.PSPCharge(pay.Key, pay) // it never charged: the same key again
	}
	if err != nil {
		return err // still unknown: pending, for the client's next try or the recovery job
	}
	// Phase 3: record the outcome.
	tx = s.DB.Begin()
	if err := tx.Exec(`UPDATE attempts SET status = 'charged', psp_ref = ? WHERE key = ?`, ref, pay.Key); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Exec(insertPSPPayment, pay.ID, pay.Account, pay.AmountCents, "charged", ref); err != nil && !errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return err
	}
	return tx.Commit() // if this fails, the next try finds the charge by its key
	// end snippet
}
