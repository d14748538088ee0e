package sim

import (
	"errors"
	"strconv"
)

// Client is what a design's client code runs against: calls to a service
// that give up after the scenario's client-timeout.
type Client struct {
	p     *proc
	calls int
	keys  int    // keys NewKey has made
	said  string // the last answer's words
	// payingAgain says a call after the first is the customer paying again
	// (the confirmation designs), not a retry of the same request.
	payingAgain bool
	// to and serve are where calls go: the node that serves them, and
	// how it serves one.
	to    *node
	serve func(pay Payment, answer func(result string, err error))
	// sent, if set, sees every request the client sends, as sent.
	sent func(pay Payment)
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
	if c.calls++; c.calls > 1 && !c.payingAgain {
		moves = movesRetries
	}
	if c.sent != nil {
		c.sent(pay)
	}
	token := p.waitFor()
	w.sendMoving(p.node, c.to, chRequest, pay.ID, KindRequest, w.requestNote(pay, c.calls), moves, func() {
		c.serve(pay, func(result string, err error) { w.wake(p, token, answer{result, err}, false) })
	})
	w.scheduleResume(w.now+w.clientTimeoutUs(), false, p, token, nil)
	v := p.park()
	if v == nil {
		w.clientTimedOut(p.node, c.to, pay)
		return ErrTimeout
	}
	a := v.(answer)
	c.said = a.text
	w.clientAnswered(p.node, c.to, pay, a)
	if a.err != nil {
		return errors.New(a.text)
	}
	return nil
}

// Backoff waits before retry number attempt (1, 2, …): an exponential delay
// from base with keyed jitter of ±50%.
func (c *Client) Backoff(attempt int, base Duration) { c.p.backoff(attempt, base) }

// NewKey makes a fresh idempotency key, as a client makes a random one; it
// is keyed on the seed, the payment and how many keys the client made for
// it before, so runs repeat and a second call makes a different key.
func (c *Client) NewKey() string {
	u := uniform(c.p.w.sc.Seed, tagKey, uint64(c.p.payment), uint64(c.keys), 0)
	c.keys++
	return "idem-" + strconv.FormatUint(uint64(u*(1<<32)), 16)
}

// Said returns the words of the last answer Call heard ("" before any,
// and unchanged by a call that timed out): what the page showed.
func (c *Client) Said() string { return c.said }

// callOnce sends payment pay once from node from to node to, which serves
// it, and waits for the answer. It is Client.Call written as callbacks
// rather than as a process: whichever of the answer and the timeout comes
// first settles the call, at the instant and in the order Call's process
// would wake. A run starts one per payment, and a client that never
// crashes gained nothing from a coroutine of its own and the switches to
// and from it.
func (w *world) callOnce(from, to *node, pay Payment, serve func(pay Payment, answer func(result string, err error))) {
	settled := false
	w.send(from, to, chRequest, pay.ID, KindRequest, w.requestNote(pay, 1), func() {
		serve(pay, func(result string, err error) {
			w.schedule(w.now, false, func() {
				if !settled {
					settled = true
					w.clientAnswered(from, to, pay, answer{result, err})
				}
			})
		})
	})
	w.schedule(w.now+w.clientTimeoutUs(), false, func() {
		if !settled {
			settled = true
			w.clientTimedOut(from, to, pay)
		}
	})
}

// clientTimeoutUs is how long a client waits for the service's answer:
// the scenario's client-timeout, or by default a round trip and 100ms.
func (w *world) clientTimeoutUs() int64 {
	if w.sc.ClientTimeout > 0 {
		return int64(w.sc.ClientTimeout) / 1000
	}
	return w.roundTripUs() + 100_000
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

// clientTimedOut is a client on node from giving up on its call to to.
func (w *world) clientTimedOut(from, to *node, pay Payment) {
	w.emit(Event{Node: from.name, Kind: KindTimeout, Payment: pay.ID, Peer: to.name,
		Note: w.note3("no answer within ", msToString(w.clientTimeoutUs()), ": outcome unknown")})
}

// clientAnswered is a client on node from hearing to's answer a.
func (w *world) clientAnswered(from, to *node, pay Payment, a answer) {
	w.emit(Event{Node: from.name, Kind: KindResponse, Payment: pay.ID, Peer: to.name, Note: w.note3(to.name, " answered: ", a.text)})
}

// answer is what a caller hears back: the words, and the handler's error.
type answer struct {
	text string
	err  error
}
