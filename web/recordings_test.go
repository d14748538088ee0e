package web

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"partialtruth/sim"
)

func small(payments int, design string) sim.Scenario {
	sc := sim.DefaultScenario()
	sc.Payments, sc.Design = payments, design
	return sc
}

func TestViewersOfOneScenarioShareOneSimulation(t *testing.T) {
	c := newRecordings(1 << 30)
	defer c.close()
	const viewers = 8
	got := make([]*recording, viewers)
	var wg sync.WaitGroup
	for i := range viewers {
		wg.Go(func() {
			recs, err := c.get(t.Context(), small(20, "outbox"))
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = recs[0]
		})
	}
	wg.Wait()
	for i := range got {
		if got[i] == nil || got[i] != got[0] {
			t.Fatalf("viewer %d got a recording of its own; all %d should share one", i, viewers)
		}
	}
	both, err := c.get(t.Context(), small(21, "outbox"), small(20, "outbox"))
	if err != nil || both[0] == got[0] || both[1] != got[0] {
		t.Fatalf("get(other, same) = %p, %p (%v); want a new recording, then the shared %p", both[0], both[1], err, got[0])
	}
}

func TestRecordingsKeepToTheirBudget(t *testing.T) {
	a, err := record(context.Background(), small(10, "dual-write"))
	if err != nil {
		t.Fatal(err)
	}
	c := newRecordings(a.size()*2 + a.size()/2) // room for two of this size
	defer c.close()
	for _, n := range []int{10, 11, 12} {
		if _, err := c.get(t.Context(), small(n, "dual-write")); err != nil {
			t.Fatal(err)
		}
	}
	if c.used > c.budget || c.lru.Len() != 2 {
		t.Fatalf("cache holds %d recordings, %d bytes of a %d budget; want the two most recent", c.lru.Len(), c.used, c.budget)
	}
	if _, ok := c.byQuery[small(10, "dual-write").Query()]; ok {
		t.Fatal("the least recently used recording was kept")
	}
}

func TestWaitingForASimulationStopsWithTheViewer(t *testing.T) {
	c := newRecordings(1 << 30)
	unblock := blockAdmission(t, c.adm) // every simulation slot busy
	ctx, cancel := context.WithCancelCause(t.Context())
	gone := errors.New("viewer left")
	cancel(gone)
	if _, err := c.get(ctx, small(5, "dual-write")); !errors.Is(err, gone) {
		t.Fatalf("get with a cancelled viewer = %v, want its cause", err)
	}
	unblock()
	c.close() // waits for the simulation that was started
	if _, err := c.get(t.Context(), small(5, "dual-write")); !errors.Is(err, errServerClosing) {
		t.Fatalf("get after close = %v, want %v", err, errServerClosing)
	}
}

// blockAdmission takes every slot of every lane, each for a client of its
// own, and returns what frees them.
func blockAdmission(t testing.TB, a *admission) func() {
	t.Helper()
	var held []*ticket
	kinds := [laneCount]jobKind{laneRun: jobRun, laneSmall: jobSmallRun, laneQuery: jobQuery}
	for lane, kind := range kinds {
		for range a.slots[lane] {
			tk, err := a.enter(fmt.Sprintf("blocker-%d", len(held)), kind)
			if err != nil || tk.state != ticketRunning || tk.lane != lane {
				t.Fatalf("blocking lane %d: ticket %+v, %v", lane, tk, err)
			}
			held = append(held, tk)
		}
	}
	return func() {
		for _, tk := range held {
			a.done(tk)
		}
	}
}

// flightOf returns the flight under way for sc, or nil.
func (c *recordings) flightOf(sc sim.Scenario) *flight {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flights[sc.Query()]
}

// waitForFlight waits until a flight for sc is under way with n waiters.
func waitForFlight(t *testing.T, c *recordings, sc sim.Scenario, n int) *flight {
	t.Helper()
	for {
		c.mu.Lock()
		f := c.flights[sc.Query()]
		ok := f != nil && f.waiters == n
		c.mu.Unlock()
		if ok {
			return f
		}
		runtime.Gosched()
	}
}

// A simulation whose only viewer leaves is cancelled, whether it waits for
// a slot or is running, is not kept, and a later viewer starts afresh.
func TestAbandonedSimulationIsCancelled(t *testing.T) {
	for _, queued := range []bool{true, false} {
		c := newRecordings(1 << 30)
		unblock := func() {}
		if queued {
			unblock = blockAdmission(t, c.adm)
		}
		sc := small(MaxWebPayments, "outbox-idempotent")
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			_, err := c.get(ctx, sc)
			done <- err
		}()
		f := waitForFlight(t, c, sc, 1)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("queued %v: get = %v, want the viewer's cancellation", queued, err)
		}
		<-f.done
		if !errors.Is(f.err, errAbandoned) || f.rec != nil {
			t.Errorf("queued %v: the abandoned simulation ended with %v, want %v and no recording", queued, f.err, errAbandoned)
		}
		if c.flightOf(sc) != nil || c.lru.Len() != 0 {
			t.Errorf("queued %v: the abandoned flight is still listed or kept", queued)
		}
		unblock()
		c.close()
	}
}

// When one of two viewers of a simulation leaves, the other still gets it.
func TestSimulationWantedByAnotherViewerGoesOn(t *testing.T) {
	c := newRecordings(1 << 30)
	defer c.close()
	sc := small(300, "outbox")
	ctx, cancel := context.WithCancel(t.Context())
	left := make(chan error)
	go func() {
		_, err := c.get(ctx, sc)
		left <- err
	}()
	stays := make(chan error)
	go func() {
		recs, err := c.get(t.Context(), sc)
		if err == nil && recs[0].events() == 0 {
			err = errors.New("an empty recording")
		}
		stays <- err
	}()
	f := waitForFlight(t, c, sc, 2)
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Errorf("the viewer who left got %v", err)
	}
	if err := <-stays; err != nil {
		t.Errorf("the viewer who stayed got %v", err)
	}
	if f.err != nil || f.rec == nil {
		t.Errorf("the shared simulation ended with %v", f.err)
	}
}
