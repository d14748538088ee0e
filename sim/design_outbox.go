package sim

import (
	"errors"
	"strings"
)

// The outbox family: the payment and the intent to publish it commit in one
// local transaction; a relay publishes afterwards, at least once.

var outboxDesigns = []*Design{
	{
		Name:    "outbox",
		Summary: "save the payment and an outbox row in one transaction; a relay publishes it; the consumer is not idempotent",
		Handle:  saveWithOutbox, Relay: relayOutbox, Consume: postToLedger,
	},
	{
		Name:    "outbox-idempotent",
		Summary: "outbox, and the consumer records each event id under a unique key in the same transaction as the entry",
		Handle:  saveWithOutbox, Relay: relayOutbox, Consume: postToLedgerOnce,
	},
}

// saveWithOutbox saves the payment and its event in one transaction: both
// rows commit, or neither does.
func saveWithOutbox(s *Service, pay Payment) error {
	// snippet:outbox-save
	ev := pay.Event() // its id is minted here, once, and stored in the outbox row
	tx := s.DB.Begin()
	if err := tx.Exec(insertPayment, pay.ID, pay.Account, pay.AmountCents); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Exec(`INSERT INTO outbox (event_id, payment_id, account, amount_cents) VALUES (?, ?, ?, ?)`,
		ev.ID, ev.Payment, ev.Account, ev.AmountCents); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit() // a relay publishes the row afterwards
	// end snippet
}

// relayOutbox publishes unsent outbox rows, a batch at a time, and marks
// the acknowledged ones sent in one statement, as a production relay does:
// each pass is three steps (read, publish, mark), and whatever it marked
// stays marked. A crash, or a lost ack, between the publish and the mark
// publishes that batch (at most 32 rows) again: delivery is at least once,
// never at most once, and a crash costs one batch, not the relay's
// progress. Under crash.relay = p a row is published about 1/(1−p) times:
// twice at p = 0.5.
func relayOutbox(r *Relay) {
	for {
		rows := r.DB.Query(`SELECT id, event_id, payment_id, account, amount_cents FROM outbox WHERE sent_us IS NULL ORDER BY id LIMIT 32`)
		if rows.Len() == 0 {
			r.Idle()
			continue
		}
		ids := make([]string, 0, rows.Len())
		batch := make([]Message, 0, rows.Len())
		for rows.Next() {
			var id string
			var m Message
			rows.Scan(&id, &m.ID, &m.Payment, &m.Account, &m.AmountCents)
			ids = append(ids, id)
			batch = append(batch, m)
		}
		r.Working(batch[0].Payment)
		acked := make([]string, 0, len(ids))
		for i, err := range r.Bus.PublishAll(batch) {
			if err == nil {
				acked = append(acked, ids[i]) // the others stay unsent: the next pass publishes them again
			}
		}
		if len(acked) > 0 {
			// One statement marks the batch (on PostgreSQL: WHERE id = ANY($2)).
			// If it fails, nothing is marked: the next pass publishes the batch again.
			r.DB.Exec(`UPDATE outbox SET sent_us = ? WHERE id IN (SELECT value FROM json_each(?))`,
				r.Now(), "["+strings.Join(acked, ",")+"]")
		}
		r.Working(0)
		if len(acked) < len(ids) {
			r.Sleep() // before publishing the failed ones again
		}
	}
}

// postToLedgerOnce is the handbook's idempotent consumer: it records the
// event id under a unique key in the same transaction as the ledger entry,
// so a duplicate delivery finds the id taken and moves no money.
func postToLedgerOnce(c *Consumer, m Message) error {
	// snippet:consumer-dedup
	tx := c.DB.Begin()
	if err := tx.Exec(`INSERT INTO processed_events (event_id) VALUES (?)`, m.ID); errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		c.Skip(m)
		return nil // already posted: acknowledge, so the broker stops delivering it
	} else if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Exec(insertLedgerEntry, m.ID, m.Payment, m.Account, m.AmountCents); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
	// end snippet
}
