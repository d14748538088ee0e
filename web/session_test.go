package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"partialtruth/sim"
)

// fakeFollower records what a session tells it.
type fakeFollower struct {
	mu    sync.Mutex
	runs  []int
	pokes int
}

func (f *fakeFollower) newRun(gen int) { f.mu.Lock(); f.runs = append(f.runs, gen); f.mu.Unlock() }
func (f *fakeFollower) poke()          { f.mu.Lock(); f.pokes++; f.mu.Unlock() }

func (f *fakeFollower) seen() ([]int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.runs...), f.pokes
}

// scenarios parses name=value pairs (and a compare design) as the socket does.
func scenarios(tb testing.TB, compare string, kv ...string) []sim.Scenario {
	tb.Helper()
	params := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		params[kv[i]] = kv[i+1]
	}
	scs, err := parseRun(params, compare)
	if err != nil {
		tb.Fatal(err)
	}
	return scs
}

func TestASessionPlaysWithoutASocket(t *testing.T) {
	s := newTestServer(t)
	clk := &fakeClock{now: t0, ticks: make(chan time.Time)}
	ss := newSession(clk, s.recs, s.log)
	defer ss.close()
	f := &fakeFollower{}
	ss.attach(f)
	if err := ss.play(); !errors.Is(err, errNoRun) {
		t.Fatalf("play before any run = %v, want errNoRun", err)
	}
	if st := ss.snapshot(); st.gen != 0 {
		t.Fatalf("a new session has run %d, want none", st.gen)
	}
	scs := scenarios(t, "outbox", "payments", "20", "seed", "3")
	if err := ss.start(t.Context(), scs, 1000, true); err != nil {
		t.Fatal(err)
	}
	runs, pokes := f.seen()
	if len(runs) != 1 || runs[0] != 1 || pokes == 0 {
		t.Fatalf("after start the follower saw runs %v and %d pokes, want run 1 and a poke", runs, pokes)
	}
	st := ss.snapshot()
	if st.gen != 1 || len(st.sides) != 2 || st.meta == nil || len(st.reports) != 2 || st.cursor == nil {
		t.Fatalf("snapshot after start: %+v", st)
	}
	// 5 ms of wall time at 1000 virtual ms per second is 5 ms of run.
	clk.tick(t, t0.Add(5*time.Millisecond))
	waitFor(t, "the pacer to move the playhead", func() bool { return ss.snapshot().cursorVer > st.cursorVer })
	moved := ss.snapshot()
	for side, rec := range moved.sides {
		if want := countUpTo(rec.atUs, 5000); moved.shown[side] != want {
			t.Fatalf("side %d shows %d events at 5 ms, want %d", side, moved.shown[side], want)
		}
	}
	if err := ss.step(0); err == nil {
		t.Fatal("step 0 was accepted")
	}
	if err := ss.setSpeed(0.1); err == nil {
		t.Fatal("speed 0.1 was accepted")
	}
	if err := ss.seek(-1); err == nil {
		t.Fatal("seek -1 was accepted")
	}
	if err := ss.step(1); err != nil {
		t.Fatal(err)
	}
	if st := ss.snapshot(); st.shown[0]+st.shown[1] != moved.shown[0]+moved.shown[1]+1 {
		t.Fatalf("a step from %v shows %v, want one event more", moved.shown, st.shown)
	}
	ss.detach(f)
	_, before := f.seen()
	if err := ss.seek(0); err != nil {
		t.Fatal(err)
	}
	if _, after := f.seen(); after != before {
		t.Fatal("a detached follower was still woken")
	}
	// A second run replaces the first, and its followers hear of it.
	g := &fakeFollower{}
	ss.attach(g)
	if err := ss.start(t.Context(), scs[:1], 0, true); err != nil {
		t.Fatal(err)
	}
	if runs, _ := g.seen(); len(runs) != 2 || runs[0] != 1 || runs[1] != 2 {
		t.Fatalf("a follower attached during run 1, then run 2 started: it saw %v, want [1 2]", runs)
	}
	if st := ss.snapshot(); !st.finished || len(st.sides) != 1 {
		t.Fatalf("run 2 at speed 0 with autoplay: %+v, want one side, finished", st)
	}
}

// serveSession serves sockets that all follow ss, as a room would.
func serveSession(tb testing.TB, s *Server, ss *session) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveViewer(w, r, ss)
	}))
	tb.Cleanup(ts.Close)
	return ts
}

func followers(ss *session) int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.followers)
}

// playWith starts a compare run on a new session followed by n sockets,
// each reading to done, then seeks back and plays it again; it returns
// how many messages the session encoded and what each socket received.
func playWith(t *testing.T, s *Server, n int) (int, []played) {
	ss := newSession(s.clock, s.recs, s.log)
	defer ss.close()
	ts := serveSession(t, s, ss)
	clients := make([]*testClient, n)
	for i := range clients {
		clients[i] = dial(t, ts)
	}
	waitFor(t, "every socket to follow the session", func() bool { return followers(ss) == n })
	if err := ss.start(t.Context(), scenarios(t, "outbox-idempotent", "payments", "40", "seed", "8"), 0, true); err != nil {
		t.Fatal(err)
	}
	got := make([]played, n)
	for i, c := range clients {
		got[i] = c.playToDone()
	}
	if err := ss.seek(0); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		for m := c.next(); m.Type != msgCursor || m.AtUs != 0; m = c.next() {
		}
	}
	if err := ss.play(); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		for m := c.next(); m.Type != msgDone; m = c.next() {
		}
	}
	return ss.encodeCount(), got
}

func TestOneSessionEncodesEachMessageOnceForAllItsViewers(t *testing.T) {
	s := newTestServer(t)
	one, _ := playWith(t, s, 1)
	three, got := playWith(t, s, 3)
	// A meta, a report per side, the cursor at the end; then the cursor
	// at 0 (seek) and at the end again (play).
	if one != 6 || three != one {
		t.Fatalf("the session encoded %d messages for 1 viewer and %d for 3; want 6 for both", one, three)
	}
	for i, p := range got {
		for side := range p.events {
			if len(p.events[side]) != p.meta.Runs[side].Events {
				t.Fatalf("viewer %d got %d of side %d's %d events", i, len(p.events[side]), side, p.meta.Runs[side].Events)
			}
			if !slices.EqualFunc(p.events[side], got[0].events[side], func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
				t.Fatalf("viewer %d got other events of side %d than viewer 0", i, side)
			}
		}
	}
}

func TestAViewerWhoJoinsLateGetsTheWholeRun(t *testing.T) {
	s := newTestServer(t)
	ss := newSession(s.clock, s.recs, s.log)
	defer ss.close()
	ts := serveSession(t, s, ss)
	if err := ss.start(t.Context(), scenarios(t, "", "payments", "30", "seed", "2"), 0, true); err != nil {
		t.Fatal(err)
	}
	p := dial(t, ts).playToDone()
	if len(p.events[0]) != p.meta.Runs[0].Events || p.cursor.Shown[0] != p.meta.Runs[0].Events || p.cursor.Playing {
		t.Fatalf("a late viewer got %d of %d events and cursor %+v", len(p.events[0]), p.meta.Runs[0].Events, p.cursor)
	}
}

// A newer run on a session cancels the older one's simulation, which no
// one else waits for, and becomes the session's run.
func TestANewerRunCancelsTheOlder(t *testing.T) {
	s := newTestServer(t)
	ss := newSession(s.clock, s.recs, s.log)
	defer ss.close()
	big := scenarios(t, "", "design", "outbox-idempotent", "payments", strconv.Itoa(MaxWebPayments), "seed", "77")
	older := make(chan error)
	go func() { older <- ss.start(t.Context(), big, 0, false) }()
	f := waitForFlight(t, s.recs, big[0], 1)
	if err := ss.start(t.Context(), scenarios(t, "", "payments", "5", "seed", "3"), 0, false); err != nil {
		t.Fatal(err)
	}
	if err := <-older; err != nil {
		t.Errorf("the replaced start returned %v, want nil", err)
	}
	<-f.done
	if !errors.Is(f.err, errAbandoned) {
		t.Errorf("the older simulation ended with %v, want %v", f.err, errAbandoned)
	}
	st := ss.snapshot()
	if st.gen != 1 || st.sides[0].scenario.Payments != 5 {
		t.Errorf("the session's run is number %d of %d payments; want the newer, the only one installed", st.gen, st.sides[0].scenario.Payments)
	}
}
