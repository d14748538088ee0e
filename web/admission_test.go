package web

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// neverAfter is an admission wait that never times out on its own.
func neverAfter(time.Duration) <-chan time.Time { return nil }

// nowAfter is an admission wait that is over at once: a job that finds
// no free slot is turned away.
func nowAfter(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Time{}
	return c
}

func TestAdmissionRefusesAClientBeyondItsShare(t *testing.T) {
	a := newAdmission()
	a.after = neverAfter
	var held []*ticket
	for range a.perClient {
		tk, err := a.enter("greedy", jobRun)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, tk)
	}
	_, err := a.enter("greedy", jobQuery)
	var busy *busyError
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), "your address already has 4") || !strings.Contains(err.Error(), "try again in 5 s") {
		t.Fatalf("a fifth job of one address = %v, want busy naming the limit", err)
	}
	other, err := a.enter("other", jobQuery)
	if err != nil {
		t.Fatalf("another address is refused with %v", err)
	}
	a.done(other)
	a.done(held[0])
	if tk, err := a.enter("greedy", jobQuery); err != nil {
		t.Fatalf("after one of its jobs ended, the address is still refused: %v", err)
	} else {
		a.done(tk)
	}
	for _, tk := range held[1:] {
		a.done(tk)
	}
	if len(a.held) != 0 || len(a.busy) != 0 || len(a.queue) != 0 || a.running != [laneCount]int{} {
		t.Fatalf("after every job ended the admission still counts %v %v %v %v", a.held, a.busy, a.queue, a.running)
	}
}

func TestAdmissionQueueIsBounded(t *testing.T) {
	a := newAdmission()
	a.maxQueued = 3
	unblock := blockAdmission(t, a)
	defer unblock()
	var queued []*ticket
	for i := range a.maxQueued {
		tk, err := a.enter(string(rune('a'+i)), jobRun)
		if err != nil || tk.state != ticketWaiting {
			t.Fatalf("job %d: %+v, %v; want it waiting", i, tk, err)
		}
		queued = append(queued, tk)
	}
	_, err := a.enter("late", jobRun)
	if !strings.Contains(err.Error(), "3 runs are already waiting") {
		t.Fatalf("a job beyond the queue = %v, want busy naming the queue", err)
	}
	for _, tk := range queued {
		a.done(tk)
	}
}

// A job that waits longer than maxWait is turned away as busy rather than
// left waiting; the wait's end is a channel here, not the clock.
func TestAdmissionTurnsAwayAJobThatCannotStartInTime(t *testing.T) {
	a := newAdmission()
	expire := make(chan time.Time)
	a.after = func(time.Duration) <-chan time.Time { return expire }
	unblock := blockAdmission(t, a)
	defer unblock()
	tk, err := a.enter("patient", jobRun)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error)
	go func() { got <- a.wait(t.Context(), tk) }()
	close(expire)
	err = <-got
	var busy *busyError
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), "no run or query slot freed within 5s") {
		t.Fatalf("wait past maxWait = %v, want busy", err)
	}
	if len(a.queue) != 0 || a.held["patient"] != 0 {
		t.Fatal("the turned-away job still holds its place")
	}
}

// When a slot frees, the job of the client running fewest goes first, so
// a client with many jobs queued cannot keep another waiting; a small run
// starts in its own lane while big runs fill theirs.
func TestAdmissionIsFairAcrossClients(t *testing.T) {
	a := newAdmission()
	a.after = neverAfter
	a.slots = [laneCount]int{laneRun: 1, laneSmall: 1, laneQuery: 1}
	first, _ := a.enter("hog", jobRun)
	hog2, _ := a.enter("hog", jobRun)
	hog3, _ := a.enter("hog", jobRun)
	victim, _ := a.enter("victim", jobRun)
	if first.state != ticketRunning || hog2.state != ticketWaiting || victim.state != ticketWaiting {
		t.Fatal("the first job should run and the others wait")
	}
	small, err := a.enter("victim", jobSmallRun)
	if err != nil || small.state != ticketRunning || small.lane != laneSmall {
		t.Fatalf("a small run while the run lane is full: %+v, %v; want it running in the small lane", small, err)
	}
	a.done(small)
	a.done(first)
	if victim.state != ticketRunning || hog2.state != ticketWaiting {
		t.Fatal("the freed slot went to the client with two jobs waiting, not to the one with one")
	}
	a.done(victim)
	if hog2.state != ticketRunning {
		t.Fatal("the hog's next job did not start once the slot was free")
	}
	a.done(hog2)
	a.done(hog3)
}

// Over HTTP a busy server answers 503 with Retry-After, not a wait.
func TestTablesAnswerBusyWith503AndRetryAfter(t *testing.T) {
	s := newTestServer(t)
	s.recs.adm.after = nowAfter
	unblock := blockAdmission(t, s.recs.adm)
	defer unblock()
	res := get(t, s.Handler(), "/api/tables?design=outbox&payments=3&seed=777")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "5" || !strings.Contains(string(body), "busy") {
		t.Fatalf("tables on a busy server = %d Retry-After %q %s; want 503, 5 and busy", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
}

// A query's time limit counts from its arrival: one that waits for a
// slot its whole limit is turned away as busy instead of starting then.
func TestQueryLimitCountsFromArrival(t *testing.T) {
	s := newTestServer(t)
	s.recs.adm.after = neverAfter // only the query's own limit ends its wait
	s.queryTimeout = 20 * time.Millisecond
	h := s.Handler()
	if res := get(t, h, "/api/tables?design=outbox&payments=3"); res.StatusCode != http.StatusOK {
		t.Fatalf("listing = %d", res.StatusCode)
	}
	unblock := blockAdmission(t, s.recs.adm)
	defer unblock()
	res := get(t, h, "/api/tables?design=outbox&payments=3&db=service.db&sql=SELECT+1")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "no query slot freed within 20ms of the query's arrival") {
		t.Fatalf("a query that waited out its limit = %d %s; want 503 saying so", res.StatusCode, body)
	}
}

// waitQueued waits until n jobs wait for admission.
func waitQueued(t *testing.T, a *admission, n int) {
	t.Helper()
	deadline := time.Now().Add(safetyTimeout)
	for {
		a.mu.Lock()
		got := len(a.queue)
		a.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// When the queue is full, a client who holds little takes the place of
// the last waiting job of the client who holds the most; that job is
// turned away as busy.
func TestFullQueueMakesRoomForALighterClient(t *testing.T) {
	a := newAdmission()
	a.after = neverAfter
	a.maxQueued = 3
	unblock := blockAdmission(t, a)
	defer unblock()
	var hog []*ticket
	for range 3 {
		tk, err := a.enter("hog", jobRun)
		if err != nil {
			t.Fatal(err)
		}
		hog = append(hog, tk)
	}
	victim, err := a.enter("victim", jobRun)
	if err != nil || victim.state != ticketWaiting {
		t.Fatalf("a light client at a full queue = %+v, %v; want it queued in the hog's place", victim, err)
	}
	if err := a.wait(t.Context(), hog[2]); err == nil || !strings.Contains(err.Error(), "lighter users took its place") {
		t.Fatalf("the hog's last job = %v, want turned away", err)
	}
	if hog[0].state != ticketWaiting || hog[1].state != ticketWaiting || a.held["hog"] != 2 {
		t.Fatal("more of the hog's jobs than the last were turned away")
	}
	// Now neither holds more than the other would: no one is displaced.
	if _, err := a.enter("victim", jobRun); err == nil {
		t.Fatal("the victim's second job displaced a job of a client holding no more than it would")
	}
	if _, err := a.enter("hog", jobRun); err == nil {
		t.Fatal("the hog displaced a job of a client holding less than it")
	}
	for _, tk := range append(hog, victim) {
		a.done(tk)
	}
}
