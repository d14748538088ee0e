package web

import (
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// safetyTimeout bounds every wait on a socket so a broken server fails a
// test instead of hanging it; no test relies on it for timing.
const safetyTimeout = 30 * time.Second

// startSocketServer serves a fresh Server over real TCP; both are closed
// when the test ends.
func startSocketServer(tb testing.TB) (*Server, *httptest.Server) {
	tb.Helper()
	s := newTestServer(tb)
	ts := httptest.NewServer(s.Handler())
	tb.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

func wsURL(ts *httptest.Server) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/run"
}

// testClient is a viewer as a browser would be one, over a real gorilla
// client connection.
type testClient struct {
	tb testing.TB
	c  *websocket.Conn
}

func dial(tb testing.TB, ts *httptest.Server) *testClient {
	return dialWith(tb, ts, websocket.DefaultDialer)
}

// dialStuck dials a viewer with a tiny receive buffer, for a viewer that
// will never read: the server's writes to it block after a few kilobytes.
func dialStuck(tb testing.TB, ts *httptest.Server) *testClient {
	d := *websocket.DefaultDialer
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			err = c.(*net.TCPConn).SetReadBuffer(4 << 10)
		}
		return c, err
	}
	return dialWith(tb, ts, &d)
}

func dialWith(tb testing.TB, ts *httptest.Server, d *websocket.Dialer) *testClient {
	tb.Helper()
	c, res, err := d.DialContext(tb.Context(), wsURL(ts), nil)
	if err != nil {
		tb.Fatalf("dial %s: %v", wsURL(ts), err)
	}
	res.Body.Close()
	tb.Cleanup(func() { c.Close() })
	return &testClient{tb: tb, c: c}
}

func (c *testClient) send(msg any) {
	c.tb.Helper()
	c.c.SetWriteDeadline(time.Now().Add(safetyTimeout))
	if err := c.c.WriteJSON(msg); err != nil {
		c.tb.Fatalf("send %v: %v", msg, err)
	}
}

// serverMsg is any server message, decoded loosely enough to check.
type serverMsg struct {
	Type    string            `json:"type"`
	Runs    []metaRun         `json:"runs"`
	Side    int               `json:"side"`
	Events  []json.RawMessage `json:"events"`
	AtUs    int64             `json:"at_us"`
	Shown   []int             `json:"shown"`
	Playing bool              `json:"playing"`
	Speed   float64           `json:"speed"`
	Report  json.RawMessage   `json:"report"`
	Field   string            `json:"field"`
	Message string            `json:"message"`
}

type metaRun struct {
	Side       int      `json:"side"`
	Design     string   `json:"design"`
	Nodes      []string `json:"nodes"`
	Metrics    []string `json:"metrics"`
	Invariants []string `json:"invariants"`
	Source     []struct {
		Role, Name, Code string
	} `json:"source"`
	Events int    `json:"events"`
	EndUs  int64  `json:"end_us"`
	Query  string `json:"query"`
}

func (c *testClient) next() serverMsg {
	c.tb.Helper()
	c.c.SetReadDeadline(time.Now().Add(safetyTimeout))
	var m serverMsg
	if err := c.c.ReadJSON(&m); err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	return m
}

// expect reads the next message and fails unless it has this type.
func (c *testClient) expect(typ string) serverMsg {
	c.tb.Helper()
	m := c.next()
	if m.Type != typ {
		c.tb.Fatalf("got %s message %+v, want %s", m.Type, m, typ)
	}
	return m
}

// played is everything a viewer received for one run.
type played struct {
	meta    serverMsg
	events  [][]json.RawMessage // per side, in the order received
	reports []json.RawMessage
	cursor  serverMsg // the last one
	batches int
}

// playToDone reads one run's messages until done, checking the order the
// protocol promises: meta first, events before the cursor that shows them,
// a side's report only after its last event.
func (c *testClient) playToDone() played {
	c.tb.Helper()
	p := played{meta: c.expect(msgMeta)}
	sides := len(p.meta.Runs)
	p.events = make([][]json.RawMessage, sides)
	p.reports = make([]json.RawMessage, sides)
	for {
		m := c.next()
		switch m.Type {
		case msgEvents:
			p.events[m.Side] = append(p.events[m.Side], m.Events...)
			p.batches++
		case msgCursor:
			for s, n := range m.Shown {
				if n > len(p.events[s]) {
					c.tb.Fatalf("cursor shows %d events of side %d before they were sent (%d)", n, s, len(p.events[s]))
				}
			}
			p.cursor = m
		case msgReport:
			if len(p.events[m.Side]) != p.meta.Runs[m.Side].Events {
				c.tb.Fatalf("report of side %d after %d of its %d events", m.Side, len(p.events[m.Side]), p.meta.Runs[m.Side].Events)
			}
			if p.reports[m.Side] != nil {
				c.tb.Fatalf("second report for side %d", m.Side)
			}
			p.reports[m.Side] = m.Report
		case msgDone:
			for s, r := range p.reports {
				if r == nil {
					c.tb.Fatalf("done before the report of side %d", s)
				}
			}
			return p
		default:
			c.tb.Fatalf("unexpected %s message during a run: %+v", m.Type, m)
		}
	}
}

// runMsg builds a run message from name=value pairs.
func runMsg(compare string, speed float64, kv ...string) map[string]any {
	params := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		params[kv[i]] = kv[i+1]
	}
	return map[string]any{"type": "run", "params": params, "compare": compare, "speed": speed, "autoplay": true}
}
