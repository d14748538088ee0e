package sim

import (
	"errors"
	"time"
)

// The poison-message family: the outbox relay publishes every payment,
// and the ledger's consumer meets two kinds of error. A message it can
// never process (bus.poison: written in a newer schema than it reads)
// fails on every delivery; a failed commit of its own database (db.fail)
// passes. What the consumer does with each decides whether a payment
// vanishes without a trace, blocks the ones behind it, or waits for a
// person in a dead-letter table.

var poisonDesigns = []*Design{
	{
		Name:    "consumer-ack-drop",
		Summary: "on any error the consumer logs it and acknowledges: a poison message, and a payment whose ledger commit failed once, vanish without a trace",
		Handle:  saveWithOutbox, Relay: relayOutbox, Consume: postOrLogAndAck,
	},
	{
		Name:    "consumer-dead-letter",
		Summary: "a failure that passes is retried with backoff; a message that can never be processed is parked in dead_letters with its reason, in the transaction that marks it handled, and a person is alerted",
		Handle:  saveWithOutbox, Relay: relayOutbox, Consume: postOrDeadLetter,
	},
}

// postOrLogAndAck posts the entry once per event id, as the idempotent
// consumer does, and on any error logs it and acknowledges the delivery
// anyway. The broker then forgets the message: a poison message is
// dropped, and so is a payment whose commit failed once and would have
// succeeded on the next try.
func postOrLogAndAck(c *Consumer, m Message) error {
	entry, err := c.Decode(m)
	if err == nil {
		tx := c.DB.Begin()
		err = tx.Exec(`INSERT INTO processed_events (event_id) VALUES (?)`, m.ID)
		if errors.Is(err, ErrDuplicate) {
			tx.Rollback()
			c.Skip(m)
			return nil // posted already
		}
		if err == nil {
			err = tx.Exec(insertLedgerEntry, entry.ID, entry.Payment, entry.Account, entry.AmountCents)
		}
		if err != nil {
			tx.Rollback()
		} else {
			err = tx.Commit()
		}
	}
	if err != nil {
		c.Log(m, err) // "we'll look at the logs": nobody does
	}
	return nil // acknowledged, whatever happened: the broker forgets the message
}

// consumeAttempts bounds how often one delivery tries a failure that
// passes before it hands the message back to the broker unacknowledged.
const consumeAttempts = 5

// consumeBackoff is the first wait between two tries; it doubles after.
const consumeBackoff = Duration(2 * time.Millisecond)

// postOrDeadLetter tells a failure that passes from a message that can
// never be processed. A failed commit is retried with backoff, and after
// consumeAttempts tries the message goes back to the broker
// unacknowledged, to be delivered again later. Anything else is
// permanent: the message is parked in dead_letters with its reason and
// its content, in the same transaction that records its event id as
// handled, a person is alerted, and only then is it acknowledged. The
// event id stays the deduplication key, so a redelivery of a posted or
// parked message changes nothing.
func postOrDeadLetter(c *Consumer, m Message) error {
	// snippet:dead-letter
	entry, err := c.Decode(m) // fails on every delivery for a schema this version cannot read
	if err == nil {
		for attempt := 1; ; attempt++ {
			tx := c.DB.Begin()
			err = tx.Exec(`INSERT INTO processed_events (event_id) VALUES (?)`, m.ID)
			if errors.Is(err, ErrDuplicate) {
				tx.Rollback()
				c.Skip(m)
				return nil // posted or dead-lettered before: acknowledge
			}
			if err == nil {
				err = tx.Exec(insertLedgerEntry, entry.ID, entry.Payment, entry.Account, entry.AmountCents)
			}
			if err != nil {
				tx.Rollback()
			} else if err = tx.Commit(); err == nil {
				return nil // posted: acknowledge
			}
			if !errors.Is(err, ErrCommitFailed) { // on PostgreSQL also 40001, 40P01, a lost connection
				break // not a failure that passes: park it below
			}
			if attempt == consumeAttempts {
				// Still failing: no ack, so the broker delivers it again
				// later. Never park a payment because a database was down.
				return err
			}
			c.Backoff(attempt, consumeBackoff)
		}
	}
	// Permanent: no retry will ever process it. Park it with its reason
	// and content, in the transaction that marks its event id handled.
	reason := err
	tx := c.DB.Begin()
	if err := tx.Exec(`INSERT INTO processed_events (event_id) VALUES (?)`, m.ID); errors.Is(err, ErrDuplicate) {
		tx.Rollback()
		c.Skip(m)
		return nil // parked by an earlier delivery: acknowledge
	} else if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Exec(`INSERT INTO dead_letters (event_id, payment_id, account, amount_cents, schema_version, reason)
  VALUES (?, ?, ?, ?, ?, ?)`, m.ID, m.Payment, m.Account, m.AmountCents, m.Schema, reason.Error()); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err // nothing parked: no ack, so the broker delivers it again
	}
	// The table has an owner, who replays a row once it can be read: post
	// from the row and delete it in one transaction.
	c.Alert(m, reason)
	return nil // acknowledged only now, after the commit
	// end snippet
}
