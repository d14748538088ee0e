package sim

import (
	"fmt"
	"slices"
)

// Schemas of the three databases.
const (
	serviceSchema = `
CREATE TABLE payments (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);
CREATE TABLE outbox (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, payment_id INTEGER NOT NULL,
  account TEXT NOT NULL, amount_cents INTEGER NOT NULL, sent_us INTEGER);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_us IS NULL;`
	busSchema = `
CREATE TABLE messages (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, payment_id INTEGER NOT NULL,
  account TEXT NOT NULL, amount_cents INTEGER NOT NULL);`
	ledgerSchema = `
CREATE TABLE ledger_entries (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, payment_id INTEGER NOT NULL,
  account TEXT NOT NULL, amount_cents INTEGER NOT NULL);
CREATE TABLE processed_events (event_id TEXT PRIMARY KEY);`
)

// Result is what a run produces besides its event stream.
type Result struct {
	Report Report
	// Marks lists, in event order, every event that is evidence of a
	// violation, one per violation counted in Report.
	Marks []Mark
}

// Mark says that an event is the evidence for one counted violation.
type Mark struct {
	Event     int    `json:"event"`
	Violation string `json:"violation"`
}

// Run simulates sc and checks the result. sink, if not nil, receives every
// event as it happens; the pointer is only valid during the call. The same
// scenario always gives the same events and the same Result.
func Run(sc Scenario, sink func(*Event)) (Result, error) {
	return run(sc, sink, nil)
}

// run is Run; keep, if not nil, sees the finished world after the check and
// before its databases close (Snapshot copies them out there).
func run(sc Scenario, sink func(*Event), keep func(w *world) error) (Result, error) {
	if err := sc.Validate(); err != nil {
		return Result{}, err
	}
	d, _ := lookupDesign(sc.Design)
	w := &world{
		sc:       sc,
		design:   d,
		sink:     sink,
		counters: make([]counters, sc.Payments+1),
		payments: make([]paymentTrack, sc.Payments+1),
	}
	fam := d.family
	if fam == nil {
		fam = paymentFamily
	}
	defer func() {
		for _, db := range w.dbs {
			db.close()
		}
	}()
	if err := fam.setup(w); err != nil {
		return Result{}, err
	}

	// The workload: one request every requestIntervalUs, each scheduling
	// the next so the queue stays small.
	var request func(i int)
	request = func(i int) {
		fam.client(w, w.payment(i))
		if i < sc.Payments {
			w.schedule(w.now+requestIntervalUs, false, func() { request(i + 1) })
		}
	}
	w.schedule(requestIntervalUs, false, func() { request(1) })
	w.startRelay()
	if fam.start != nil {
		fam.start(w)
	}
	w.loop()
	w.stopAll()
	res, err := w.check(fam)
	if err != nil || keep == nil {
		return res, err
	}
	return res, keep(w)
}

// family is what a group of designs shares besides their code: the nodes
// and databases they run on, the client that sends each payment, and the
// checker that compares the places holding state. Designs of one family
// differ only in their code, so a side-by-side run compares just that.
type family struct {
	// setup creates the nodes and databases, appending them to w.nodes
	// and w.dbs.
	setup func(w *world) error
	// client starts the client process for one payment of the workload.
	client func(w *world, pay Payment)
	// start, if set, starts what runs beside the workload (a link's
	// partition schedule).
	start func(w *world)
	// check counts the family's report keys from the databases and
	// marks the evidence events.
	check func(w *world, r *Report, mark func(ev int, key string)) error
	// databases lists the databases setup opens, in lane order, with
	// their starter queries.
	databases []DatabaseInfo
}

// paymentFamily is the dual-write and outbox topology: client, payment
// service and its database, outbox relay, bus, ledger and its database.
var paymentFamily = &family{setup: setupPayments, client: (*world).startClient, check: checkPayments,
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
}

// busDatabase is the broker's log, in every family with a bus.
var busDatabase = DatabaseInfo{"bus.db", []Starter{
	{"Events on the bus more than once", "SELECT payment_id, COUNT(*) FROM messages GROUP BY payment_id HAVING COUNT(*) > 1"},
}}

func setupPayments(w *world) error {
	w.client = &node{w: w, name: NodeClient}
	w.service = &node{w: w, name: NodeService, crashFault: CrashService, canCrash: true}
	w.relay = &node{w: w, name: NodeRelay, crashFault: CrashRelay, canCrash: true, onRestart: w.startRelay}
	w.bus = &node{w: w, name: NodeBus}
	w.ledger = &node{w: w, name: NodeLedger, crashFault: CrashConsumer, canCrash: true}
	w.nodes = []*node{w.client, w.service, w.relay, w.bus, w.ledger}
	w.savedMoves = movesCommitted
	w.broker = &broker{w: w}
	var err error
	if w.serviceDB, err = w.openDB(NodeServiceDB, 1, serviceSchema, map[string]string{"payments": watchSaved}); err != nil {
		return err
	}
	if w.busDB, err = w.openDB("bus.db", 3, busSchema, nil); err != nil {
		return err
	}
	w.ledgerDB, err = w.openDB(NodeLedgerDB, 2, ledgerSchema, map[string]string{"ledger_entries": watchEffect})
	return err
}

// openDB opens a node's database and adds it to the run's. scope keys its
// db.fail decisions, so each database meets its own faults.
func (w *world) openDB(name string, scope uint32, schema string, watch map[string]string) (*database, error) {
	d, err := openDatabase(w, name, schema, watch)
	if err != nil {
		return nil, err
	}
	d.scope = scope
	w.dbs = append(w.dbs, d)
	return d, nil
}

// Record runs sc and returns every event with its Violation set from the
// checker's marks, and the report.
func Record(sc Scenario) ([]Event, Report, error) {
	return record(sc, nil)
}

// record is Record with run's keep hook.
func record(sc Scenario, keep func(w *world) error) ([]Event, Report, error) {
	var events []Event
	res, err := run(sc, func(ev *Event) { events = append(events, *ev) }, keep)
	if err != nil {
		return nil, Report{}, err
	}
	for _, m := range res.Marks {
		events[m.Event-1].Violation = m.Violation
	}
	return events, res.Report, nil
}

// check builds the report: what every run counts, then the family's own
// keys, then the first violation of each kind and whether the run
// converged.
func (w *world) check(fam *family) (Result, error) {
	r := Report{
		Design: w.sc.Design, Seed: w.sc.Seed, Payments: w.sc.Payments,
		Published: w.published, Delivered: w.delivered,
		Events: w.events, EndMs: (w.now + 999) / 1000, Stopped: w.stopped,
		Injected: map[string]int{}, FirstViolation: map[string]int{},
	}
	for f, n := range w.injected {
		if n > 0 {
			r.Injected[faultNames[f]] = n
		}
	}
	var marks []Mark
	mark := func(ev int, key string) {
		if ev > 0 {
			marks = append(marks, Mark{ev, key})
		}
	}
	if err := fam.check(w, &r, mark); err != nil {
		return Result{}, err
	}
	slices.SortStableFunc(marks, func(a, b Mark) int { return a.Event - b.Event })
	for _, m := range marks {
		if _, ok := r.FirstViolation[m.Violation]; !ok {
			r.FirstViolation[m.Violation] = m.Event
		}
	}
	// A run converged when none of its design's invariants is violated.
	r.Converged = true
	for _, k := range w.design.Invariants {
		if r.Count(k) != 0 {
			r.Converged = false
		}
	}
	return Result{Report: r, Marks: marks}, nil
}

// checkPayments compares the payments database with the ledger: which
// payments the service committed, and which the ledger posted, how often.
func checkPayments(w *world, r *Report, mark func(ev int, key string)) error {
	committed := make([]bool, len(w.payments))
	rows, err := w.serviceDB.conn.QueryContext(bg, "SELECT id FROM payments")
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
	posted := make([]int, len(w.payments))
	rows, err = w.ledgerDB.conn.QueryContext(bg, "SELECT payment_id, COUNT(*) FROM ledger_entries GROUP BY payment_id")
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

	for id := 1; id < len(w.payments); id++ {
		t := &w.payments[id]
		n := posted[id]
		switch {
		case committed[id] && n == 0:
			r.Lost++
			ev := t.faultAfterSaved
			if ev == 0 {
				ev = t.committed
			}
			mark(ev, ViolationLost)
		case !committed[id] && n > 0:
			r.Phantom++
			if len(t.effects) > 0 {
				mark(t.effects[0], ViolationPhantom)
			}
		}
		if n > 1 {
			r.DuplicateEffects += n - 1
			for _, ev := range t.effects[min(1, len(t.effects)):] {
				mark(ev, ViolationDuplicate)
			}
		}
	}
	return nil
}
