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
}

// errServerClosing refuses work once the server is shutting down.
var errServerClosing = errors.New("the server is shutting down")

func newRecordings(budget int) *recordings {
	return &recordings{
		budget: budget, slots: make(chan struct{}, runtime.GOMAXPROCS(0)),
		lru: list.New(), byQuery: map[string]*list.Element{}, flights: map[string]*flight{},
	}
}

// get returns sc's recording, simulating it if no one has yet. It returns
// early with ctx's cause if ctx ends first; the simulation still finishes
// and is kept for the next viewer.
func (c *recordings) get(ctx context.Context, sc sim.Scenario) (*recording, error) {
	key := canonicalQuery(sc)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errServerClosing
	}
	if el, ok := c.byQuery[key]; ok {
		c.lru.MoveToFront(el)
		c.mu.Unlock()
		return el.Value.(*cached).rec, nil
	}
	f, ok := c.flights[key]
	if !ok {
		f = &flight{done: make(chan struct{})}
		c.flights[key] = f
		c.wg.Add(1)
		go c.fly(key, sc, f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.rec, f.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func (c *recordings) fly(key string, sc sim.Scenario, f *flight) {
	defer c.wg.Done()
	c.slots <- struct{}{}
	f.rec, f.err = record(sc)
	<-c.slots
	c.mu.Lock()
	delete(c.flights, key)
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
