package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"partialtruth/sim"
)

// admission decides when a simulation or a SQL query may use the CPU. The
// server runs a few jobs at once (lanes of slots) and lets a bounded
// number wait; each client address may hold at most perClient jobs,
// running or waiting, and a job that cannot start within maxWait is turned
// away as busy, so no request waits without end and no client can fill
// the queue for the others.
//
// Three lanes keep one kind of load from starving another: runs (one slot
// per CPU but one), a lane of its own for small runs (a playground's compare of a
// few hundred payments starts at once even while big runs fill the run
// lane; a small run also takes a free run slot), and a lane for SQL
// queries, which would otherwise queue behind simulations. When a slot
// frees, the waiting job whose client runs fewest jobs goes next, the
// earliest first among equals: a client with many jobs waiting does not
// go before one with a single job. When the queue is full, a client who
// holds few jobs takes the place of the last waiting job of one who holds
// the most.
type admission struct {
	perClient int
	maxQueued int
	maxWait   time.Duration
	// after is time.After; tests make the wait's end a channel they close.
	after func(time.Duration) <-chan time.Time

	closing chan struct{} // closed by close

	mu      sync.Mutex
	closed  bool
	slots   [laneCount]int // capacity per lane
	running [laneCount]int
	queue   []*ticket      // waiting, in arrival order
	held    map[string]int // client → tickets it holds, waiting or running
	busy    map[string]int // client → tickets it runs
}

// jobKind is what a ticket is for; it picks the lanes the job may use.
type jobKind int

const (
	jobRun      jobKind = iota // a simulation
	jobSmallRun                // a simulation of at most smallRunPayments, no longer than the default deadline
	jobQuery                   // a SQL query on a run's tables
)

// Lanes.
const (
	laneRun = iota
	laneSmall
	laneQuery
	laneCount
)

// Admission limits, for the README and the busy messages.
const (
	// admitPerClient is how many jobs one client address may hold,
	// running or waiting: a compare is two simulations, and a query
	// besides leaves one to spare.
	admitPerClient = 4
	// admitMaxQueued caps the jobs of one kind (runs, small runs,
	// queries) waiting across all clients, so a flood of one kind
	// leaves room to wait for the others.
	admitMaxQueued = 32
	// admitMaxWait is how long a job may wait for a slot before it is
	// turned away as busy.
	admitMaxWait = 5 * time.Second
	// smallRunPayments is the most payments a run of the small lane has.
	smallRunPayments = 1000
	// retryAfter is what a busy answer asks the client to wait.
	retryAfter = 5 * time.Second
)

// ticket is one job's place: waiting until granted is closed, then
// running in lane.
type ticket struct {
	client  string
	kind    jobKind
	granted chan struct{}
	lane    int
	state   int // ticketWaiting, ticketRunning or ticketDone
}

const (
	ticketWaiting = iota
	ticketRunning
	ticketDone
	ticketShed // turned away from the queue to make room for a lighter client
)

func newAdmission() *admission {
	a := &admission{perClient: admitPerClient, maxQueued: admitMaxQueued, maxWait: admitMaxWait, after: time.After,
		closing: make(chan struct{}), held: map[string]int{}, busy: map[string]int{}}
	// Big runs leave a CPU for small runs and queries (on one CPU they
	// share it): a playground's compare stays quick under any load.
	a.slots = [laneCount]int{laneRun: max(1, runtime.GOMAXPROCS(0)-1), laneSmall: 1, laneQuery: 1}
	return a
}

// busyError turns a job away for now: 503 with Retry-After over HTTP, an
// error message saying to try again on a socket.
type busyError struct {
	msg        string
	retryAfter time.Duration
}

func (e *busyError) Error() string {
	return fmt.Sprintf("the server is busy: %s; try again in %d s", e.msg, int(e.retryAfter.Seconds()))
}

// enter gives client a ticket for a job of kind, running at once if a
// lane has a free slot and no one waits for it, else waiting. It refuses
// with a busyError when client already holds perClient tickets or the
// queue is full, and with errServerClosing once the server stops.
func (a *admission) enter(client string, kind jobKind) (*ticket, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errServerClosing
	}
	if a.held[client] >= a.perClient {
		return nil, &busyError{fmt.Sprintf("your address already has %d runs or queries running or waiting, the most one address may have", a.perClient), retryAfter}
	}
	t := &ticket{client: client, kind: kind, granted: make(chan struct{})}
	if lane, ok := a.freeLaneLocked(kind); ok && !a.waitingForLocked(kind) {
		a.grantLocked(t, lane)
	} else {
		if n := a.waitingLocked(kind); n >= a.maxQueued && !a.shedLocked(client, kind) {
			return nil, &busyError{fmt.Sprintf("%d %s are already waiting, the most the server queues", n, kindNames[kind]), retryAfter}
		}
		a.queue = append(a.queue, t)
	}
	a.held[client]++
	return t, nil
}

// wait returns once t may run, or with an error: ctx's cause, a busyError
// when t waited maxWait, errServerClosing at shutdown. After an error t is
// done; after nil the caller calls done when the job ends.
func (a *admission) wait(ctx context.Context, t *ticket) error {
	timeout := a.after(a.maxWait)
	var err error
	select {
	case <-t.granted:
		a.mu.Lock()
		shed, closed := t.state == ticketShed, a.closed
		a.mu.Unlock()
		if shed {
			return &busyError{"runs and queries of lighter users took its place in the full queue", retryAfter}
		}
		if closed {
			// Granted and closing may both be ready, and select picks
			// either: a job granted as the server stops does not start.
			a.done(t)
			return errServerClosing
		}
		return nil
	case <-ctx.Done():
		err = context.Cause(ctx)
	case <-timeout:
		err = &busyError{fmt.Sprintf("no run or query slot freed within %s", fmtDuration(a.maxWait)), retryAfter}
	case <-a.closing:
		err = errServerClosing
	}
	a.mu.Lock()
	granted := t.state == ticketRunning
	a.mu.Unlock()
	if granted && ctx.Err() == nil && !a.isClosed() {
		return nil // granted as it gave up: run it after all
	}
	a.done(t)
	return err
}

// admit is enter and wait for a job of ctx's client; it returns the
// job's release.
func (a *admission) admit(ctx context.Context, kind jobKind) (func(), error) {
	t, err := a.enter(clientOf(ctx), kind)
	if err != nil {
		return nil, err
	}
	if err := a.wait(ctx, t); err != nil {
		return nil, err
	}
	return func() { a.done(t) }, nil
}

// runKind is the kind of job simulating sc is: a small run when it has
// at most smallRunPayments and the default deadline or less.
func runKind(sc sim.Scenario) jobKind {
	if sc.Payments <= smallRunPayments && time.Duration(sc.Deadline) <= sim.DefaultDeadline {
		return jobSmallRun
	}
	return jobRun
}

// done releases t's slot or place and lets the next job run.
func (a *admission) done(t *ticket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch t.state {
	case ticketDone, ticketShed:
		return
	case ticketRunning:
		a.running[t.lane]--
		a.busy[t.client]--
		if a.busy[t.client] == 0 {
			delete(a.busy, t.client)
		}
	case ticketWaiting:
		for i, q := range a.queue {
			if q == t {
				a.queue = append(a.queue[:i], a.queue[i+1:]...)
				break
			}
		}
	}
	t.state = ticketDone
	a.held[t.client]--
	if a.held[t.client] == 0 {
		delete(a.held, t.client)
	}
	a.grantWaitingLocked()
}

// shedLocked makes room in the full queue for a job of client: it turns
// away the last-arrived waiting job of kind of the client holding the most jobs,
// if that client holds more than client will with this one. So a client
// who floods the queue cannot keep out one who asks for little. It says
// whether it made room. a.mu is held.
func (a *admission) shedLocked(client string, kind jobKind) bool {
	victim := -1
	for i, q := range a.queue {
		if q.kind != kind {
			continue
		}
		if victim < 0 || a.held[q.client] >= a.held[a.queue[victim].client] {
			victim = i
		}
	}
	if victim < 0 || a.held[a.queue[victim].client] <= a.held[client]+1 {
		return false
	}
	t := a.queue[victim]
	a.queue = append(a.queue[:victim], a.queue[victim+1:]...)
	t.state = ticketShed
	a.held[t.client]--
	if a.held[t.client] == 0 {
		delete(a.held, t.client)
	}
	close(t.granted)
	return true
}

// close refuses every new ticket and turns away every waiting one.
func (a *admission) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.closed {
		a.closed = true
		close(a.closing)
	}
}

func (a *admission) isClosed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closed
}

// freeLaneLocked is a lane with a free slot that a job of kind may use.
func (a *admission) freeLaneLocked(kind jobKind) (int, bool) {
	var lanes []int
	switch kind {
	case jobRun:
		lanes = []int{laneRun}
	case jobSmallRun:
		lanes = []int{laneSmall, laneRun}
	case jobQuery:
		lanes = []int{laneQuery}
	}
	for _, l := range lanes {
		if a.running[l] < a.slots[l] {
			return l, true
		}
	}
	return 0, false
}

// waitingLocked is how many jobs of kind wait.
func (a *admission) waitingLocked(kind jobKind) (n int) {
	for _, q := range a.queue {
		if q.kind == kind {
			n++
		}
	}
	return n
}

// kindNames name the kinds in busy messages.
var kindNames = [...]string{jobRun: "runs", jobSmallRun: "small runs", jobQuery: "queries"}

// waitingForLocked says whether a job that could use kind's lanes waits,
// so a newcomer does not overtake it.
func (a *admission) waitingForLocked(kind jobKind) bool {
	for _, q := range a.queue {
		if q.kind == kind {
			return true
		}
	}
	return false
}

// before says whether waiting job p goes before q (which arrived
// earlier). a.mu is held.
func (a *admission) before(p, q *ticket) bool {
	if a.busy[p.client] != a.busy[q.client] {
		return a.busy[p.client] < a.busy[q.client]
	}
	return a.held[p.client] < a.held[q.client]
}

func (a *admission) grantLocked(t *ticket, lane int) {
	t.state, t.lane = ticketRunning, lane
	a.running[lane]++
	a.busy[t.client]++
	close(t.granted)
}

// grantWaitingLocked starts waiting jobs while slots are free: each time
// the one whose client runs fewest jobs, then holds fewest, the earliest
// among equals.
func (a *admission) grantWaitingLocked() {
	if a.closed {
		return // the waiting are turned away, not started, once the server stops
	}
	for {
		best, bestLane := -1, 0
		for i, q := range a.queue {
			lane, ok := a.freeLaneLocked(q.kind)
			if !ok {
				continue
			}
			if best < 0 || a.before(q, a.queue[best]) {
				best, bestLane = i, lane
			}
		}
		if best < 0 {
			return
		}
		t := a.queue[best]
		a.queue = append(a.queue[:best], a.queue[best+1:]...)
		a.grantLocked(t, bestLane)
	}
}

// clientKey is the context key of the client address a job is charged to.
type clientKey struct{}

// withClient charges the work ctx starts to client.
func withClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

// clientOf is the client address work under ctx is charged to; "" when
// none was set (the server's own work, such as lesson pages built at
// start-up, shares one account).
func clientOf(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(string)
	return c
}

// clientAddr is the address a request comes from, without its port: the
// unit of fairness. Proxies' forwarding headers are not trusted.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// withClientAddr charges every request's work to its client address.
func withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(withClient(r.Context(), clientAddr(r))))
	})
}
