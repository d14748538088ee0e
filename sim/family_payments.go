package sim

import "fmt"

// The payments family, the handbook's own example: client, payment service
// and its database, outbox relay, message bus, ledger and its database. Its
// dual-write and outbox designs (design_dualwrite.go, design_outbox.go)
// differ only in their code. The checker compares the payments the service
// saved with the entries the ledger posted.

// Node names of the payments family (the client, service and bus lanes
// are every family's).
const (
	NodeRelay    = "relay"
	NodeLedger   = "ledger"
	NodeLedgerDB = "ledger.db"
)

// Violations lists the dual-write and outbox designs' violation keys in
// report order; each design lists its own in Design.Invariants.
var Violations = []string{ViolationLost, ViolationPhantom, ViolationDuplicate}

// Schemas of the service's and the ledger's databases.
const (
	serviceSchema = `
CREATE TABLE payments (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);
CREATE TABLE outbox (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, payment_id INTEGER NOT NULL,
  account TEXT NOT NULL, amount_cents INTEGER NOT NULL, sent_us INTEGER);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_us IS NULL;`
	ledgerSchema = `
CREATE TABLE ledger_entries (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, payment_id INTEGER NOT NULL,
  account TEXT NOT NULL, amount_cents INTEGER NOT NULL);
CREATE TABLE processed_events (event_id TEXT PRIMARY KEY);`
)

var paymentsFamily = &family{
	nodes:      []string{NodeClient, NodeService, NodeServiceDB, NodeRelay, NodeBus, NodeLedger, NodeLedgerDB},
	metrics:    []string{"committed", "published", "delivered", "ledger_entries", ViolationLost, ViolationPhantom, ViolationDuplicate},
	invariants: Violations,
	faults: []Fault{NetDrop, NetDup, BusPublishFail, BusAckLost, BusRedeliver, DBFail,
		CrashService, CrashRelay, CrashConsumer},
	databases: []DatabaseInfo{
		{NodeServiceDB, []Starter{
			{"Payments saved", "SELECT COUNT(*) FROM payments"},
			{"Outbox rows never sent", "SELECT * FROM outbox WHERE sent_us IS NULL"},
		}},
		busDatabase,
		{NodeLedgerDB, []Starter{
			{"Payments posted more than once", "SELECT payment_id, COUNT(*) FROM ledger_entries GROUP BY payment_id HAVING COUNT(*) > 1"},
			{"Ledger entries", "SELECT COUNT(*) FROM ledger_entries"},
			{"Events recorded as processed", "SELECT COUNT(*) FROM processed_events"},
		}},
	},
	open: openPayments,
}

// busDatabase is the broker's log, in every family with a bus.
var busDatabase = DatabaseInfo{"bus.db", []Starter{
	{"Events on the bus more than once", "SELECT payment_id, COUNT(*) FROM messages GROUP BY payment_id HAVING COUNT(*) > 1"},
}}

// paymentsRun is one run of the payments family: its nodes and databases,
// and, per payment, the events the checker points at as evidence.
type paymentsRun struct {
	w               *world
	d               *Design
	client, service *node
	host            *serviceHost
	relay, ledger   *node
	serviceDB       *database
	ledgerDB        *database
	// saved is the commit event that saved each payment; faultAfterSaved
	// the first fault event about it after that; effects the events that
	// posted it to the ledger.
	saved, faultAfterSaved []int
	effects                [][]int
}

func openPayments(w *world, d *Design) (familyRun, error) {
	n := w.sc.Payments + 1
	f := &paymentsRun{w: w, d: d, saved: make([]int, n), faultAfterSaved: make([]int, n), effects: make([][]int, n)}
	f.client = &node{w: w, name: NodeClient}
	f.service = &node{w: w, name: NodeService, crashFault: CrashService, canCrash: true}
	f.relay = &node{w: w, name: NodeRelay, crashFault: CrashRelay, canCrash: true, onRestart: f.startRelay}
	f.ledger = &node{w: w, name: NodeLedger, crashFault: CrashConsumer, canCrash: true}
	var err error
	saved := &watch{moves: f.savedMoves, committed: f.savedAt}
	if f.serviceDB, err = w.openDB(NodeServiceDB, 1, serviceSchema, map[string]*watch{"payments": saved}); err != nil {
		return nil, err
	}
	if err = w.openBus(3); err != nil {
		return nil, err
	}
	posted := &watch{committed: f.posted}
	if f.ledgerDB, err = w.openDB(NodeLedgerDB, 2, ledgerSchema, map[string]*watch{"ledger_entries": posted}); err != nil {
		return nil, err
	}
	w.bus.consumeOn(f.ledger, f.ledgerDB, d.Consume)
	f.host = w.newServiceHost(f.service, f.client, d.Handle, f.serviceDB, nil)
	w.nodes = []*node{f.client, f.service, f.relay, w.bus.node, f.ledger}
	w.onFault = f.fault
	return f, nil
}

func (f *paymentsRun) request(pay Payment) {
	f.w.callOnce(f.client, f.service, pay, f.host.serve)
}

func (f *paymentsRun) start() { f.startRelay() }

// startRelay runs the design's relay loop, if it has one.
func (f *paymentsRun) startRelay() {
	if f.d.Relay != nil {
		f.w.startRelay(f.relay, f.serviceDB, f.d.Relay)
	}
}

func (f *paymentsRun) inWorkload(payment int) bool { return payment > 0 && payment < len(f.saved) }

// savedMoves counts a payment as committed on the commit that first saves
// it.
func (f *paymentsRun) savedMoves(payment int) []string {
	if f.inWorkload(payment) && f.saved[payment] == 0 {
		return movesCommitted
	}
	return nil
}

func (f *paymentsRun) savedAt(_ *database, payment, commitEvent int) {
	if f.inWorkload(payment) && f.saved[payment] == 0 {
		f.saved[payment] = commitEvent
	}
}

// posted shows a committed ledger entry as money moving.
func (f *paymentsRun) posted(_ *database, payment, _ int) {
	if !f.inWorkload(payment) {
		return
	}
	id := f.w.emit(Event{Node: NodeLedger, Kind: KindEffect, Payment: payment, Note: "money moved: ledger entry posted", Moves: movesLedgerEntries})
	f.effects[payment] = append(f.effects[payment], id)
}

// fault notes the first fault that hits a payment after it was saved: the
// evidence if it is then lost.
func (f *paymentsRun) fault(event, payment int) {
	if f.inWorkload(payment) && f.saved[payment] > 0 && f.faultAfterSaved[payment] == 0 {
		f.faultAfterSaved[payment] = event
	}
}

// checkPayments compares the payments database with the ledger: which
// payments the service committed, and which the ledger posted, how often.
func (f *paymentsRun) check(r *Report, mark func(ev int, key string)) error {
	committed := make([]bool, len(f.saved))
	rows, err := f.serviceDB.conn.QueryContext(bg, "SELECT id FROM payments")
	if err != nil {
		return fmt.Errorf("check payments: %w", err)
	}
	var id, n int // outside the loops: Scan's pointers would move each to the heap
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		if id > 0 && id < len(committed) {
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
		if id > 0 && id < len(posted) {
			posted[id] = n
		}
		r.LedgerEntries += n
	}
	rows.Close()

	if f.w.workLeft != nil {
		// A cut run: an outbox row not yet published is still coming.
		if err := f.unsentRows(); err != nil {
			return err
		}
	}
	entriesComing, commitsComing := 0, 0
	for id := 1; id < len(f.saved); id++ {
		n := posted[id]
		switch {
		case committed[id] && n == 0 && f.w.busyOn(id, true, f.service, f.relay, f.w.bus.node, f.ledger):
			// Its entry is on its way: a process still works on it, a
			// message about it is on the wire, the broker still delivers
			// it, or its outbox row is still to be published.
			entriesComing++
		case !committed[id] && n > 0 && f.w.busyOn(id, false, f.service):
			commitsComing++ // the service is still committing it
		case committed[id] && n == 0:
			r.Lost++
			ev := f.faultAfterSaved[id]
			if ev == 0 {
				ev = f.saved[id]
			}
			mark(ev, ViolationLost)
		case !committed[id] && n > 0:
			r.Phantom++
			if len(f.effects[id]) > 0 {
				mark(f.effects[id][0], ViolationPhantom)
			}
		}
		if n > 1 {
			r.DuplicateEffects += n - 1
			for _, ev := range f.effects[id][min(1, len(f.effects[id])):] {
				mark(ev, ViolationDuplicate)
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
	return nil
}

// unsentRows notes, in a cut run, every payment with an outbox row the
// relay has not yet had acknowledged: work left that no process shows.
func (f *paymentsRun) unsentRows() error {
	rows, err := f.serviceDB.conn.QueryContext(bg, "SELECT payment_id FROM outbox WHERE sent_us IS NULL")
	if err != nil {
		return fmt.Errorf("check outbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return err
		}
		f.w.stillComing(id)
	}
	return rows.Err()
}
