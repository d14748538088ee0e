package web

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"partialtruth/sim"
)

func TestCanonicalQueryReadsBackAsTheSameScenario(t *testing.T) {
	for _, q := range []string{
		"design=dual-write",
		"design=outbox-idempotent&seed=18446744073709551615&payments=3&faults=bus.publish.fail=0.1,net.drop=0.02&latency=1.5s&jitter=0s&deadline=1h30m",
	} {
		in, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := sim.FromParams(in.Get)
		if err != nil {
			t.Fatal(err)
		}
		canon := sc.Query()
		back, err := url.ParseQuery(canon)
		if err != nil {
			t.Fatalf("canonical query %q does not parse: %v", canon, err)
		}
		sc2, err := sim.FromParams(back.Get)
		if err != nil || sc2 != sc {
			t.Fatalf("%q → %q → %+v (%v), want %+v", q, canon, sc2, err, sc)
		}
	}
}

func TestRecordingSlicesEventsAsAJSONArray(t *testing.T) {
	sc := sim.DefaultScenario()
	sc.Payments = 3
	rec, err := record(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := sim.Record(sc)
	if err != nil {
		t.Fatal(err)
	}
	if rec.events() != len(events) || rec.endUs() != events[len(events)-1].AtUs {
		t.Fatalf("recording has %d events ending at %d; sim has %d ending at %d", rec.events(), rec.endUs(), len(events), events[len(events)-1].AtUs)
	}
	for _, r := range [][2]int{{0, 1}, {0, len(events)}, {2, 5}, {len(events) - 1, len(events)}} {
		var got []sim.Event
		if err := json.Unmarshal(append(append([]byte("["), rec.eventsJSON(r[0], r[1])...), ']'), &got); err != nil {
			t.Fatalf("events %v do not form a JSON array: %v", r, err)
		}
		if len(got) != r[1]-r[0] || got[0].ID != events[r[0]].ID || got[len(got)-1].ID != events[r[1]-1].ID {
			t.Fatalf("events %v gave ids %d..%d (%d)", r, got[0].ID, got[len(got)-1].ID, len(got))
		}
	}
	if rec.eventsJSON(4, 4) != nil {
		t.Fatal("an empty range is not empty")
	}
}

// TestRecordingEncodesAsItRunsTheSameBytesAsAfter checks that encoding
// each event as the simulator emits it, then writing the checker's marks
// in, gives the bytes encoding sim.Record's events would: violations,
// moves and all.
func TestRecordingEncodesAsItRunsTheSameBytesAsAfter(t *testing.T) {
	marked := 0
	for _, q := range []string{
		"design=dual-write&payments=20&faults=bus.publish.fail=0.3,net.dup=0.2",
		"design=outbox&payments=15&faults=net.dup=0.3,bus.redeliver=0.3,crash.relay=0.1",
		"design=consumer-naive&payments=15",
		"design=retry-naive&payments=15",
	} {
		in, _ := url.ParseQuery(q)
		sc, err := sim.FromParams(in.Get)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := record(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		events, _, err := sim.Record(sc)
		if err != nil {
			t.Fatal(err)
		}
		if rec.events() != len(events) {
			t.Fatalf("%s: %d events recorded, sim has %d", q, rec.events(), len(events))
		}
		for i := range events {
			want, _ := json.Marshal(wireEvent{&events[i], events[i].Moves})
			if got := rec.eventsJSON(i, i+1); string(got) != string(want) {
				t.Fatalf("%s: event %d is\n%s\nwant\n%s", q, i+1, got, want)
			}
			if events[i].Violation != "" {
				marked++
			}
		}
	}
	if marked == 0 {
		t.Fatal("no scenario had a marked event; the test checks nothing about marks")
	}
}

// TestRecordingStopsAtTheWebEventBudget runs the runaway: one
// payment whose publish always fails, retried until the deadline. The
// budget is lowered for the test (the race detector makes 500,000 events
// slow); the run must stop at it exactly, and hold no more per event than
// maxRunBytes assumes.
func TestRecordingStopsAtTheWebEventBudget(t *testing.T) {
	in, _ := url.ParseQuery("design=outbox&payments=1&faults=bus.publish.fail=1&deadline=1h")
	sc, err := webScenario(in.Get)
	if err != nil {
		t.Fatal(err)
	}
	const budget = 20_000
	saved := webOptions
	webOptions.MaxEvents = budget
	defer func() { webOptions = saved }()
	rec, err := record(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if rec.events() != budget || !strings.Contains(string(rec.report), `"stopped":"event-limit"`) {
		t.Fatalf("runaway run kept %d events (budget %d), report %.300s", rec.events(), budget, rec.report)
	}
	if per := (rec.size() - rec.tables.Size()) / rec.events(); per > bytesPerEvent {
		t.Fatalf("a runaway run holds %d bytes per event, more than bytesPerEvent %d", per, bytesPerEvent)
	}
}
