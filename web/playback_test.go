package web

import (
	"math"
	"slices"
	"testing"
	"time"
)

// fakeSides builds recordings that only have event times, enough for the
// playhead.
func fakeSides(times ...[]int64) []*recording {
	out := make([]*recording, len(times))
	for i, ts := range times {
		out[i] = &recording{atUs: ts}
	}
	return out
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestStepWalksTheMergedTimelineByTimeThenSide(t *testing.T) {
	p := newPlayback(fakeSides([]int64{0, 10, 10, 30}, []int64{10, 20}), 4)
	// Merged order by (at_us, side, index).
	want := [][]int{{1, 0}, {2, 0}, {3, 0}, {3, 1}, {3, 2}, {4, 2}}
	wantAt := []int64{0, 10, 10, 10, 20, 30}
	for i := range want {
		p.step(1)
		if !slices.Equal(p.shown, want[i]) || p.atUs != wantAt[i] {
			t.Fatalf("step %d: shown %v at %d, want %v at %d", i+1, p.shown, p.atUs, want[i], wantAt[i])
		}
	}
	p.step(1)
	if !slices.Equal(p.shown, []int{4, 2}) {
		t.Fatalf("step past the end changed shown to %v", p.shown)
	}
	for i := len(want) - 2; i >= 0; i-- {
		p.step(-1)
		if !slices.Equal(p.shown, want[i]) || p.atUs != wantAt[i] {
			t.Fatalf("step back to %d: shown %v at %d, want %v at %d", i+1, p.shown, p.atUs, want[i], wantAt[i])
		}
	}
	p.step(-1)
	p.step(-1)
	if !slices.Equal(p.shown, []int{0, 0}) || p.atUs != 0 {
		t.Fatalf("stepping back past the start: shown %v at %d, want none at 0", p.shown, p.atUs)
	}
	p.step(3)
	if !slices.Equal(p.shown, want[2]) {
		t.Fatalf("step 3 from the start: %v, want %v", p.shown, want[2])
	}
}

func TestStepPauses(t *testing.T) {
	p := newPlayback(fakeSides([]int64{0, 1000}), 1)
	p.play(t0)
	p.step(1)
	if p.playing {
		t.Fatal("still playing after a step")
	}
}

func TestSeekShowsExactlyTheEventsUpToTheTime(t *testing.T) {
	p := newPlayback(fakeSides([]int64{0, 10, 10, 30}, []int64{10, 20}), 4)
	for _, tc := range []struct {
		at     int64
		shown  []int
		wantAt int64
	}{
		{10, []int{3, 1}, 10}, {9, []int{1, 0}, 9}, {25, []int{3, 2}, 25},
		{1 << 40, []int{4, 2}, 30}, {-3, []int{1, 0}, 0}, {0, []int{1, 0}, 0},
	} {
		p.seek(tc.at, t0)
		if !slices.Equal(p.shown, tc.shown) || p.atUs != tc.wantAt {
			t.Errorf("seek %d: shown %v at %d, want %v at %d", tc.at, p.shown, p.atUs, tc.shown, tc.wantAt)
		}
	}
}

func TestAdvanceFollowsTheWallClockAtTheSpeed(t *testing.T) {
	// Speed 1000 is real time: one virtual ms per real ms.
	p := newPlayback(fakeSides([]int64{0, 1_000, 50_000, 2_000_000}), 1000)
	p.play(t0)
	if !slices.Equal(p.shown, []int{1}) {
		t.Fatalf("at play: shown %v, want the event at 0", p.shown)
	}
	p.advance(t0.Add(40 * time.Millisecond))
	if p.atUs != 40_000 || !slices.Equal(p.shown, []int{2}) {
		t.Fatalf("40ms later: at %d shown %v, want at 40000 with 2 shown", p.atUs, p.shown)
	}
	p.setSpeed(2000, t0.Add(40*time.Millisecond))
	p.advance(t0.Add(45 * time.Millisecond))
	if p.atUs != 50_000 || !slices.Equal(p.shown, []int{3}) {
		t.Fatalf("5ms at double speed: at %d shown %v, want at 50000 with 3 shown", p.atUs, p.shown)
	}
	p.pause()
	p.advance(t0.Add(time.Hour))
	if p.atUs != 50_000 {
		t.Fatalf("paused playhead moved to %d", p.atUs)
	}
	p.play(t0.Add(time.Hour))
	p.advance(t0.Add(2 * time.Hour))
	if p.playing || p.atUs != 2_000_000 || !p.finished() {
		t.Fatalf("long after the end: playing %v at %d finished %v; want stopped at the end", p.playing, p.atUs, p.finished())
	}
	p.play(t0.Add(3 * time.Hour))
	if !p.playing || p.atUs != 0 || !slices.Equal(p.shown, []int{1}) {
		t.Fatalf("play at the end: playing %v at %d shown %v, want a restart from 0", p.playing, p.atUs, p.shown)
	}
}

func TestPlayAtFullSpeedShowsEverythingAtOnce(t *testing.T) {
	p := newPlayback(fakeSides([]int64{0, 5, 9}, []int64{7}), 0)
	p.play(t0)
	if p.playing || !slices.Equal(p.shown, []int{3, 1}) || p.atUs != 9 {
		t.Fatalf("after play at speed 0: playing %v shown %v at %d", p.playing, p.shown, p.atUs)
	}
}

func TestPlayRevealsEventsHiddenByAStepBack(t *testing.T) {
	p := newPlayback(fakeSides([]int64{0, 0, 0, 100_000}), 1000)
	p.step(3)
	p.step(-2)
	p.play(t0)
	p.advance(t0.Add(time.Millisecond))
	if !slices.Equal(p.shown, []int{3}) {
		t.Fatalf("play after a step back shows %v, want the hidden events at the playhead again", p.shown)
	}
}

func TestCheckSpeed(t *testing.T) {
	for _, tc := range []struct {
		in, out float64
		ok      bool
	}{
		{4, 4, true}, {0.25, 0.25, true}, {99_999, 99_999, true},
		{0, 0, true}, {100_000, 0, true}, {1e12, 0, true},
		{0.2, 0, false}, {-1, 0, false}, {math.NaN(), 0, false}, {math.Inf(-1), 0, false},
	} {
		got, err := checkSpeed(tc.in)
		if (err == nil) != tc.ok || got != tc.out {
			t.Errorf("checkSpeed(%v) = %v, %v; want %v, ok %v", tc.in, got, err, tc.out, tc.ok)
		}
	}
}

// TestSeekEventShowsTheMergedTimelineUpToThatEvent: seeking to any event
// of either side leaves exactly what stepping to it would, so a step from
// there lands on the event's neighbours in the merged order.
func TestSeekEventShowsTheMergedTimelineUpToThatEvent(t *testing.T) {
	sides := fakeSides([]int64{0, 10, 10, 30}, []int64{10, 20})
	// Merged order by (at_us, side, index), as in the step test.
	order := [][2]int{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {0, 3}}
	stepped := newPlayback(sides, 4)
	for k, ev := range order {
		stepped.step(1)
		p := newPlayback(sides, 4)
		p.play(t0)
		p.seekEvent(ev[0], ev[1], t0)
		if p.playing || !slices.Equal(p.shown, stepped.shown) || p.atUs != stepped.atUs {
			t.Fatalf("seek to side %d event %d: shown %v at %d playing %v; stepping there shows %v at %d", ev[0], ev[1], p.shown, p.atUs, p.playing, stepped.shown, stepped.atUs)
		}
		p.step(1)
		if k+1 < len(order) {
			n := order[k+1]
			if p.shown[n[0]] != n[1]+1 {
				t.Fatalf("a step after side %d event %d shows %v; want side %d event %d next", ev[0], ev[1], p.shown, n[0], n[1])
			}
		}
	}
}
