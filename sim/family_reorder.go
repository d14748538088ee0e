package sim

import (
	"fmt"
	"strconv"
)

// The reordering family's harness: the payment service publishes each
// payment's status changes through the bus to an orders service, which
// keeps the payment's current status. The checker compares the status the
// orders service ends with to the newest one the broker was given.

const (
	ordersServiceSchema = `
CREATE TABLE payments (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);`
	ordersSchema = `
CREATE TABLE payment_status (payment_id INTEGER PRIMARY KEY, status TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 0);`
)

// watchStatus marks a write of a payment's status downstream.
const watchStatus = "status"

// statuses is a payment's life in order; a status's version is its place
// in it, from 1.
var statuses = []string{"created", "captured", "refunded"}

// refundShare is the share of payments that are refunded.
const refundShare = 0.3

var reorderFamily = &family{
	setup: func(w *world) error {
		w.client = &node{w: w, name: NodeClient}
		w.service = &node{w: w, name: NodeService, crashFault: CrashService, canCrash: true}
		w.bus = &node{w: w, name: NodeBus}
		w.ledger = &node{w: w, name: NodeOrders, crashFault: CrashConsumer, canCrash: true}
		w.nodes = []*node{w.client, w.service, w.bus, w.ledger}
		w.broker = &broker{w: w}
		var err error
		if w.serviceDB, err = w.openDB(NodeServiceDB, 1, ordersServiceSchema, nil); err != nil {
			return err
		}
		if w.busDB, err = w.openDB("bus.db", 3, busSchema, nil); err != nil {
			return err
		}
		w.ledgerDB, err = w.openDB(NodeOrdersDB, 2, ordersSchema, map[string]string{"payment_status": watchStatus})
		return err
	},
	client: (*world).startClient,
	check:  checkReorder,
	databases: []DatabaseInfo{
		{NodeServiceDB, []Starter{{"Payments saved", "SELECT COUNT(*) FROM payments"}}},
		busDatabase,
		{NodeOrdersDB, []Starter{{"Payments by status", "SELECT status, COUNT(*) FROM payment_status GROUP BY status"}}},
	},
}

// StatusChanges lists the status events of pay's life, oldest first, each
// with its version: created and captured, and refunded for some payments
// (keyed on the seed and the payment).
func (s *Service) StatusChanges(pay Payment) []Message {
	n := 2
	if uniform(s.p.w.sc.Seed, tagRefund, uint64(pay.ID), 0, 0) < refundShare {
		n = 3
	}
	out := make([]Message, n)
	for i := range out {
		out[i] = Message{ID: "pmt-" + strconv.Itoa(pay.ID) + "." + statuses[i], Payment: pay.ID, Account: pay.Account,
			AmountCents: pay.AmountCents, Status: statuses[i], Version: i + 1}
	}
	return out
}

// Ignore records that the consumer dropped m because it already holds a
// status at least as new (version have).
func (c *Consumer) Ignore(m Message, have int) {
	w := c.p.w
	w.ignored++
	w.emit(Event{Node: c.p.node.name, Kind: KindIgnore, Payment: m.Payment, Moves: movesIgnored,
		Note: w.note3(m.ID+" is version "+strconv.Itoa(m.Version), ", older than version ", strconv.Itoa(have)+" already applied: ignored")})
}

// statusSent notes the newest status version the broker has stored.
func (w *world) statusSent(m Message) {
	if m.Payment > 0 && m.Payment < len(w.payments) {
		t := &w.payments[m.Payment]
		t.lastSent = max(t.lastSent, m.Version)
	}
}

// checkReorder reads each payment's final status at the orders service and
// counts those older than the newest status sent for it. A payment with no
// status at all applied nothing, out of order or otherwise.
func checkReorder(w *world, r *Report, mark func(ev int, key string)) error {
	rows, err := w.ledgerDB.conn.QueryContext(bg, "SELECT payment_id, status FROM payment_status ORDER BY payment_id")
	if err != nil {
		return fmt.Errorf("check statuses: %w", err)
	}
	outOfOrder := 0
	for rows.Next() {
		var id int
		var status string
		if err := rows.Scan(&id, &status); err != nil {
			rows.Close()
			return err
		}
		if id <= 0 || id >= len(w.payments) {
			continue
		}
		version := 0
		for i, s := range statuses {
			if s == status {
				version = i + 1
			}
		}
		if t := &w.payments[id]; version < t.lastSent {
			outOfOrder++
			mark(t.statusWrite, ViolationOutOfOrder)
		}
	}
	rows.Close()
	applied, ignored := w.applied, w.ignored
	r.Applied, r.Ignored, r.OutOfOrderApplied = &applied, &ignored, &outOfOrder
	return nil
}
