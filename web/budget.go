package web

import (
	"fmt"
	"strings"
	"time"

	"partialtruth/sim"
)

// The web's limits on one run. The server keeps every event of a run in
// memory to pace it and replay it, so a run is bounded by the events it
// holds, not by its payments alone: one payment whose publish always fails
// retries until the deadline, 452,835 events in the default ten minutes.
const (
	// MaxWebEvents caps one side of a web run: a run that reaches it stops
	// with "stopped": "event-limit", as the CLI's runs do at sim.MaxEvents.
	// It is enough for the largest run of any design at MaxWebPayments
	// (consumer-versioned at 10,000 payments: 476,735 events).
	MaxWebEvents = 500_000
	// MaxWebDeadline caps a web run's virtual duration. MaxWebPayments
	// arrive within a few seconds of virtual time and settle well within
	// an hour; a longer deadline only lets a retry loop run on, which the
	// event budget would cut anyway. The CLI allows sim.MaxDeadline.
	MaxWebDeadline = time.Hour
	// bytesPerEvent is what a recording holds per event, measured: about
	// 155 bytes of JSON and 16 of offsets and times for consumer-versioned
	// at 10,000 payments (73 MB for 425,330 events), 213 in all for the
	// runaway outbox whose publishes always fail; rounded up.
	bytesPerEvent = 250
	// maxRunBytes is the most one side of a web run holds once recorded;
	// while it records, its buffers may hold up to twice that.
	maxRunBytes = MaxWebEvents * bytesPerEvent
)

// webOptions bounds every simulation the web runs.
var webOptions = sim.Options{MaxEvents: MaxWebEvents}

// webLimitsText says what bounds a web run and why, for the form and for
// errors.
var webLimitsText = fmt.Sprintf("a run on the web keeps at most %d events per side (about %d MB) and a deadline of at most %s, because the server holds every event in memory to replay it; the command line allows more",
	MaxWebEvents, maxRunBytes>>20, fmtDuration(MaxWebDeadline))

// fmtDuration writes d as a person would: 1h rather than 1h0m0s.
func fmtDuration(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}
