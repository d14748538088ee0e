package sim

import (
	"fmt"
	"strconv"
)

// The third-party family: the payment service charges cards through a
// payment provider, a node of its own behind the service with its own
// records. The provider deduplicates on the idempotency key it is sent,
// as real providers do, and can be asked what happened to a key. A call
// to it can time out with the card charged, and a commit after a charge
// can fail: the checker counts, at the provider, the payments whose card
// was charged more than once.

// NodePSP is the payment provider's lane.
const NodePSP = "psp"

const pspServiceSchema = `
CREATE TABLE attempts (key TEXT PRIMARY KEY, payment_id INTEGER NOT NULL, status TEXT NOT NULL, psp_ref TEXT);
CREATE TABLE payments (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL, status TEXT NOT NULL, psp_ref TEXT);`

const pspSchema = `
CREATE TABLE charges (ref TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, payment_id INTEGER NOT NULL, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);`

// pspCharges is the third-party family's count of the provider's charges.
const pspCharges = "psp_charges"

var (
	chPSPCall   = newChannel(13, "provider call")   // service → provider: charge, or look up a key
	chPSPAnswer = newChannel(14, "provider answer") // provider → service
)

var pspFamily = &family{
	nodes:      []string{NodeClient, NodeService, NodeServiceDB, NodePSP},
	metrics:    []string{pspCharges, "retries", ViolationDoubleCharge},
	invariants: []string{ViolationDoubleCharge},
	faults:     []Fault{NetDrop, NetDup, DBFail, CrashService},
	reportKeys: []reportKey{
		{pspCharges, "cards the payment provider charged, every retry's included"},
		{"retries", "client attempts beyond the first for a payment"},
		{ViolationDoubleCharge, "payments whose card the provider charged more than once"},
	},
	situations: []reportKey{
		{"timeouts", "payments a call about which timed out, the client's or the service's to the provider: the caller could not know whether the card was charged"},
		{"retries_after_charge", "payments a client asked to charge again after the provider had charged the card: the moment a retry can charge twice"},
		{"keyed_requests", "requests a client sent with an idempotency key"},
	},
	databases: []DatabaseInfo{
		{NodeServiceDB, []Starter{
			{"Payments by status", "SELECT status, COUNT(*) FROM payments GROUP BY status"},
			{"Attempts still pending", "SELECT * FROM attempts WHERE status = 'pending'"},
		}},
		{NodePSP, []Starter{
			{"Payments charged twice", "SELECT payment_id, COUNT(*) FROM charges GROUP BY payment_id HAVING COUNT(*) > 1"},
		}},
	},
	open: openPSP,
}

var movesPSPCharge = []string{pspCharges}

// pspRun is one run of the third-party family.
type pspRun struct {
	w                    *world
	d                    *Design
	client, service, psp *node
	host                 *serviceHost
	serviceDB, pspDB     *database
	charges              [][]int // per payment, the provider's charge events
	// Per payment, whether a call about it timed out and whether it was
	// asked for again after the provider charged; requests sent with a key.
	timedOut, retriedAfterCharge []bool
	keyed                        int
}

func openPSP(w *world, d *Design) (familyRun, error) {
	n := w.sc.Payments + 1
	f := &pspRun{w: w, d: d, charges: make([][]int, n), timedOut: make([]bool, n), retriedAfterCharge: make([]bool, n)}
	w.onEvent = f.observe
	f.client = &node{w: w, name: NodeClient}
	f.service = &node{w: w, name: NodeService, crashFault: CrashService, canCrash: true}
	f.psp = &node{w: w, name: NodePSP}
	w.nodes = []*node{f.client, f.service, f.psp}
	var err error
	if f.serviceDB, err = w.openDB(NodeServiceDB, 1, pspServiceSchema, nil); err != nil {
		return nil, err
	}
	if f.pspDB, err = w.openDB(NodePSP, 6, pspSchema, nil); err != nil {
		return nil, err
	}
	f.host = w.newServiceHost(f.service, f.client, d.Handle, f.serviceDB, nil)
	open := f.host.open
	f.host.open = func(p *proc) *Service {
		s := open(p)
		s.state = f
		return s
	}
	return f, nil
}

// request runs the design's client code for pay in a process of its own.
func (f *pspRun) request(pay Payment) {
	f.w.spawn(f.client, pay.ID, func(p *proc) {
		f.d.Client(&Client{p: p, to: f.service, serve: f.host.serve, sent: f.sent}, pay)
	})
}

// sent counts the requests that carry an idempotency key.
func (f *pspRun) sent(pay Payment) {
	if pay.Key != "" {
		f.keyed++
	}
}

// observe notes the timeouts of calls about each payment, and a client's
// retries of payments the provider had charged already.
func (f *pspRun) observe(ev *Event) {
	p := ev.Payment
	if p <= 0 || p >= len(f.charges) {
		return
	}
	switch {
	case ev.Kind == KindTimeout:
		f.timedOut[p] = true
	case ev.Kind == KindRequest && ev.Node == NodeClient && len(ev.Moves) > 0 && len(f.charges[p]) > 0:
		f.retriedAfterCharge[p] = true
	}
}

func (f *pspRun) start() {}

// errNoSuchCharge is the provider's answer to a look-up of a key it
// never charged under.
var errNoSuchCharge = fmt.Errorf("the provider has no charge under this key")

// pspCall sends one call to the provider and waits for its answer; serve
// runs at the provider when the call arrives (once per copy the network
// delivers). No answer within a round trip and 20ms is ErrTimeout: the
// card may or may not have been charged.
func (s *Service) pspCall(note string, serve func() string) (string, error) {
	ref, ok := callPeer(s.p, s.state.(*pspRun).psp, chPSPCall, chPSPAnswer, "provider", note, ", outcome unknown", serve)
	if !ok {
		return "", ErrTimeout
	}
	if ref == "" {
		return "", errNoSuchCharge
	}
	return ref, nil
}

// PSPCharge asks the provider to charge pay's card under key and returns
// the charge's reference. The provider charges once per key: a key it has
// seen gets the first charge's reference back, and no money moves.
func (s *Service) PSPCharge(key string, pay Payment) (string, error) {
	f := s.state.(*pspRun)
	return s.pspCall("charge "+cents(pay.AmountCents)+" to "+pay.Account+" under key "+key, func() string {
		var ref string
		if f.pspDB.prepare(`SELECT ref FROM charges WHERE key = ?`).stmt.QueryRow(key).Scan(&ref) == nil {
			f.w.emit(Event{Node: NodePSP, Kind: KindDedupSkip, Payment: pay.ID, Note: "key " + key + " seen before: " + ref + " returned, no second charge"})
			return ref
		}
		ref = "ch_" + strconv.Itoa(pay.ID) + "_" + strconv.Itoa(len(f.charges[pay.ID])+1)
		if _, err := f.pspDB.prepare(`INSERT INTO charges (ref, key, payment_id, account, amount_cents) VALUES (?, ?, ?, ?, ?)`).stmt.
			Exec(ref, key, pay.ID, pay.Account, pay.AmountCents); err != nil {
			panic("sim: psp: " + err.Error())
		}
		ev := f.w.emit(Event{Node: NodePSP, Kind: KindEffect, Payment: pay.ID, Moves: movesPSPCharge,
			Note: "money moved: card of " + pay.Account + " charged " + cents(pay.AmountCents) + " (" + ref + ")"})
		f.charges[pay.ID] = append(f.charges[pay.ID], ev)
		if len(f.charges[pay.ID]) == 2 {
			f.w.keep(ev) // the second charge is the double charge's evidence
		}
		return ref
	})
}

// PSPLookup asks the provider what it did under key: the charge's
// reference, or errNoSuchCharge when it made none.
func (s *Service) PSPLookup(key string) (string, error) {
	f := s.state.(*pspRun)
	p := s.p
	return s.pspCall("look up key "+key, func() string {
		var ref string
		found := f.pspDB.prepare(`SELECT ref FROM charges WHERE key = ?`).stmt.QueryRow(key).Scan(&ref) == nil
		note := "no charge under key " + key
		if found {
			note = "key " + key + " was charged: " + ref
		}
		f.w.emit(Event{Node: NodePSP, Kind: KindQuery, Payment: p.payment, Peer: NodeService, Note: note})
		return ref
	})
}

// check counts the provider's charges, and the payments it charged more
// than once, marking each one's second charge.
func (f *pspRun) check(r *Report, mark func(ev int, key, note string)) error {
	var total int
	if err := f.pspDB.conn.QueryRowContext(bg, "SELECT COUNT(*) FROM charges").Scan(&total); err != nil {
		return fmt.Errorf("check charges: %w", err)
	}
	double, tracked := 0, 0
	for _, events := range f.charges {
		tracked += len(events)
		if len(events) > 1 {
			double++
			mark(events[1], ViolationDoubleCharge, "a second charge at the provider for one payment: it came under a key the provider had not seen (double_charges)")
		}
	}
	if tracked != total {
		return fmt.Errorf("check charges: the provider holds %d charges, the run made %d", total, tracked)
	}
	r.set(pspCharges, total)
	r.set("retries", f.w.moved["retries"])
	r.set(ViolationDoubleCharge, double)
	r.set("timeouts", countTrue(f.timedOut))
	r.set("retries_after_charge", countTrue(f.retriedAfterCharge))
	r.set("keyed_requests", f.keyed)
	return nil
}
