package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket timing and limits.
const (
	// writeWait is how long one chunk of a message may take to reach a
	// viewer; a viewer that takes no data for that long is dropped.
	writeWait = 10 * time.Second
	// defaultPongWait is how long the server waits for any sign of life
	// from a viewer (Server.pongWait; tests shorten it). The server pings
	// at 9/10 of it so that a live viewer's pong arrives in time.
	defaultPongWait = 60 * time.Second
	// closeWait is how long a closing server waits for the viewer to
	// answer its close frame.
	closeWait = time.Second
	// maxMessageBytes caps one client message; a run message is well under.
	maxMessageBytes = 64 << 10
	// frameInterval is how often the pacer moves a playing playhead.
	frameInterval = time.Second / 30
	// maxQueued caps the run starts and error messages waiting for the writer;
	// a client that keeps sending bad messages without reading the answers
	// is disconnected rather than allowed to grow the queue.
	maxQueued = 32
	// writeChunk is how much of an events batch is written per write
	// deadline, so a slow viewer that makes progress is not dropped.
	writeChunk = 32 << 10
	// maxEventsPerMessage caps the events in one events message: about
	// 150 KB of JSON, which a browser parses in well under a frame.
	maxEventsPerMessage = 1000
)

// errViewerLeft is the cause of a viewer's context ending because its
// socket closed.
var errViewerLeft = errors.New("the viewer closed the socket")

// viewer is one open run socket following a session: the connection, its
// send queue and what it has sent. The reader (the handler's goroutine)
// hands control messages to the session; the writer, the only goroutine
// that writes to the socket, sends whatever the session's state holds
// that the viewer has not been sent yet. Neither the reader nor the
// session ever waits on the socket: the session changes its state under
// its own lock and pokes the writer through wake, a channel of capacity
// 1, so pokes coalesce and a slow viewer gets bigger batches instead of a
// longer queue.
type viewer struct {
	s      *Server
	sess   *session
	conn   *websocket.Conn
	ext    viewerExt // what a room adds; nil for the playground
	ctx    context.Context
	cancel context.CancelCauseFunc
	wake   chan struct{}
	// readerDone closes when the reader has stopped, so a closing writer
	// knows the viewer answered its close frame.
	readerDone chan struct{}
	wg         sync.WaitGroup // the writer and the run being started

	// While a run is being started (waiting; starting numbers the run
	// messages), playhead messages wait in pending for it.
	ctlMu    sync.Mutex
	starting uint64
	waiting  bool
	pending  []clientMsg

	mu        sync.Mutex
	closeCode int // close frame to send when ctx ends; 0 for none
	closeText string
	queue     []queued // error messages and run starts, in order
	// What the writer has sent of the session's run number gen.
	gen       int
	sent      []int
	reported  []bool
	doneSent  bool
	cursorVer int
}

// queued is one entry of a viewer's send queue: an encoded message of
// this viewer's own (an error), or, when runGen is set, the meta of the
// session's run number runGen.
type queued struct {
	msg    []byte
	runGen int
}

// newViewer is a viewer of sess on conn whose runs are charged to client.
func newViewer(s *Server, sess *session, conn *websocket.Conn, client string) *viewer {
	ctx, cancel := context.WithCancelCause(withClient(context.Background(), client))
	return &viewer{s: s, sess: sess, conn: conn, ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), readerDone: make(chan struct{})}
}

// serve runs the viewer until the socket closes or the server shuts down.
func (v *viewer) serve() {
	v.wg.Add(1)
	go v.writeLoop()
	if v.ext != nil {
		v.ext.attached(v)
		defer v.ext.detached(v)
	}
	v.sess.attach(v)
	defer v.sess.detach(v)
	err := v.readLoop()
	if err == nil {
		err = errViewerLeft
	}
	v.cancel(err)
	close(v.readerDone)
	v.wg.Wait()
	v.conn.Close()
}

// shutdown asks the viewer to close with a close frame saying why.
func (v *viewer) shutdown(code int, text string, cause error) {
	v.mu.Lock()
	if v.closeCode == 0 {
		v.closeCode, v.closeText = code, text
	}
	v.mu.Unlock()
	v.cancel(cause)
}

// poke tells the writer there is something to send; it never blocks.
func (v *viewer) poke() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// newRun queues the meta of the session's run gen after whatever the
// viewer has queued already, so the viewer sees its answers in order.
func (v *viewer) newRun(gen int) {
	v.mu.Lock()
	v.enqueueLocked(queued{runGen: gen})
	v.mu.Unlock()
}

// enqueueLocked queues a message for the writer. v.mu is held.
func (v *viewer) enqueueLocked(q queued) {
	if len(v.queue) >= maxQueued {
		v.closeCode, v.closeText = websocket.ClosePolicyViolation, "too many unread messages"
		v.cancel(fmt.Errorf("viewer did not read %d queued messages", len(v.queue)))
		return
	}
	v.queue = append(v.queue, q)
}

// refuse sends an error message; the socket stays open.
func (v *viewer) refuse(field, msg string) {
	b, err := json.Marshal(errorMsg{Type: msgError, Field: field, Message: msg})
	if err != nil { // strings always encode
		panic(err)
	}
	v.mu.Lock()
	v.enqueueLocked(queued{msg: b})
	v.mu.Unlock()
	v.poke()
}

// frame is one message the writer sends: encoded JSON, or, when rec is
// set, a batch of events [from, to) of one side, copied from the
// recording's own JSON.
type frame struct {
	msg            []byte
	rec            *recording
	side, from, to int
}

// doneJSON is the done message; it never changes.
var doneJSON = []byte(`{"type":"done"}`)

// collect takes everything the viewer has not been sent, and marks it
// sent: queued messages (errors, and the meta of each run started), then
// each side's newly visible events, the cursor if it moved, each side's
// report when its last event is visible, and done when every side's is.
// It never holds the viewer's lock and the session's together.
func (v *viewer) collect() []frame {
	var out []frame
	if v.ext != nil {
		for _, b := range v.ext.pending() {
			out = append(out, frame{msg: b})
		}
	}
	v.mu.Lock()
	q := v.queue
	v.queue = nil // an idle viewer holds no old messages
	v.mu.Unlock()
	st := v.sess.snapshot()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, m := range q {
		switch {
		case m.runGen == 0:
			out = append(out, frame{msg: m.msg})
		case m.runGen == st.gen && v.gen != st.gen: // not stale, not sent yet
			out = append(out, frame{msg: st.meta})
			v.gen = st.gen
			v.sent, v.reported = make([]int, len(st.sides)), make([]bool, len(st.sides))
			v.doneSent, v.cursorVer = false, 0
		}
	}
	if st.gen == 0 || v.gen != st.gen { // the run's meta is still to come
		return out
	}
	for s, rec := range st.sides {
		// A long run shown at once goes out in several messages, so the
		// browser parses each in a few milliseconds instead of one message
		// of 100,000 events that holds its page still for seconds.
		for from := v.sent[s]; from < st.shown[s]; from += maxEventsPerMessage {
			out = append(out, frame{rec: rec, side: s, from: from, to: min(from+maxEventsPerMessage, st.shown[s])})
		}
		v.sent[s] = max(v.sent[s], st.shown[s])
	}
	if v.cursorVer != st.cursorVer {
		out = append(out, frame{msg: st.cursor})
		v.cursorVer = st.cursorVer
	}
	for s, rec := range st.sides {
		if !v.reported[s] && v.sent[s] >= rec.events() {
			out = append(out, frame{msg: st.reports[s]})
			v.reported[s] = true
		}
	}
	switch {
	case st.finished && !v.doneSent:
		out = append(out, frame{msg: doneJSON})
		v.doneSent = true
	case !st.finished:
		v.doneSent = false
	}
	return out
}

// writeLoop is the connection's only writer.
func (v *viewer) writeLoop() {
	defer v.wg.Done()
	ping := time.NewTicker(v.s.pongWait * 9 / 10)
	defer ping.Stop()
	for {
		select {
		case <-v.ctx.Done():
			v.writeClose()
			return
		case <-ping.C:
			if err := v.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				v.fail(fmt.Errorf("ping: %w", err))
				return
			}
		case <-v.wake:
			for _, f := range v.collect() {
				if err := v.write(f); err != nil {
					v.fail(err)
					return
				}
			}
		}
	}
}

// fail ends the viewer after a write error; closing the connection
// unblocks the reader.
func (v *viewer) fail(err error) {
	v.cancel(err)
	v.conn.Close()
}

// writeClose sends the close frame, if one was asked for, and waits a
// moment for the viewer's answer before the connection is closed.
func (v *viewer) writeClose() {
	v.mu.Lock()
	code, text := v.closeCode, v.closeText
	v.mu.Unlock()
	if code == 0 {
		return
	}
	if err := v.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(closeWait)); err == nil {
		t := time.NewTimer(closeWait)
		select {
		case <-v.readerDone:
		case <-t.C:
		}
		t.Stop()
	}
	v.conn.Close()
}

// write sends one frame as one text message.
func (v *viewer) write(f frame) error {
	if err := v.conn.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return err
	}
	w, err := v.conn.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	if f.rec == nil {
		if _, err := w.Write(f.msg); err != nil {
			return err
		}
		return w.Close()
	}
	head := make([]byte, 0, 48)
	head = append(head, `{"type":"events","side":`...)
	head = strconv.AppendInt(head, int64(f.side), 10)
	head = append(head, `,"events":[`...)
	if _, err := w.Write(head); err != nil {
		return err
	}
	for body := f.rec.eventsJSON(f.from, f.to); len(body) > 0; {
		n := min(len(body), writeChunk)
		if err := v.conn.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
			return err
		}
		if _, err := w.Write(body[:n]); err != nil {
			return err
		}
		body = body[n:]
	}
	if _, err := w.Write([]byte("]}")); err != nil {
		return err
	}
	return w.Close()
}
