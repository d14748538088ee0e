package sim

import "iter"

// Processes: design code runs as simulated processes on nodes that can
// crash. Each process is a coroutine that yields to the scheduler at every
// simulator call; only one runs at a time.

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
	// committed says that p's last step committed a transaction: its next
	// step is the moment right after the commit.
	committed bool
	// published lists the payments p has published since its last
	// commit (see crashAt).
	published []int
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
// it returns at once unless at least half of n.procs has finished: each
// pass then costs no more than the processes it forgets. Forgetting each
// as it ended made a node with many waiting processes (consumers queued on
// the ledger's single writer) cost a pass over all of them per step, and a
// run quadratic in its backlog. Until reaped, a finished process stays in
// n.procs with done set, and everything that walks n.procs skips it.
func (n *node) reap() {
	if n.ended == 0 || 2*n.ended < len(n.procs) {
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
	if !background && w.resumed == p && !w.finished && at <= int64(w.sc.Deadline)/1000 &&
		(len(w.queue) == 0 || w.queue[0].at > at) && (w.ticks+1)%cancelEvery != 0 {
		// Nothing is due before p wakes, and the loop resumed p: the
		// loop's next step would be to resume p again. Take that step
		// here, with the loop's bookkeeping, and save the round trip
		// through the queue and two coroutine switches. A step on which
		// the loop looks at its context goes the long way, so that a
		// process that only sleeps still gets cancelled.
		w.ticks++
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

// step is called at the start of every simulator API call. A process
// killed by a crash unwinds here; and the first step after a successful
// commit is the moment "right after the commit", where a crash fault may
// strike.
func (p *proc) step() {
	if p.killed {
		panic(crashSignal{})
	}
	if p.committed {
		p.committed = false
		p.crashAt(momentAfterCommit)
	}
}

// stepAt is a step at business moment m, where a crash fault may strike.
func (p *proc) stepAt(m moment) {
	p.step()
	p.crashAt(m)
}

// crashAt crashes p's node if its crash fault strikes p's payment at m.
// Before a commit that follows publishes (a relay marking a batch sent),
// the moment is the batch's: one decision, keyed on the batch's first
// published payment. Rolling once per row instead would make a batch of
// 32 rows under crash.relay=0.3 get through on one try in 90,000, and the
// relay would publish the same rows without end.
func (p *proc) crashAt(m moment) {
	n := p.node
	if !n.canCrash {
		return
	}
	payments := []int{p.payment}
	if m == momentBeforeCommit && len(p.published) > 0 {
		payments = p.published[:1]
	}
	for _, pay := range payments {
		if p.w.rollCrash(n.crashFault, m, pay) {
			p.published = p.published[:0]
			p.w.crash(n, p, pay, m)
			panic(crashSignal{})
		}
	}
	if m == momentBeforeCommit {
		p.published = p.published[:0]
	}
}

// crash takes node n down, by's step striking at moment m of payment's
// story: every process on it dies, every open transaction is rolled back
// the way SQLite does when its connection goes away, nothing on it runs
// or sends until it restarts restartDelayUs later, and messages that
// reach it meanwhile are lost.
func (w *world) crash(n *node, by *proc, payment int, m moment) {
	n.down = true
	crash := Event{Node: n.name, Kind: KindCrash, Payment: payment, Fault: n.crashFault.String(),
		Note: w.note3(n.name+" crashed ", m.String(), "")}
	crash.ID = w.emit(crash)
	emitted := w.current // the crash as the sink saw it; the rollbacks below emit events of their own
	for _, p := range n.procs {
		if w.onEvent != nil && crash.ID > 0 && p != by && !p.done && p.payment != payment {
			// The crash is about this payment too: its process dies here.
			w.current = emitted // so that a family can keep it (see keep)
			w.observed = crash
			w.observed.Payment = p.payment
			w.onEvent(&w.observed)
		}
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
