package web

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"partialtruth/sim"
)

// FuzzRunMessage feeds arbitrary client messages through the run
// message's parsing: it must never panic, every refusal must name a field
// the message has, and every accepted scenario must be within the web's
// limits, the compare side differing only in its design.
func FuzzRunMessage(f *testing.F) {
	for _, seed := range []string{
		`{"type":"run","params":{"design":"dual-write","seed":"42","payments":"200","faults":"bus.publish.fail=0.1","latency":"5ms","jitter":"2ms","deadline":"10m"},"compare":"outbox-idempotent","speed":4,"autoplay":true}`,
		`{"type":"run","params":{"payments":"10001"}}`,
		`{"type":"run","params":{"seed":42}}`,
		`{"type":"run","params":{"colour":"red"},"compare":"nope"}`,
		`{"type":"run","params":null,"compare":""}`,
		`{"type":"step","delta":1e30}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m clientMsg
		if err := json.Unmarshal(data, &m); err != nil {
			field, msg := describeJSONError(err)
			if msg == "" {
				t.Fatalf("JSON error %v described as nothing (field %q)", err, field)
			}
			return
		}
		if m.Speed != nil {
			if sp, err := checkSpeed(*m.Speed); err == nil && (sp < 0 || (sp > 0 && sp < minSpeed) || sp >= maxPaceSpeed) {
				t.Fatalf("checkSpeed(%v) accepted %v", *m.Speed, sp)
			}
		}
		scs, err := parseRun(m.Params, m.Compare)
		if err != nil {
			var ie *sim.InputError
			if !errors.As(err, &ie) || ie.Msg == "" {
				t.Fatalf("parseRun error %v is not an InputError with a message", err)
			}
			_, given := m.Params[ie.Field]
			if !given && ie.Field != "compare" && !slices.Contains(sim.ParamNames, ie.Field) {
				t.Fatalf("error names field %q, which is neither in the message nor a parameter: %v", ie.Field, err)
			}
			return
		}
		want := 1
		if m.Compare != "" {
			want = 2
		}
		if len(scs) != want {
			t.Fatalf("compare %q gave %d scenarios", m.Compare, len(scs))
		}
		for _, sc := range scs {
			if err := sc.Validate(); err != nil || sc.Payments > MaxWebPayments {
				t.Fatalf("accepted a scenario out of range: %+v (%v)", sc, err)
			}
		}
		if want == 2 {
			other := scs[1]
			other.Design = scs[0].Design
			if other != scs[0] || scs[1].Design != m.Compare {
				t.Fatalf("compare side %+v differs from %+v in more than the design", scs[1], scs[0])
			}
		}
	})
}

// FuzzPlayback applies arbitrary sequences of control moves to a
// two-sided playhead and checks what must always hold: each side shows a
// prefix of its events, the playhead stays within the run, and a finished
// run has stopped playing.
func FuzzPlayback(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{3, 3, 3, 2, 2, 6, 6, 6, 6})
	f.Fuzz(func(t *testing.T, ops []byte) {
		p := newPlayback(fakeSides([]int64{0, 5, 5, 40, 90}, []int64{5, 6, 200}), 1000)
		now := t0
		for i, op := range ops {
			arg := int64(op >> 3)
			switch op & 7 {
			case 0:
				p.play(now)
			case 1:
				p.pause()
			case 2:
				p.step(1 + int(arg%3))
			case 3:
				p.step(-1 - int(arg%3))
			case 4:
				p.seek(arg*10-20, now)
			case 5:
				sp, _ := checkSpeed(float64(arg) * 100)
				p.setSpeed(sp, now)
			case 6, 7:
				now = now.Add(time.Duration(arg) * time.Millisecond)
				p.advance(now)
			}
			if p.atUs < 0 || p.atUs > p.endUs {
				t.Fatalf("op %d (%d): playhead at %d outside [0, %d]", i, op, p.atUs, p.endUs)
			}
			for s, r := range p.sides {
				if p.shown[s] < 0 || p.shown[s] > r.events() {
					t.Fatalf("op %d (%d): side %d shows %d of %d events", i, op, s, p.shown[s], r.events())
				}
			}
			if p.playing && p.finished() && p.atUs >= p.endUs {
				t.Fatalf("op %d (%d): still playing at the end", i, op)
			}
		}
	})
}
