package sim

import (
	"fmt"
	"strconv"
)

// The reordering family: the payment service publishes each
// payment's status changes through the bus to an orders service, which
// keeps the payment's current status. The checker compares the status the
// orders service ends with to the newest one the broker was given.

const (
	ordersServiceSchema = `
CREATE TABLE payments (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);`
	ordersSchema = `
CREATE TABLE payment_status (payment_id INTEGER PRIMARY KEY, status TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 0);`
)

// statuses is a payment's life in order; a status's version is its place
// in it, from 1.
var statuses = []string{"created", "captured", "refunded"}

// tagRefund keys which payments are refunded.
var tagRefund = newTag(1006)

// refundShare is the share of payments that are refunded.
const refundShare = 0.3

// Node names of the reordering designs' status consumer.
const (
	NodeOrders   = "orders"
	NodeOrdersDB = "orders.db"
)

// ViolationOutOfOrder is the reordering family's violation key.
const ViolationOutOfOrder = "out_of_order_applied"

var reorderFamily = &family{
	nodes:      []string{NodeClient, NodeService, NodeServiceDB, NodeBus, NodeOrders, NodeOrdersDB},
	metrics:    []string{"published", "delivered", "applied", "ignored", ViolationOutOfOrder},
	invariants: []string{ViolationOutOfOrder},
	faults:     []Fault{NetDrop, NetDup, BusPublishFail, BusAckLost, BusRedeliver, DBFail, CrashService, CrashConsumer},
	reportKeys: []reportKey{
		{"applied", "status events the consumer applied"},
		{"ignored", "status events the consumer ignored as older than what it had"},
		{ViolationOutOfOrder, "payments whose final status at the consumer is older than the last status sent for them"},
	},
	situations: []reportKey{
		{"out_of_order_deliveries", "status events delivered to the consumer after a newer status of the same payment had been delivered: the moment an older status can overwrite a newer one"},
		{"versioned_statuses", "payments whose status the consumer stored with its version; 0 in a design that keeps none"},
	},
	databases: []DatabaseInfo{
		{NodeServiceDB, []Starter{{"Payments saved", "SELECT COUNT(*) FROM payments"}}},
		busDatabase,
		{NodeOrdersDB, []Starter{{"Payments by status", "SELECT status, COUNT(*) FROM payment_status GROUP BY status"}}},
	},
	open: openReorder,
}

var (
	movesApplied = []string{"applied"}
	movesIgnored = []string{"ignored"}
)

// reorderRun is one run of the reordering family: its nodes and
// databases, and per payment the newest status version the broker stored
// and the commit that last wrote its status downstream.
type reorderRun struct {
	w                  *world
	d                  *Design
	client, service    *node
	host               *serviceHost
	orders             *node
	serviceDB          *database
	ordersDB           *database
	lastSent, statusAt []int
	// newestDelivered is, per payment, the newest status version a
	// delivery has brought the consumer; outOfOrder counts deliveries of
	// an older one after it.
	newestDelivered []int
	outOfOrder      int
}

func openReorder(w *world, d *Design) (familyRun, error) {
	n := w.sc.Payments + 1
	f := &reorderRun{w: w, d: d, lastSent: make([]int, n), statusAt: make([]int, n), newestDelivered: make([]int, n)}
	f.client = &node{w: w, name: NodeClient}
	f.service = &node{w: w, name: NodeService, crashFault: CrashService, canCrash: true}
	f.orders = &node{w: w, name: NodeOrders, crashFault: CrashConsumer, canCrash: true}
	var err error
	if f.serviceDB, err = w.openDB(NodeServiceDB, 1, ordersServiceSchema, nil); err != nil {
		return nil, err
	}
	if err = w.openBus(3); err != nil {
		return nil, err
	}
	w.bus.onStored = f.statusSent
	w.bus.onConsume = f.statusDelivered
	status := &watch{moves: func(int) []string { return movesApplied }, committed: f.statusWritten}
	if f.ordersDB, err = w.openDB(NodeOrdersDB, 2, ordersSchema, map[string]*watch{"payment_status": status}); err != nil {
		return nil, err
	}
	w.bus.consumeOn(f.orders, f.ordersDB, d.Consume)
	f.host = w.newServiceHost(f.service, f.client, d.Handle, f.serviceDB, nil)
	w.nodes = []*node{f.client, f.service, w.bus.node, f.orders}
	return f, nil
}

func (f *reorderRun) request(pay Payment) {
	f.w.callOnce(f.client, f.service, pay, f.host.serve)
}

func (f *reorderRun) start() {}

func (f *reorderRun) inWorkload(payment int) bool { return payment > 0 && payment < len(f.lastSent) }

// statusWritten notes the commit that last wrote a payment's status.
func (f *reorderRun) statusWritten(_ *database, payment, commitEvent int) {
	if f.inWorkload(payment) {
		f.w.forget(f.statusAt[payment])
		f.statusAt[payment] = commitEvent
		f.w.keep(commitEvent)
	}
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
	w.emit(Event{Node: c.p.node.name, Kind: KindIgnore, Payment: m.Payment, Moves: movesIgnored,
		Note: w.note3(m.ID+" is version "+strconv.Itoa(m.Version), ", older than version ", strconv.Itoa(have)+" already applied: ignored")})
}

// statusSent notes the newest status version the broker has stored.
func (f *reorderRun) statusSent(m Message) {
	if f.inWorkload(m.Payment) {
		f.lastSent[m.Payment] = max(f.lastSent[m.Payment], m.Version)
	}
}

// statusDelivered counts a status that reaches the consumer after a newer
// one of the same payment did.
func (f *reorderRun) statusDelivered(m Message) {
	if !f.inWorkload(m.Payment) {
		return
	}
	if m.Version < f.newestDelivered[m.Payment] {
		f.outOfOrder++
	}
	f.newestDelivered[m.Payment] = max(f.newestDelivered[m.Payment], m.Version)
}

// checkReorder reads each payment's final status at the orders service and
// counts those older than the newest status sent for it. A payment with no
// status at all applied nothing, out of order or otherwise.
func (f *reorderRun) check(r *Report, mark func(ev int, key, note string)) error {
	rows, err := f.ordersDB.conn.QueryContext(bg, "SELECT payment_id, status FROM payment_status ORDER BY payment_id")
	if err != nil {
		return fmt.Errorf("check statuses: %w", err)
	}
	outOfOrder, coming := 0, 0
	for rows.Next() {
		var id int
		var status string
		if err := rows.Scan(&id, &status); err != nil {
			rows.Close()
			return err
		}
		if !f.inWorkload(id) {
			continue
		}
		version := 0
		for i, s := range statuses {
			if s == status {
				version = i + 1
			}
		}
		if f.w.busyOn(id, true, f.service, f.w.bus.node, f.orders) {
			// A cut run: a newer status may still be on its way.
			coming++
			continue
		}
		if version < f.lastSent[id] {
			outOfOrder++
			mark(f.statusAt[id], ViolationOutOfOrder, "the last status written for payment "+strconv.Itoa(id)+": older than the newest one sent for it (out_of_order_applied)")
		}
	}
	rows.Close()
	r.set("applied", f.w.moved["applied"])
	r.set("ignored", f.w.moved["ignored"])
	r.set(ViolationOutOfOrder, outOfOrder)
	if coming > 0 && r.InFlight != nil {
		r.InFlight["applied"] = coming
	}
	var versioned int
	if err := f.ordersDB.conn.QueryRowContext(bg, "SELECT COUNT(*) FROM payment_status WHERE version > 0").Scan(&versioned); err != nil {
		return fmt.Errorf("check versions: %w", err)
	}
	r.set("out_of_order_deliveries", f.outOfOrder)
	r.set("versioned_statuses", versioned)
	return nil
}
