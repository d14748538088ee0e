package sim

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

// cancelEvery is how many steps the loop takes between two looks at its
// context: often enough that a cancelled run stops within a millisecond
// or so, rarely enough that the look costs nothing measurable.
const cancelEvery = 1024

// tick counts one step of the run and says whether this step is one on
// which the loop looks at its context.
func (w *world) tick() bool {
	w.ticks++
	return w.ticks%cancelEvery == 0
}

// loop runs items until the run is quiet, passes its deadline, spends its
// event budget or is cancelled.
func (w *world) loop() {
	deadline := int64(w.sc.Deadline) / 1000
	for len(w.queue) > 0 {
		if w.finished { // the event budget ran out during the last step
			return
		}
		if w.tick() && w.ctx.Err() != nil {
			w.stopped = "cancelled"
			return
		}
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
	if !w.finished {
		w.stopped = "quiet"
	}
}
