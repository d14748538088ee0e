package sim

import (
	"fmt"
	"strconv"
)

// channel names one kind of message between two nodes. Network faults are
// keyed by (channel, payment, n-th message), so "the first response to
// payment 17 is lost" is the same decision in every design. A channel's
// number is part of that key, so it is written down where the channel is
// declared, never counted out: a new channel or family moves no other
// channel's faults.
type channel uint32

// maxChannels bounds channel numbers: a payment's message counters are an
// array this long.
const maxChannels = 16

// The channels of the roles every family uses. A family declares its own
// in its family_*.go file, with a number no other channel has.
var (
	chRequest     = newChannel(1, "charge request") // client → service: charge this payment
	chResponse    = newChannel(2, "response")       // service → client: the answer
	chPublish     = newChannel(3, "publish")        // publisher → bus
	chPublishAck  = newChannel(4, "publish ack")    // bus → publisher
	chDeliver     = newChannel(5, "delivery")       // bus → consumer
	chConsumerAck = newChannel(6, "consumer ack")   // consumer → bus
)

// channelNotes names each channel in event notes; the others are the notes
// of its arrivals, duplicates and drops, built once rather than per
// message.
var channelNotes, arrivedNotes, duplicateNotes, lostNotes [maxChannels]string

// newChannel declares channel number id, which events call note. It
// panics if id is out of range or already declared: two channels sharing
// a number would share their faults.
func newChannel(id channel, note string) channel {
	if id == 0 || id >= maxChannels || note == "" || channelNotes[id] != "" {
		panic(fmt.Sprintf("sim: channel %d (%q): want a number from 1 to %d that no other channel has, and a note", id, note, maxChannels-1))
	}
	channelNotes[id] = note
	arrivedNotes[id] = note + " arrived"
	duplicateNotes[id] = note + " arrived again (duplicated by the network)"
	lostNotes[id] = note + " lost in the network"
	return id
}

// delayUs is the keyed one-way delay of a message: uniform over
// latency ± jitter, never negative.
func (w *world) delayUs(ch channel, payment int, n uint32, copy uint64) int64 {
	lat := int64(w.sc.Latency) / 1000
	jit := int64(w.sc.Jitter) / 1000
	if jit == 0 {
		return lat
	}
	u := uniform(w.sc.Seed, tagDelay, uint64(ch)<<32|uint64(n), uint64(payment), copy)
	d := lat + int64((2*u-1)*float64(jit))
	return max(d, 0)
}

// netFault decides a keyed network fault for message n of (ch, payment).
func (w *world) netFault(f Fault, ch channel, payment int, n uint32) bool {
	p := w.sc.Faults[f]
	if p == 0 || uniform(w.sc.Seed, uint64(f)+1, uint64(ch)<<32|uint64(n), uint64(payment), 0) >= p {
		return false
	}
	w.injected[f]++
	return true
}

// send puts a message on the wire. It emits the send (with kind, usually
// KindSend), then later a delivery, a drop, or a delivery and a duplicate.
// arrive runs on each delivery to a node that is up.
func (w *world) send(from, to *node, ch channel, payment int, kind, note string, arrive func()) {
	w.sendMoving(from, to, ch, payment, kind, note, nil, arrive)
}

// sendMoving is send whose send event moves the report keys moves.
func (w *world) sendMoving(from, to *node, ch channel, payment int, kind, note string, moves []string, arrive func()) {
	if from.down {
		// A crash takes the whole node: whatever it had scheduled to send
		// (a retry timer, say) died with it.
		return
	}
	c := &w.countersOf(payment).msgs[ch]
	n := *c
	*c++
	w.msgSeq++
	msg := w.msgSeq
	sent := w.emit(Event{Node: from.name, Kind: kind, Payment: payment, Msg: msg, Peer: to.name, Note: note, Moves: moves})
	at := w.now + w.delayUs(ch, payment, n, 0)
	if w.cut != nil && w.cut(from, to, at) {
		w.schedule(at, false, func() {
			w.emit(Event{Node: to.name, Kind: KindDrop, Payment: payment, Msg: msg, Peer: from.name, Cause: sent,
				Fault: NetPartition.String(), Note: w.note2(channelNotes[ch], " lost: the link between the regions is broken")})
		})
		return
	}
	if w.netFault(NetDrop, ch, payment, n) {
		w.schedule(at, false, func() {
			w.emit(Event{Node: to.name, Kind: KindDrop, Payment: payment, Msg: msg, Peer: from.name, Cause: sent,
				Fault: NetDrop.String(), Note: lostNotes[ch]})
		})
		return
	}
	a := arrival{from: from, to: to, ch: ch, payment: payment, msg: msg, sent: sent, arrive: arrive}
	w.push(at, false).arrival = a
	if w.netFault(NetDup, ch, payment, n) {
		a.dup = true
		w.push(w.now+w.delayUs(ch, payment, n, 1), false).arrival = a
	}
}

// arrival is a message on its way to a node. The queue item due when it
// lands holds it by value (item.arrival), so that sending a message, which
// a run does thousands of times, allocates no closure.
type arrival struct {
	from, to           *node
	ch                 channel
	dup                bool // the copy net.dup added
	payment, msg, sent int  // sent is the id of the send event
	arrive             func()
}

// arrive delivers a, unless its receiver is down.
func (w *world) arrive(a arrival) {
	kind, fault, note := KindDeliver, "", arrivedNotes[a.ch]
	if a.dup {
		kind, fault, note = KindDuplicate, NetDup.String(), duplicateNotes[a.ch]
	}
	if a.to.down {
		w.emit(Event{Node: a.to.name, Kind: KindDown, Payment: a.payment, Msg: a.msg, Peer: a.from.name, Cause: a.sent, Fault: fault,
			Note: channelNotes[a.ch] + " reached " + a.to.name + " while it was down"})
		return
	}
	// A delivery that reaches the consumer is counted as it arrives.
	var moves []string
	if a.ch == chDeliver {
		moves = movesDelivered
	}
	w.emit(Event{Node: a.to.name, Kind: kind, Payment: a.payment, Msg: a.msg, Peer: a.from.name, Cause: a.sent, Fault: fault, Note: note, Moves: moves})
	a.arrive()
}

func msToString(us int64) string {
	if us%1000 == 0 {
		return strconv.FormatInt(us/1000, 10) + "ms"
	}
	return strconv.FormatFloat(float64(us)/1000, 'f', -1, 64) + "ms"
}

// callPeer sends a call about p's payment from p's node to peer on call,
// and parks p until the answer is back on answer: serve runs at the peer
// when the call arrives (once per copy the network delivers) and gives
// the answer. With no answer within a round trip and 20ms it shows a
// timeout ("no answer from the <who> within …: <note><unknown>") and returns
// false: the call may or may not have had its effect.
func callPeer[T any](p *proc, peer *node, call, answer channel, who, note, unknown string, serve func() T) (T, bool) {
	p.step()
	w := p.w
	token := p.waitFor()
	w.send(p.node, peer, call, p.payment, KindSend, note, func() {
		v := serve()
		w.send(peer, p.node, answer, p.payment, KindSend, who+" answered: "+note, func() {
			w.wake(p, token, []T{v}, false)
		})
	})
	timeout := w.roundTripUs() + 20_000
	w.scheduleResume(w.now+timeout, false, p, token, nil)
	v := p.park()
	if v == nil {
		w.emit(Event{Node: p.node.name, Kind: KindTimeout, Payment: p.payment, Peer: peer.name,
			Note: w.note3("no answer from the "+who+" within ", msToString(timeout), ": "+note+unknown)})
		var zero T
		return zero, false
	}
	return v.([]T)[0], true
}
