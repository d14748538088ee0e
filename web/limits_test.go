package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"partialtruth/lessons"
	"partialtruth/sim"
)

// readMsg reads one server message without failing the test, for reads
// off the test's goroutine.
func (c *testClient) readMsg() (serverMsg, error) {
	c.c.SetReadDeadline(time.Now().Add(safetyTimeout))
	var m serverMsg
	_, b, err := c.c.ReadMessage()
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	return m, err
}

// A viewer whose run waits in the queue stays connected: the reader goes
// on reading (a play sent meanwhile waits for the run, in order) and
// answering pings while the run waits. The wait here lasts four pings, over three times
// the server's patience with a silent viewer (shortened to a second; at
// the default 60 s a reader blocked for 90 s would be dropped), and ends
// when the test frees the slots, not by any clock.
func TestSocketWaitingInTheQueueStaysConnected(t *testing.T) {
	s, ts := startSocketServer(t)
	s.pongWait = time.Second
	s.recs.adm.after = neverAfter
	unblock := blockAdmission(t, s.recs.adm)
	c := dial(t, ts)
	pings := make(chan struct{}, 64)
	c.c.SetPingHandler(func(data string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return c.c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	c.send(runMsg("", 0, "design", "outbox", "payments", "3", "seed", "9090"))
	waitQueued(t, s.recs.adm, 1)
	c.send(map[string]any{"type": "play"})
	got := make(chan serverMsg, 4)
	failed := make(chan error, 1)
	go func() {
		for {
			m, err := c.readMsg()
			if err != nil {
				failed <- err
				return
			}
			got <- m
			if m.Type == msgMeta {
				return
			}
		}
	}()
	for range 4 {
		select {
		case <-pings:
		case err := <-failed:
			t.Fatalf("the waiting viewer was dropped: %v", err)
		}
	}
	unblock()
	select {
	case m := <-got:
		if m.Type != msgMeta {
			t.Fatalf("after the wait the viewer got %+v, want the run's meta", m)
		}
	case err := <-failed:
		t.Fatalf("the waiting viewer was dropped: %v", err)
	}
}

// A socket whose run cannot start in time is told the server is busy and
// to try again; the socket stays open.
func TestSocketBusyServerSaysTryAgain(t *testing.T) {
	s, ts := startSocketServer(t)
	s.recs.adm.after = nowAfter
	unblock := blockAdmission(t, s.recs.adm)
	c := dial(t, ts)
	c.send(runMsg("dual-write", 0, "design", "outbox", "payments", "3", "seed", "9191"))
	m := c.expect(msgError)
	if !strings.Contains(m.Message, "the server is busy") || !strings.Contains(m.Message, "try again in 5 s") {
		t.Fatalf("busy answer = %q, want busy and try again", m.Message)
	}
	unblock()
	c.send(runMsg("", 0, "design", "outbox", "payments", "3", "seed", "9191"))
	c.expect(msgMeta)
}

// Shutdown with simulations running and queued cancels them all, tells
// every socket it is going away, and returns before its deadline.
func TestShutdownWithQueuedWorkReturnsInTime(t *testing.T) {
	s, ts := startSocketServer(t)
	a := s.recs.adm
	a.after = neverAfter
	a.slots = [laneCount]int{laneRun: 1, laneSmall: 1, laneQuery: 1}
	a.perClient = 100
	var started, cancelled atomic.Int32
	s.recs.simulate = func(ctx context.Context, sc sim.Scenario, _ func(int) error) (*recording, error) {
		started.Add(1)
		<-ctx.Done() // a run that would go on for ever
		cancelled.Add(1)
		return nil, context.Cause(ctx)
	}
	const viewers = 5
	var clients []*testClient
	for i := range viewers {
		c := dial(t, ts)
		c.send(runMsg("", 0, "design", "outbox", "payments", "5000", "seed", fmt.Sprint(i+1)))
		clients = append(clients, c)
	}
	waitQueued(t, a, viewers-1) // one runs, the rest wait
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v, want it done within its timeout", err)
	}
	for i, c := range clients {
		// A viewer may first hear why its run ended (an error message);
		// what must follow is the close that says the server is going.
		var said []serverMsg
		m, err := c.readMsg()
		for ; err == nil && len(said) < 3; m, err = c.readMsg() {
			said = append(said, m)
		}
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("viewer %d: %v after %+v, want close 1001", i, err, said)
		}
		for _, m := range said {
			if m.Type != msgError {
				t.Errorf("viewer %d heard %+v before the close; want at most why its run ended", i, m)
			}
		}
	}
	if started.Load() != 1 || cancelled.Load() != 1 {
		t.Fatalf("%d simulations started and %d were cancelled; want the one running cancelled and none of the queued started", started.Load(), cancelled.Load())
	}
	if _, err := s.recs.get(t.Context(), small(3, "outbox")); !errors.Is(err, errServerClosing) {
		t.Fatalf("a run after shutdown = %v, want %v", err, errServerClosing)
	}
}

// fakeRecording is a recording of sc that holds size bytes of events.
func fakeRecording(sc sim.Scenario, size int) *recording {
	return &recording{scenario: sc, query: sc.Query(), data: make([]byte, size), offsets: []int{0}, tables: &sim.Snapshot{}}
}

// One budget covers what the cache keeps and what sessions hold: a run
// that does not fit beside the pinned ones is refused as busy, and fits
// once they are let go.
func TestRunThatDoesNotFitTheMemoryBudgetIsRefused(t *testing.T) {
	const mb = 1 << 20
	c := newRecordings(10 * mb)
	defer c.close()
	c.simulate = func(ctx context.Context, sc sim.Scenario, grow func(int) error) (*recording, error) {
		size := int(sc.Payments) * mb / 1000 // 1,000 payments: a megabyte
		for held := mb; held <= size; held += mb {
			if err := grow(held); err != nil {
				return nil, err
			}
		}
		return fakeRecording(sc, size), nil
	}
	pinned, err := c.get(t.Context(), small(6000, "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	c.hold(pinned)
	other := small(6000, "dual-write")
	_, err = c.get(t.Context(), other)
	var busy *busyError
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), "fill the 10 MB the server keeps for runs") {
		t.Fatalf("a run beside a pinned one filling the budget = %v, want refused as busy", err)
	}
	if c.used > c.budget || c.lru.Len() != 1 {
		t.Fatalf("the refused run left %d recordings, %d bytes charged of %d", c.lru.Len(), c.used, c.budget)
	}
	fits, err := c.get(t.Context(), small(2000, "outbox"))
	if err != nil {
		t.Fatalf("a run that fits beside the pinned one is refused: %v", err)
	}
	c.hold(fits) // 8 MB pinned: a big run may not use the last eighth
	if _, err := c.get(t.Context(), small(1500, "outbox")); !errors.As(err, &busy) {
		t.Fatalf("a big run in the small runs' eighth = %v, want refused", err)
	}
	if _, err := c.get(t.Context(), small(smallRunPayments, "outbox")); err != nil {
		t.Fatalf("a small run in the small runs' eighth is refused: %v", err)
	}
	c.release(fits)
	c.release(pinned)
	if _, err := c.get(t.Context(), other); err != nil {
		t.Fatalf("once the pinned run was let go, the run is still refused: %v", err)
	}
	if c.used > c.budget {
		t.Fatalf("the cache holds %d bytes of %d", c.used, c.budget)
	}
	if _, ok := c.byQuery[pinned[0].query]; ok {
		t.Fatal("the let-go recording, least recently used, was not the one forgotten")
	}
}

// recordWithin tells its grow how much it holds as it grows and stops
// the run when grow refuses.
func TestRecordingStopsWhenItsMemoryIsRefused(t *testing.T) {
	refused := errors.New("no room")
	calls := 0
	rec, err := recordWithin(t.Context(), small(2000, "outbox"), func(held int) error {
		calls++
		if held < growStep {
			t.Errorf("grow called at %d bytes, under growStep", held)
		}
		return refused
	})
	if !errors.Is(err, refused) || rec != nil || calls != 1 {
		t.Fatalf("recordWithin with grow refusing = %v, %v after %d calls; want the refusal after one", rec, err, calls)
	}
}

// A session pins what it shows and lets it go when it moves on or closes.
func TestSessionPinsItsRunUntilItMovesOn(t *testing.T) {
	s := newTestServer(t)
	ss := newSession(s.clock, s.recs, s.log)
	pins := func() (n int) {
		s.recs.mu.Lock()
		defer s.recs.mu.Unlock()
		for el := s.recs.lru.Front(); el != nil; el = el.Next() {
			n += el.Value.(*cached).pins
		}
		return n
	}
	first := []sim.Scenario{small(3, "outbox"), small(3, "dual-write")}
	if err := ss.start(t.Context(), first, 0, false); err != nil {
		t.Fatal(err)
	}
	if n := pins(); n != 2 {
		t.Fatalf("a compare's session pins %d recordings, want 2", n)
	}
	if err := ss.start(t.Context(), first[:1], 0, false); err != nil {
		t.Fatal(err)
	}
	if n := pins(); n != 1 {
		t.Fatalf("after a single run replaced the compare, %d pins, want 1", n)
	}
	ss.close()
	if n := pins(); n != 0 {
		t.Fatalf("a closed session still pins %d recordings", n)
	}
}

// A lesson's challenge is judged under the same admission as the stream's
// runs: on a busy server it is turned away with 503, not queued for ever.
func TestChallengeOnABusyServerIsTurnedAway(t *testing.T) {
	s, base := lessonServer(t)
	s.recs.adm.after = nowAfter
	unblock := blockAdmission(t, s.recs.adm)
	defer unblock()
	l, at := twoWrites(t)
	ci := at[lessons.KindChallenge]
	me := newLearner(t, base)
	code, page := me.post("/lessons/"+l.ID+"/challenge", challengeForm(l, ci, l.Steps[ci].Challenge.Start.Design))
	if code != http.StatusServiceUnavailable || !strings.Contains(page, "the server is busy") {
		t.Fatalf("a challenge on a busy server = %d %.200s; want 503 busy", code, page)
	}
}

// The form says what bounds a web run and why, beside the fields it
// bounds, as the errors do.
func TestPlayFormSaysTheWebLimitsAndWhy(t *testing.T) {
	res := get(t, newTestServer(t).Handler(), "/play")
	body, _ := io.ReadAll(res.Body)
	page := html.UnescapeString(string(body))
	for _, want := range []string{"1 to 10000 on the web", "up to 1h on the web", "at most 500000 events per side", "holds every event in memory"} {
		if !strings.Contains(page, want) {
			t.Errorf("/play does not say %q", want)
		}
	}
}
