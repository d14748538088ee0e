package sim

import (
	"errors"
	"fmt"
)

// The stale-read family: before accepting a payment, a limit (AML) check
// reads the customer's running total. Where it reads that total, and what
// isolation the database gives the check, decide whether it means
// anything: a customer's payments arrive several at once, so their checks
// run concurrently.
//
// What each design relies on:
//   - decide-from-replica: nothing saves it; a lagging copy is wrong at any
//     isolation level.
//   - decide-from-primary: SERIALIZABLE. At read committed (PostgreSQL's and
//     Oracle's default) or repeatable read (MySQL's default), two
//     concurrent checks both read the old total and both commit. On
//     PostgreSQL at SERIALIZABLE one of them aborts with SQLSTATE 40001 and
//     must be retried; SELECT SUM(...) ... FOR UPDATE is an error there.
//   - decide-by-conditional-update: only what read committed gives (a row
//     lock on UPDATE, and the WHERE evaluated again on the row the lock
//     holder committed), so it holds at PostgreSQL's defaults.

var staleDesigns = []*Design{
	{
		Name:    "decide-from-replica",
		Summary: "the limit check reads the customer's total from a lagging replica: decisions on old totals let payments break the limit",
		Handle:  decideFromReplica,
	},
	{
		Name: "decide-from-primary",
		Summary: "the limit check reads the total from the primary in the transaction that records the payment: " +
			"right only if transactions are serializable; at read committed two concurrent checks both read the old total",
		Handle: decideFromPrimary,
	},
	{
		Name: "decide-by-conditional-update",
		Summary: "one conditional UPDATE of the customer's limits row checks and reserves the amount, and its row count is the answer: " +
			"holds at read committed, PostgreSQL's default",
		Handle: decideByConditionalUpdate,
	},
}

// The confirmation designs: the payment is charged, then shown back to the
// customer on a confirmation page. Where the page reads decides whether the
// customer believes it.
var confirmDesigns = []*Design{
	{
		Name:    "confirm-from-replica",
		Summary: "the confirmation page reads a lagging replica: it misses the payment just made, and the customer pays again with a fresh key",
		Client:  payThenCheckThePage, Handle: chargeThenConfirmFromReplica,
	},
	{
		Name:    "confirm-read-your-writes",
		Summary: "the confirmation page reads the customer's own just-made payment where it was written, the primary: the customer sees it and does not pay again",
		Client:  payThenCheckThePage, Handle: chargeThenConfirmFromPrimary,
	},
}

// The confirmation page's two answers.
const (
	pageConfirmed = "confirmation: payment received"
	pageNotFound  = "confirmation: no payment found"
)

// insertKeyedCharge records a charge under the key of the attempt that
// made it: a charge is money taken, and one key is one charge.
const insertKeyedCharge = `INSERT INTO charges (key, payment, account, amount_cents) VALUES (?, ?, ?, ?)`

// payThenCheckThePage is a customer: one idempotency key per attempt,
// sent with the charge, then a look at the confirmation page. A page that
// shows no payment reads to the customer as a payment that failed, so they
// pay again, and paying again is a new attempt with a new key: no key can
// recognise it as the first payment's copy.
func payThenCheckThePage(c *Client, pay Payment) {
	for attempt := 1; attempt <= 2; attempt++ {
		pay.Key = c.NewKey()
		if err := c.Call(pay); err != nil || c.Said() != pageNotFound {
			return // confirmed, declined, or unknown: not this item's story
		}
	}
}

// chargeThenConfirmFromReplica charges, then renders the confirmation page
// from the replica, as every other page is, to spare the primary. The
// replica has not applied the charge yet: the page says no payment was
// found, and the customer pays again.
func chargeThenConfirmFromReplica(s *Service, pay Payment) error {
	tx := s.DB.Begin()
	// A copy the network delivered twice carries the same key: charged once.
	err := tx.Exec(insertKeyedCharge, pay.Key, pay.ID, pay.Account, pay.AmountCents)
	if err != nil && !errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return err
	}
	if err != nil {
		tx.Rollback()
	} else if err := tx.Commit(); err != nil {
		return err
	}
	// snippet:confirm-from-replica
	// Every page reads the replica, to spare the primary.
	var n int
	if err := s.Replica.QueryRow(`SELECT COUNT(*) FROM charges WHERE account = ? AND payment = ?`,
		pay.Account, pay.ID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		s.Reply(pageNotFound)
		return nil
	}
	s.Reply(pageConfirmed)
	// end snippet
	return nil
}

// chargeThenConfirmFromPrimary renders the confirmation page from the
// primary: a customer's read of their own just-made write goes where the
// write went. Other pages (history, statements) may still read the
// replica; this one decides whether a customer pays again.
func chargeThenConfirmFromPrimary(s *Service, pay Payment) error {
	tx := s.DB.Begin()
	// A copy the network delivered twice carries the same key: charged once.
	err := tx.Exec(insertKeyedCharge, pay.Key, pay.ID, pay.Account, pay.AmountCents)
	if err != nil && !errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return err
	}
	if err != nil {
		tx.Rollback()
	} else if err := tx.Commit(); err != nil {
		return err
	}
	// snippet:read-your-writes
	// The customer's own just-made payment: read it where it was written.
	// A replica may not have applied it yet, and a page that shows no
	// payment makes the customer pay again, with a new key.
	var n int
	if err := s.DB.QueryRow(`SELECT COUNT(*) FROM charges WHERE account = ? AND payment = ?`,
		pay.Account, pay.ID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		s.Reply(pageNotFound)
		return nil
	}
	s.Reply(pageConfirmed)
	// end snippet
	return nil
}

// errOverLimit declines a payment that would take the customer over it.
var errOverLimit = fmt.Errorf("%w: over the customer's limit", ErrDeclined)

// decideFromReplica reads the total from a replica: cheap, and off the
// primary's back. But the replica trails the primary, so the customer's
// last payments may be missing from the total, and a payment that breaks
// the limit is accepted.
func decideFromReplica(s *Service, pay Payment) error {
	var total int64
	rows := s.Replica.Query(`SELECT COALESCE(SUM(amount_cents), 0) FROM payments WHERE account = ?`, pay.Account)
	rows.Next()
	rows.Scan(&total)
	if total+pay.AmountCents > limitCents {
		return errOverLimit
	}
	tx := s.DB.Begin()
	// A request the network delivered twice finds its payment recorded
	// already, and is answered like the first.
	if err := tx.Exec(insertPayment, pay.ID, pay.Account, pay.AmountCents); err != nil && !errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// decideFromPrimary reads the total from the primary, inside the
// transaction that records the payment. It relies on SERIALIZABLE: only
// then can no other payment commit between the check and the write. At
// read committed, PostgreSQL's default, the SELECT waits for no one and
// sees only what was committed when it ran, so two of the customer's
// payments checked at once both see the old total, both pass, and both
// commit: the limit is breached. (On PostgreSQL, SERIALIZABLE aborts one
// of them with SQLSTATE 40001, which the caller must retry; adding FOR
// UPDATE to the SUM is an error there.) Run it with -isolation
// read-committed to watch it.
func decideFromPrimary(s *Service, pay Payment) error {
	var total int64
	tx := s.DB.Begin()
	rows := tx.Query(`SELECT COALESCE(SUM(amount_cents), 0) FROM payments WHERE account = ?`, pay.Account)
	rows.Next()
	rows.Scan(&total)
	if total+pay.AmountCents > limitCents {
		tx.Rollback()
		return errOverLimit
	}
	// A request the network delivered twice finds its payment recorded
	// already, and is answered like the first.
	if err := tx.Exec(insertPayment, pay.ID, pay.Account, pay.AmountCents); err != nil && !errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// decideByConditionalUpdate is the check that holds at read committed,
// the default of PostgreSQL: each customer has a limits row (cap_cents,
// used_cents), and one conditional UPDATE both checks the limit and
// reserves the amount. The UPDATE takes the row's lock; a concurrent
// payment of the same customer waits for it, and when the first commits,
// PostgreSQL evaluates the WHERE again on the committed row, so the
// second sees the first's amount. No row changed means no room under the
// cap (or no limits row for the customer: the check fails closed). The
// payment and the reservation commit together or not at all.
//
// To copy it: write $1, $2, $3 for the placeholders on PostgreSQL, keep
// the amount positive (validated before it gets here), and give limits a
// CHECK (used_cents <= cap_cents) as a last line of defence. A real limit
// runs over a period: keep one row per customer and period. Taking the
// row with SELECT ... FOR UPDATE and then updating it is equally safe;
// this is one round trip fewer.
func decideByConditionalUpdate(s *Service, pay Payment) error {
	// snippet:conditional-update
	// Each customer has one limits row (cap_cents, used_cents).
	tx := s.DB.Begin()
	// The payment's id is its key: a request the network delivered twice
	// waits for the first copy's transaction, finds its payment recorded,
	// and is answered like the first without using the limit again.
	if err := tx.Exec(insertPayment, pay.ID, pay.Account, pay.AmountCents); errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return nil
	} else if err != nil {
		tx.Rollback()
		return err
	}
	// The check and the reservation are one statement: a concurrent payment
	// of the customer waits for this row's lock, then evaluates the WHERE
	// again on the committed row (READ COMMITTED, PostgreSQL's default).
	reserved, err := tx.ExecRows(`UPDATE limits SET used_cents = used_cents + ? WHERE account = ? AND used_cents + ? <= cap_cents`,
		pay.AmountCents, pay.Account, pay.AmountCents)
	if err != nil {
		tx.Rollback()
		return err
	}
	if reserved == 0 { // no room under the cap, or no limits row: fail closed
		tx.Rollback() // the payment row goes too
		return errOverLimit
	}
	return tx.Commit()
	// end snippet
}
