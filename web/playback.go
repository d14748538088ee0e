package web

import (
	"math"
	"sort"
	"time"

	"partialtruth/sim"
)

// Speed limits, in virtual milliseconds per real second, from sim's
// vocabulary, where the form and the browser read them too. At or above
// maxPaceSpeed (or at 0) a run is shown as fast as the socket takes it; a
// run message without a speed plays at the form's default.
const (
	minSpeed     = sim.MinSpeed
	maxPaceSpeed = sim.MaxSpeed
	defaultSpeed = sim.DefaultSpeed
)

// checkSpeed validates a requested speed and returns it normalised: 0 for
// "as fast as possible" (sim.CheckSpeed, with the vocabulary's range).
func checkSpeed(speed float64) (float64, error) { return sim.CheckSpeed(speed) }

// playback is the playhead over one run's sides. It is plain state with no
// goroutines or I/O, so every move is testable on its own; its session
// guards it with a mutex and its pacer calls advance.
//
// The sides are merged by (at_us, side, index). shown[s] counts the events
// of side s that are visible; it is always a prefix of that side.
type playback struct {
	sides   []*recording
	shown   []int
	atUs    int64
	endUs   int64
	playing bool
	speed   float64 // virtual ms per real second; 0 = as fast as possible
	// While playing, the playhead is anchorUs plus the wall time since
	// anchorWall times speed.
	anchorUs   int64
	anchorWall time.Time
}

func newPlayback(sides []*recording, speed float64) *playback {
	p := &playback{sides: sides, shown: make([]int, len(sides)), speed: speed}
	for _, r := range sides {
		p.endUs = max(p.endUs, r.endUs())
	}
	return p
}

// finished reports whether every event of every side is visible.
func (p *playback) finished() bool {
	for s, r := range p.sides {
		if p.shown[s] < r.events() {
			return false
		}
	}
	return true
}

// sideFinished reports whether side s's last event is visible.
func (p *playback) sideFinished(s int) bool { return p.shown[s] >= p.sides[s].events() }

// play starts playback at now; at the end it starts over from the
// beginning. At speed 0 everything becomes visible at once.
func (p *playback) play(now time.Time) {
	if p.finished() {
		p.seek(0, now)
	}
	p.playing = true
	p.anchor(now)
	if p.speed == 0 {
		p.moveTo(p.endUs)
	} else {
		p.moveTo(p.atUs) // what happens at this very instant is visible
	}
	p.stopAtEnd()
}

func (p *playback) pause() { p.playing = false }

// setSpeed changes the speed without a jump: the playhead keeps its place.
func (p *playback) setSpeed(speed float64, now time.Time) {
	if p.playing {
		p.advance(now)
	}
	p.speed = speed
	if p.playing {
		p.play(now)
	}
}

func (p *playback) anchor(now time.Time) {
	p.anchorUs, p.anchorWall = p.atUs, now
}

// advance moves a playing playhead to where the wall clock says it is.
func (p *playback) advance(now time.Time) {
	if !p.playing {
		return
	}
	if p.speed == 0 {
		p.moveTo(p.endUs)
	} else {
		// speed virtual ms per real s = speed/1000 virtual µs per real µs.
		elapsedUs := float64(now.Sub(p.anchorWall).Microseconds())
		at := float64(p.anchorUs) + elapsedUs*p.speed/1000
		p.moveTo(int64(math.Min(at, float64(p.endUs))))
	}
	p.stopAtEnd()
}

// moveTo moves the playhead forward to atUs, revealing every event up to
// it; events hidden by a step back before it become visible again.
func (p *playback) moveTo(atUs int64) {
	p.atUs = max(p.atUs, min(atUs, p.endUs))
	for s, r := range p.sides {
		p.shown[s] = max(p.shown[s], countUpTo(r.atUs, p.atUs))
	}
}

func (p *playback) stopAtEnd() {
	if p.atUs >= p.endUs && p.finished() {
		p.playing = false
	}
}

// seek puts the playhead at atUs (clamped to the run), showing exactly the
// events up to it. Playing continues from there.
func (p *playback) seek(atUs int64, now time.Time) {
	p.atUs = min(max(atUs, 0), p.endUs)
	for s, r := range p.sides {
		p.shown[s] = countUpTo(r.atUs, p.atUs)
	}
	p.anchor(now)
	p.stopAtEnd()
}

// seekEvent pauses with exactly the merged timeline up to and including
// event i of side s shown: on the other sides, what comes before it in
// (at_us, side) order.
func (p *playback) seekEvent(s, i int, now time.Time) {
	at := p.sides[s].atUs[i]
	for t, r := range p.sides {
		switch {
		case t < s:
			p.shown[t] = countUpTo(r.atUs, at)
		case t == s:
			p.shown[t] = i + 1
		default:
			p.shown[t] = countUpTo(r.atUs, at-1)
		}
	}
	p.atUs = at
	p.playing = false
	p.anchor(now)
}

// step pauses and shows one more (delta 1) or one fewer (delta -1) event of
// the merged timeline, |delta| times; it stops at either end.
func (p *playback) step(delta int) {
	p.playing = false
	for ; delta > 0; delta-- {
		s := p.nextHidden()
		if s < 0 {
			break
		}
		p.atUs = p.sides[s].atUs[p.shown[s]]
		p.shown[s]++
	}
	for ; delta < 0; delta++ {
		s := p.lastShown()
		if s < 0 {
			break
		}
		p.shown[s]--
		p.atUs = 0
		if l := p.lastShown(); l >= 0 {
			p.atUs = p.sides[l].atUs[p.shown[l]-1]
		}
	}
}

// nextHidden is the side whose next hidden event comes first in merged
// order, -1 when all are visible.
func (p *playback) nextHidden() int {
	best := -1
	for s, r := range p.sides {
		if p.shown[s] < r.events() && (best < 0 || r.atUs[p.shown[s]] < p.sides[best].atUs[p.shown[best]]) {
			best = s
		}
	}
	return best
}

// lastShown is the side whose last visible event comes last in merged
// order, -1 when none is visible.
func (p *playback) lastShown() int {
	best := -1
	for s, r := range p.sides {
		if p.shown[s] > 0 && (best < 0 || r.atUs[p.shown[s]-1] >= p.sides[best].atUs[p.shown[best]-1]) {
			best = s
		}
	}
	return best
}

// countUpTo counts the times in the sorted slice that are <= atUs.
func countUpTo(times []int64, atUs int64) int {
	return sort.Search(len(times), func(i int) bool { return times[i] > atUs })
}
