package sim

// Consumer is what a design's consumer runs against: its node's own
// database. When the handler returns nil, the consumer acknowledges the
// delivery (a separate step, so a crash can fall between the commit and
// the ack).
type Consumer struct {
	DB DB
	p  *proc
	// state is what the consumer's family keeps for it, for the calls
	// that family adds (the poison-message family's Log).
	state any
}

// Backoff waits before retry number attempt (1, 2, …) of the delivery in
// hand: an exponential delay from base with keyed jitter of ±50%.
func (c *Consumer) Backoff(attempt int, base Duration) { c.p.backoff(attempt, base) }

// Skip records that the consumer ignored a delivery it had already
// processed.
func (c *Consumer) Skip(m Message) {
	c.p.w.emit(Event{Node: c.p.node.name, Kind: KindDedupSkip, Payment: m.Payment,
		Note: c.p.w.note2(m.ID, " already processed: skipped, no money moved")})
}

// consumeOn makes n, with its database db, the bus's consumer: each
// delivery runs handle in a new process on n, and is acknowledged to the
// broker when handle returns nil.
func (b *broker) consumeOn(n *node, db *database, handle func(*Consumer, Message) error) {
	w := b.w
	b.consumer = n
	b.consume = func(d *delivery, attempt int) {
		if b.onConsume != nil {
			b.onConsume(d.m)
		}
		w.spawn(n, d.m.Payment, func(p *proc) {
			c := &Consumer{DB: DB{db, p}, p: p}
			if err := handle(c, d.m); err != nil {
				w.emit(Event{Node: n.name, Kind: KindError, Payment: d.m.Payment, Note: "consumer returned error: " + err.Error() + "; no ack"})
				return
			}
			p.stepAt(momentBeforeReply)
			w.send(n, b.node, chConsumerAck, d.m.Payment, KindSend, w.note2("ack ", d.m.ID), func() { b.consumerAck(d, attempt) })
		})
	}
}
