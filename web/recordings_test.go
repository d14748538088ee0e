package web

import (
	"context"
	"errors"
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
	a, err := record(small(10, "dual-write"))
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
	for range cap(c.slots) { // every simulation slot busy
		c.slots <- struct{}{}
	}
	ctx, cancel := context.WithCancelCause(t.Context())
	gone := errors.New("viewer left")
	cancel(gone)
	if _, err := c.get(ctx, small(5, "dual-write")); !errors.Is(err, gone) {
		t.Fatalf("get with a cancelled viewer = %v, want its cause", err)
	}
	for range cap(c.slots) {
		<-c.slots
	}
	c.close() // waits for the simulation that was started
	if _, err := c.get(t.Context(), small(5, "dual-write")); !errors.Is(err, errServerClosing) {
		t.Fatalf("get after close = %v, want %v", err, errServerClosing)
	}
}
