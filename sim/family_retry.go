package sim

import (
	"errors"
	"fmt"
	"strconv"
)

// The retry family's harness: a client that runs the design's own code
// (Design.Client) against the payment service and its database, and a
// checker that counts how often each client request was charged.

const retrySchema = `
CREATE TABLE charges (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);
CREATE TABLE idempotency_keys (key TEXT PRIMARY KEY, response TEXT NOT NULL);`

// watchCharge marks an insert that takes a customer's money.
const watchCharge = "charge"

var retryFamily = &family{
	setup: func(w *world) error {
		w.client = &node{w: w, name: NodeClient}
		w.service = &node{w: w, name: NodeService, crashFault: CrashService, canCrash: true}
		w.nodes = []*node{w.client, w.service}
		var err error
		w.serviceDB, err = w.openDB(NodeServiceDB, 1, retrySchema, map[string]string{"charges": watchCharge})
		return err
	},
	client: func(w *world, pay Payment) {
		w.spawn(w.client, pay.ID, func(p *proc) { w.design.Client(&Client{p: p}, pay) })
	},
	check: checkRetries,
	databases: []DatabaseInfo{{NodeServiceDB, []Starter{
		{"Charges", "SELECT COUNT(*), SUM(amount_cents) FROM charges"},
		{"Idempotency keys", "SELECT * FROM idempotency_keys LIMIT 20"},
	}}},
}

// Client is what a design's client code runs against: calls to the payment
// service that give up after the scenario's client-timeout.
type Client struct {
	p     *proc
	calls int
	// to and serve are where calls go; nil means the payment service.
	to    *node
	serve func(pay Payment, answer func(result string, err error))
}

// Call sends pay to the payment service and waits for its answer. It
// returns nil when the service answered with success, an error carrying
// the answer otherwise, and ErrTimeout when no answer came within the
// client-timeout: then the charge may or may not have happened.
func (c *Client) Call(pay Payment) error {
	p := c.p
	p.step()
	w := p.w
	var moves []string
	if c.calls++; c.calls > 1 {
		w.retries++
		moves = movesRetries
	}
	to, serve := c.to, c.serve
	if to == nil {
		to, serve = w.service, w.serve
	}
	token := p.waitFor()
	w.sendMoving(w.client, to, chRequest, pay.ID, KindRequest, w.requestNote(pay, c.calls), moves, func() {
		serve(pay, func(result string, err error) { w.wake(p, token, answer{result, err}, false) })
	})
	w.scheduleResume(w.now+w.clientTimeoutUs(), false, p, token, nil)
	v := p.park()
	if v == nil {
		w.clientTimedOut(pay, to)
		return ErrTimeout
	}
	a := v.(answer)
	w.clientAnswered(pay, to, a)
	if a.err != nil {
		return errors.New(a.text)
	}
	return nil
}

// requestNote is the note of a client's request; attempt is 1 for the
// first.
func (w *world) requestNote(pay Payment, attempt int) string {
	if w.sink == nil { // notes are built only when someone reads the events
		return ""
	}
	note := "charge " + cents(pay.AmountCents) + " to " + pay.Account
	if pay.Key != "" {
		note += ", key " + pay.Key
	}
	if attempt > 1 {
		note += " (attempt " + strconv.Itoa(attempt) + ")"
	}
	return note
}

// clientTimedOut is a client giving up on its call to node to.
func (w *world) clientTimedOut(pay Payment, to *node) {
	w.emit(Event{Node: w.client.name, Kind: KindTimeout, Payment: pay.ID, Peer: to.name,
		Note: w.note3("no answer within ", msToString(w.clientTimeoutUs()), ": outcome unknown")})
}

// clientAnswered is a client hearing node to's answer a.
func (w *world) clientAnswered(pay Payment, to *node, a answer) {
	w.emit(Event{Node: w.client.name, Kind: KindResponse, Payment: pay.ID, Peer: to.name, Note: w.note3(to.name, " answered: ", a.text)})
}

// answer is what a caller hears back: the words, and the handler's error.
type answer struct {
	text string
	err  error
}

// Backoff waits before retry number attempt (1, 2, …): an exponential delay
// from base with keyed jitter of ±50%.
func (c *Client) Backoff(attempt int, base Duration) { c.p.backoff(attempt, base) }

// NewKey makes a fresh idempotency key, as a client makes a random one once
// per payment; it is keyed on the seed and the payment, so runs repeat.
func (c *Client) NewKey() string {
	u := uniform(c.p.w.sc.Seed, tagKey, uint64(c.p.payment), 0, 0)
	return "idem-" + strconv.FormatUint(uint64(u*(1<<32)), 16)
}

// checkRetries counts the charges in the service's database and, from the
// commits that wrote them, which client request each belongs to.
func checkRetries(w *world, r *Report, mark func(ev int, key string)) error {
	var total int
	if err := w.serviceDB.conn.QueryRowContext(bg, "SELECT COUNT(*) FROM charges").Scan(&total); err != nil {
		return fmt.Errorf("check charges: %w", err)
	}
	double, tracked := 0, 0
	for id := 1; id < len(w.payments); id++ {
		t := &w.payments[id]
		tracked += len(t.effects)
		if len(t.effects) > 1 {
			double++
			mark(t.effects[1], ViolationDoubleCharge)
		}
	}
	if tracked != total {
		return fmt.Errorf("check charges: the database holds %d charges, the run committed %d", total, tracked)
	}
	retries := w.retries
	r.Charges, r.Retries, r.DoubleCharges = &total, &retries, &double
	return nil
}
