package sim

import "errors"

// The reordering family: a payment's status changes (created, captured,
// refunded) are published as they happen and travel independently, with
// jitter, redeliveries and duplicates, so a later change can arrive first.

var reorderDesigns = []*Design{
	{
		Name:    "consumer-naive",
		Summary: "the consumer applies each status event as it arrives: a late \"created\" turns a refunded payment back into a new one",
		Handle:  publishStatuses, Consume: applyEveryStatus,
	},
	{
		Name:    "consumer-versioned",
		Summary: "status events carry a per-payment version; the consumer ignores any event older than what it holds",
		Handle:  publishStatuses, Consume: applyNewerStatus,
	},
}

// publishStatuses records the payment and publishes its status changes.
// They leave together, each on its own way through the network and the
// broker: nothing makes them arrive in the order they were sent.
func publishStatuses(s *Service, pay Payment) error {
	tx := s.DB.Begin()
	// A request the network delivered twice finds its payment recorded
	// already, and publishes its statuses again.
	if err := tx.Exec(insertPayment, pay.ID, pay.Account, pay.AmountCents); err != nil && !errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, err := range s.Bus.PublishAll(s.StatusChanges(pay)) {
		if err != nil {
			return err
		}
	}
	return nil
}

// applyEveryStatus sets the payment's status to whatever event arrives. A
// "created" that arrives after "refunded" turns a refunded payment back
// into a new one, and nothing will ever correct it.
func applyEveryStatus(c *Consumer, m Message) error {
	tx := c.DB.Begin()
	if err := tx.Exec(`INSERT INTO payment_status (payment_id, status) VALUES (?, ?)
  ON CONFLICT (payment_id) DO UPDATE SET status = excluded.status`, m.Payment, m.Status); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// applyNewerStatus keeps each payment's version beside its status and
// ignores an event no newer than what it holds: an old event arriving late,
// or a copy delivered again, cannot turn the clock back.
func applyNewerStatus(c *Consumer, m Message) error {
	// snippet:versioned-upsert
	// This needs one consumer per payment at a time (the payment id as the
	// partition key): two at once could both read the old version under
	// READ COMMITTED. Where they can, guard the upsert itself:
	// DO UPDATE SET ... WHERE payment_status.version < excluded.version.
	have := 0
	tx := c.DB.Begin()
	err := tx.QueryRow(`SELECT version FROM payment_status WHERE payment_id = ?`, m.Payment).Scan(&have)
	if err != nil && !errors.Is(err, ErrNoRows) { // no row yet: version 0
		tx.Rollback()
		return err
	}
	if have >= m.Version {
		tx.Rollback()
		c.Ignore(m, have)
		return nil // acknowledge it: it will never be wanted
	}
	if err := tx.Exec(`INSERT INTO payment_status (payment_id, status, version) VALUES (?, ?, ?)
  ON CONFLICT (payment_id) DO UPDATE SET status = excluded.status, version = excluded.version`, m.Payment, m.Status, m.Version); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
	// end snippet
}
