package web

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"partialtruth/sim"
)

// fakeClock is a clock whose ticks the test sends by hand: the pacer moves
// exactly when and as far as the test says.
type fakeClock struct {
	now   time.Time
	ticks chan time.Time
}

func (c *fakeClock) Now() time.Time                 { return c.now }
func (c *fakeClock) NewTicker(time.Duration) ticker { return fakeTicker{c.ticks} }

type fakeTicker struct{ c chan time.Time }

func (t fakeTicker) C() <-chan time.Time { return t.c }
func (fakeTicker) Stop()                 {}

// tick hands the pacer a tick; it blocks until a pacer takes it.
func (c *fakeClock) tick(tb testing.TB, at time.Time) {
	tb.Helper()
	select {
	case c.ticks <- at:
	case <-time.After(safetyTimeout):
		tb.Fatal("no pacer took the tick")
	}
}

func TestPacerMovesThePlayheadBySpeedTimesWallTime(t *testing.T) {
	s, ts := startSocketServer(t)
	clk := &fakeClock{now: t0, ticks: make(chan time.Time)}
	s.clock = clk
	c := dial(t, ts)
	params := map[string]string{"payments": "30", "seed": "5"}
	c.send(map[string]any{"type": "run", "params": params, "speed": 1000, "autoplay": true}) // real time
	meta := c.expect(msgMeta)
	sc, _ := sim.FromParams(func(n string) string { return params[n] })
	events, _, err := sim.Record(sc)
	if err != nil {
		t.Fatal(err)
	}
	upTo := func(at int64) (n int) {
		for _, e := range events {
			if e.AtUs <= at {
				n++
			}
		}
		return n
	}
	received := 0
	// readUntilCursor reads events and returns the first cursor.
	readUntilCursor := func() serverMsg {
		for {
			m := c.next()
			switch m.Type {
			case msgEvents:
				received += len(m.Events)
			case msgCursor:
				return m
			default:
				t.Fatalf("unexpected %+v", m)
			}
		}
	}
	if cur := readUntilCursor(); cur.AtUs != 0 || cur.Shown[0] != upTo(0) || !cur.Playing {
		t.Fatalf("at play: cursor %+v, want playing at 0 with %d shown", cur, upTo(0))
	}
	for _, ms := range []int64{7, 20, 21, 40} {
		clk.tick(t, t0.Add(time.Duration(ms)*time.Millisecond))
		cur := readUntilCursor()
		if cur.AtUs != ms*1000 || cur.Shown[0] != upTo(ms*1000) || received != cur.Shown[0] {
			t.Fatalf("%d ms of wall time at speed 1000: cursor %+v with %d received; want at %d with %d shown", ms, cur, received, ms*1000, upTo(ms*1000))
		}
	}
	clk.now = t0.Add(40 * time.Millisecond) // the wall time of the last tick
	c.send(map[string]any{"type": "speed", "speed": 500})
	if cur := readUntilCursor(); cur.Speed != 500 || cur.AtUs != 40_000 {
		t.Fatalf("after a speed change cursor %+v, want speed 500 at the same place", cur)
	}
	c.send(map[string]any{"type": "speed", "speed": 1000})
	readUntilCursor()
	end := meta.Runs[0].EndUs
	clk.tick(t, t0.Add(40*time.Millisecond+time.Duration(end)*time.Microsecond))
	for m := c.next(); m.Type != msgDone; m = c.next() {
		if m.Type == msgEvents {
			received += len(m.Events)
		}
	}
	if received != len(events) {
		t.Fatalf("played to the end: received %d of %d events", received, len(events))
	}
}

func TestAViewerThatNeverReadsDoesNotHoldUpAnother(t *testing.T) {
	s, ts := startSocketServer(t)
	// About 6 MB of events: more than the server's socket buffer (4 MB at
	// most here) and the stuck viewer's (4 KB) hold together.
	run := runMsg("", 0, "payments", "2000", "faults", "net.drop=0.01")
	stuck := dialStuck(t, ts)
	stuck.send(run)
	// Wait until the stuck viewer's writer has taken its batch: from then
	// on it is blocked in a write that cannot finish.
	waitFor(t, "the stuck viewer's writer to take its batch", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for v := range s.viewers {
			v.mu.Lock()
			taken := v.sent != nil && v.sent[0] > 0
			v.mu.Unlock()
			return taken
		}
		return false
	})
	reader := dial(t, ts)
	reader.send(run) // the same scenario: both share one recording
	p := reader.playToDone()
	if len(p.events[0]) != p.meta.Runs[0].Events {
		t.Fatalf("the reading viewer got %d of %d events", len(p.events[0]), p.meta.Runs[0].Events)
	}
	// The stuck viewer is dropped only after writeWait without progress;
	// had the reader waited on it, it would be gone by now.
	s.mu.Lock()
	open := len(s.viewers)
	s.mu.Unlock()
	if open != 2 {
		t.Fatalf("%d viewers open when the reader finished, want both: the reader was held up until the stuck one was dropped", open)
	}
}

// waitFor waits until cond holds, checking often; it fails the test after
// safetyTimeout. Tests use it to wait for a state, never for a duration.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(safetyTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNoGoroutineOutlivesItsViewers(t *testing.T) {
	s, ts := startSocketServer(t)
	var clients []*testClient
	for i, msg := range []map[string]any{
		nil,                               // idle
		runMsg("", 1, "payments", "200"),  // playing slowly: a pacer runs
		runMsg("", 0, "payments", "1000"), // a big batch nobody reads
		runMsg("outbox", 0, "payments", "10"),
	} {
		c := dialStuck(t, ts)
		if msg != nil {
			c.send(msg)
			if i == 1 || i == 3 {
				c.expect(msgMeta)
			}
		}
		clients = append(clients, c)
	}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.c.Close() })
	}
	wg.Wait()
	ts.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t)
}

func TestAViewerThatAnswersNoPingIsDropped(t *testing.T) {
	s, ts := startSocketServer(t)
	s.pongWait = 50 * time.Millisecond
	// Gorilla answers pings only while reading; this client never reads.
	dialStuck(t, ts)
	waitFor(t, "the server to register the viewer", func() bool { return openViewers(s) == 1 })
	waitFor(t, "the silent viewer to be dropped", func() bool { return openViewers(s) == 0 })
}
