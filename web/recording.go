package web

import (
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

// record simulates sc with sim.RecordSnapshotContext and encodes the
// result; a run cancelled by ctx returns ctx's cause and no recording.
func record(ctx context.Context, sc sim.Scenario) (*recording, error) {
	events, rep, tables, err := sim.RecordSnapshotContext(ctx, sc, sim.Options{})
	if err != nil {
		return nil, err
	}
	if rep.Stopped == "cancelled" {
		return nil, context.Cause(ctx)
	}
	d, ok := sim.LookupDesign(sc.Design)
	if !ok { // Record validated the design; this would be a sim bug
		return nil, fmt.Errorf("design %q ran but is not listed", sc.Design)
	}
	src, err := sim.DesignSource(sc.Design)
	if err != nil {
		return nil, err
	}
	rec := &recording{
		scenario: sc, query: sc.Query(), design: d, source: src, tables: tables,
		atUs:    make([]int64, len(events)),
		offsets: make([]int, len(events)+1),
	}
	for i := range events {
		b, err := json.Marshal(wireEvent{&events[i], events[i].Moves})
		if err != nil {
			return nil, fmt.Errorf("encode event %d of %s: %w", events[i].ID, rec.query, err)
		}
		rec.atUs[i] = events[i].AtUs
		rec.data = append(append(rec.data, b...), ',')
		rec.offsets[i+1] = len(rec.data)
	}
	if rec.report, err = json.Marshal(checklist.NewReport(rep)); err != nil {
		return nil, fmt.Errorf("encode report of %s: %w", rec.query, err)
	}
	return rec, nil
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
