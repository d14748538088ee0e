package sim

import (
	"context"
	"fmt"
	"slices"
)

// Result is what a run produces besides its event stream.
type Result struct {
	Report Report
	// Marks lists, in event order, every event that is evidence of a
	// violation, one per violation counted in Report.
	Marks []Mark
	// FirstEvents holds, per violated key, the event Report.FirstViolation
	// names, with its Violation set; only when Options.KeepEvidence asked
	// for it.
	FirstEvents map[string]Event
}

// Mark says that an event is the evidence for one counted violation.
type Mark struct {
	Event     int    `json:"event"`
	Violation string `json:"violation"`
	// Note says how the event led to the violation ("this stopped its
	// publish, and nothing published it again: payment 200 … (lost)").
	Note string `json:"note,omitempty"`
}

// Apply makes ev, the event m names, the evidence m says it is: it sets
// ev.Violation and adds m's note to ev's note.
func (m Mark) Apply(ev *Event) {
	ev.Violation = m.Violation
	if m.Note != "" {
		if ev.Note == "" {
			ev.Note = m.Note
		} else {
			ev.Note += "; " + m.Note
		}
	}
}

// Run simulates sc and checks the result. sink, if not nil, receives every
// event as it happens; the pointer is only valid during the call. The same
// scenario always gives the same events and the same Result.
func Run(sc Scenario, sink func(*Event)) (Result, error) {
	return run(context.Background(), sc, sink, Options{}, nil)
}

// Options bound one run beyond what its scenario says.
type Options struct {
	// KeepEvidence records, as the run goes, the first event that shows
	// each violation, in Result.FirstEvents: what a report's
	// first_violation ids point at, without running the scenario again.
	// It costs building every event's note, as a sink does.
	KeepEvidence bool
	// MaxEvents is the run's event budget: a run that would emit more
	// stops with exactly MaxEvents events and Report.Stopped =
	// "event-limit". Zero or more than the package's MaxEvents means
	// MaxEvents.
	MaxEvents int
}

// maxEvents is the budget o sets.
func (o Options) maxEvents() int {
	if o.MaxEvents <= 0 || o.MaxEvents > MaxEvents {
		return MaxEvents
	}
	return o.MaxEvents
}

// RunContext is Run, bounded by ctx and opts. A run whose ctx is cancelled
// stops within about a thousand steps of the cancellation (well under a
// millisecond of simulation) and is checked as far as it got, with
// Report.Stopped = "cancelled"; the error is nil, as for any other stop.
// What a run does before its ctx is cancelled, and so its events, does not
// depend on ctx.
func RunContext(ctx context.Context, sc Scenario, sink func(*Event), opts Options) (Result, error) {
	return run(ctx, sc, sink, opts, nil)
}

// run is RunContext; keep, if not nil, sees the finished world after the
// check and before its databases close (Snapshot copies them out there).
func run(ctx context.Context, sc Scenario, sink func(*Event), opts Options, keep func(w *world) error) (Result, error) {
	if err := sc.Validate(); err != nil {
		return Result{}, err
	}
	d, _ := lookupDesign(sc.Design)
	if opts.KeepEvidence && sink == nil {
		sink = func(*Event) {} // notes are built for a sink, and kept events need theirs
	}
	w := newWorld(ctx, sc, sink, opts.maxEvents())
	if opts.KeepEvidence {
		w.kept = map[int]Event{}
	}
	defer func() {
		for _, db := range w.dbs {
			db.close()
		}
	}()
	fam, err := d.family.open(w, d)
	if err != nil {
		return Result{}, err
	}

	// The workload: one request every requestIntervalUs, each scheduling
	// the next so the queue stays small.
	var request func(i int)
	request = func(i int) {
		w.requested = i
		fam.request(w.nthPayment(i))
		if i < sc.Payments {
			w.schedule(w.now+requestIntervalUs, false, func() { request(i + 1) })
		}
	}
	w.schedule(requestIntervalUs, false, func() { request(1) })
	fam.start()
	w.loop()
	if w.stopped != "quiet" {
		w.noteWorkLeft()
	}
	w.stopAll()
	res, err := checkRun(w, d, fam)
	if err != nil || keep == nil {
		return res, err
	}
	return res, keep(w)
}

// Record runs sc and returns every event with its Violation set from the
// checker's marks, and the report.
func Record(sc Scenario) ([]Event, Report, error) {
	return record(context.Background(), sc, Options{}, nil)
}

// record is Record, bounded as RunContext is, with run's keep hook.
func record(ctx context.Context, sc Scenario, opts Options, keep func(w *world) error) ([]Event, Report, error) {
	var events []Event
	res, err := run(ctx, sc, func(ev *Event) { events = append(events, *ev) }, opts, keep)
	if err != nil {
		return nil, Report{}, err
	}
	for _, m := range res.Marks {
		m.Apply(&events[m.Event-1])
	}
	return events, res.Report, nil
}

// checkRun builds the report: what every run counts, then the family's own
// keys, then the first violation of each kind and whether the run
// converged.
func checkRun(w *world, d *Design, fam familyRun) (Result, error) {
	r := Report{
		Design: w.sc.Design, Seed: w.sc.Seed, Payments: w.sc.Payments,
		Published: w.moved["published"], Delivered: w.moved["delivered"],
		Events: w.events, EndMs: (w.now + 999) / 1000, Stopped: w.stopped,
		Injected: map[string]int{}, FirstViolation: map[string]int{},
	}
	for f, n := range w.injected {
		if n > 0 {
			r.Injected[faultNames[f]] = n
		}
	}
	var marks []Mark
	mark := func(ev int, key, note string) {
		if ev > 0 {
			marks = append(marks, Mark{ev, key, note})
		}
	}
	for _, k := range slices.Concat(d.family.reportKeys, d.family.situations) {
		r.Counts = append(r.Counts, KeyCount{Key: k.key})
	}
	if w.workLeft != nil {
		r.InFlight = map[string]int{}
	}
	if err := fam.check(&r, mark); err != nil {
		return Result{}, err
	}
	if w.workLeft != nil {
		r.InFlight[InFlightPayments] = w.paymentsInFlight()
		if n := w.sc.Payments - w.requested; n > 0 {
			r.InFlight[InFlightNotSent] = n
		}
	}
	slices.SortStableFunc(marks, func(a, b Mark) int { return a.Event - b.Event })
	var first map[string]Event
	if w.kept != nil {
		first = map[string]Event{}
	}
	for _, m := range marks {
		if _, ok := r.FirstViolation[m.Violation]; ok {
			continue
		}
		r.FirstViolation[m.Violation] = m.Event
		if first != nil {
			ev, ok := w.kept[m.Event]
			if !ok { // a family that marks an event it did not keep
				return Result{}, fmt.Errorf("sim: %s: the first %s, event %d, was not kept", w.sc.Design, m.Violation, m.Event)
			}
			m.Apply(&ev)
			first[m.Violation] = ev
		}
	}
	// A run converged when it settled and none of its design's invariants
	// is violated; a cut run claims neither.
	r.Converged = r.Settled()
	for _, k := range d.Invariants {
		if r.Count(k) != 0 {
			r.Converged = false
		}
	}
	return Result{Report: r, Marks: marks, FirstEvents: first}, nil
}
