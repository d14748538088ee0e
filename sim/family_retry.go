package sim

import "fmt"

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
}

func openRetry(w *world, d *Design) (familyRun, error) {
	f := &retryRun{w: w, d: d, charges: make([][]int, w.sc.Payments+1)}
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
	f.w.spawn(f.client, pay.ID, func(p *proc) { f.d.Client(&Client{p: p, to: f.service, serve: f.host.serve}, pay) })
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
}

// check counts the charges in the service's database and, from the
// commits that wrote them, which client request each belongs to.
func (f *retryRun) check(r *Report, mark func(ev int, key string)) error {
	var total int
	if err := f.serviceDB.conn.QueryRowContext(bg, "SELECT COUNT(*) FROM charges").Scan(&total); err != nil {
		return fmt.Errorf("check charges: %w", err)
	}
	double, tracked := 0, 0
	for _, events := range f.charges {
		tracked += len(events)
		if len(events) > 1 {
			double++
			mark(events[1], ViolationDoubleCharge)
		}
	}
	if tracked != total {
		return fmt.Errorf("check charges: the database holds %d charges, the run committed %d", total, tracked)
	}
	r.set("charges", total)
	r.set("retries", f.w.moved["retries"])
	r.set(ViolationDoubleCharge, double)
	return nil
}
