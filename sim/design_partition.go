package sim

import (
	"errors"
	"fmt"
)

// The partition family: two regions each hold a copy of every balance and
// take debits. When the link between them breaks, each region must choose:
// keep answering from its own copy (available), or refuse what it cannot
// decide safely (consistent). It cannot have both. Or it can bound the
// risk: split each account's balance between the regions ahead of time,
// and let each spend only its share (available within a stated bound).

var partitionDesigns = []*Design{
	{
		Name:    "partition-ap",
		Summary: "each region debits its own copy and merges later, through partitions too: always available, and accounts end below zero",
		Handle:  debitAP, Consume: applyPeerDebit,
	},
	{
		Name:    "partition-cp",
		Summary: "one primary region decides every debit; the other refuses what it cannot forward: consistent, and some requests are rejected",
		Handle:  debitCP, Consume: applyPeerDebit,
	},
	{
		Name: "partition-budget",
		Summary: "each account's balance is split between the regions; a region spends only its own share, and asks the other's only while the link works: " +
			"available up to the share, and no account can go below zero",
		Handle: debitFromBudget, Consume: applyPeerDebit,
	},
}

// primaryRegion decides every debit in the consistent design.
const primaryRegion = NodeRegionA

// insertDebit records a debit; its key is the payment, so each is
// recorded once per region.
const insertDebit = `INSERT INTO debits (payment_id, account, amount_cents) VALUES (?, ?, ?)`

// debitBalance takes a debit off the account's balance.
const debitBalance = `UPDATE balances SET balance_cents = balance_cents - ? WHERE account = ?`

// errInsufficientFunds declines a debit the balance does not cover.
var errInsufficientFunds = fmt.Errorf("%w: insufficient funds", ErrDeclined)

// debitAP is the available choice: each region decides from its own copy
// and tells the other afterwards. Two debits of one account that reach
// both regions within the replication delay are both accepted; a partition
// stretches that window from milliseconds to its whole length, both sides
// spending money the other may have spent already. When the debits merge,
// the account can end up below zero.
func debitAP(s *Service, pay Payment) error {
	var balance int64
	tx := s.DB.Begin()
	rows := tx.Query(`SELECT balance_cents FROM balances WHERE account = ?`, pay.Account)
	rows.Next()
	rows.Scan(&balance)
	if balance < pay.AmountCents {
		tx.Rollback()
		return errInsufficientFunds
	}
	// A request the network delivered twice finds its debit recorded
	// already; the balance is debited all the same.
	if err := tx.Exec(insertDebit, pay.ID, pay.Account, pay.AmountCents); err != nil && !errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return err
	}
	if err := tx.Exec(debitBalance, pay.AmountCents, pay.Account); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.Replicate(pay.Event()) // the other region applies it when the link lets it through
	return nil
}

// debitCP is the consistent choice: one region, the primary, decides every
// debit, and the other forwards to it. A region that cannot reach the
// primary refuses: the refusals are the visible price, and no account can
// be spent twice.
func debitCP(s *Service, pay Payment) error {
	if s.Region != primaryRegion {
		return s.Forward(pay) // ErrUnavailable when the primary cannot be reached
	}
	var balance int64
	tx := s.DB.Begin()
	rows := tx.Query(`SELECT balance_cents FROM balances WHERE account = ?`, pay.Account)
	rows.Next()
	rows.Scan(&balance)
	if balance < pay.AmountCents {
		tx.Rollback()
		return errInsufficientFunds
	}
	// A request the network delivered twice finds its debit recorded
	// already; the balance is debited all the same.
	if err := tx.Exec(insertDebit, pay.ID, pay.Account, pay.AmountCents); err != nil && !errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return err
	}
	if err := tx.Exec(debitBalance, pay.AmountCents, pay.Account); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.Replicate(pay.Event()) // keeps the other region's copy up to date for reads
	return nil
}

// applyPeerDebit merges a debit the other region accepted. It cannot say
// no: that money has left already. The debit's id makes a copy sent again
// harmless.
func applyPeerDebit(c *Consumer, m Message) error {
	tx := c.DB.Begin()
	err := tx.Exec(insertDebit, m.Payment, m.Account, m.AmountCents)
	if errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		c.Skip(m)
		return nil
	}
	if err == nil {
		err = tx.Exec(debitBalance, m.AmountCents, m.Account)
	}
	if err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// debitFromBudget is the escrow method: each account's balance is split
// between the regions ahead of time (half each here), the shares adding up
// to the balance, and a region debits only what its own share covers, in
// the transaction that records the debit. Cut off or not, the two regions
// together can spend no more than the balance, however many payments
// arrive and however small each is. When its share falls short, a region
// asks the other to debit from its share; with the link broken it refuses
// (rejected): the stated price. Production systems also move unspent
// share between the regions while the link works; here the split is fixed.
func debitFromBudget(s *Service, pay Payment) error {
	// snippet:offline-budget
	// Each account's balance is split between the regions ahead of time
	// (shares adding up to no more than the balance). A region spends only
	// its own share, so even cut off from the other, the two together
	// cannot spend more than the balance, whatever the size of each payment.
	tx := s.DB.Begin()
	// The payment's id is its key: a copy sent again is answered like the first.
	if err := tx.Exec(insertDebit, pay.ID, pay.Account, pay.AmountCents); errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return nil
	} else if err != nil {
		tx.Rollback()
		return err
	}
	// This region's share, if it still covers the debit, in one statement.
	spent, err := tx.ExecRows(`UPDATE offline_budget SET left_cents = left_cents - ? WHERE account = ? AND left_cents >= ?`,
		pay.AmountCents, pay.Account, pay.AmountCents)
	if err != nil {
		tx.Rollback()
		return err
	}
	if spent == 0 { // this region's share does not cover it
		tx.Rollback() // the debit row goes too
		if s.Forwarded() {
			return errInsufficientFunds // neither region's share covers it
		}
		return s.Forward(pay) // the other region's share; refused while the link is broken
	}
	if err := tx.Exec(debitBalance, pay.AmountCents, pay.Account); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.Replicate(pay.Event()) // the other region's copy of the balance, for reads
	return nil
	// end snippet
}
