package sim

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

// startRelay runs loop as the relay's process on n, against db.
func (w *world) startRelay(n *node, db *database, loop func(*Relay)) {
	w.spawn(n, 0, func(p *proc) {
		loop(&Relay{DB: DB{db, p}, Bus: Bus{p}, p: p})
	})
}
