package sim

import (
	"errors"
	"strconv"
)

// ErrPublishFailed is returned by Publish under bus.publish.fail: the
// message never reached the broker.
var ErrPublishFailed = errors.New("publish failed: the broker did not get the message")

// ErrTimeout is returned when no answer came in time. The outcome is
// unknown: the message may or may not have been stored.
var ErrTimeout = errors.New("timed out: outcome unknown")

// Bus is a process's client for the message broker. Every call is a step.
type Bus struct{ p *proc }

// timeouts, derived from the network's worst one-way delay.
func (w *world) roundTripUs() int64 {
	return 2 * (int64(w.sc.Latency) + int64(w.sc.Jitter)) / 1000
}

// publishTimeoutUs is how long a publisher waits for the broker's ack.
func (w *world) publishTimeoutUs() int64 { return w.roundTripUs() + 5_000 }

// redeliverAfterUs is how long the broker waits for a consumer's ack to
// delivery attempt n (1, 2, …) before delivering again. It leaves room for
// the consumer's transaction and doubles with each attempt, up to 32 times:
// without that backoff, a consumer that keeps crashing is buried under its
// own redeliveries and never recovers (a retry storm).
func (w *world) redeliverAfterUs(attempt int) int64 {
	return (w.roundTripUs() + 20_000) << min(attempt-1, 5)
}

// Publish sends m to the broker and waits for its acknowledgement. It
// returns ErrPublishFailed when the broker never got m, and ErrTimeout when
// no acknowledgement came: then m may or may not be stored.
func (b Bus) Publish(m Message) error {
	return b.PublishAll([]Message{m})[0]
}

// PublishAll publishes every message at once and waits for all the
// acknowledgements (or the timeout); errs[i] is Publish's result for ms[i].
func (b Bus) PublishAll(ms []Message) (errs []error) {
	p := b.p
	p.step()
	w := p.w
	errs = make([]error, len(ms))
	token := p.waitFor()
	waiting := 0
	finished := false
	for i, m := range ms {
		p.published = append(p.published, m.Payment)
		if w.roll(BusPublishFail, 0, m.Payment) {
			w.emit(Event{Node: p.node.name, Kind: KindPubFail, Payment: m.Payment, Peer: NodeBus, Fault: BusPublishFail.String(),
				Note: "publish of " + m.ID + " failed: the broker never got it"})
			errs[i] = ErrPublishFailed
			continue
		}
		errs[i] = ErrTimeout
		waiting++
		w.send(p.node, w.bus.node, chPublish, m.Payment, KindSend, w.note2("publish ", m.ID), func() {
			w.bus.store(p.node, m, func() {
				if finished || errs[i] == nil {
					return
				}
				errs[i] = nil
				w.emit(Event{Node: p.node.name, Kind: KindAck, Payment: m.Payment, Peer: NodeBus, Note: w.note2("broker acknowledged ", m.ID)})
				if waiting--; waiting == 0 {
					w.wake(p, token, nil, false)
				}
			})
		})
	}
	if waiting > 0 {
		w.scheduleResume(w.now+w.publishTimeoutUs(), false, p, token, nil)
		p.park()
	} else {
		p.token++
	}
	finished = true
	for i, m := range ms {
		if errs[i] == ErrTimeout {
			w.emit(Event{Node: p.node.name, Kind: KindTimeout, Payment: m.Payment, Peer: NodeBus,
				Note: "no ack for " + m.ID + " within " + msToString(w.publishTimeoutUs()) + ": outcome unknown"})
		}
	}
	return errs
}

// busSchema is the broker's log.
const busSchema = `
CREATE TABLE messages (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, payment_id INTEGER NOT NULL,
  account TEXT NOT NULL, amount_cents INTEGER NOT NULL);`

// broker is the message bus: it stores each published message in its own
// SQLite log and pushes it to one consumer until acknowledged.
type broker struct {
	w    *world
	node *node
	db   *database
	// consumer is the node deliveries go to; consume runs there on each
	// delivery (see consumeOn).
	consumer *node
	consume  func(d *delivery, attempt int)
	// onStored, if set, sees every message the broker stores.
	onStored func(m Message)
	// onConsume, if set, sees every message a delivery brings to the
	// consumer while it is up, before the consumer's code runs.
	onConsume func(m Message)
	// poison, if set, decides as the broker stores m whether it is a
	// message its consumer can never process (bus.poison), and if so
	// rewrites it into that form and says why ("" when it is not). Only a family whose
	// consumer can meet such a message sets it.
	poison func(m *Message) (why string)
}

// openBus adds the broker, on a node of its own with its log in bus.db, to
// the run: the node is the bus's lane, scope keys the log's db.fail
// decisions.
func (w *world) openBus(scope uint32) error {
	db, err := w.openDB("bus.db", scope, busSchema, nil)
	if err != nil {
		return err
	}
	w.bus = &broker{w: w, node: &node{w: w, name: NodeBus}, db: db}
	return nil
}

type delivery struct {
	m       Message
	offset  int64
	acked   bool
	attempt int
	// redelivered counts the times bus.redeliver delivered m again after
	// an ack (see maxRedeliveriesAfterAck).
	redelivered int
}

// maxRedeliveriesAfterAck bounds how often bus.redeliver delivers one
// acknowledged message again. A broker redelivers an acknowledged message
// when the ack did not stick (a rebalance, a lost offset commit), but in
// the end one sticks: without a bound, bus.redeliver = 1 would deliver
// every message forever and no run could settle. Below the bound the
// fault is what it always was, a keyed roll on every ack; at p = 0.5 a
// message reaches the bound once in 256.
const maxRedeliveriesAfterAck = 8

// store is the broker receiving a publish: it appends m to its log, answers
// the publisher (unless bus.ack.lost) and starts delivering m.
func (b *broker) store(from *node, m Message, ack func()) {
	w := b.w
	ackLost := w.roll(BusAckLost, 0, m.Payment)
	var poisoned string // why m is poison; "" when it is not
	if b.poison != nil {
		poisoned = b.poison(&m)
	}
	const q = "INSERT INTO messages (event_id, payment_id, account, amount_cents) VALUES (?, ?, ?, ?)"
	res, err := b.db.prepare(q).stmt.Exec(m.ID, m.Payment, m.Account, m.AmountCents)
	if err != nil {
		panic("sim: bus.db: " + err.Error())
	}
	off, _ := res.LastInsertId()
	if b.onStored != nil {
		b.onStored(m)
	}
	var args []any
	if w.sink != nil {
		args = []any{m.ID, m.Payment, m.Account, m.AmountCents}
	}
	var note string
	if w.sink != nil {
		note = "stored " + m.ID + " at offset " + strconv.FormatInt(off, 10)
	}
	stored := Event{Node: b.node.name, Kind: KindPublish, Payment: m.Payment, Peer: from.name, SQL: q, Args: args, Note: note, Moves: movesPublished}
	if poisoned != "" {
		stored.Fault = BusPoison.String()
		stored.Note = w.note3(note, "; poison: ", poisoned)
	}
	w.emit(stored)
	if ackLost {
		w.emit(Event{Node: b.node.name, Kind: KindAckLost, Payment: m.Payment, Peer: from.name, Fault: BusAckLost.String(),
			Note: "stored " + m.ID + " but the ack never left: the publisher cannot know"})
	} else {
		w.send(b.node, from, chPublishAck, m.Payment, KindSend, w.note2("ack ", m.ID), ack)
	}
	w.countersOf(m.Payment).unacked++
	b.deliver(&delivery{m: m, offset: off})
}

// deliver pushes d to the consumer and redelivers it if no ack comes in
// time.
func (b *broker) deliver(d *delivery) {
	w := b.w
	d.attempt++
	attempt := d.attempt
	w.send(b.node, b.consumer, chDeliver, d.m.Payment, KindSend, w.note2("deliver ", d.m.ID), func() { b.consume(d, attempt) })
	w.schedule(w.now+w.redeliverAfterUs(attempt), false, func() {
		if d.acked || d.attempt != attempt {
			return
		}
		w.emit(Event{Node: b.node.name, Kind: KindRedeliver, Payment: d.m.Payment,
			Note: "no ack for " + d.m.ID + " within " + msToString(w.redeliverAfterUs(attempt)) + ": delivering again"})
		b.deliver(d)
	})
}

// consumerAck is the broker hearing that the consumer processed delivery
// attempt of d. Under bus.redeliver it delivers d again anyway.
//
// An ack counts only for the attempt it answers, as a broker's delivery
// tag does: a duplicated ack, or the late ack of an attempt the broker has
// since replaced by a redelivery, is ignored. Taking such an ack for the
// current attempt's ended that attempt early and, under bus.redeliver,
// started yet another delivery: under net.dup every delivery then bred
// more deliveries than it settled, a storm without end.
func (b *broker) consumerAck(d *delivery, attempt int) {
	w := b.w
	if d.acked || attempt != d.attempt {
		return
	}
	d.acked = true
	w.countersOf(d.m.Payment).unacked--
	w.emit(Event{Node: b.node.name, Kind: KindAck, Payment: d.m.Payment, Peer: b.consumer.name, Note: w.note3(b.consumer.name, " acknowledged ", d.m.ID)})
	if d.redelivered < maxRedeliveriesAfterAck && w.roll(BusRedeliver, 0, d.m.Payment) {
		d.redelivered++
		w.emit(Event{Node: b.node.name, Kind: KindRedeliver, Payment: d.m.Payment, Fault: BusRedeliver.String(),
			Note: "delivering " + d.m.ID + " again although it was acknowledged"})
		d.acked = false
		w.countersOf(d.m.Payment).unacked++
		b.deliver(d)
	}
}
