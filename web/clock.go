package web

import "time"

// clock is where the pacer gets wall time from. Production uses the real
// one; tests substitute a fake whose ticks they send by hand, so no test
// depends on how fast the machine is.
type clock interface {
	Now() time.Time
	NewTicker(d time.Duration) ticker
}

// ticker is the part of *time.Ticker the pacer uses.
type ticker interface {
	C() <-chan time.Time
	Stop()
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTicker(d time.Duration) ticker { return realTicker{time.NewTicker(d)} }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time { return t.t.C }
func (t realTicker) Stop()               { t.t.Stop() }
