package sim

import (
	"errors"
	"fmt"
	"strconv"
)

// The poison-message family: the payments family's outbox, relay, bus and
// ledger, with a consumer that meets messages it can never process
// (bus.poison: an event written in a schema newer than it reads) beside
// failures that pass (db.fail on the ledger). Its designs differ only in
// what the consumer does with an error. The checker compares the payments
// the service saved with the ledger's entries and its dead letters: a
// committed payment in neither was dropped without a trace (lost); one in
// a dead letter waits for a person, and is counted as such.

// Report keys of the poison-message family.
const (
	deadLettered   = "dead_lettered"
	alerts         = "alerts"
	poisonMessages = "poison_messages"
)

// poisonSchema is the schema bus.poison writes a payment's event in: newer
// than the one the ledger's consumer reads (1).
const poisonSchema = 2

// ErrUnreadable is what Consumer.Decode returns (wrapped, with the reason)
// for a message the consumer can never parse: retrying it changes nothing.
var ErrUnreadable = errors.New("unreadable message")

const poisonLedgerSchema = ledgerSchema + `
CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, payment_id INTEGER NOT NULL,
  account TEXT NOT NULL, amount_cents INTEGER NOT NULL, schema_version INTEGER NOT NULL, reason TEXT NOT NULL);`

var poisonFamily = &family{
	nodes: []string{NodeClient, NodeService, NodeServiceDB, NodeRelay, NodeBus, NodeLedger, NodeLedgerDB},
	metrics: []string{"committed", "published", "delivered", "ledger_entries", deadLettered, alerts,
		ViolationLost, ViolationPhantom, ViolationDuplicate},
	invariants: Violations,
	faults: []Fault{NetDrop, NetDup, BusPublishFail, BusAckLost, BusRedeliver, DBFail,
		CrashService, CrashRelay, CrashConsumer, BusPoison},
	reportKeys: []reportKey{
		{deadLettered, "payments the consumer parked in its dead_letters table, with the reason: not lost, but waiting for a person to replay them"},
		{alerts, "alerts the consumer raised to a person, one per message it dead-lettered"},
	},
	situations: []reportKey{
		{poisonMessages, "payments whose event reached the consumer in a form it can never process (bus.poison): the moment a consumer must neither drop the message nor retry it forever"},
	},
	databases: []DatabaseInfo{
		{NodeServiceDB, []Starter{
			{"Payments saved", "SELECT COUNT(*) FROM payments"},
			{"Outbox rows never sent", "SELECT * FROM outbox WHERE sent_us IS NULL"},
		}},
		busDatabase,
		{NodeLedgerDB, []Starter{
			{"Dead letters waiting for a person", "SELECT event_id, payment_id, reason FROM dead_letters"},
			{"Ledger entries", "SELECT COUNT(*) FROM ledger_entries"},
			{"Events recorded as handled (posted or dead-lettered)", "SELECT COUNT(*) FROM processed_events"},
		}},
	},
	open: openPoison,
}

var (
	movesDeadLettered = []string{deadLettered}
	movesAlerts       = []string{alerts}
)

// poisonRun is one run of the poison-message family.
type poisonRun struct {
	w                   *world
	d                   *Design
	client, service     *node
	relay, ledger       *node
	host                *serviceHost
	serviceDB, ledgerDB *database
	saved               []int   // per payment, the commit that saved it
	effects             [][]int // per payment, the events that posted it
	parked              []bool  // per payment, dead-lettered
	poison              []int8  // per payment: 0 not decided yet, 1 clean, 2 poisoned
	reached             []bool  // per payment, its poisoned event reached the consumer
	dropped             []int   // per payment, the latest log line after which the consumer acknowledged it unprocessed
}

func openPoison(w *world, d *Design) (familyRun, error) {
	n := w.sc.Payments + 1
	f := &poisonRun{w: w, d: d, saved: make([]int, n), effects: make([][]int, n), parked: make([]bool, n),
		poison: make([]int8, n), reached: make([]bool, n), dropped: make([]int, n)}
	f.client = &node{w: w, name: NodeClient}
	f.service = &node{w: w, name: NodeService, crashFault: CrashService, canCrash: true}
	f.relay = &node{w: w, name: NodeRelay, crashFault: CrashRelay, canCrash: true, onRestart: f.start}
	f.ledger = &node{w: w, name: NodeLedger, crashFault: CrashConsumer, canCrash: true}
	var err error
	// The same databases, scopes and bus as the payments family, so that
	// db.fail and every other fault strike the same payments at the same
	// steps as in outbox-idempotent.
	saved := &watch{moves: f.savedMoves, committed: f.savedAt}
	if f.serviceDB, err = w.openDB(NodeServiceDB, 1, serviceSchema, map[string]*watch{"payments": saved}); err != nil {
		return nil, err
	}
	if err = w.openBus(3); err != nil {
		return nil, err
	}
	w.bus.poison = f.poisonMessage
	w.bus.onConsume = f.consumed
	posted := &watch{committed: f.posted}
	parked := &watch{moves: func(int) []string { return movesDeadLettered }, committed: f.parkedAt}
	if f.ledgerDB, err = w.openDB(NodeLedgerDB, 2, poisonLedgerSchema,
		map[string]*watch{"ledger_entries": posted, "dead_letters": parked}); err != nil {
		return nil, err
	}
	w.bus.consumeOn(f.ledger, f.ledgerDB, func(c *Consumer, m Message) error {
		c.state = f
		return d.Consume(c, m)
	})
	f.host = w.newServiceHost(f.service, f.client, d.Handle, f.serviceDB, nil)
	w.nodes = []*node{f.client, f.service, f.relay, w.bus.node, f.ledger}
	return f, nil
}

func (f *poisonRun) request(pay Payment) { f.w.callOnce(f.client, f.service, pay, f.host.serve) }

// start runs the relay, and runs it again after each restart.
func (f *poisonRun) start() { f.w.startRelay(f.relay, f.serviceDB, f.d.Relay) }

func (f *poisonRun) inWorkload(payment int) bool { return payment > 0 && payment < len(f.saved) }

// poisonMessage decides, once per payment, whether bus.poison strikes its
// event, and writes every copy of a struck one in poisonSchema.
func (f *poisonRun) poisonMessage(m *Message) string {
	p := m.Payment
	if !f.inWorkload(p) {
		return ""
	}
	if f.poison[p] == 0 {
		f.poison[p] = 1
		if f.w.roll(BusPoison, 0, p) {
			f.poison[p] = 2
		}
	}
	if f.poison[p] != 2 {
		return ""
	}
	m.Schema = poisonSchema
	return "written in schema v2, which the ledger's consumer (v1) can never parse"
}

// consumed notes a poisoned event reaching the consumer.
func (f *poisonRun) consumed(m Message) {
	if f.inWorkload(m.Payment) && m.Schema == poisonSchema {
		f.reached[m.Payment] = true
	}
}

func (f *poisonRun) savedMoves(payment int) []string {
	if f.inWorkload(payment) && f.saved[payment] == 0 {
		return movesCommitted
	}
	return nil
}

func (f *poisonRun) savedAt(_ *database, payment, commitEvent int) {
	if f.inWorkload(payment) && f.saved[payment] == 0 {
		f.saved[payment] = commitEvent
		if len(f.effects[payment]) == 0 && !f.parked[payment] {
			f.w.keep(commitEvent) // evidence if it is lost
		}
	}
}

// posted shows a committed ledger entry as money moving.
func (f *poisonRun) posted(_ *database, payment, _ int) {
	if !f.inWorkload(payment) {
		return
	}
	id := f.w.emit(Event{Node: NodeLedger, Kind: KindEffect, Payment: payment, Note: "money moved: ledger entry posted", Moves: movesLedgerEntries})
	f.effects[payment] = append(f.effects[payment], id)
	switch {
	case len(f.effects[payment]) > 1: // a duplicate is its own evidence
		f.w.keep(id)
	case f.saved[payment] == 0:
		f.w.keep(id) // evidence if it is never committed
	default:
		f.w.forget(f.saved[payment])
	}
}

// parkedAt notes a payment dead-lettered: it is not lost.
func (f *poisonRun) parkedAt(_ *database, payment, _ int) {
	if f.inWorkload(payment) {
		f.parked[payment] = true
		f.w.forget(f.saved[payment])
	}
}

// Decode reads m as the ledger's consumer reads a payment event, schema 1.
// A message in a newer schema (bus.poison) it can never parse: Decode
// shows that and returns an error that wraps ErrUnreadable, and will
// return it on every delivery of m.
func (c *Consumer) Decode(m Message) (Message, error) {
	if m.Schema <= 1 {
		return m, nil
	}
	w := c.p.w
	err := fmt.Errorf("%w: %s is written in schema v%d, and this consumer reads v1", ErrUnreadable, m.ID, m.Schema)
	var note string
	if w.sink != nil {
		note = err.Error()
	}
	w.emit(Event{Node: c.p.node.name, Kind: KindError, Payment: m.Payment, Note: note})
	return m, err
}

// Log writes err to the consumer's log, and does nothing else: no retry,
// no dead letter, no alert. If the handler then returns nil, the broker
// hears that m was processed and forgets it.
func (c *Consumer) Log(m Message, err error) {
	w := c.p.w
	id := w.emit(Event{Node: c.p.node.name, Kind: KindError, Payment: m.Payment,
		Note: w.note3("logged \"", err.Error(), "\", and nothing else: no retry, no dead letter, no alert")})
	if f, ok := c.state.(*poisonRun); ok && f.inWorkload(m.Payment) {
		f.dropped[m.Payment] = id
		w.keep(id) // the cause, if the payment is lost
	}
}

// Alert pages a person about m, which the consumer parked as a dead letter
// for reason: someone owns the dead_letters table and replays what it
// holds once the consumer can process it. It stands for a page, which a
// monitor on the table's depth would send as well, so it takes no virtual
// time and no fault strikes it.
func (c *Consumer) Alert(m Message, reason error) {
	w := c.p.w
	w.emit(Event{Node: c.p.node.name, Kind: KindAlert, Payment: m.Payment, Moves: movesAlerts,
		Note: w.note3("paged a person: "+m.ID, " dead-lettered (", reason.Error()+"); they replay it once it can be read")})
}

// check compares the payments database with the ledger and its dead
// letters.
func (f *poisonRun) check(r *Report, mark func(ev int, key, note string)) error {
	committed := make([]bool, len(f.saved))
	rows, err := f.serviceDB.conn.QueryContext(bg, "SELECT id FROM payments")
	if err != nil {
		return fmt.Errorf("check payments: %w", err)
	}
	var id, n int
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		if f.inWorkload(id) {
			committed[id] = true
			r.Committed++
		}
	}
	rows.Close()
	posted := make([]int, len(f.saved))
	rows, err = f.ledgerDB.conn.QueryContext(bg, "SELECT payment_id, COUNT(*) FROM ledger_entries GROUP BY payment_id")
	if err != nil {
		return fmt.Errorf("check ledger: %w", err)
	}
	for rows.Next() {
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return err
		}
		if f.inWorkload(id) {
			posted[id] = n
		}
		r.LedgerEntries += n
	}
	rows.Close()
	parked := make([]bool, len(f.saved))
	dead := 0
	rows, err = f.ledgerDB.conn.QueryContext(bg, "SELECT payment_id FROM dead_letters")
	if err != nil {
		return fmt.Errorf("check dead letters: %w", err)
	}
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		if f.inWorkload(id) {
			parked[id] = true
		}
		dead++
	}
	rows.Close()
	if f.w.workLeft != nil {
		if err := unsentOutboxRows(f.w, f.serviceDB); err != nil {
			return err
		}
	}
	entriesComing, commitsComing := 0, 0
	for id := 1; id < len(f.saved); id++ {
		n := posted[id]
		switch {
		case committed[id] && n == 0 && !parked[id] && f.w.busyOn(id, true, f.service, f.relay, f.w.bus.node, f.ledger):
			entriesComing++ // its entry or its dead letter is on its way
		case !committed[id] && n > 0 && f.w.busyOn(id, false, f.service):
			commitsComing++
		case committed[id] && n == 0 && !parked[id]:
			r.Lost++
			ev := f.dropped[id]
			if ev == 0 {
				ev = f.saved[id]
			}
			mark(ev, ViolationLost, f.lostNote(id, ev))
		case !committed[id] && n > 0:
			r.Phantom++
			if len(f.effects[id]) > 0 {
				mark(f.effects[id][0], ViolationPhantom, "money moved for payment "+strconv.Itoa(id)+", which was never committed (phantom)")
			}
		}
		if n > 1 {
			r.DuplicateEffects += n - 1
			for _, ev := range f.effects[id][min(1, len(f.effects[id])):] {
				mark(ev, ViolationDuplicate, "payment "+strconv.Itoa(id)+" was posted again: money moved twice (duplicate_effects)")
			}
		}
	}
	if r.InFlight != nil {
		if entriesComing > 0 {
			r.InFlight["ledger_entries"] = entriesComing
		}
		if commitsComing > 0 {
			r.InFlight["committed"] = commitsComing
		}
	}
	r.set(deadLettered, dead)
	r.set(alerts, f.w.moved[alerts])
	r.set(poisonMessages, countTrue(f.reached))
	return nil
}

// lostNote says how event ev led to payment id's silent loss.
func (f *poisonRun) lostNote(id, ev int) string {
	pid := strconv.Itoa(id)
	tail := ": the broker forgot it, and payment " + pid + ", committed at event " + strconv.Itoa(f.saved[id]) +
		", is in neither the ledger nor a dead letter (lost)"
	switch {
	case ev == f.dropped[id] && f.poison[id] == 2:
		return "the consumer logged that it could not parse this poison message and acknowledged it" + tail
	case ev == f.dropped[id]:
		return "the consumer logged the failure of this payment's ledger transaction and acknowledged the delivery" + tail
	}
	return "payment " + pid + " was committed here and reached neither the ledger nor a dead letter (lost)"
}
