package sim

// What a cut run still had on its way. A run stopped by its deadline, its
// event budget or its context did not settle: payments may be committed
// whose ledger entry is still travelling, and a status may be on its way
// that would have replaced an older one. The checker counts such work as
// in flight (Report.InFlight), never as a violation, and claims neither
// convergence nor divergence for the run.

// brokerBit is the bit of workLeft that says the broker still holds a
// delivery about the payment that no consumer has acknowledged: it will
// deliver it again until one does.
const brokerBit = 1 << 63

// elsewhereBit is the bit of workLeft that says the family knows of work
// about the payment the engine cannot see: an outbox row no relay has
// published yet.
const elsewhereBit = 1 << 62

// noteWorkLeft records, when a run is cut, which payments still had work
// under way: per payment, a bit for each node (by its place in w.nodes)
// running a process about it or with a message about it on its way there,
// and brokerBit. It runs before stopAll, which forgets the processes.
func (w *world) noteWorkLeft() {
	w.workLeft = make([]uint64, w.sc.Payments+1)
	index := func(n *node) uint64 {
		for i, m := range w.nodes {
			if m == n {
				return 1 << i
			}
		}
		return 0
	}
	for _, n := range w.nodes {
		bit := index(n)
		for _, p := range n.procs {
			if !p.done && !p.killed && w.inWorkload(p.payment) {
				w.workLeft[p.payment] |= bit
			}
		}
	}
	for _, q := range w.queue {
		if a := q.it.arrival; a.to != nil && w.inWorkload(a.payment) {
			w.workLeft[a.payment] |= index(a.to)
		}
	}
	for id := 1; id < len(w.workLeft) && id < len(w.counters); id++ {
		if w.counters[id].unacked > 0 {
			w.workLeft[id] |= brokerBit
		}
	}
}

func (w *world) inWorkload(payment int) bool { return payment > 0 && payment <= w.sc.Payments }

// busyOn says whether a cut run still had work about payment on any of
// nodes, anywhere the family marked with stillComing, or, with broker, a
// delivery of it the broker has not had
// acknowledged. It is false for every payment of a run that settled.
func (w *world) busyOn(payment int, broker bool, nodes ...*node) bool {
	if w.workLeft == nil || !w.inWorkload(payment) {
		return false
	}
	left := w.workLeft[payment]
	if left&elsewhereBit != 0 || broker && left&brokerBit != 0 {
		return true
	}
	for i, n := range w.nodes {
		if left&(1<<i) != 0 {
			for _, m := range nodes {
				if m == n {
					return true
				}
			}
		}
	}
	return false
}

// stillComing marks payment as having work left in a cut run that the
// engine cannot see: an outbox row no relay has published yet.
func (w *world) stillComing(payment int) {
	if w.workLeft != nil && w.inWorkload(payment) {
		w.workLeft[payment] |= elsewhereBit
	}
}

// paymentsInFlight counts the payments with work left.
func (w *world) paymentsInFlight() int {
	n := 0
	for _, left := range w.workLeft {
		if left != 0 {
			n++
		}
	}
	return n
}
