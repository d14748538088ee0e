package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"partialtruth/sim"
)

// roomHub holds the rooms loaded in memory, loading each from the store
// the first time someone asks for it (after a restart, say), and ends
// those idle for longer than roomIdleExpiry.
type roomHub struct {
	store   roomStore
	recs    *recordings
	clock   clock
	log     *slog.Logger
	maxSize int

	mu     sync.Mutex
	closed bool
	rooms  map[string]*roomEntry
	live   map[string]*room // the loaded ones
	stop   chan struct{}
	wg     sync.WaitGroup
}

// roomEntry loads its room once, however many ask at the same time.
type roomEntry struct {
	once sync.Once
	r    *room
	err  error
}

// roomLoadTimeout bounds simulating a stored room's run on load.
const roomLoadTimeout = 30 * time.Second

// roomSweepInterval is how often idle rooms are looked for.
const roomSweepInterval = 10 * time.Minute

func newRoomHub(store roomStore, recs *recordings, clk clock, log *slog.Logger, maxSize int) *roomHub {
	h := &roomHub{store: store, recs: recs, clock: clk, log: log, maxSize: maxSize,
		rooms: map[string]*roomEntry{}, live: map[string]*room{}, stop: make(chan struct{})}
	h.wg.Add(1)
	go h.sweep()
	return h
}

// create starts a room on scs at speed: the run is simulated first, so a
// scenario that cannot run creates nothing. It returns the room and the
// trainer's secret.
func (h *roomHub) create(ctx context.Context, scs []sim.Scenario, speed float64) (*room, string, error) {
	sess := newSession(h.clock, h.recs, h.log)
	if err := sess.start(ctx, scs, speed, false); err != nil {
		sess.close()
		return nil, "", err
	}
	secret := newSecret()
	row := roomRow{secretHash: hashSecret(secret), query: scs[0].Query(), speed: speed, touched: h.clock.Now()}
	if len(scs) > 1 {
		row.compare = scs[1].Design
	}
	for attempt := 0; ; attempt++ {
		row.code = newRoomCode()
		taken, err := h.store.exists(ctx, row.code)
		if err == nil && taken {
			if attempt < 20 {
				continue
			}
			err = fmt.Errorf("no free room code after %d tries", attempt+1)
		}
		if err == nil {
			err = h.store.create(ctx, row)
		}
		if err != nil {
			sess.close()
			return nil, "", err
		}
		break
	}
	r := newRoom(row.code, storedRoom{row: row}, sess, h.store, h.clock, h.log, h.maxSize)
	e := &roomEntry{r: r}
	e.once.Do(func() {})
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		sess.close()
		return nil, "", errServerClosing
	}
	h.rooms[row.code] = e
	h.live[row.code] = r
	return r, secret, nil
}

// get returns the room with this code, loading it if needed;
// errNoSuchRoom if there is none. An ended room comes back too, without a
// session: its page shows that it ended and its results.
func (h *roomHub) get(ctx context.Context, code string) (*room, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, errServerClosing
	}
	e := h.rooms[code]
	if e == nil {
		e = &roomEntry{}
		h.rooms[code] = e
	}
	h.mu.Unlock()
	e.once.Do(func() { e.r, e.err = h.load(ctx, code) })
	if e.err != nil {
		h.mu.Lock()
		if h.rooms[code] == e {
			delete(h.rooms, code) // not cached: the next ask tries again
		}
		h.mu.Unlock()
		return nil, e.err
	}
	h.mu.Lock()
	h.live[code] = e.r
	h.mu.Unlock()
	return e.r, nil
}

// load reads a room from the store and, unless it has ended, simulates
// its run and puts the playhead where the trainer left it, paused.
func (h *roomHub) load(ctx context.Context, code string) (*room, error) {
	st, err := h.store.load(ctx, code)
	if err != nil {
		return nil, err
	}
	now := h.clock.Now()
	if !st.row.ended && now.Sub(st.row.touched) > roomIdleExpiry {
		if err := h.store.end(ctx, code, st.row.touched); err != nil {
			return nil, err
		}
		st.row.ended = true
	}
	if st.row.ended {
		return newRoom(code, st, nil, h.store, h.clock, h.log, h.maxSize), nil
	}
	scs, err := roomScenarios(st.row.query, st.row.compare)
	if err != nil {
		return nil, fmt.Errorf("room %s's stored scenario: %w", code, err)
	}
	// Loading is not the asker's to cancel: the room serves everyone.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), roomLoadTimeout)
	defer cancel()
	sess := newSession(h.clock, h.recs, h.log)
	if err := sess.start(lctx, scs, st.row.speed, false); err != nil {
		sess.close()
		return nil, fmt.Errorf("room %s: simulating its run: %w", code, err)
	}
	if st.row.atUs > 0 {
		if err := sess.seek(st.row.atUs); err != nil {
			sess.close()
			return nil, err
		}
	}
	h.log.Info("room loaded", "code", code, "participants", len(st.people), "polls", len(st.polls))
	return newRoom(code, st, sess, h.store, h.clock, h.log, h.maxSize), nil
}

// sweep ends rooms idle for longer than roomIdleExpiry, until the hub closes.
func (h *roomHub) sweep() {
	defer h.wg.Done()
	t := h.clock.NewTicker(roomSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C():
			h.endExpired(h.clock.Now())
		}
	}
}

// endExpired ends every loaded room idle since before now - roomIdleExpiry.
func (h *roomHub) endExpired(now time.Time) {
	for _, r := range h.loaded() {
		if r.expired(now) {
			if err := r.end(context.Background()); err != nil {
				h.log.Error("ending an idle room", "code", r.code, "err", err)
			}
		}
	}
}

func (h *roomHub) loaded() []*room {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*room, 0, len(h.live))
	for _, r := range h.live {
		out = append(out, r)
	}
	return out
}

// close keeps every room's playhead and stops its session.
func (h *roomHub) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	h.mu.Unlock()
	close(h.stop)
	h.wg.Wait()
	for _, r := range h.loaded() {
		if r.sess == nil {
			continue
		}
		if err := r.scenarioChanged(context.Background(), false); err != nil && !errors.Is(err, context.Canceled) {
			h.log.Error("keeping a room's playhead", "code", r.code, "err", err)
		}
		r.sess.close()
	}
}
