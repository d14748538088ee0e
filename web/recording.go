package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"partialtruth/checklist"
	"partialtruth/sim"
)

// recording is one side of a run, simulated up front and kept in the form
// the stream sends: each event's JSON, ready to copy to any number of
// sockets, and its virtual time for pacing. The sim.Event values are
// dropped after encoding; they would take several times the memory.
type recording struct {
	scenario sim.Scenario
	query    string
	design   sim.Design
	source   []sim.SourceFunc
	// atUs[i] is event i's virtual time; events are in time order.
	atUs []int64
	// data holds every event's JSON, each followed by a comma; event i is
	// data[offsets[i]:offsets[i+1]-1].
	data    []byte
	offsets []int
	// report is checklist.NewReport's JSON, what `run -json` prints.
	report []byte
	// tables is every node database as the run left it, for /api/tables.
	tables *sim.Snapshot
}

// record simulates sc within the web's event budget (MaxWebEvents) and
// encodes the result; a run cancelled by ctx returns ctx's cause and no
// recording.
func record(ctx context.Context, sc sim.Scenario) (*recording, error) {
	return recordWithin(ctx, sc, nil)
}

// growStep is how many bytes a recording may grow between two calls of
// recordWithin's grow: small enough that a refused run stops early, large
// enough that accounting costs nothing next to the encoding.
const growStep = 1 << 20

// recordWithin is record, encoding each event as the simulator emits it,
// so the run's events are never held twice (a []sim.Event of a whole
// run takes four times its JSON). grow, if set, is told each time the
// recording has grown by growStep bytes more, with the bytes it holds; an
// error from it stops the run, and recordWithin returns that error. A
// recording under growStep never calls it.
func recordWithin(ctx context.Context, sc sim.Scenario, grow func(held int) error) (*recording, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	d, ok := sim.LookupDesign(sc.Design)
	if !ok {
		return nil, sc.Validate()
	}
	src, err := sim.DesignSource(sc.Design)
	if err != nil {
		return nil, err
	}
	rec := &recording{scenario: sc, query: sc.Query(), design: d, source: src, offsets: []int{0}}
	var encErr error
	nextGrow := growStep
	sink := func(ev *sim.Event) {
		if encErr != nil {
			return
		}
		b, err := json.Marshal(wireEvent{ev, ev.Moves})
		if err != nil {
			encErr = fmt.Errorf("encode event %d of %s: %w", ev.ID, rec.query, err)
			cancel(encErr)
			return
		}
		rec.atUs = append(rec.atUs, ev.AtUs)
		rec.data = append(append(rec.data, b...), ',')
		rec.offsets = append(rec.offsets, len(rec.data))
		if grow != nil && rec.held() >= nextGrow {
			if err := grow(rec.held()); err != nil {
				encErr = err
				cancel(err)
				return
			}
			nextGrow = rec.held() + growStep
		}
	}
	res, tables, err := sim.RunSnapshotContext(ctx, sc, sink, webOptions)
	if err != nil {
		return nil, err
	}
	if encErr != nil {
		return nil, encErr
	}
	if res.Report.Stopped == "cancelled" {
		return nil, context.Cause(ctx)
	}
	rec.tables = tables
	if err := rec.markViolations(res.Marks); err != nil {
		return nil, err
	}
	if rec.report, err = json.Marshal(checklist.NewReport(res.Report)); err != nil {
		return nil, fmt.Errorf("encode report of %s: %w", rec.query, err)
	}
	return rec, nil
}

// held is what the recording's event data holds now, capacity included,
// and the copy of its events that markViolations will make at the end:
// what the memory budget charges while it grows.
func (r *recording) held() int {
	return cap(r.data) + len(r.data) + 8*(cap(r.atUs)+cap(r.offsets))
}

// markViolations makes each marked event the evidence its marks say it
// is (sim.Mark.Apply: its violation, and how it led there added to its
// note), in the recording's JSON. The sink saw the events before the
// checker marked them; decoding a marked event (numbers kept as written),
// applying its marks and encoding it again gives the bytes that encoding
// sim.Record's event would. Marked events are few; the rest are copied.
func (r *recording) markViolations(marks []sim.Mark) error {
	if len(marks) == 0 {
		return nil
	}
	byEvent := map[int][]sim.Mark{}
	for _, m := range marks {
		if i := m.Event - 1; i >= 0 && i < r.events() {
			byEvent[i] = append(byEvent[i], m) // in order, as sim.Record applies them
		}
	}
	data := make([]byte, 0, len(r.data)+len(byEvent)*256)
	offsets := make([]int, 1, len(r.offsets))
	for i := range r.events() {
		ev := r.data[r.offsets[i] : r.offsets[i+1]-1]
		if ms, ok := byEvent[i]; ok {
			var e sim.Event
			w := wireEvent{Event: &e}
			dec := json.NewDecoder(bytes.NewReader(ev))
			dec.UseNumber()
			if err := dec.Decode(&w); err != nil {
				return fmt.Errorf("decode event %d of %s: %w", i+1, r.query, err)
			}
			for _, m := range ms {
				m.Apply(&e)
			}
			b, err := json.Marshal(w)
			if err != nil {
				return fmt.Errorf("encode event %d of %s: %w", i+1, r.query, err)
			}
			ev = b
		}
		data = append(append(data, ev...), ',')
		offsets = append(offsets, len(data))
	}
	r.data, r.offsets = data, offsets
	return nil
}

// events is how many events the recording holds.
func (r *recording) events() int { return len(r.atUs) }

// endUs is the virtual time of the last event, 0 for none.
func (r *recording) endUs() int64 {
	if len(r.atUs) == 0 {
		return 0
	}
	return r.atUs[len(r.atUs)-1]
}

// eventsJSON returns events [from, to) as the inside of a JSON array.
func (r *recording) eventsJSON(from, to int) []byte {
	if from >= to {
		return nil
	}
	return r.data[r.offsets[from] : r.offsets[to]-1]
}

// size approximates the bytes the recording holds, for the cache's budget.
func (r *recording) size() int {
	return len(r.data) + 16*len(r.atUs) + len(r.report) + len(r.query) + r.tables.Size() + 256
}

// meta describes the recording as side side of a run.
func (r *recording) meta(side int) runMeta {
	return runMeta{
		Side: side, Design: r.design.Name, Nodes: r.design.Nodes, Metrics: r.design.Metrics,
		Invariants: r.design.Invariants, Source: r.source, Events: r.events(), EndUs: r.endUs(),
		Scenario: r.scenario, Query: r.query,
	}
}
