package sim

import (
	"errors"
	"fmt"
)

// The stale-read family: before accepting a payment, a limit (AML) check
// reads the customer's running total. Where it reads that total decides
// whether the check means anything.

var staleDesigns = []*Design{
	{
		Name:    "decide-from-replica",
		Summary: "the limit check reads the customer's total from a lagging replica: decisions on old totals let payments break the limit",
		Handle:  decideFromReplica,
	},
	{
		Name:    "decide-from-primary",
		Summary: "the limit check reads the total from the primary in the transaction that records the payment: always the newest",
		Handle:  decideFromPrimary,
	},
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
// transaction that records the payment: no other payment can commit
// between the check and the write, so the check sees the truth.
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
