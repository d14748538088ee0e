package web

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchViewers is how many viewers watch at once in BenchmarkViewers.
const benchViewers = 100

// benchPayments gives a dual-write run of about 10,000 events.
const benchPayments = "460"

// BenchmarkViewers: 100 viewers play a ~10,000-event run at full speed,
// all at once; it reports the events per second delivered in total.
// Everything the viewers receive is counted by the client, not the server.
//
//	go test ./web -run '^$' -bench Viewers -benchtime 10x
func BenchmarkViewers(b *testing.B) {
	b.Run("same-run", func(b *testing.B) { benchViewersRun(b, false) })
	b.Run("distinct-runs", func(b *testing.B) { benchViewersRun(b, true) })
}

// benchViewersRun: with distinct, each viewer (and each iteration) has a
// seed of its own, so every viewer costs a simulation; otherwise they all
// watch one scenario, as a room does, and share its recording.
func benchViewersRun(b *testing.B, distinct bool) {
	s, ts := startSocketServer(b)
	// The viewers all come from 127.0.0.1; this measures streaming, so
	// admission lets one address queue them all (BenchmarkSoak measures
	// admission).
	s.recs.adm.perClient, s.recs.adm.maxQueued, s.recs.adm.after = 1<<20, 1<<20, neverAfter
	viewers := make([]*testClient, benchViewers)
	for i := range viewers {
		viewers[i] = dial(b, ts)
	}
	round := 0
	play := func() (events int) {
		round++
		var wg sync.WaitGroup
		counts := make([]int, len(viewers))
		for i, v := range viewers {
			seed := "42"
			if distinct {
				seed = fmt.Sprint(round*benchViewers + i)
			}
			wg.Go(func() { counts[i] = v.countToDone(b, runMsg("", 0, "payments", benchPayments, "seed", seed)) })
		}
		wg.Wait()
		for _, n := range counts {
			events += n
		}
		return events
	}
	if !distinct {
		play() // simulate once; the benchmark measures the streaming
	}
	var total int
	var elapsed time.Duration
	for b.Loop() {
		start := time.Now()
		total += play()
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(total)/float64(b.N)/benchViewers, "events/viewer")
}

// countToDone runs msg and reads to done, counting events cheaply: every
// event's JSON starts with {"id": and no string can contain that
// unescaped. It checks the count against the meta.
func (c *testClient) countToDone(tb testing.TB, msg any) int {
	c.send(msg)
	var events, want int
	for {
		c.c.SetReadDeadline(time.Now().Add(safetyTimeout))
		_, data, err := c.c.ReadMessage()
		if err != nil {
			tb.Errorf("read: %v", err)
			return events
		}
		head := data[:min(len(data), 24)]
		switch {
		case bytes.HasPrefix(head, []byte(`{"type":"events"`)):
			events += bytes.Count(data, []byte(`{"id":`))
		case bytes.HasPrefix(head, []byte(`{"type":"meta"`)):
			// Every side's count: a compare's meta has two.
			for rest := data; ; {
				i := bytes.Index(rest, []byte(`"events":`))
				if i < 0 {
					break
				}
				rest = rest[i+len(`"events":`):]
				var n int
				fmt.Sscan(string(rest), &n)
				want += n
			}
		case bytes.HasPrefix(head, []byte(`{"type":"done"`)):
			if events != want || want == 0 {
				tb.Errorf("counted %d events, the meta says %d", events, want)
			}
			return events
		case bytes.HasPrefix(head, []byte(`{"type":"error"`)):
			tb.Errorf("error: %s", data)
			return events
		}
	}
}

// idleViewers is how many idle sockets BenchmarkIdleViewer opens.
const idleViewers = 200

// BenchmarkIdleViewer measures what an open socket with no run costs the
// server: the growth of heap and goroutine stacks over idleViewers
// connections, divided by their number. The clients are bare TCP
// connections that send the handshake by hand, so their own cost in this
// process is a few hundred bytes each and counts against the server.
//
//	go test ./web -run '^$' -bench IdleViewer -benchtime 5x
func BenchmarkIdleViewer(b *testing.B) {
	s, ts := startSocketServer(b)
	var perViewer float64
	for b.Loop() {
		perViewer = idleViewerBytes(b, s, ts)
	}
	b.ReportMetric(perViewer, "B/idle-viewer")
}

// idleViewerBytes opens idleViewers bare sockets and returns the heap and
// stack growth per socket, then closes them.
func idleViewerBytes(tb testing.TB, s *Server, ts *httptest.Server) float64 {
	before := memInUse()
	conns := make([]net.Conn, 0, idleViewers)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		waitFor(tb, "the idle viewers to go", func() bool { return openViewers(s) == 0 })
	}()
	host := strings.TrimPrefix(ts.URL, "http://")
	for range idleViewers {
		c, err := net.Dial("tcp", host)
		if err != nil {
			tb.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /ws/run HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", host)
		res, err := http.ReadResponse(bufio.NewReaderSize(c, 256), nil)
		if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
			tb.Fatalf("handshake: %v %v", res, err)
		}
	}
	waitFor(tb, "the server to register every viewer", func() bool { return openViewers(s) == idleViewers })
	return float64(memInUse()-before) / idleViewers
}

func openViewers(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.viewers)
}

// memInUse is the heap and goroutine stack in use after a full GC.
func memInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// TestIdleViewerCostsAtMost64KiB keeps the idle cost measured by
// BenchmarkIdleViewer within its budget.
func TestIdleViewerCostsAtMost64KiB(t *testing.T) {
	s, ts := startSocketServer(t)
	if got := idleViewerBytes(t, s, ts); got > 64<<10 {
		t.Fatalf("an idle viewer costs %.0f bytes; the budget is 65536", got)
	}
}
