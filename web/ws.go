// The run socket, /ws/run: one WebSocket per view streams runs to the
// browser. This comment is the protocol; the page codes against it.
//
// Behind the socket is a run session (session.go): the run, its playhead
// and its pacing. On /ws/run each socket has a session of its own (the
// playground); control messages go to the socket's session, and every
// socket following a session receives the same messages, below, at its
// own pace.
//
// Every message is one JSON object in a text frame, with a "type".
//
// Client → server:
//
//	{"type":"run","params":{"design":"dual-write","seed":"42","payments":"200",
//	  "faults":"bus.publish.fail=0.1","latency":"5ms","jitter":"2ms","deadline":"10m"},
//	  "compare":"outbox-idempotent","speed":4,"autoplay":true}
//	    Params are strings exactly as in the page's URL, parsed by
//	    sim.FromParams; absent ones take the defaults. "compare" (optional,
//	    "" for a single run) runs the same params with the design replaced,
//	    as side 1. "speed" is optional (default 4). Payments are limited to
//	    MaxWebPayments here. A run message replaces the current run; a bad
//	    one is refused with an error and leaves the current run alone.
//	{"type":"play"}             play; at the end, play again from the start
//	{"type":"pause"}
//	{"type":"step","delta":1}   pause and show one event more (1) or fewer (-1)
//	                            of the merged timeline
//	{"type":"seek","at_us":123456}  show exactly the events up to that time
//	{"type":"seek","side":1,"event":227}
//	    pause with the playhead on that event (ids from 1): the merged
//	    timeline up to and including it, so a step moves to its neighbour
//	{"type":"speed","speed":16}
//	    Speed is virtual milliseconds per real second, 0.25 to 100000; 0 or
//	    100000 and above mean as fast as possible (sent back as 0).
//
// Server → client:
//
//	{"type":"meta","runs":[{"side":0,"design":"dual-write","nodes":[...],
//	  "metrics":[...],"invariants":[...],"source":[...],"events":N,
//	  "end_us":T,"scenario":{...},"query":"design=dual-write&seed=42&..."}]}
//	    Starts a run: one entry per side. "query" is the side's canonical
//	    share-URL query. Everything after a meta belongs to that run.
//	{"type":"events","side":0,"events":[...]}
//	    sim.Event JSON with "violation" set, in order, each with "moves":
//	    the report keys it adds one to, a key twice if it adds two
//	    (["committed"], ["published","delivered"]; absent when none). A
//	    side's counter is the sum of its shown events' moves plus one per
//	    "violation" with that key; at the end it equals the report's.
//	    Events are sent once: a step back or seek back only moves the
//	    cursor, and the page hides what lies past it; moving forward again
//	    sends only what is new.
//	{"type":"cursor","at_us":N,"shown":[n0,n1],"playing":true,"speed":4}
//	    The playhead: how many events of each side are visible now. Sent
//	    after the events it reveals, whenever it moves (coalesced).
//	{"type":"report","side":0,"report":{...}}
//	    checklist.NewReport of that side, what `run -json` prints, sent once
//	    per run when the side's last event becomes visible.
//	{"type":"done"}
//	    Every side's last event is visible; sent each time playback gets
//	    there.
//	{"type":"error","field":"payments","message":"payments 0 is out of range; allowed: 1 to 10000"}
//	    A refused message. "field" names the input at fault ("payments",
//	    "compare", "speed", "delta", "at_us", …) or is "" when the message
//	    as a whole was bad. The socket stays open. A run the server cannot
//	    take now (admission, memory) is refused with field "" and a message
//	    that starts "the server is busy:" and ends "try again in N s".
//	    A run waits for its slot apart from the socket's reader, which
//	    goes on answering messages and pings meanwhile.
//
// Sides are merged by (at_us, side) and advance together in virtual time.
// The server pings every 54 s and drops a viewer silent for 60 s or one
// that takes no data for 10 s; on shutdown it sends close 1001 "server
// shutting down".
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"partialtruth/sim"
)

// newUpgrader builds the socket upgrader: same-origin only, small read
// buffers, and write buffers from a pool so an idle viewer holds none.
func (s *Server) newUpgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  16 << 10,
		WriteBufferPool:  &writeBuffers,
		CheckOrigin:      s.sameOrigin,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			s.fail(w, r, &StatusError{Status: status, Msg: reason.Error()})
		},
	}
}

// sameOrigin lets a browser connect only from a page this server served:
// the Origin's host must be the request's Host, itself one of the
// server's names (checkHost). Clients that send no Origin are not
// browsers, and cross-site requests are a browser threat.
func (s *Server) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host) && s.hosts.allowed(u.Host)
}

// handleRunSocket upgrades to a WebSocket and serves one viewer on it,
// following a session of its own: the playground.
func (s *Server) handleRunSocket(w http.ResponseWriter, r *http.Request) {
	sess := newSession(s.clock, s.recs, s.log)
	defer sess.close()
	s.serveViewer(w, r, sess)
}

// serveViewer upgrades to a WebSocket and serves one viewer of sess on it
// until the socket closes or the server shuts down. The viewer's control
// messages go to sess.
func (s *Server) serveViewer(w http.ResponseWriter, r *http.Request, sess *session) {
	if s.isClosing() {
		s.fail(w, r, &StatusError{Status: http.StatusServiceUnavailable, Msg: errServerClosing.Error()})
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered with s.fail
	}
	v := newViewer(s, sess, conn, clientAddr(r))
	v.ext = viewerExtOf(r.Context())
	if !s.addViewer(v) {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, shutdownText), time.Now().Add(closeWait))
		conn.Close()
		return
	}
	defer s.removeViewer(v)
	s.log.Debug("viewer connected", "remote", r.RemoteAddr)
	v.serve()
	s.log.Debug("viewer left", "remote", r.RemoteAddr, "cause", context.Cause(v.ctx))
}

// readLoop reads client messages until the socket fails or closes. A nil
// error means the viewer closed normally.
func (v *viewer) readLoop() error {
	c := v.conn
	c.SetReadLimit(maxMessageBytes)
	wait := v.s.pongWait
	c.SetReadDeadline(time.Now().Add(wait))
	c.SetPongHandler(func(string) error { return c.SetReadDeadline(time.Now().Add(wait)) })
	for {
		kind, r, err := c.NextReader()
		if err != nil {
			if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
				return nil
			}
			return fmt.Errorf("read: %w", err)
		}
		c.SetReadDeadline(time.Now().Add(wait))
		body, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if kind != websocket.TextMessage {
			v.refuse("", fmt.Sprintf("a binary message of %d bytes is not allowed; send JSON text", len(body)))
			continue
		}
		var m clientMsg
		if err := json.Unmarshal(body, &m); err != nil {
			field, msg := describeJSONError(err)
			v.refuse(field, fmt.Sprintf("message %.80q is not valid: %s", body, msg))
			continue
		}
		v.handle(m)
	}
}

// describeJSONError says what was wrong with a message in terms of its
// fields rather than Go types, and which field it was, with what the field
// allows.
func describeJSONError(err error) (field, msg string) {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return "", err.Error()
	}
	if te.Field == "" {
		return "", fmt.Sprintf(`a message must be a JSON object such as {"type":"play"}, not a JSON %s`, te.Value)
	}
	allowed := fieldAllowed(te.Field)
	kind := te.Type.Kind()
	if n, ok := strings.CutPrefix(te.Value, "number "); ok && kind >= reflect.Int && kind <= reflect.Float64 {
		// A number that the field's type cannot hold.
		if kind <= reflect.Int64 && strings.ContainsAny(n, ".eE") {
			return te.Field, fmt.Sprintf("%s %s is not a whole number; allowed: %s", te.Field, n, allowed)
		}
		return te.Field, fmt.Sprintf("%s %s is out of range; allowed: %s", te.Field, n, allowed)
	}
	return te.Field, fmt.Sprintf("%s must be %s, not a JSON %s; allowed: %s", te.Field, jsonKind(kind), te.Value, allowed)
}

// fieldAllowed says what a client message's field allows, for messages
// that refuse it.
func fieldAllowed(field string) string {
	switch field {
	case "type":
		return "run, play, pause, step, seek or speed"
	case "params":
		return "an object of parameter names to values as strings, as in the URL"
	case "compare":
		return "a design name, or empty"
	case "speed":
		return sim.SpeedAllowed
	case "autoplay":
		return "true or false"
	case "delta":
		return fmt.Sprintf("a whole number from -%d to %d, not 0", maxStep, maxStep)
	case "at_us":
		return "a virtual time in microseconds, 0 or more"
	}
	if name, ok := strings.CutPrefix(field, "params."); ok {
		return sim.ParamHelp(name)
	}
	return "see the protocol"
}

// jsonKind names a Go kind as the JSON value that fills it.
func jsonKind(k reflect.Kind) string {
	switch {
	case k == reflect.String:
		return "a string"
	case k >= reflect.Int && k <= reflect.Float64:
		return "a number"
	case k == reflect.Map || k == reflect.Struct:
		return "an object"
	case k == reflect.Slice || k == reflect.Array:
		return "an array"
	case k == reflect.Bool:
		return "true or false"
	}
	return k.String()
}
