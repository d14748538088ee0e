package sim

import "errors"

// The cache family: payouts are decided on an account's status (active, or
// frozen by the AML team), which the service database owns and a cache
// copies. What reads the cache, and how a freeze reaches it, decides
// whether a frozen account can keep paying out.

var cacheDesigns = []*Design{
	{
		Name:    "cache-aside-delete",
		Summary: "payouts trust the cache; a freeze updates the owner and deletes the key, and a slow reader can write the old status back: a frozen account pays out until the TTL",
		Handle:  payoutFromCache, Writer: freezeThenDelete,
	},
	{
		Name:    "cache-versioned",
		Summary: "only the owner approves a payout; the cache may decline at once, and takes a status only if it is newer than the one it holds",
		Handle:  payoutApprovedByOwner, Writer: freezeThenSetIfNewer,
	},
}

// selectAccount reads an account's status and version from its owner.
const selectAccount = `SELECT frozen, version FROM accounts WHERE account = ?`

// insertPayout records a payout: money leaves the account.
const insertPayout = `INSERT INTO payouts (id, account, amount_cents) VALUES (?, ?, ?)`

// freezeAccount is the AML team's order, applied to the owner's row; the
// version tells a newer status from an older one.
const freezeAccount = `UPDATE accounts SET frozen = 1, version = version + 1 WHERE account = ?`

// recordFreeze keeps the order itself, for the audit trail.
const recordFreeze = `INSERT INTO freezes (account) VALUES (?)`

// payoutFromCache is cache-aside as it is usually written: read the
// cache, on a miss read the database and fill the cache, then decide on
// what was read. Between its read of the database and its fill, a freeze
// can commit and delete the key; the fill then puts the old "active" back,
// and every payout until the entry expires is paid from a frozen account.
func payoutFromCache(s *Service, pay Payment) error {
	// snippet:cache-aside-read
	acct, hit := s.CacheGet(pay.Account)
	if !hit {
		if err := s.DB.QueryRow(selectAccount, pay.Account).Scan(&acct.Frozen, &acct.Version); err != nil {
			return err
		}
		s.CacheSet(pay.Account, acct) // may land after a freeze's delete
	}
	if acct.Frozen == 1 {
		return errFrozen
	}
	// end snippet
	tx := s.DB.Begin()
	// A request the network delivered twice finds its payout recorded
	// already, and is answered like the first.
	if err := tx.Exec(insertPayout, pay.ID, pay.Account, pay.AmountCents); err != nil && !errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// freezeThenDelete freezes the account at the owner, then deletes the
// cached copy so that the next read goes to the owner.
func freezeThenDelete(s *Service, account string) error {
	tx := s.DB.Begin()
	if err := tx.Exec(freezeAccount, account); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Exec(recordFreeze, account); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.CacheDelete(account)
	return nil
}

// payoutApprovedByOwner lets the cache say no, never yes: a cached
// "frozen" declines at once, but only the owner's row, read in the
// transaction that records the payout, approves one. The cache is filled
// with what the owner said, only if that is newer than what it holds.
func payoutApprovedByOwner(s *Service, pay Payment) error {
	// snippet:owner-approves
	if cached, hit := s.CacheGet(pay.Account); hit && cached.Frozen == 1 {
		return errFrozen // the cache may decline; it may never approve
	}
	var acct AccountState
	tx := s.DB.Begin()
	if err := tx.QueryRow(selectAccount, pay.Account).Scan(&acct.Frozen, &acct.Version); err != nil {
		tx.Rollback()
		return err // no such account: refuse, never guess
	}
	if acct.Frozen == 1 {
		tx.Rollback()
		s.CacheSetIfNewer(pay.Account, acct)
		return errFrozen
	}
	if err := tx.Exec(insertPayout, pay.ID, pay.Account, pay.AmountCents); err != nil && !errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.CacheSetIfNewer(pay.Account, acct) // an older status never replaces a newer one
	return nil
	// end snippet
}

// freezeThenSetIfNewer freezes the account at the owner and writes the
// new status, with its version, to the cache; a slow reader's older
// status arriving later is refused.
func freezeThenSetIfNewer(s *Service, account string) error {
	var acct AccountState
	tx := s.DB.Begin()
	if err := tx.Exec(freezeAccount, account); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Exec(recordFreeze, account); err != nil {
		tx.Rollback()
		return err
	}
	rows := tx.Query(selectAccount, account)
	rows.Next()
	rows.Scan(&acct.Frozen, &acct.Version)
	if err := tx.Commit(); err != nil {
		return err
	}
	s.CacheSetIfNewer(account, acct)
	return nil
}
