package web

import (
	"container/list"
	"context"
	"errors"
	"runtime"
	"sync"

	"partialtruth/sim"
)

// recordings simulates scenarios for the stream and remembers the most
// recent ones. A run is a pure function of its scenario, so a room of
// viewers opening the same link shares one simulation and one copy of its
// events; concurrent requests for one scenario wait for the same flight.
// Simulations run in the background, at most one per CPU, so a viewer who
// goes away stops waiting at once and a burst of runs cannot starve the
// server.
type recordings struct {
	budget int           // bytes of recordings kept after their viewers are done
	slots  chan struct{} // one per concurrent simulation
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	used    int
	lru     *list.List // of *cached, most recent first
	byQuery map[string]*list.Element
	flights map[string]*flight
}

type cached struct {
	query string
	rec   *recording
}

type flight struct {
	done chan struct{}
	rec  *recording
	err  error
	// cancel stops the simulation; nil for a flight taken from the cache.
	cancel context.CancelCauseFunc
	// waiters counts the get calls waiting for it, under recordings.mu.
	waiters int
}

// errServerClosing refuses work once the server is shutting down.
var errServerClosing = errors.New("the server is shutting down")

func newRecordings(budget int) *recordings {
	return &recordings{
		budget: budget, slots: make(chan struct{}, runtime.GOMAXPROCS(0)),
		lru: list.New(), byQuery: map[string]*list.Element{}, flights: map[string]*flight{},
	}
}

// get returns the recording of each scenario, simulating those no one has
// yet, side by side. It returns early with ctx's cause if ctx ends first;
// a simulation that then has no one else waiting for it is cancelled at
// once (and not kept), while one that another viewer still waits for
// finishes and is kept.
func (c *recordings) get(ctx context.Context, scs ...sim.Scenario) ([]*recording, error) {
	flights := make([]*flight, 0, len(scs))
	defer func() {
		for _, f := range flights {
			c.leave(f)
		}
	}()
	for _, sc := range scs {
		f, err := c.start(sc)
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
// one already under way, or a new one. The caller calls leave when it
// stops waiting.
func (c *recordings) start(sc sim.Scenario) (*flight, error) {
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
		ctx, cancel := context.WithCancelCause(context.Background())
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.flights[key] = f
		c.wg.Add(1)
		go c.fly(ctx, key, sc, f)
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

// fly simulates sc for f once a slot is free, unless f is cancelled first;
// a cancelled simulation stops within a millisecond or so and is not kept.
func (c *recordings) fly(ctx context.Context, key string, sc sim.Scenario, f *flight) {
	defer c.wg.Done()
	select {
	case c.slots <- struct{}{}:
		f.rec, f.err = record(ctx, sc)
		<-c.slots
	case <-ctx.Done():
		f.err = context.Cause(ctx)
	}
	f.cancel(nil) // release the context's resources
	c.mu.Lock()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	if f.err == nil {
		c.keep(key, f.rec)
	}
	c.mu.Unlock()
	close(f.done)
}

// keep adds rec to the cache and evicts the least recently used
// recordings beyond the budget. Viewers still holding an evicted recording
// keep it alive; the cache only forgets it. c.mu is held.
func (c *recordings) keep(key string, rec *recording) {
	if rec.size() > c.budget {
		return
	}
	c.byQuery[key] = c.lru.PushFront(&cached{key, rec})
	c.used += rec.size()
	for c.used > c.budget {
		old := c.lru.Remove(c.lru.Back()).(*cached)
		delete(c.byQuery, old.query)
		c.used -= old.rec.size()
	}
}

// close refuses new work and waits for simulations in flight.
func (c *recordings) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.wg.Wait()
}
