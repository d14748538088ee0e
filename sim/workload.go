package sim

import (
	"errors"
	"slices"
	"strconv"
)

// Payment is one charge a client asks the payment service to make.
type Payment struct {
	ID          int
	Account     string
	AmountCents int64
	// Key is the idempotency key the client sends with every attempt of
	// this payment, "" when it sends none.
	Key string
}

// Event is the message this payment produces for the ledger.
func (pay Payment) Event() Message {
	return Message{ID: "pmt-" + strconv.Itoa(pay.ID), Payment: pay.ID, Account: pay.Account, AmountCents: pay.AmountCents}
}

// Service is what a design's request handler runs against inside the
// payment service: its database and its bus client.
type Service struct {
	DB  DB
	Bus Bus
	// Replica is a read-only copy of DB that trails it by the scenario's
	// replica-lag (the stale-read designs).
	Replica DB
	// Region names the region this service runs in (the partition designs).
	Region string
	p      *proc
	reply  string
	region *region
}

// Reply sets the answer the client gets when the handler returns nil; the
// default is "ok".
func (s *Service) Reply(answer string) { s.reply = answer }

// Backoff waits before retry number attempt (1, 2, …): an exponential delay
// from base with keyed jitter of ±50%, so retries of many payments do not
// line up.
func (s *Service) Backoff(attempt int, base Duration) { s.p.backoff(attempt, base) }

func (p *proc) backoff(attempt int, base Duration) {
	p.step()
	d := int64(base) / 1000 << (attempt - 1)
	u := uniform(p.w.sc.Seed, tagBackoff, uint64(attempt), uint64(p.payment), 0)
	d = d/2 + int64(u*float64(d))
	p.w.emit(Event{Node: p.node.name, Kind: KindRetry, Payment: p.payment,
		Note: "retry " + strconv.Itoa(attempt) + " after " + msToString(d)})
	p.sleep(d)
}

// Relay is what a design's outbox relay runs against: the payment service's
// database, read from beside it, and a bus client.
type Relay struct {
	DB  DB
	Bus Bus
	p   *proc
}

// relayPollUs is how often an idle relay looks for unsent outbox rows.
const relayPollUs = 5_000

// Now is the current virtual time in microseconds.
func (r *Relay) Now() int64 { return r.p.w.now }

// Working notes which payment the relay's next steps are about, so crash
// faults and events name it.
func (r *Relay) Working(payment int) { r.p.payment = payment }

// Idle waits for the next poll. An idle relay does not keep the run alive.
func (r *Relay) Idle() { r.p.step(); r.p.sleepAs(relayPollUs, true) }

// Sleep waits for the next poll while work is still pending.
func (r *Relay) Sleep() { r.p.step(); r.p.sleep(relayPollUs) }

// Consumer is what a design's ledger consumer runs against: the ledger's own
// database. When the handler returns nil, the consumer acknowledges the
// delivery to the broker (a separate step, so a crash can fall between the
// commit and the ack).
type Consumer struct {
	DB DB
	p  *proc
}

// Skip records that the consumer ignored a delivery it had already
// processed.
func (c *Consumer) Skip(m Message) {
	c.p.w.emit(Event{Node: c.p.node.name, Kind: KindDedupSkip, Payment: m.Payment,
		Note: c.p.w.note2(m.ID, " already processed: skipped, no money moved")})
}

// workload: payment i is requested at i × requestIntervalUs.
const requestIntervalUs = 1_000

// clientTimeoutUs is how long a client waits for the service's answer:
// the scenario's client-timeout, or by default a round trip and 100ms.
func (w *world) clientTimeoutUs() int64 {
	if w.sc.ClientTimeout > 0 {
		return int64(w.sc.ClientTimeout) / 1000
	}
	return w.roundTripUs() + 100_000
}

// payment returns request i of the workload; amounts and accounts are keyed
// on the seed and the payment id.
func (w *world) payment(i int) Payment {
	amount := 100 + int64(uniform(w.sc.Seed, tagAmount, uint64(i), 0, 0)*99_900)
	account := 1 + int(uniform(w.sc.Seed, tagAccount, uint64(i), 0, 0)*20)
	return Payment{ID: i, Account: "A-" + strconv.Itoa(account), AmountCents: amount}
}

// startClient sends payment pay once to the payment service and waits for
// the answer. It is Client.Call written as callbacks rather than as a
// process: whichever of the answer and the timeout comes first settles the
// call, at the instant and in the order Call's process would wake. A run
// starts one per payment, and a client that never crashes gained nothing
// from a coroutine of its own and the switches to and from it.
func (w *world) startClient(pay Payment) {
	settled := false
	w.send(w.client, w.service, chRequest, pay.ID, KindRequest, w.requestNote(pay, 1), func() {
		w.serve(pay, func(result string, err error) {
			w.schedule(w.now, false, func() {
				if !settled {
					settled = true
					w.clientAnswered(pay, w.service, answer{result, err})
				}
			})
		})
	})
	w.schedule(w.now+w.clientTimeoutUs(), false, func() {
		if !settled {
			settled = true
			w.clientTimedOut(pay, w.service)
		}
	})
}

// serve runs the design's handler for one request in a new process on the
// payment service and answers the client.
func (w *world) serve(pay Payment, answer func(result string, err error)) {
	w.serveAt(w.service, w.client, pay, func(p *proc) *Service {
		s := &Service{DB: DB{w.serviceDB, p}, Bus: Bus{p}, p: p}
		if w.replica != nil {
			s.Replica = DB{w.replica, p}
		}
		return s
	}, false, answer)
}

// serveAt runs the design's handler for pay in a new process on node n,
// against the Service that open makes for it, and answers to the node
// the request came from. A refusal by business rule (ErrDeclined) or for
// lack of consistency (ErrUnavailable) is shown as such, and counted
// unless forwarded: then the node that took the request counts it.
func (w *world) serveAt(n, from *node, pay Payment, open func(p *proc) *Service, forwarded bool, answer func(result string, err error)) {
	w.spawn(n, pay.ID, func(p *proc) {
		s := open(p)
		result := "ok"
		err := w.design.Handle(s, pay)
		if err != nil {
			result = "error: " + err.Error()
			switch {
			case errors.Is(err, ErrDeclined):
				result = err.Error()
				var moves []string
				if !forwarded {
					w.declined++
					moves = movesDeclined
				}
				w.emit(Event{Node: n.name, Kind: KindDecline, Payment: pay.ID, Note: result, Moves: moves})
			case errors.Is(err, ErrUnavailable):
				result = err.Error()
				var moves []string
				if !forwarded {
					w.rejected++
					moves = movesRejected
				}
				w.emit(Event{Node: n.name, Kind: KindReject, Payment: pay.ID, Note: result, Moves: moves})
			default:
				w.emit(Event{Node: n.name, Kind: KindError, Payment: pay.ID, Note: "handler returned " + result})
			}
		} else if s.reply != "" {
			result = s.reply
		}
		p.step()
		w.send(n, from, chResponse, pay.ID, KindSend, result, func() { answer(result, err) })
	})
}

// ErrDeclined is what a handler returns (wrapped) when a business rule
// refuses a payment: the customer's limit, an account without the money.
// It is an answer, not a failure, and retrying it changes nothing.
var ErrDeclined = errors.New("declined")

// ErrUnavailable is what a handler returns when it refuses a request for
// lack of consistency: it cannot reach the node that must decide.
var ErrUnavailable = errors.New("rejected: the primary cannot be reached")

// consume runs the design's consumer for one delivery in a new process on
// the ledger, and acknowledges it when the handler returns nil.
func (w *world) consume(d *delivery) {
	w.delivered++
	w.spawn(w.ledger, d.m.Payment, func(p *proc) {
		c := &Consumer{DB: DB{w.ledgerDB, p}, p: p}
		if err := w.design.Consume(c, d.m); err != nil {
			w.emit(Event{Node: w.ledger.name, Kind: KindError, Payment: d.m.Payment, Note: "consumer returned error: " + err.Error() + "; no ack"})
			return
		}
		p.step()
		w.send(w.ledger, w.bus, chConsumerAck, d.m.Payment, KindSend, w.note2("ack ", d.m.ID), func() { w.broker.consumerAck(d) })
	})
}

// startRelay runs the design's relay loop, if it has one.
func (w *world) startRelay() {
	if w.design.Relay == nil {
		return
	}
	w.spawn(w.relay, 0, func(p *proc) {
		w.design.Relay(&Relay{DB: DB{w.serviceDB, p}, Bus: Bus{p}, p: p})
	})
}

// commitMoves is what the commit of a transaction with these watched
// inserts moves: the first commit that saves a payment counts it
// (committed, or accepted where a decision is the point), and a status
// written downstream counts as applied. Effects move their keys on their
// own events.
func (w *world) commitMoves(pending []watched) []string {
	var moves []string
	for _, wt := range pending {
		var m []string
		switch wt.kind {
		case watchSaved:
			if wt.payment > 0 && wt.payment < len(w.payments) && w.payments[wt.payment].committed == 0 {
				m = w.savedMoves
			}
		case watchStatus:
			m = movesApplied
		}
		switch {
		case m == nil:
		case moves == nil:
			moves = m
		default:
			moves = append(slices.Clip(moves), m...)
		}
	}
	return moves
}

// watchCommitted records what a committed watched insert into d means.
func (w *world) watchCommitted(d *database, wt watched, commitEvent int) {
	if wt.payment <= 0 || wt.payment >= len(w.payments) {
		return
	}
	t := &w.payments[wt.payment]
	switch wt.kind {
	case watchSaved:
		if t.committed == 0 {
			t.committed = commitEvent
		}
		if d.onSaved != nil {
			d.onSaved(wt.payment, commitEvent)
		}
	case watchEffect:
		id := w.emit(Event{Node: NodeLedger, Kind: KindEffect, Payment: wt.payment, Note: "money moved: ledger entry posted", Moves: movesLedgerEntries})
		t.effects = append(t.effects, id)
	case watchStatus:
		t.statusWrite = commitEvent
		w.applied++
	case watchCharge:
		pay := w.payment(wt.payment)
		id := w.emit(Event{Node: d.name, Kind: KindEffect, Payment: wt.payment, Moves: movesCharges,
			Note: "money moved: " + pay.Account + " charged " + cents(pay.AmountCents)})
		t.effects = append(t.effects, id)
	}
}

func cents(c int64) string {
	s := strconv.FormatInt(c/100, 10) + "." + strconv.FormatInt(100+c%100, 10)[1:]
	return "€" + s
}
