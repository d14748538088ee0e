package sim

import "context"

// world is one run in progress: the clock and the queue, the processes and
// the nodes they run on, the network, the databases and the bus. It knows
// no design family: a family builds its topology from these parts (see
// family) and keeps its own state.
type world struct {
	sc    Scenario
	now   int64
	seq   uint64
	queue queue
	free  []*item // recycled items
	// foreground counts queued items that are not background; fgEpoch
	// counts foreground items run so far.
	foreground int
	fgEpoch    uint64

	sink func(*Event)
	// resumed is the process the loop resumed and that runs now; nil
	// when a process started by anything else runs.
	resumed  *proc
	workers  []*worker // every coroutine, to stop them all at the end
	idle     []*worker // coroutines free to run the next process
	current  Event
	events   int
	stopped  string
	finished bool // the run is over: stopping processes emits nothing

	// maxEvents is the run's event budget: the event that would exceed it
	// is not emitted, and the run stops with "event-limit".
	maxEvents int
	// ctx cancels the run; the loop looks at it once every cancelEvery
	// steps, counted in ticks.
	ctx   context.Context
	ticks uint64

	counters []counters // per payment, from 0
	injected [numFaults]int
	msgSeq   int
	// moved counts, per report key, what the events so far moved (see
	// Event.Moves): the counters a family reports as they happen.
	moved map[string]int
	// workLeft is nil for a run that settled; for a cut run it says, per
	// payment, where work about it was still under way (see noteWorkLeft).
	workLeft []uint64
	// kept holds the events families keep as possible evidence (see
	// keep); nil unless the run keeps evidence.
	kept map[int]Event
	// requested is how many of the workload's payments have been sent.
	requested int
	// answered marks, per payment, that an event has already counted the
	// payment as accepted, declined or rejected: a payment is counted
	// under one of them at most once, however many copies of its request
	// the network delivered (see serveRequest).
	answered []bool

	// nodes and dbs list every node and database of this run's topology,
	// in the order they are stopped and closed.
	nodes []*node
	dbs   []*database
	// bus is the run's message broker; nil in a topology without one.
	bus *broker
	// onEvent, if set, sees every event as it is emitted, with its id set,
	// so a family can follow what happened to each payment (the situations
	// its checker reports, the fault that caused a violation). A crash is
	// shown to it once more for each other payment whose process the crash
	// killed, with that payment (see crash). The event is only valid
	// during the call.
	onEvent  func(ev *Event)
	observed Event
	// cut, if set, says whether a message from one node to another, sent
	// now and due at at, is lost to a broken link.
	cut func(from, to *node, at int64) bool
}

func newWorld(ctx context.Context, sc Scenario, sink func(*Event), maxEvents int) *world {
	return &world{sc: sc, sink: sink, counters: make([]counters, sc.Payments+1), moved: map[string]int{},
		answered: make([]bool, sc.Payments+1),
		ctx:      ctx, maxEvents: maxEvents,
		// The first step looks at ctx: a run cancelled before it starts
		// does nothing.
		ticks: cancelEvery - 1}
}

// emit numbers an event, updates what the checker tracks, and hands it to
// the sink. It returns the event's id.
func (w *world) emit(ev Event) int {
	if w.finished {
		return 0
	}
	if w.events >= w.maxEvents {
		// The budget is spent: this event and every later one is not
		// emitted, and the loop stops after the step in progress.
		w.finished = true
		w.stopped = "event-limit"
		return 0
	}
	w.events++
	ev.ID = w.events
	ev.AtUs = w.now
	for _, k := range ev.Moves {
		w.moved[k]++
	}
	if len(ev.Moves) > 0 && ev.Payment > 0 && ev.Payment < len(w.answered) && countsAnAnswer(ev.Moves) {
		w.answered[ev.Payment] = true
	}
	if w.sink != nil {
		// One reusable event, so that emitting allocates nothing; set
		// before onEvent, which may keep it (see keep).
		w.current = ev
	}
	if w.onEvent != nil {
		w.observed = ev
		w.onEvent(&w.observed)
	}
	if w.sink != nil {
		w.sink(&w.current)
	}
	return ev.ID
}

// keep copies event id, if it is the one being emitted, into the run's
// kept evidence: a family keeps each event its checker may later mark, as
// it happens, so that the first event of each violation is at hand when
// the run ends without running it again (Options.KeepEvidence). It does
// nothing in a run that keeps no evidence.
func (w *world) keep(id int) {
	if w.kept != nil && id > 0 && w.current.ID == id {
		w.kept[id] = w.current
	}
}

// forget drops a kept event that can no longer be evidence, so that what
// a run keeps grows with its work in flight and its violations, not with
// its events. An event that may be evidence for more than one payment (a
// crash that stopped several) is never forgotten.
func (w *world) forget(id int) {
	if w.kept != nil {
		delete(w.kept, id)
	}
}

// note2 and note3 join the parts of an event's note, only when someone
// reads the events: a run without a sink builds no notes at all.
func (w *world) note2(a, b string) string {
	if w.sink == nil {
		return ""
	}
	return a + b
}

func (w *world) note3(a, b, c string) string {
	if w.sink == nil {
		return ""
	}
	return a + b + c
}

// countsAnAnswer says whether moves counts a payment as accepted, declined
// or rejected. The families share these three slices, so comparing the
// first element's address is enough and costs nothing per event.
func countsAnAnswer(moves []string) bool {
	m := &moves[0]
	return m == &movesAccepted[0] || m == &movesDeclined[0] || m == &movesRejected[0]
}

// alreadyAnswered says whether an event already counted payment as
// accepted, declined or rejected.
func (w *world) alreadyAnswered(payment int) bool {
	return payment > 0 && payment < len(w.answered) && w.answered[payment]
}
