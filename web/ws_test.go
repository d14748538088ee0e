package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"partialtruth/checklist"
	"partialtruth/sim"
)

// want is what sim and checklist say a scenario gives, encoded the way
// `run -events` and `run -json` encode it; the socket adds each event's
// "moves" at the end.
func want(t *testing.T, params map[string]string) ([][]byte, []byte) {
	t.Helper()
	sc, err := sim.FromParams(func(n string) string { return params[n] })
	if err != nil {
		t.Fatal(err)
	}
	events, rep, err := sim.Record(sc)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(events))
	for i := range events {
		if out[i], err = json.Marshal(events[i]); err != nil {
			t.Fatal(err)
		}
		if moves := events[i].Moves; len(moves) > 0 {
			m, _ := json.Marshal(moves)
			out[i] = append(append(append(out[i][:len(out[i])-1:len(out[i])-1], `,"moves":`...), m...), '}')
		}
	}
	r, err := json.Marshal(checklist.NewReport(rep))
	if err != nil {
		t.Fatal(err)
	}
	return out, r
}

func sameEvents(t *testing.T, side int, got []json.RawMessage, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("side %d: got %d events, sim.Record gives %d", side, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("side %d event %d:\n got %s\nwant %s", side, i, got[i], want[i])
		}
	}
}

func TestRunStreamsTheEventsAndReportSimGives(t *testing.T) {
	_, ts := startSocketServer(t)
	c := dial(t, ts)
	params := map[string]string{"design": "dual-write", "seed": "7", "payments": "60", "faults": "bus.publish.fail=0.2"}
	c.send(map[string]any{"type": "run", "params": params, "speed": 0, "autoplay": true})
	p := c.playToDone()

	wantEvents, wantReport := want(t, params)
	sameEvents(t, 0, p.events[0], wantEvents)
	if !bytes.Equal(p.reports[0], wantReport) {
		t.Fatalf("report:\n got %s\nwant %s", p.reports[0], wantReport)
	}
	if !bytes.Contains(wantReport, []byte(`"lost":`)) || bytes.Contains(wantReport, []byte(`"lost":0,`)) {
		t.Fatalf("scenario meant to lose payments lost none; pick another: %s", wantReport)
	}
	var violations int
	for _, e := range p.events[0] {
		if bytes.Contains(e, []byte(`"violation":"lost"`)) {
			violations++
		}
	}
	if violations == 0 {
		t.Fatal("no streamed event carries violation \"lost\" though the report counts lost payments")
	}
	m := p.meta.Runs[0]
	if m.Design != "dual-write" || m.Events != len(wantEvents) || m.Query != "design=dual-write&seed=7&payments=60&faults=bus.publish.fail=0.2&latency=5ms&jitter=2ms&deadline=10m0s" {
		t.Fatalf("meta = %+v", m)
	}
	if len(m.Nodes) == 0 || len(m.Metrics) == 0 || len(m.Invariants) == 0 || len(m.Source) == 0 || !strings.Contains(m.Source[0].Code, "func ") {
		t.Fatalf("meta lacks lanes, counters, invariants or source: %+v", m)
	}
	if p.cursor.Playing || p.cursor.Shown[0] != len(wantEvents) || p.cursor.AtUs != m.EndUs {
		t.Fatalf("final cursor %+v, want stopped at %d with all %d events shown", p.cursor, m.EndUs, len(wantEvents))
	}
}

func TestCompareStreamsBothSidesOnTheSameFaults(t *testing.T) {
	_, ts := startSocketServer(t)
	c := dial(t, ts)
	params := map[string]string{"design": "dual-write", "seed": "3", "payments": "40", "faults": "bus.publish.fail=0.2,net.drop=0.02"}
	c.send(map[string]any{"type": "run", "params": params, "compare": "outbox-idempotent", "speed": 100000, "autoplay": true})
	p := c.playToDone()
	if len(p.meta.Runs) != 2 || p.meta.Runs[0].Design != "dual-write" || p.meta.Runs[1].Design != "outbox-idempotent" {
		t.Fatalf("meta runs = %+v, want dual-write then outbox-idempotent", p.meta.Runs)
	}
	for side, design := range []string{"dual-write", "outbox-idempotent"} {
		params["design"] = design
		wantEvents, wantReport := want(t, params)
		sameEvents(t, side, p.events[side], wantEvents)
		if !bytes.Equal(p.reports[side], wantReport) {
			t.Fatalf("side %d report:\n got %s\nwant %s", side, p.reports[side], wantReport)
		}
	}
	if p.meta.Runs[1].Query != strings.Replace(p.meta.Runs[0].Query, "design=dual-write", "design=outbox-idempotent", 1) {
		t.Fatalf("the sides' queries differ in more than the design: %q vs %q", p.meta.Runs[0].Query, p.meta.Runs[1].Query)
	}
}

func TestBadInputGetsAnErrorNamingTheFieldAndTheSocketStaysUsable(t *testing.T) {
	_, ts := startSocketServer(t)
	c := dial(t, ts)
	cases := []struct {
		name      string
		msg       string
		field     string
		mentioned string
	}{
		{"payments zero", `{"type":"run","params":{"payments":"0"}}`, "payments", "allowed: 1 to"},
		{"payments over the web limit", `{"type":"run","params":{"payments":"10001"}}`, "payments", "allowed: 1 to 10000"},
		{"deadline over the web limit", `{"type":"run","params":{"deadline":"24h"}}`, "deadline", "allowed: 1ms to 1h (a run on the web keeps at most 500000 events per side"},
		{"unknown design", `{"type":"run","params":{"design":"nope"}}`, "design", "outbox-idempotent"},
		{"unknown compare design", `{"type":"run","params":{},"compare":"nope"}`, "compare", `"nope"`},
		{"bad fault", `{"type":"run","params":{"faults":"bus.publish.fail=2"}}`, "faults", "0 to 1"},
		{"bad latency", `{"type":"run","params":{"latency":"fast"}}`, "latency", "Go duration"},
		{"unknown parameter", `{"type":"run","params":{"colour":"red"}}`, "colour", "allowed: design"},
		{"seed as a number", `{"type":"run","params":{"seed":42}}`, "seed", "string"},
		{"speed too slow", `{"type":"run","params":{},"speed":0.1}`, "speed", "0.25"},
		{"speed negative", `{"type":"speed","speed":-1}`, "speed", "0.25"},
		{"speed missing", `{"type":"speed"}`, "speed", "missing"},
		{"step zero", `{"type":"step","delta":0}`, "delta", "not 0"},
		{"seek negative", `{"type":"seek","at_us":-5}`, "at_us", "-5"},
		{"seek without time", `{"type":"seek"}`, "at_us", "missing"},
		{"play before a run", `{"type":"play"}`, "", "send a run message first"},
		{"unknown type", `{"type":"rewind"}`, "", `"rewind"`},
		{"malformed JSON", `{"type":`, "", "not valid"},
		{"delta as a string", `{"type":"step","delta":"1"}`, "delta", "delta must be a number, not a JSON string; allowed: a whole number"},
		{"an array", `[1,2]`, "", `a message must be a JSON object such as {"type":"play"}, not a JSON array`},
		{"a number", `7`, "", "must be a JSON object"},
		{"speed too large for a number", `{"type":"speed","speed":1e400}`, "speed", "speed 1e400 is out of range; allowed: 0.25 to"},
		{"delta not whole", `{"type":"step","delta":1.5}`, "delta", "delta 1.5 is not a whole number; allowed: a whole number from -100000"},
		{"params as an array", `{"type":"run","params":[1]}`, "params", "params must be an object, not a JSON array"},
		{"autoplay as a string", `{"type":"run","autoplay":"yes"}`, "autoplay", "autoplay must be true or false, not a JSON string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.c.WriteMessage(websocket.TextMessage, []byte(tc.msg)); err != nil {
				t.Fatal(err)
			}
			m := c.expect(msgError)
			if m.Field != tc.field || !strings.Contains(m.Message, tc.mentioned) {
				t.Fatalf("error %+v, want field %q and a message mentioning %q", m, tc.field, tc.mentioned)
			}
		})
	}
	c.send(runMsg("", 0, "payments", "5"))
	p := c.playToDone()
	if p.meta.Runs[0].Events == 0 || len(p.events[0]) != p.meta.Runs[0].Events {
		t.Fatalf("the run after the errors streamed %d of %d events", len(p.events[0]), p.meta.Runs[0].Events)
	}
}

func TestBinaryMessageIsRefusedAndTheSocketStaysUsable(t *testing.T) {
	_, ts := startSocketServer(t)
	c := dial(t, ts)
	if err := c.c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if m := c.expect(msgError); !strings.Contains(m.Message, "binary") {
		t.Fatalf("error %+v does not say binary messages are the problem", m)
	}
	c.send(runMsg("", 0, "payments", "3"))
	c.playToDone()
}

func TestStepAndSeekNeverResendEvents(t *testing.T) {
	_, ts := startSocketServer(t)
	c := dial(t, ts)
	// Both outbox designs start with a relay poll at 0: a tie.
	c.send(map[string]any{"type": "run", "params": map[string]string{"payments": "5", "seed": "9", "design": "outbox"}, "compare": "outbox-idempotent"})
	meta := c.expect(msgMeta)
	if cur := c.expect(msgCursor); cur.Playing || cur.Shown[0] != 0 || cur.Shown[1] != 0 || cur.Speed != defaultSpeed {
		t.Fatalf("a run without autoplay starts with cursor %+v, want paused at nothing shown, speed %d", cur, defaultSpeed)
	}
	c.send(map[string]any{"type": "step", "delta": 1})
	ev := c.expect(msgEvents)
	if ev.Side != 0 || len(ev.Events) != 1 {
		t.Fatalf("step 1 sent %d events of side %d, want the first event of side 0 (ties go to side 0)", len(ev.Events), ev.Side)
	}
	if cur := c.expect(msgCursor); cur.Shown[0] != 1 || cur.Shown[1] != 0 {
		t.Fatalf("after step 1 cursor shows %v, want [1 0]", cur.Shown)
	}
	c.send(map[string]any{"type": "step", "delta": 1})
	if ev := c.expect(msgEvents); ev.Side != 1 || len(ev.Events) != 1 {
		t.Fatalf("second step sent %d events of side %d, want side 1's first (same time, side order)", len(ev.Events), ev.Side)
	}
	c.expect(msgCursor)
	c.send(map[string]any{"type": "step", "delta": -2})
	if cur := c.expect(msgCursor); cur.Shown[0] != 0 || cur.Shown[1] != 0 || cur.AtUs != 0 {
		t.Fatalf("after stepping back twice cursor = %+v, want nothing shown at 0", cur)
	}
	c.send(map[string]any{"type": "step", "delta": 2})
	if cur := c.expect(msgCursor); cur.Shown[0] != 1 || cur.Shown[1] != 1 {
		t.Fatalf("stepping forward over sent events gave cursor %+v (or resent them), want [1 1]", cur)
	}
	end := max(meta.Runs[0].EndUs, meta.Runs[1].EndUs)
	c.send(map[string]any{"type": "seek", "at_us": end / 2})
	got := []int{1, 1}
	for {
		m := c.next()
		if m.Type == msgEvents {
			got[m.Side] += len(m.Events)
			continue
		}
		if m.Type != msgCursor || m.Shown[0] != got[0] || m.Shown[1] != got[1] || m.AtUs != end/2 {
			t.Fatalf("after seek got %+v with %v events received", m, got)
		}
		break
	}
	c.send(map[string]any{"type": "seek", "at_us": end * 2})
	for {
		m := c.next()
		switch m.Type {
		case msgEvents:
			got[m.Side] += len(m.Events)
		case msgCursor, msgReport:
		case msgDone:
			if got[0] != meta.Runs[0].Events || got[1] != meta.Runs[1].Events {
				t.Fatalf("received %v events in all, the sides have %d and %d: some were sent twice or not at all", got, meta.Runs[0].Events, meta.Runs[1].Events)
			}
			return
		default:
			t.Fatalf("unexpected %+v", m)
		}
	}
}

func TestANewRunReplacesThePlayingOne(t *testing.T) {
	_, ts := startSocketServer(t)
	c := dial(t, ts)
	c.send(runMsg("", 1, "payments", "50")) // slow: a virtual ms per second
	c.expect(msgMeta)
	c.send(runMsg("", 0, "payments", "4", "design", "outbox"))
	for {
		m := c.next()
		if m.Type == msgMeta {
			if m.Runs[0].Design != "outbox" {
				t.Fatalf("second meta is for %s, want outbox", m.Runs[0].Design)
			}
			break
		}
		if m.Type == msgReport || m.Type == msgDone {
			t.Fatalf("the slow first run finished (%s) instead of being replaced", m.Type)
		}
	}
	// The rest of the new run plays to its end.
	var n int
	for {
		m := c.next()
		if m.Type == msgEvents {
			n += len(m.Events)
		}
		if m.Type == msgDone {
			break
		}
	}
	if n == 0 {
		t.Fatal("the replacing run streamed no events")
	}
}

func TestSocketRefusesOtherOrigins(t *testing.T) {
	_, ts := startSocketServer(t)
	h := http.Header{"Origin": {"http://evil.example"}}
	_, res, err := websocket.DefaultDialer.DialContext(t.Context(), wsURL(ts), h)
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("dial from another origin: err %v, response %v; want 403", err, res)
	}
	res.Body.Close()
	h = http.Header{"Origin": {ts.URL}}
	c, res, err := websocket.DefaultDialer.DialContext(t.Context(), wsURL(ts), h)
	if err != nil {
		t.Fatalf("dial from the same origin: %v", err)
	}
	res.Body.Close()
	c.Close()
}

func TestOversizedMessageClosesTheSocket(t *testing.T) {
	_, ts := startSocketServer(t)
	c := dial(t, ts)
	big := `{"type":"run","params":{"design":"` + strings.Repeat("x", maxMessageBytes) + `"}}`
	c.c.WriteMessage(websocket.TextMessage, []byte(big))
	c.c.SetReadDeadline(time.Now().Add(safetyTimeout))
	_, _, err := c.c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("after a %d-byte message read gave %v, want close 1009", len(big), err)
	}
}

func TestServerCloseTellsViewersAndCancelsTheirRuns(t *testing.T) {
	s, ts := startSocketServer(t)
	c := dial(t, ts)
	c.send(runMsg("", 1, "payments", "50")) // plays for minutes at this speed
	c.expect(msgMeta)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for {
		c.c.SetReadDeadline(time.Now().Add(safetyTimeout))
		_, _, err := c.c.ReadMessage()
		if err == nil {
			continue // a cursor sent before the close
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway || ce.Text != "server shutting down" {
			t.Fatalf("read gave %v, want close 1001 \"server shutting down\"", err)
		}
		break
	}
	c.c.Close()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, res, err := websocket.DefaultDialer.DialContext(t.Context(), wsURL(ts), nil); err == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after Close: %v, want 503", err)
	}
}

func TestUpgradeErrorsGoThroughTheOneErrorPath(t *testing.T) {
	res := get(t, newTestServer(t).Handler(), "/ws/run")
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("plain GET /ws/run = %d (CSP %q), want 400 with the usual headers", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
}

// TestEventsMovesAddUpToTheReport checks the contract the page's counters
// stand on: summing the streamed events' "moves", plus one per
// "violation", gives every counter of the report, on every design.
func TestEventsMovesAddUpToTheReport(t *testing.T) {
	_, ts := startSocketServer(t)
	c := dial(t, ts)
	faults := "net.drop=0.05,net.dup=0.05,bus.publish.fail=0.1,bus.ack.lost=0.1,bus.redeliver=0.1,db.fail=0.05,crash.service=0.02,crash.relay=0.02,crash.consumer=0.02,net.partition=0.5"
	for _, d := range sim.Designs() {
		c.send(map[string]any{"type": "run", "params": map[string]string{"design": d.Name, "seed": "4", "payments": "40", "faults": faults}, "speed": 0, "autoplay": true})
		p := c.playToDone()
		counts := map[string]int{}
		moved := 0
		for _, raw := range p.events[0] {
			var e struct {
				Moves     []string `json:"moves"`
				Violation string   `json:"violation"`
			}
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			for _, k := range e.Moves {
				counts[k]++
			}
			moved += len(e.Moves)
			if e.Violation != "" {
				counts[e.Violation]++
			}
		}
		var report map[string]json.RawMessage
		if err := json.Unmarshal(p.reports[0], &report); err != nil {
			t.Fatal(err)
		}
		if moved == 0 {
			t.Fatalf("%s: no event carries moves", d.Name)
		}
		for _, k := range p.meta.Runs[0].Metrics {
			var want int
			if err := json.Unmarshal(report[k], &want); err != nil {
				t.Fatalf("%s: report key %s = %s: %v", d.Name, k, report[k], err)
			}
			if counts[k] != want {
				t.Errorf("%s: the events' moves add up to %s %d, the report says %d", d.Name, k, counts[k], want)
			}
		}
	}
}
