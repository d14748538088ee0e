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
	rec.markViolations(res.Marks)
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

// markViolations writes each mark's violation into its event's JSON, where
// json.Marshal of the event with Violation set would have put it: after
// "note" and before "moves". The sink saw the events before the checker
// marked them; this gives the same bytes as encoding them afterwards. An
// event whose JSON already names a violation is left alone.
func (r *recording) markViolations(marks []sim.Mark) {
	if len(marks) == 0 {
		return
	}
	byEvent := make(map[int]string, len(marks))
	for _, m := range marks {
		byEvent[m.Event-1] = m.Violation // the last mark wins, as in sim.Record
	}
	extra := 0
	for i, v := range byEvent {
		if i >= 0 && i < r.events() {
			extra += len(`,"violation":`) + len(v) + 8
		}
	}
	data := make([]byte, 0, len(r.data)+extra)
	offsets := make([]int, 1, len(r.offsets))
	for i := range r.events() {
		ev := r.data[r.offsets[i] : r.offsets[i+1]-1]
		if v, ok := byEvent[i]; ok && !bytes.Contains(ev, []byte(`,"violation":`)) {
			at := bytes.LastIndex(ev, []byte(`,"moves":[`))
			if at < 0 {
				at = len(ev) - 1 // before the closing brace
			}
			name, _ := json.Marshal(v) // a string always encodes
			data = append(data, ev[:at]...)
			data = append(append(append(data, `,"violation":`...), name...), ev[at:]...)
		} else {
			data = append(data, ev...)
		}
		data = append(data, ',')
		offsets = append(offsets, len(data))
	}
	r.data, r.offsets = data, offsets
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
