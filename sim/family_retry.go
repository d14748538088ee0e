package sim

import (
	"fmt"
	"strconv"
)

// The retry family: a client that runs the design's own code
// (Design.Client, design_retry.go) against the payment service and its
// database, and a checker that counts how often each client request was
// charged.

const retrySchema = `
CREATE TABLE charges (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);
CREATE TABLE idempotency_keys (key TEXT PRIMARY KEY, response TEXT NOT NULL);`

// ViolationDoubleCharge is the retry family's violation key.
const ViolationDoubleCharge = "double_charges"

var retryFamily = &family{
	nodes:      []string{NodeClient, NodeService, NodeServiceDB},
	metrics:    []string{"charges", "retries", ViolationDoubleCharge},
	invariants: []string{ViolationDoubleCharge},
	faults:     []Fault{NetDrop, NetDup, DBFail, CrashService},
	reportKeys: []reportKey{
		{"charges", "charges committed in the payment service's database, every retry's included"},
		{"retries", "client attempts beyond the first for a payment"},
		{ViolationDoubleCharge, "client requests (payments) charged more than once"},
	},
	situations: []reportKey{
		{"timeouts", "payments a client's call about which timed out: it could not know whether the charge was made"},
		{"retries_after_charge", "payments a client asked to charge again after their charge had committed: the moment a retry can charge twice"},
		{"keyed_requests", "requests a client sent with an idempotency key; 0 in a design whose client sends none"},
	},
	databases: []DatabaseInfo{{NodeServiceDB, []Starter{
		{"Charges", "SELECT COUNT(*), SUM(amount_cents) FROM charges"},
		{"Idempotency keys", "SELECT * FROM idempotency_keys LIMIT 20"},
	}}},
	open: openRetry,
}

var movesCharges = []string{"charges"}

// retryRun is one run of the retry family: its nodes and database, and
// the charge events of each client request.
type retryRun struct {
	w               *world
	d               *Design
	client, service *node
	host            *serviceHost
	serviceDB       *database
	charges         [][]int // per payment, the events that charged it
	// Per payment, whether a call about it timed out and whether it was
	// asked for again after its charge committed; requests sent with a key.
	timedOut, retriedAfterCharge []bool
	keyed                        int
	// What made a second charge, one event id per payment: askedAt is the
	// client's latest request; again the latest event that may make the
	// service charge it again (the request duplicated by the network, the
	// answer lost in the network, a crash of the service, a timeout with
	// none of those behind it); doubleCause what again held when the
	// second charge committed. doubled says a payment has been charged
	// twice: from then on no event is kept as evidence (see setAgain).
	askedAt, again, doubleCause []int
	doubled                     bool
}

func openRetry(w *world, d *Design) (familyRun, error) {
	n := w.sc.Payments + 1
	f := &retryRun{w: w, d: d, charges: make([][]int, n), timedOut: make([]bool, n), retriedAfterCharge: make([]bool, n),
		askedAt: make([]int, n), again: make([]int, n), doubleCause: make([]int, n)}
	w.onEvent = f.observe
	f.client = &node{w: w, name: NodeClient}
	f.service = &node{w: w, name: NodeService, crashFault: CrashService, canCrash: true}
	w.nodes = []*node{f.client, f.service}
	var err error
	if f.serviceDB, err = w.openDB(NodeServiceDB, 1, retrySchema, map[string]*watch{"charges": {committed: f.charged}}); err != nil {
		return nil, err
	}
	f.host = w.newServiceHost(f.service, f.client, d.Handle, f.serviceDB, nil)
	return f, nil
}

// request runs the design's client code for pay in a process of its own.
func (f *retryRun) request(pay Payment) {
	f.w.spawn(f.client, pay.ID, func(p *proc) {
		f.d.Client(&Client{p: p, to: f.service, serve: f.host.serve, sent: f.sent}, pay)
	})
}

// sent counts the requests that carry an idempotency key.
func (f *retryRun) sent(pay Payment) {
	if pay.Key != "" {
		f.keyed++
	}
}

// observe notes the client's timeouts, and its retries of payments that
// were charged already.
func (f *retryRun) observe(ev *Event) {
	p := ev.Payment
	if p <= 0 || p >= len(f.charges) {
		return
	}
	switch {
	case ev.Kind == KindDuplicate && ev.Node == NodeService && ev.Peer == NodeClient: // the request, twice
		f.setAgain(p, ev.ID)
	case ev.Kind == KindDrop && ev.Node == NodeClient && ev.Peer == NodeService: // the answer lost
		f.setAgain(p, ev.ID)
	case ev.Kind == KindCrash && ev.Node == NodeService:
		f.setAgain(p, ev.ID)
	}
	if ev.Node != NodeClient {
		return
	}
	switch ev.Kind {
	case KindTimeout:
		f.timedOut[p] = true
		if f.again[p] < f.askedAt[p] { // nothing since the request explains it: the answer was slow
			f.setAgain(p, ev.ID)
		}
	case KindRequest:
		f.askedAt[p] = ev.ID
		if len(ev.Moves) > 0 && len(f.charges[p]) > 0 { // a retry (it moves retries) of a charged payment
			f.retriedAfterCharge[p] = true
		}
	}
}

// setAgain makes ev payment p's latest reason to be charged again. Until
// some payment is charged twice, ev is kept as evidence and the reason it
// replaces forgotten, unless that is a crash (it may be several payments'
// reason) or p's recorded cause: a run keeps about one event per payment.
func (f *retryRun) setAgain(p, ev int) {
	old := f.again[p]
	f.again[p] = ev
	if f.w.kept == nil || f.doubled || old == ev {
		return
	}
	f.w.keep(ev)
	if old != 0 && old != f.doubleCause[p] && f.w.kept[old].Kind != KindCrash {
		f.w.forget(old)
	}
}

func (f *retryRun) start() {}

// charged shows a committed charge as money moving.
func (f *retryRun) charged(d *database, payment, _ int) {
	if payment <= 0 || payment >= len(f.charges) {
		return
	}
	pay := f.w.nthPayment(payment)
	id := f.w.emit(Event{Node: d.name, Kind: KindEffect, Payment: payment, Moves: movesCharges,
		Note: "money moved: " + pay.Account + " charged " + cents(pay.AmountCents)})
	f.charges[payment] = append(f.charges[payment], id)
	if len(f.charges[payment]) == 2 {
		f.doubleCause[payment] = f.again[payment]
		if !f.doubled {
			f.doubled = true
			f.w.keep(id) // the second charge is the evidence when its cause is another's
		}
	}
}

// check counts the charges in the service's database and, from the
// commits that wrote them, which client request each belongs to.
func (f *retryRun) check(r *Report, mark func(ev int, key, note string)) error {
	var total int
	if err := f.serviceDB.conn.QueryRowContext(bg, "SELECT COUNT(*) FROM charges").Scan(&total); err != nil {
		return fmt.Errorf("check charges: %w", err)
	}
	double, tracked := 0, 0
	used := map[int]bool{} // a crash may be the cause of several; it is evidence for the first
	for id, events := range f.charges {
		tracked += len(events)
		if len(events) > 1 {
			double++
			pid := strconv.Itoa(id)
			switch c := f.doubleCause[id]; {
			case c > 0 && !used[c]:
				used[c] = true
				mark(c, ViolationDoubleCharge, "this made the client's request for payment "+pid+" reach the service again, which charged it a second time (double_charges)")
			case c > 0:
				mark(events[1], ViolationDoubleCharge, "a second charge for payment "+pid+": event "+strconv.Itoa(c)+" made its request reach the service again (double_charges)")
			default:
				mark(events[1], ViolationDoubleCharge, "a second charge for payment "+pid+": the client asked again and the service charged again (double_charges)")
			}
		}
	}
	if tracked != total {
		return fmt.Errorf("check charges: the database holds %d charges, the run committed %d", total, tracked)
	}
	r.set("charges", total)
	r.set("retries", f.w.moved["retries"])
	r.set(ViolationDoubleCharge, double)
	r.set("timeouts", countTrue(f.timedOut))
	r.set("retries_after_charge", countTrue(f.retriedAfterCharge))
	r.set("keyed_requests", f.keyed)
	return nil
}
