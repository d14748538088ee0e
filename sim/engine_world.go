package sim

import "iter"

// The scheduler. Virtual time only moves when the next item is taken off the
// queue; items are ordered by (time, sequence), so two items due at the same
// instant run in the order they were scheduled, on every machine.

type item struct {
	// fn runs the item; when it is nil the item delivers arrival if it has
	// one, or else resumes process p if p is still waiting on token,
	// handing it v. Most items are such deliveries and resumes, and keeping
	// them closure-free saves an allocation each.
	fn      func()
	arrival arrival
	p       *proc
	token   int
	v       any
	// background items (an idle relay's next poll) do not keep a run
	// alive: when only they are left and none has run since the last real
	// work, the run is quiet.
	background bool
	epoch      uint64
}

// queue is the scheduler's priority queue: a 4-ary min-heap on (at, seq).
// A run pushes and pops dozens of items per payment, so it is written out
// rather than built on container/heap: entries carry their keys by value,
// comparing two never follows a pointer or calls through an interface, and
// four children per node make the heap half as deep as a binary one.
type queue []queued

type queued struct {
	at  int64 // virtual µs
	seq uint64
	it  *item
}

func (a queued) before(b queued) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (q *queue) push(e queued) {
	h := append(*q, e)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 4
		if !e.before(h[parent]) {
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = e
	*q = h
}

// pop removes the first entry; the queue must not be empty.
func (q *queue) pop() {
	h := *q
	n := len(h) - 1
	last := h[n]
	h[n] = queued{}
	h = h[:n]
	if n > 0 {
		i := 0
		for {
			first := 4*i + 1
			if first >= n {
				break
			}
			least := first
			for c := first + 1; c < min(first+4, n); c++ {
				if h[c].before(h[least]) {
					least = c
				}
			}
			if !h[least].before(last) {
				break
			}
			h[i] = h[least]
			i = least
		}
		h[i] = last
	}
	*q = h
}

// world is one run in progress.
type world struct {
	sc     Scenario
	design *Design
	now    int64
	seq    uint64
	queue  queue
	free   []*item // recycled items
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

	counters []counters // per payment, from 0
	injected [numFaults]int
	msgSeq   int

	client, service, relay, bus, ledger *node
	serviceDB, busDB, ledgerDB          *database
	broker                              *broker
	payments                            []paymentTrack
	published, delivered                int
	// savedMoves is what a payment's first saved commit moves.
	savedMoves []string

	// nodes and dbs list every node and database of this run's topology,
	// in the order they are stopped and closed.
	nodes []*node
	dbs   []*database
	// Counters and state of the newer families; nil or zero for the others.
	retries    int
	declined   int
	rejected   int
	replica    *database
	stale      *staleState
	regions    [2]*region
	partitions *partitionPlan
	applied    int
	ignored    int
}

// paymentTrack is what the checker needs to point at evidence: ids of the
// events that committed a payment, hurt it after that, and posted it.
type paymentTrack struct {
	committed       int // commit event that saved it
	faultAfterSaved int // first fault event about it after that commit
	effects         []int
	// The later families: the read a decision was made on, what it saw,
	// and the commit that last wrote the payment's status downstream.
	readEvent   int
	seen        int
	stale       bool
	statusWrite int
	lastSent    int // newest status version the broker stored
}

func (w *world) schedule(at int64, background bool, fn func()) {
	w.push(at, background).fn = fn
}

// scheduleResume queues resuming p with v at virtual time at, if p is then
// still waiting on token.
func (w *world) scheduleResume(at int64, background bool, p *proc, token int, v any) {
	it := w.push(at, background)
	it.p, it.token, it.v = p, token, v
}

// push queues a blank item; items are recycled through w.free, since a run
// schedules dozens per payment.
func (w *world) push(at int64, background bool) *item {
	if at < w.now {
		at = w.now
	}
	w.seq++
	if !background {
		w.foreground++
	}
	var it *item
	if k := len(w.free); k > 0 {
		it = w.free[k-1]
		w.free = w.free[:k-1]
	} else {
		it = new(item)
	}
	it.background, it.epoch = background, w.fgEpoch
	w.queue.push(queued{at, w.seq, it})
	return it
}

// loop runs items until the run is quiet, passes its deadline or reaches the
// event limit.
func (w *world) loop() {
	deadline := int64(w.sc.Deadline) / 1000
	for len(w.queue) > 0 {
		at, next := w.queue[0].at, w.queue[0].it
		if w.foreground == 0 && next.epoch == w.fgEpoch {
			w.stopped = "quiet"
			return
		}
		if at > deadline {
			w.now = deadline
			w.stopped = "deadline"
			return
		}
		if w.events >= MaxEvents {
			w.stopped = "event-limit"
			return
		}
		w.queue.pop()
		w.now = at
		if !next.background {
			w.foreground--
			w.fgEpoch++
		}
		switch {
		case next.fn != nil:
			next.fn()
		case next.arrival.to != nil:
			w.arrive(next.arrival)
		default:
			w.resume(next.p, next.token, next.v)
		}
		*next = item{}
		w.free = append(w.free, next)
	}
	w.stopped = "quiet"
}

// emit numbers an event, updates what the checker tracks, and hands it to
// the sink. It returns the event's id.
func (w *world) emit(ev Event) int {
	if w.finished {
		return 0
	}
	w.events++
	ev.ID = w.events
	ev.AtUs = w.now
	if ev.Fault != "" && ev.Payment > 0 && ev.Payment < len(w.payments) {
		t := &w.payments[ev.Payment]
		if t.committed > 0 && t.faultAfterSaved == 0 {
			t.faultAfterSaved = ev.ID
		}
	}
	if w.sink != nil {
		// One reusable event, so that emitting allocates nothing.
		w.current = ev
		w.sink(&w.current)
	}
	return ev.ID
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

// node is a simulated process host that can crash and restart.
type node struct {
	w          *world
	name       string
	crashFault Fault
	canCrash   bool
	down       bool
	procs      []*proc
	ended      int // processes in procs that have finished
	// onRestart runs after a restart (the relay starts polling again).
	onRestart func()
	// linked marks the two ends of the link between regions, which
	// net.partition breaks.
	linked bool
}

// restartDelayUs is how long a crashed process stays down.
const restartDelayUs = 10_000

// crashSignal unwinds a crashed process's coroutine.
type crashSignal struct{}

// proc is one simulated process: straight-line design code that yields to
// the scheduler at every simulator API call. Only one proc runs at a time.
type proc struct {
	w       *world
	node    *node
	payment int // the payment this process is working on, for keyed faults
	body    func(p *proc)
	wk      *worker
	done    bool
	killed  bool
	token   int
	woke    any
	tx      *Tx
	// first is the process's first transaction, in place: most processes
	// run exactly one, and a run starts thousands.
	first    Tx
	hasBegun bool
}

// newTx returns room for a new transaction of p.
func (p *proc) newTx() *Tx {
	if !p.hasBegun {
		p.hasBegun = true
		return &p.first
	}
	return new(Tx)
}

// worker is a coroutine that runs one process after another. Reusing
// workers keeps their grown stacks: SQLite's calls run deep, and growing a
// fresh coroutine stack for every request cost a fifth of a whole run.
type worker struct {
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool
	p     *proc
}

func (w *world) newWorker() *worker {
	wk := &worker{}
	wk.next, wk.stop = iter.Pull(func(yield func(struct{}) bool) {
		wk.yield = yield
		for {
			w.runProc(wk.p)
			wk.p = nil
			w.idle = append(w.idle, wk)
			if !yield(struct{}{}) {
				return
			}
		}
	})
	w.workers = append(w.workers, wk)
	return wk
}

// runProc runs p's body to its end, or until it crashes.
func (w *world) runProc(p *proc) {
	defer func() {
		p.done = true
		p.node.ended++
		w.releaseHeld(p)
		if r := recover(); r != nil {
			if _, ok := r.(crashSignal); !ok {
				panic(r)
			}
		}
	}()
	p.body(p)
}

// spawn starts body as a new process on n and runs it up to its first wait.
func (w *world) spawn(n *node, payment int, body func(p *proc)) *proc {
	p := &proc{w: w, node: n, payment: payment, body: body}
	var wk *worker
	if k := len(w.idle); k > 0 {
		wk = w.idle[k-1]
		w.idle = w.idle[:k-1]
	} else {
		wk = w.newWorker()
	}
	wk.p, p.wk = p, wk
	n.procs = append(n.procs, p)
	// p starts inside its caller's step, which goes on after p's first
	// wait: p may not run ahead of it (see sleepAs).
	resumed := w.resumed
	w.resumed = nil
	wk.next()
	w.resumed = resumed
	n.reap()
	return p
}

// releaseHeld gives back any database a finished process still holds: a
// process can be handed a database and then be killed before it runs.
func (w *world) releaseHeld(p *proc) {
	if p.tx != nil {
		p.tx.abort("")
	}
	for _, d := range w.dbs {
		if d.holder == p {
			d.release()
		}
	}
}

// reap forgets processes that have finished. It runs after every step, so
// it returns at once when none has.
func (n *node) reap() {
	if n.ended == 0 {
		return
	}
	n.ended = 0
	live := n.procs[:0]
	for _, p := range n.procs {
		if !p.done {
			live = append(live, p)
		}
	}
	for i := len(live); i < len(n.procs); i++ {
		n.procs[i] = nil
	}
	n.procs = live
}

// park suspends p until wake or the scheduler resumes it; a process that was
// killed meanwhile unwinds instead of returning.
func (p *proc) park() any {
	if !p.wk.yield(struct{}{}) || p.killed {
		panic(crashSignal{})
	}
	return p.woke
}

// waitFor returns a token for the wait p is about to start; wake with a stale
// token does nothing, so a reply that arrives after a timeout is ignored.
func (p *proc) waitFor() int {
	p.token++
	return p.token
}

// wake resumes p with v, at the current virtual time, if p is still waiting
// on token.
func (w *world) wake(p *proc, token int, v any, background bool) {
	w.scheduleResume(w.now, background, p, token, v)
}

func (w *world) resume(p *proc, token int, v any) {
	if p.done || p.token != token {
		return
	}
	p.token++
	p.woke = v
	w.resumed = p
	p.wk.next()
	w.resumed = nil
	p.node.reap()
}

// sleep advances p's virtual time by d µs.
func (p *proc) sleep(d int64) {
	p.sleepAs(d, false)
}

func (p *proc) sleepAs(d int64, background bool) {
	w := p.w
	at := max(w.now+d, w.now)
	if !background && w.resumed == p && w.events < MaxEvents && at <= int64(w.sc.Deadline)/1000 &&
		(len(w.queue) == 0 || w.queue[0].at > at) {
		// Nothing is due before p wakes, and the loop resumed p: the
		// loop's next step would be to resume p again. Take that step
		// here, with the loop's bookkeeping, and save the round trip
		// through the queue and two coroutine switches.
		w.seq++
		w.fgEpoch++
		w.now = at
		p.token += 2 // the wait's and the resume's
		p.woke = nil
		return
	}
	w.scheduleResume(at, background, p, p.waitFor(), nil)
	p.park()
}

// step is called at the start of every simulator API call: it is where a
// crash fault can stop the process.
func (p *proc) step() {
	if p.killed {
		panic(crashSignal{})
	}
	n := p.node
	if n.canCrash && p.w.roll(n.crashFault, 0, p.payment) {
		p.w.crash(n, p)
		panic(crashSignal{})
	}
}

// crash takes node n down: every process on it dies, every open transaction
// is rolled back the way SQLite does when its connection goes away, and the
// node restarts after restartDelayUs.
func (w *world) crash(n *node, by *proc) {
	n.down = true
	w.emit(Event{Node: n.name, Kind: KindCrash, Payment: by.payment, Fault: n.crashFault.String(),
		Note: n.name + " crashed"})
	for _, p := range n.procs {
		if p.tx != nil {
			p.tx.abort("rolled back: " + n.name + " crashed mid-transaction")
		}
		if p != by && !p.done {
			p.killed = true
			t := p.waitFor()
			w.schedule(w.now, false, func() {
				if !p.done {
					p.token = t
					p.wk.next()
				}
			})
		}
	}
	w.schedule(w.now+restartDelayUs, false, func() {
		n.down = false
		n.reap()
		w.emit(Event{Node: n.name, Kind: KindRestart, Note: n.name + " restarted"})
		if n.onRestart != nil {
			n.onRestart()
		}
	})
}

// stopAll ends every process still running when the run stops, and every
// worker coroutine with it.
func (w *world) stopAll() {
	w.finished = true
	for _, n := range w.nodes {
		for _, p := range n.procs {
			p.killed = true
		}
		n.procs = nil
	}
	for _, wk := range w.workers {
		wk.stop()
	}
}
