package web

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"partialtruth/sim"
)

// recordings simulates scenarios for the stream and remembers the most
// recent ones. A run is a pure function of its scenario, so a room of
// viewers opening the same link shares one simulation and one copy of its
// events; concurrent requests for one scenario wait for the same flight.
// Simulations run in the background once admission lets them (a few at a
// time, fairly across clients, see admission.go), so a viewer who goes
// away stops waiting at once and a burst of runs cannot starve the server.
//
// One memory budget covers every recording the server holds: those
// cached for later viewers, those open sessions hold (pinned: hold and
// release), and those being recorded, charged as they grow. A recording
// that would not fit makes room by forgetting unpinned ones, least
// recently used first; when the pinned ones fill the budget, the run is
// refused (errNoMemory) rather than the server's memory grown. An eighth
// of the budget is for small runs alone (see runKind): viewers who pin
// big runs cannot leave no room for a playground's few hundred payments.
type recordings struct {
	budget int // bytes of recordings held, recorded or being recorded
	adm    *admission
	// simulate is recordWithin; tests substitute runs they control.
	simulate func(ctx context.Context, sc sim.Scenario, grow func(held int) error) (*recording, error)
	wg       sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	used    int                      // bytes charged: cached recordings and flights' growth
	lru     *list.List               // of *cached, most recent first
	byQuery map[string]*list.Element // the entry a new viewer of a scenario gets
	byRec   map[*recording]*list.Element
	flights map[string]*flight
}

type cached struct {
	query string
	rec   *recording
	pins  int // sessions holding rec; a pinned recording is never evicted
}

type flight struct {
	done chan struct{}
	rec  *recording
	err  error
	// cancel stops the simulation; nil for a flight taken from the cache.
	cancel context.CancelCauseFunc
	// waiters counts the get calls waiting for it, under recordings.mu.
	waiters int
	// charged is what the flight's growth has been charged so far, under
	// recordings.mu.
	charged int
	// small is a small run's flight, which may use the whole budget.
	small bool
}

// errServerClosing refuses work once the server is shutting down.
var errServerClosing = errors.New("the server is shutting down")

func newRecordings(budget int) *recordings {
	return &recordings{
		budget: budget, adm: newAdmission(), simulate: recordWithin,
		lru: list.New(), byQuery: map[string]*list.Element{}, byRec: map[*recording]*list.Element{}, flights: map[string]*flight{},
	}
}

// get returns the recording of each scenario, simulating those no one has
// yet, side by side. It returns early with ctx's cause if ctx ends first;
// a simulation that then has no one else waiting for it is cancelled at
// once (and not kept), while one that another viewer still waits for
// finishes and is kept. New simulations are charged to ctx's client
// (withClient) for admission.
func (c *recordings) get(ctx context.Context, scs ...sim.Scenario) ([]*recording, error) {
	flights := make([]*flight, 0, len(scs))
	defer func() {
		for _, f := range flights {
			c.leave(f)
		}
	}()
	for _, sc := range scs {
		f, err := c.start(clientOf(ctx), sc)
		if err != nil {
			return nil, err
		}
		flights = append(flights, f)
	}
	out := make([]*recording, len(scs))
	for i, f := range flights {
		select {
		case <-f.done:
			if f.err != nil {
				return nil, f.err
			}
			out[i] = f.rec
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	return out, nil
}

// start returns the flight that has or will have sc's recording, with the
// caller counted as one of its waiters: a landed one from the cache, the
// one already under way, or a new one, for which client takes a ticket
// of admission (a busyError when it may not). The caller calls leave
// when it stops waiting.
func (c *recordings) start(client string, sc sim.Scenario) (*flight, error) {
	key := sc.Query()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errServerClosing
	}
	if el, ok := c.byQuery[key]; ok {
		c.lru.MoveToFront(el)
		return &flight{done: landed, rec: el.Value.(*cached).rec}, nil
	}
	f, ok := c.flights[key]
	if !ok {
		t, err := c.adm.enter(client, runKind(sc))
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancelCause(context.Background())
		f = &flight{done: make(chan struct{}), cancel: cancel, small: runKind(sc) == jobSmallRun}
		c.flights[key] = f
		c.wg.Add(1)
		go c.fly(ctx, key, sc, f, t)
	}
	f.waiters++
	return f, nil
}

// leave says one waiter of f no longer waits. When none is left and f has
// not landed, its simulation is cancelled and f is forgotten, so the next
// viewer of the same scenario starts afresh rather than joining a flight
// that is being abandoned.
func (c *recordings) leave(f *flight) {
	if f.cancel == nil { // a landed flight from the cache
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	select {
	case <-f.done:
		return
	default:
	}
	f.cancel(errAbandoned)
	for key, g := range c.flights {
		if g == f {
			delete(c.flights, key)
		}
	}
}

// errAbandoned is the cause of a simulation cancelled because no one
// waits for it any more.
var errAbandoned = errors.New("no one waits for this run any more")

// landed is the done channel of a flight that was over before it began.
var landed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// fly simulates sc for f once admission lets t run, unless f is cancelled
// first; a cancelled simulation stops within a millisecond or so and is
// not kept.
func (c *recordings) fly(ctx context.Context, key string, sc sim.Scenario, f *flight, t *ticket) {
	defer c.wg.Done()
	if f.err = c.adm.wait(ctx, t); f.err == nil {
		f.rec, f.err = c.simulate(ctx, sc, func(held int) error { return c.grow(f, held) })
		c.adm.done(t)
	}
	f.cancel(nil) // release the context's resources
	c.mu.Lock()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	c.used -= f.charged
	if f.err == nil {
		c.keepLocked(f.rec)
	}
	c.mu.Unlock()
	close(f.done)
}

// grow charges f for holding held bytes as it records; when the budget
// has no room even after forgetting every unpinned recording, it refuses
// with errNoMemory, which stops the simulation.
func (c *recordings) grow(f *flight, held int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	want := held
	if want <= f.charged {
		return nil
	}
	limit := c.budget
	if !f.small {
		limit -= c.budget / 8
	}
	if !c.makeRoomLocked(want-f.charged, limit) {
		return errNoMemory(c.budget)
	}
	c.used += want - f.charged
	f.charged = want
	return nil
}

// errNoMemory refuses a run for which the server's memory for runs has
// no room.
func errNoMemory(budget int) error {
	return &busyError{fmt.Sprintf("the runs open now fill the %d MB the server keeps for runs, and this one does not fit (%s)", budget>>20, webLimitsText), 30 * time.Second}
}

// makeRoomLocked forgets unpinned recordings, least recently used first,
// until n more bytes fit under limit; it says whether they do. c.mu is
// held.
func (c *recordings) makeRoomLocked(n, limit int) bool {
	for el := c.lru.Back(); el != nil && c.used+n > limit; {
		prev := el.Prev()
		if e := el.Value.(*cached); e.pins == 0 {
			c.forgetLocked(el)
		}
		el = prev
	}
	return c.used+n <= limit
}

// forgetLocked drops one cached recording. c.mu is held.
func (c *recordings) forgetLocked(el *list.Element) {
	e := c.lru.Remove(el).(*cached)
	if c.byQuery[e.query] == el {
		delete(c.byQuery, e.query)
	}
	delete(c.byRec, e.rec)
	c.used -= e.rec.size()
}

// addLocked caches rec, charged at its size, as the entry new viewers of
// its scenario get. c.mu is held.
func (c *recordings) addLocked(rec *recording) *list.Element {
	el := c.lru.PushFront(&cached{query: rec.query, rec: rec})
	c.byQuery[rec.query] = el
	c.byRec[rec] = el
	c.used += rec.size()
	return el
}

// keepLocked adds rec to the cache, forgetting the least recently used
// unpinned recordings beyond the budget. Viewers still holding a forgotten
// recording keep it alive; the cache only forgets it. c.mu is held.
func (c *recordings) keepLocked(rec *recording) {
	c.makeRoomLocked(rec.size(), c.budget)
	c.addLocked(rec)
	c.makeRoomLocked(0, c.budget)
}

// hold pins each recording for a session that shows it: it stays charged
// to the budget and cached until release. A recording forgotten since get
// returned it is cached again.
func (c *recordings) hold(recs []*recording) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rec := range recs {
		el, ok := c.byRec[rec]
		if !ok {
			c.makeRoomLocked(rec.size(), c.budget)
			el = c.addLocked(rec)
		}
		el.Value.(*cached).pins++
	}
}

// release unpins recordings that hold pinned.
func (c *recordings) release(recs []*recording) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rec := range recs {
		if el, ok := c.byRec[rec]; ok {
			el.Value.(*cached).pins--
		}
	}
	c.makeRoomLocked(0, c.budget)
}

// stop refuses new work and cancels every simulation running or waiting;
// wait then waits for them to end. Admission closes first: a cancelled
// run frees its slot, and a slot freed before admission closes would
// start a waiting run.
func (c *recordings) stop() {
	c.adm.close()
	c.mu.Lock()
	c.closed = true
	for _, f := range c.flights {
		f.cancel(errServerClosing)
	}
	c.mu.Unlock()
}

// wait waits for every simulation to end, once stop has cancelled them.
func (c *recordings) wait() { c.wg.Wait() }

// close is stop and wait.
func (c *recordings) close() {
	c.stop()
	c.wait()
}
