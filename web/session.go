package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"partialtruth/sim"
)

// session is one run and its playhead, apart from any socket: the scenario's
// recordings (one per side), the playback (playhead, speed, playing or
// not) and the pacer that moves a playing playhead, all under one lock. Any
// number of followers (a viewer is one socket) are woken when it changes;
// each sends what it has not sent yet at its own pace. The playground is a
// session with one viewer, created with its socket and closed with it; a
// lesson step or a room creates a session from its content and attaches
// viewers to it, and whoever creates a session closes it.
//
// Everything a session sends is encoded once, by the session, however many
// followers it has: the meta and each side's report when a run starts, the
// cursor when the playhead moves. Events need no encoding at all: a
// recording holds them as JSON, and a viewer copies the slice it lacks.
//
// The API, safe for concurrent use:
//
//	newSession(clock, recs, log)      a session with no run
//	start(ctx, scenarios, speed, autoplay)  simulate (or take from the cache) and make it the run
//	play, pause, step, seek, setSpeed  move the playhead; errNoRun before the first run
//	attach(f), detach(f)              add or remove a follower; attach wakes it with the current run
//	snapshot()                        what a follower sends next, taken under the lock
//	close()                           stop the pacer; the session stays readable
type session struct {
	clock clock
	recs  *recordings
	log   *slog.Logger

	mu        sync.Mutex
	closed    bool
	followers map[follower]struct{}
	starts    uint64 // start calls so far; the latest one wins
	installed uint64 // the start call whose run is the current one
	// cancelStart cancels the latest start while it waits for its run.
	cancelStart context.CancelCauseFunc
	gen         int // the current run's number, from 1; 0 before the first run
	pb          *playback
	meta        []byte   // the current run's meta message
	reports     [][]byte // each side's report message
	cursor      []byte   // the last cursor message, encoded once
	cursorAt    cursorMsg
	cursorVer   int // counts cursor changes, so followers see a new one
	encodes     int // messages encoded so far, for tests
	pacerStop   chan struct{}
	wg          sync.WaitGroup // the pacer
}

// follower is what a session wakes. A viewer is one; a room's fan-out
// across instances could be another. Both methods must return at once.
type follower interface {
	// newRun says run gen has started: the follower sends its meta before
	// anything else of it, after whatever the follower already queued.
	newRun(gen int)
	// poke says the playhead moved or the run changed.
	poke()
}

// errSuperseded cancels a start that a newer one replaced.
var errSuperseded = errors.New("a newer run replaced this one")

// errNoRun refuses a playhead move before any run has started.
var errNoRun = errors.New("the session has no run yet")

func newSession(clk clock, recs *recordings, log *slog.Logger) *session {
	return &session{clock: clk, recs: recs, log: log, followers: map[follower]struct{}{}}
}

// attach adds a follower; if a run is under way, the follower is told so
// at once and gets its whole state, as a late joiner should.
func (ss *session) attach(f follower) {
	ss.mu.Lock()
	ss.followers[f] = struct{}{}
	gen := ss.gen
	ss.mu.Unlock()
	if gen > 0 {
		f.newRun(gen)
		f.poke()
	}
}

// detach removes a follower; it is not woken again.
func (ss *session) detach(f follower) {
	ss.mu.Lock()
	delete(ss.followers, f)
	ss.mu.Unlock()
}

// close stops the pacer and waits for it. The session's state stays
// readable; later moves change it but nothing paces it.
func (ss *session) close() {
	ss.mu.Lock()
	if !ss.closed && ss.pb != nil {
		ss.recs.release(ss.pb.sides)
	}
	ss.closed = true
	ss.stopPacerLocked()
	ss.mu.Unlock()
	ss.wg.Wait()
}

// start makes the run of scs (one scenario per side) the session's run,
// simulating the sides no one has yet, at speed (already checked with
// checkSpeed), playing at once if autoplay. It returns when the run is in
// place, or early with ctx's cause; a start that begins after this one
// cancels this one's wait (it returns nil, and its simulation stops unless
// someone else waits for it), and if the newer one has already installed
// its run, this one's run is dropped.
func (ss *session) start(ctx context.Context, scs []sim.Scenario, speed float64, autoplay bool) error {
	if _, err := checkSpeed(speed); err != nil {
		return &sim.InputError{Field: "speed", Msg: err.Error()}
	}
	// A newer start replaces this one: it cancels this one's wait, and
	// so the simulation if no one else waits for it.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ss.mu.Lock()
	ss.starts++
	ticket := ss.starts
	if ss.cancelStart != nil {
		ss.cancelStart(errSuperseded)
	}
	ss.cancelStart = cancel
	ss.mu.Unlock()
	recs, err := ss.recs.get(ctx, scs...)
	ss.mu.Lock()
	if ss.starts == ticket {
		ss.cancelStart = nil
	}
	ss.mu.Unlock()
	if err != nil {
		if errors.Is(context.Cause(ctx), errSuperseded) {
			return nil // the newer run is the session's to install
		}
		return err
	}
	meta := metaMsg{Type: msgMeta, Runs: make([]runMeta, len(recs))}
	for i, r := range recs {
		meta.Runs[i] = r.meta(i)
	}
	ss.mu.Lock()
	if ticket < ss.installed { // a newer run is already in place
		ss.mu.Unlock()
		return nil
	}
	ss.installed = ticket
	// The session pins what it shows, so the memory budget counts it and
	// the cache keeps it, until a newer run or close lets it go.
	if !ss.closed {
		ss.recs.hold(recs)
		if ss.pb != nil {
			ss.recs.release(ss.pb.sides)
		}
	}
	ss.stopPacerLocked()
	ss.gen++
	gen := ss.gen
	ss.meta = ss.encodeLocked(meta)
	ss.reports = make([][]byte, len(recs))
	for i, r := range recs {
		ss.reports[i] = ss.encodeLocked(reportMsg{Type: msgReport, Side: i, Report: r.report})
	}
	ss.pb = newPlayback(recs, speed)
	ss.cursor = nil
	if autoplay {
		ss.pb.play(ss.clock.Now())
	}
	ss.changedLocked()
	followers := ss.followersLocked()
	ss.mu.Unlock()
	for _, f := range followers {
		f.newRun(gen)
		f.poke()
	}
	return nil
}

// play starts playing; at the end it starts again from the beginning.
func (ss *session) play() error {
	return ss.move(func(pb *playback) { pb.play(ss.clock.Now()) })
}

// pause stops the playhead where it is.
func (ss *session) pause() error {
	return ss.move((*playback).pause)
}

// step pauses and shows delta events more (or fewer, when negative) of
// the merged timeline; |delta| is 1 to maxStep.
func (ss *session) step(delta int) error {
	if delta == 0 || delta > maxStep || delta < -maxStep {
		return &sim.InputError{Field: "delta", Msg: fmt.Sprintf("step delta %d is out of range; allowed: -%d to %d, not 0", delta, maxStep, maxStep)}
	}
	return ss.move(func(pb *playback) { pb.step(delta) })
}

// seek shows exactly the events up to atUs (clamped to the run).
func (ss *session) seek(atUs int64) error {
	if atUs < 0 {
		return &sim.InputError{Field: "at_us", Msg: fmt.Sprintf("seek at_us %d is not valid; allowed: a virtual time in microseconds, 0 or more", atUs)}
	}
	return ss.move(func(pb *playback) { pb.seek(atUs, ss.clock.Now()) })
}

// seekEvent pauses with the playhead on event id (from 1) of side: the
// merged timeline shown up to and including that event, no further, so a
// step from there moves to its neighbour. It is how a selected event
// becomes the playhead.
func (ss *session) seekEvent(side, id int) error {
	var bad error
	err := ss.move(func(pb *playback) {
		if side < 0 || side >= len(pb.sides) {
			bad = &sim.InputError{Field: "side", Msg: fmt.Sprintf("seek side %d is not valid; allowed: 0 to %d", side, len(pb.sides)-1)}
			return
		}
		if n := pb.sides[side].events(); id < 1 || id > n {
			bad = &sim.InputError{Field: "event", Msg: fmt.Sprintf("seek event %d is not valid; allowed: 1 to %d, an event id of side %d", id, n, side)}
			return
		}
		pb.seekEvent(side, id-1, ss.clock.Now())
	})
	if err != nil {
		return err
	}
	return bad
}

// setSpeed changes the speed (see checkSpeed) without moving the playhead.
func (ss *session) setSpeed(speed float64) error {
	speed, err := checkSpeed(speed)
	if err != nil {
		return &sim.InputError{Field: "speed", Msg: err.Error()}
	}
	return ss.move(func(pb *playback) { pb.setSpeed(speed, ss.clock.Now()) })
}

// move applies one change to the playback under the lock, paces it and
// wakes every follower.
func (ss *session) move(change func(*playback)) error {
	ss.mu.Lock()
	if ss.pb == nil {
		ss.mu.Unlock()
		return errNoRun
	}
	change(ss.pb)
	ss.changedLocked()
	followers := ss.followersLocked()
	ss.mu.Unlock()
	for _, f := range followers {
		f.poke()
	}
	return nil
}

// changedLocked follows a change of the playback: it starts or stops the
// pacer and encodes the cursor if it moved. ss.mu is held.
func (ss *session) changedLocked() {
	pb := ss.pb
	ss.paceLocked()
	cur := cursorMsg{Type: msgCursor, AtUs: pb.atUs, Shown: pb.shown, Playing: pb.playing, Speed: pb.speed}
	last := ss.cursorAt
	if ss.cursor != nil && cur.AtUs == last.AtUs && cur.Playing == last.Playing &&
		cur.Speed == last.Speed && slices.Equal(cur.Shown, last.Shown) {
		return
	}
	cur.Shown = slices.Clone(pb.shown)
	ss.cursorAt = cur
	ss.cursor = ss.encodeLocked(cur)
	ss.cursorVer++
}

// encodeLocked is where the session turns a message into JSON, once for
// every follower; it counts each call. ss.mu is held.
func (ss *session) encodeLocked(m any) []byte {
	ss.encodes++
	b, err := json.Marshal(m)
	if err != nil { // every message type is plain data; this is a bug
		panic(fmt.Sprintf("encode %T: %v", m, err))
	}
	return b
}

func (ss *session) followersLocked() []follower {
	out := make([]follower, 0, len(ss.followers))
	for f := range ss.followers {
		out = append(out, f)
	}
	return out
}

// sessionState is what a follower reads to decide what to send: taken
// under the session's lock, then used without it. Sides, meta, reports and
// cursor are never changed once published, so sharing them is safe.
type sessionState struct {
	gen       int // 0: no run yet
	meta      []byte
	sides     []*recording
	shown     []int
	reports   [][]byte
	cursor    []byte
	cursorVer int
	finished  bool
}

// snapshot returns the session's current state.
func (ss *session) snapshot() sessionState {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.pb == nil {
		return sessionState{}
	}
	return sessionState{gen: ss.gen, meta: ss.meta, sides: ss.pb.sides, shown: slices.Clone(ss.pb.shown),
		reports: ss.reports, cursor: ss.cursor, cursorVer: ss.cursorVer, finished: ss.pb.finished()}
}

// encodeCount is how many messages the session has encoded.
func (ss *session) encodeCount() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.encodes
}
