package sim

import (
	"fmt"
	"strconv"
)

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
	situations: []reportKey{
		{"split_writes", "payments a fault (a failed or lost publish, a failed commit, a lost ack, a crash) struck while one of the payments database and the bus held them and the other did not: the moment a design must not lose or invent a payment"},
		{"failed_saves", "payments whose save in the payments database failed: a commit error, or a crash of the service while it handled them before they were saved"},
		{"relay_polls", "times an outbox relay read the outbox for unsent rows; 0 in a design without a relay"},
		{"duplicate_deliveries", "deliveries that reached the ledger consumer for a payment it had already posted, or was still processing from an earlier delivery"},
		{"timeouts", "payments a publish of which timed out: the publisher could not know whether the broker had stored it"},
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
	// saved is the commit event that saved each payment; effects the
	// events that posted it to the ledger.
	saved   []int
	effects [][]int
	// Per payment, what happened to it (see observe): whether the bus
	// stored it; the event that stopped it on its way from the database to
	// the bus (lostCause) or from the bus to the database (phantomCause);
	// the situations the family reports.
	stored, split, failedSave, timedOut []bool
	lostCause, phantomCause             []int
	// arrivedAt is, per payment, one more than the consumer's crash count
	// when a delivery of it last reached the consumer (0: none yet), so a
	// delivery can tell whether an earlier one is posted or still in hand.
	arrivedAt                                      []int
	consumerCrashes, lastConsumerCrash, relayPolls int
	duplicateDeliveries                            int
	// duplicateKept says the first duplicate effect has been kept as
	// evidence (see world.keep).
	duplicateKept bool
	// What made a payment's extra copy, one event id per payment and slot,
	// so that what a run remembers does not grow with its events: doubt is
	// the last event that may make it published again (a request or
	// publish the network duplicated, a lost ack, a timeout, a relay's
	// crash); ackDoubt the last that kept the consumer's ack from the
	// broker (a consumer crash, a lost ack), so the broker delivers again;
	// copyCause the event behind the latest extra copy on its way to the
	// ledger; arrivedCause the cause of the latest duplicate delivery that
	// reached the consumer. effectCause holds, per ledger entry beyond a
	// payment's first, the cause of its delivery (0: none known): it grows
	// with violations only. storedAt is the publish that first stored each
	// payment on the bus, and lastRelayCrash the relay's latest crash,
	// which costs every payment of its batch a second publish.
	// publishedAt is each payment's latest publish, so that a timeout
	// does not take the blame from the lost ack or message behind it.
	doubt, ackDoubt, copyCause, arrivedCause, storedAt, publishedAt []int
	effectCause                                                     [][]int
	lastRelayCrash                                                  int
	// relayCrash is the relay's latest crash as the sink saw it, in a run
	// that keeps evidence: one event, not one per crash.
	relayCrash Event
}

func openPayments(w *world, d *Design) (familyRun, error) {
	n := w.sc.Payments + 1
	f := &paymentsRun{w: w, d: d, saved: make([]int, n), effects: make([][]int, n),
		stored: make([]bool, n), split: make([]bool, n), failedSave: make([]bool, n), timedOut: make([]bool, n),
		lostCause: make([]int, n), phantomCause: make([]int, n), arrivedAt: make([]int, n),
		doubt: make([]int, n), ackDoubt: make([]int, n), copyCause: make([]int, n), arrivedCause: make([]int, n),
		storedAt: make([]int, n), publishedAt: make([]int, n), effectCause: make([][]int, n)}
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
	w.onEvent = f.observe
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
		if len(f.effects[payment]) == 0 {
			f.w.keep(commitEvent) // evidence if it is lost
		} else { // posted first, but no phantom now
			f.w.forget(f.effects[payment][0])
		}
	}
}

// posted shows a committed ledger entry as money moving.
func (f *paymentsRun) posted(_ *database, payment, _ int) {
	if !f.inWorkload(payment) {
		return
	}
	id := f.w.emit(Event{Node: NodeLedger, Kind: KindEffect, Payment: payment, Note: "money moved: ledger entry posted", Moves: movesLedgerEntries})
	if len(f.effects[payment]) > 0 { // posted again: blame what sent the copy the consumer posted
		f.effectCause[payment] = append(f.effectCause[payment], f.arrivedCause[payment])
	}
	f.effects[payment] = append(f.effects[payment], id)
	switch {
	case len(f.effects[payment]) > 1: // a duplicate: the first one posted is the first evidence
		if !f.duplicateKept {
			f.duplicateKept = true
			f.w.keep(id)
		}
	case f.saved[payment] == 0:
		f.w.keep(id) // evidence if it is never committed
	default: // saved and posted: it cannot be lost (a cause is kept: it may be another payment's)
		f.w.forget(f.saved[payment])
	}
}

// observe follows each payment through the run's events: when the bus
// stores it, when a delivery of it reaches the consumer, the relay's polls,
// and the faults that strike it. A fault that stops a saved payment on its
// way to the bus (a failed publish, a publish lost in the network, a crash
// of the service or the relay) is the cause if the payment is then lost; a
// fault that stops a published payment on its way to the database (a
// failed commit, a crash, an acknowledgement that never came back) is the
// cause if it turns out a phantom.
func (f *paymentsRun) observe(ev *Event) {
	p := ev.Payment
	switch ev.Kind {
	case KindQuery:
		if ev.Node == NodeServiceDB && ev.Peer == NodeRelay {
			f.relayPolls++
		}
	case KindCrash:
		if ev.Node == NodeLedger && ev.ID != f.lastConsumerCrash { // once per crash, however many payments it names
			f.consumerCrashes++
			f.lastConsumerCrash = ev.ID
		}
		if ev.Node == NodeRelay && ev.ID != f.lastRelayCrash {
			f.lastRelayCrash = ev.ID
			if f.w.kept != nil {
				f.relayCrash = f.w.current // kept only if a second publish is blamed on it (see setCause)
			}
		}
	}
	if !f.inWorkload(p) {
		return
	}
	saved, stored := f.saved[p] > 0, f.stored[p]
	switch ev.Kind {
	case KindPublish:
		switch {
		case !stored:
			f.storedAt[p] = ev.ID
		case f.doubt[p] > 0: // a second copy on the bus, published again because of a doubt
			f.setCause(p, &f.copyCause[p], f.doubt[p])
		case ev.Peer == NodeRelay && f.lastRelayCrash > f.storedAt[p]: // the relay crashed before marking it sent
			f.setCause(p, &f.copyCause[p], f.lastRelayCrash)
		default:
			f.setCause(p, &f.copyCause[p], ev.ID)
		}
		f.stored[p] = true
		f.publishedAt[p] = ev.ID
	case KindRedeliver:
		switch {
		case ev.Fault != "": // bus.redeliver: a copy for no reason but the fault
			f.setCause(p, &f.copyCause[p], ev.ID)
		case f.copyCause[p] > 0: // the copy it delivers again is there because of an earlier cause
		case f.ackDoubt[p] > 0: // no ack came: blame what kept it
			f.setCause(p, &f.copyCause[p], f.ackDoubt[p])
		default:
			f.setCause(p, &f.copyCause[p], ev.ID)
		}
	case KindDeliver, KindDuplicate:
		if ev.Node == NodeLedger {
			if len(f.effects[p]) > 0 || f.arrivedAt[p] == f.consumerCrashes+1 {
				f.duplicateDeliveries++
				c := f.copyCause[p]
				if ev.Kind == KindDuplicate || c == 0 { // the network copied this delivery, or nothing else is known
					c = ev.ID
				}
				f.setCause(p, &f.arrivedCause[p], c)
			}
			f.arrivedAt[p] = f.consumerCrashes + 1
		} else if ev.Kind == KindDuplicate && (ev.Node == NodeBus && ev.Peer != NodeLedger || ev.Node == NodeService && ev.Peer == NodeClient) {
			f.setCause(p, &f.doubt[p], ev.ID) // the network delivered a publish, or the request, twice
		}
	case KindTimeout:
		if ev.Peer == NodeBus {
			f.timedOut[p] = true
			if f.doubt[p] < f.publishedAt[p] { // no lost ack or message since the publish explains it
				f.setCause(p, &f.doubt[p], ev.ID)
			}
		}
	case KindAckLost:
		f.setCause(p, &f.doubt[p], ev.ID)
	case KindDrop:
		switch {
		case ev.Peer == NodeBus && ev.Node != NodeLedger: // a publish's ack lost in the network
			f.setCause(p, &f.doubt[p], ev.ID)
		case ev.Node == NodeBus && ev.Peer == NodeLedger: // the consumer's ack lost
			f.setCause(p, &f.ackDoubt[p], ev.ID)
		}
	case KindCrash:
		switch ev.Node {
		case NodeRelay:
			f.setCause(p, &f.doubt[p], ev.ID)
		case NodeLedger:
			f.setCause(p, &f.ackDoubt[p], ev.ID)
		}
	case KindDown:
		if ev.Node == NodeLedger && f.ackDoubt[p] == 0 { // a delivery met the crashed consumer
			f.setCause(p, &f.ackDoubt[p], ev.ID)
		}
	}
	if ev.Fault == "" {
		return
	}
	// Which faults can stop a write: a copy (net.dup, bus.redeliver) adds
	// one, and the consumer's crash and a ledger commit come after both.
	stops := true
	switch ev.Fault {
	case NetDup.String(), BusRedeliver.String(), CrashConsumer.String():
		stops = false
	case DBFail.String():
		stops = ev.Node == NodeServiceDB && ev.Peer == NodeService
	}
	if !stops {
		return
	}
	if saved != stored {
		f.split[p] = true
	}
	if !saved && (ev.Kind == KindCommitErr || ev.Kind == KindCrash && ev.Node == NodeService) {
		f.failedSave[p] = true
	}
	if saved && !stored && f.lostCause[p] == 0 &&
		(ev.Kind == KindPubFail || ev.Kind == KindDrop && ev.Node == NodeBus || ev.Kind == KindCrash && ev.Node != NodeLedger) {
		f.lostCause[p] = ev.ID
		f.w.keep(ev.ID)
	}
	if stored && !saved && f.phantomCause[p] == 0 &&
		(ev.Kind == KindCommitErr || ev.Kind == KindCrash && ev.Node == NodeService || ev.Kind == KindAckLost ||
			ev.Kind == KindDrop && ev.Node == NodeService && ev.Peer == NodeBus) {
		f.phantomCause[p] = ev.ID
		f.w.keep(ev.ID)
	}
}

// setCause sets one of payment p's cause slots to event ev. While no
// payment has been posted twice, the event is kept as evidence if it is
// the one being emitted (an event after the first second entry can never
// be the first duplicate's evidence), and the event the slot held before
// is forgotten unless something else of p's still names it or it is a
// crash, which may be the cause for several payments: so a run keeps at
// most a few events per payment for its duplicates.
func (f *paymentsRun) setCause(p int, slot *int, ev int) {
	old := *slot
	*slot = ev
	if f.w.kept == nil || f.duplicateKept || old == ev {
		return
	}
	f.w.keep(ev)
	if ev == f.relayCrash.ID && ev > 0 {
		f.w.kept[ev] = f.relayCrash
	}
	if old == 0 || f.w.kept[old].Kind == KindCrash || old == f.lostCause[p] || old == f.phantomCause[p] ||
		old == f.doubt[p] || old == f.ackDoubt[p] || old == f.copyCause[p] || old == f.arrivedCause[p] {
		return
	}
	for _, c := range f.effectCause[p] {
		if c == old {
			return
		}
	}
	f.w.forget(old)
}

// checkPayments compares the payments database with the ledger: which
// payments the service committed, and which the ledger posted, how often.
func (f *paymentsRun) check(r *Report, mark func(ev int, key, note string)) error {
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
		if err := unsentOutboxRows(f.w, f.serviceDB); err != nil {
			return err
		}
	}
	entriesComing, commitsComing := 0, 0
	// One event is the evidence for one violation: a crash that stopped
	// two payments is the cause of the first; the second's evidence is its
	// own commit or ledger entry.
	used := map[int]bool{}
	cause := func(ev, fallback int) int {
		if ev == 0 || used[ev] {
			ev = fallback
		}
		used[ev] = true
		return ev
	}
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
			ev := cause(f.lostCause[id], f.saved[id])
			mark(ev, ViolationLost, f.lostNote(id, ev))
		case !committed[id] && n > 0:
			r.Phantom++
			if len(f.effects[id]) > 0 {
				ev := cause(f.phantomCause[id], f.effects[id][0])
				mark(ev, ViolationPhantom, f.phantomNote(id, ev))
			}
		}
		if n > 1 {
			r.DuplicateEffects += n - 1
			for i, ev := range f.effects[id][min(1, len(f.effects[id])):] {
				c := f.effectCause[id][i]
				ev = cause(c, ev)
				mark(ev, ViolationDuplicate, f.duplicateNote(id, ev, c))
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
	r.set("split_writes", countTrue(f.split))
	r.set("failed_saves", countTrue(f.failedSave))
	r.set("relay_polls", f.relayPolls)
	r.set("duplicate_deliveries", f.duplicateDeliveries)
	r.set("timeouts", countTrue(f.timedOut))
	return nil
}

// unsentOutboxRows notes, in a cut run, every payment with an outbox row
// in db that the relay has not yet had acknowledged: work left that no
// process shows.
func unsentOutboxRows(w *world, db *database) error {
	rows, err := db.conn.QueryContext(bg, "SELECT payment_id FROM outbox WHERE sent_us IS NULL")
	if err != nil {
		return fmt.Errorf("check outbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return err
		}
		w.stillComing(id)
	}
	return rows.Err()
}

// lostNote says how event ev led to payment id's loss.
func (f *paymentsRun) lostNote(id, ev int) string {
	pid := strconv.Itoa(id)
	tail := "payment " + pid + ", committed at event " + strconv.Itoa(f.saved[id]) + ", never reached the bus or the ledger (lost)"
	switch c := f.lostCause[id]; {
	case ev == c:
		return "this stopped its publish, and nothing published it again: " + tail
	case c > 0: // the cause is the evidence of another payment's loss
		return "payment " + pid + " was committed here; event " + strconv.Itoa(c) +
			" stopped its publish, and it never reached the bus or the ledger (lost)"
	}
	return "payment " + pid + " was committed here and never reached the bus or the ledger (lost)"
}

// phantomNote says how event ev led to money moving for payment id, which
// was never committed.
func (f *paymentsRun) phantomNote(id, ev int) string {
	pid := strconv.Itoa(id)
	switch c := f.phantomCause[id]; {
	case ev == c:
		return "this stopped the save of payment " + pid + " after its event was published, and nothing saved it again: " +
			"the ledger moved money for a payment that was never committed (phantom)"
	case c > 0: // the cause is the evidence of another payment's phantom
		return "money moved for payment " + pid + ", which was never committed: event " + strconv.Itoa(c) +
			" stopped its save after its event was published (phantom)"
	}
	return "money moved for payment " + pid + ", which was never committed (phantom)"
}

// duplicateNote says how event ev led to a second ledger entry for
// payment id; c is the cause the checker found, if any.
func (f *paymentsRun) duplicateNote(id, ev, c int) string {
	pid := strconv.Itoa(id)
	switch {
	case ev == c:
		return "this put another copy of payment " + pid + "'s event on its way to the ledger, which posted it again: " +
			"money moved twice (duplicate_effects)"
	case c > 0: // the cause is the evidence of another violation
		return "payment " + pid + " was posted again here: event " + strconv.Itoa(c) +
			" put another copy of its event on its way to the ledger (duplicate_effects)"
	}
	return "payment " + pid + " was posted again: a copy of its event reached the consumer, which had posted it already (duplicate_effects)"
}

func countTrue(xs []bool) int {
	n := 0
	for _, x := range xs {
		if x {
			n++
		}
	}
	return n
}
