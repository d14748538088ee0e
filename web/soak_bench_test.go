package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// soakHostile is how many hostile clients BenchmarkSoak runs, each from
// an address of its own.
const soakHostile = 40

// BenchmarkSoak: 40 hostile clients attack the server while a victim runs
// 200-payment compares, one per iteration, each of a new seed. A third of
// the hostile clients start 10,000-payment compares and hang up after
// 0.3 s, a third send endless SQL queries, a third open sockets on
// 10,000-payment runs and never read. It reports the victim's run time
// (sending the run to receiving done) at the 50th and 99th percentiles and
// the most, and the process's peak heap and resident memory, sampled
// every 50 ms: server and clients share the process, so the figures are
// an upper bound for the server. The server is configured as serve
// configures it, memory limit included.
//
//	go test ./web -run '^$' -bench Soak -benchtime 50x -count 1
func BenchmarkSoak(b *testing.B) {
	limit := debug.SetMemoryLimit(2 * DefaultRunMemory)
	defer debug.SetMemoryLimit(limit)
	s := newTestServer(b)
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Config.BaseContext = s.BaseContext
	ts.Start()
	defer ts.Close()
	defer s.Shutdown(context.Background()) // before ts.Close, which waits for sockets

	ctx, stop := context.WithCancel(context.Background())
	var hostile sync.WaitGroup
	var refused, served atomic.Int64
	for i := range soakHostile {
		from := 10 + i
		switch i % 3 {
		case 0:
			hostile.Go(func() { soakAbandon(ctx, ts, from, &refused, &served) })
		case 1:
			hostile.Go(func() { soakEndlessQuery(ctx, ts, from, &refused, &served) })
		case 2:
			hostile.Go(func() { soakSlowSocket(ctx, ts, from, &refused, &served) })
		}
	}
	peakHeap, peakRSS := sampleMemory(ctx)
	time.Sleep(time.Second) // let the attack fill the queues

	victim := soakDial(b, ts, 200)
	var took []time.Duration
	seed := 0
	for b.Loop() {
		seed++
		start := time.Now()
		victim.countToDone(b, runMsg("outbox-idempotent", 0, "design", "dual-write", "payments", "200", "seed", strconv.Itoa(1_000_000+seed)))
		took = append(took, time.Since(start))
	}
	stop()
	hostile.Wait()
	slices.Sort(took)
	pct := func(p float64) time.Duration { return took[min(len(took)-1, int(p*float64(len(took))))] }
	b.ReportMetric(float64(pct(0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(pct(0.99).Milliseconds()), "p99-ms")
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "max-ms")
	b.ReportMetric(float64(peakHeap.Load()>>20), "peak-heap-MB")
	b.ReportMetric(float64(peakRSS.Load()>>20), "peak-rss-MB")
	b.ReportMetric(float64(refused.Load()), "hostile-refused")
	b.ReportMetric(float64(served.Load()), "hostile-served")
}

// soakDialer dials from 127.0.0.n: each hostile client has an address of
// its own, as admission counts by address.
func soakDialer(n int) *websocket.Dialer {
	d := *websocket.DefaultDialer
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(n))}}
	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := nd.DialContext(ctx, network, addr)
		if err == nil && n != 200 {
			c.(*net.TCPConn).SetReadBuffer(4 << 10) // hostile sockets read little or nothing
		}
		return c, err
	}
	return &d
}

func soakDial(tb testing.TB, ts *httptest.Server, n int) *testClient {
	return dialWith(tb, ts, soakDialer(n))
}

// soakAbandon starts big compares and hangs up after 0.3 s, again and
// again.
func soakAbandon(ctx context.Context, ts *httptest.Server, from int, refused, served *atomic.Int64) {
	for seed := 1; ctx.Err() == nil; seed++ {
		c, _, err := soakDialer(from).DialContext(ctx, wsURL(ts), nil)
		if err != nil {
			refused.Add(1)
			continue
		}
		c.WriteJSON(runMsg("outbox-idempotent", 0, "design", "consumer-versioned", "payments", "10000", "seed", fmt.Sprint(from*100_000+seed)))
		served.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(300 * time.Millisecond):
		}
		c.Close()
	}
}

// soakEndlessQuery sends a query that never ends on its own, again and
// again; the server stops each after its time limit.
func soakEndlessQuery(ctx context.Context, ts *httptest.Server, from int, refused, served *atomic.Int64) {
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(from))}}).DialContext}}
	q := url.Values{"design": {"outbox"}, "payments": {"5"}, "db": {"service.db"},
		"sql": {"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"}}
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/tables?"+q.Encode(), nil)
		res, err := client.Do(req)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable {
			refused.Add(1)
		} else {
			served.Add(1)
		}
	}
	client.CloseIdleConnections()
}

// soakSlowSocket opens sockets on big runs at full speed and never reads
// them; when the server drops one, it opens another.
func soakSlowSocket(ctx context.Context, ts *httptest.Server, from int, refused, served *atomic.Int64) {
	for seed := 1; ctx.Err() == nil; seed++ {
		c, _, err := soakDialer(from).DialContext(ctx, wsURL(ts), nil)
		if err != nil {
			refused.Add(1)
			continue
		}
		c.WriteJSON(runMsg("", 0, "design", "outbox-idempotent", "payments", "10000", "seed", fmt.Sprint(from*100_000+seed)))
		served.Add(1)
		// Never read; the server drops a viewer that takes no data.
		// Its close arrives in the receive buffer, unread; wait for the
		// end of the attack or the drop, read as a closed connection.
		done := make(chan struct{})
		go func() {
			c.SetReadDeadline(time.Time{})
			for {
				if _, _, err := c.NextReader(); err != nil {
					break
				}
				time.Sleep(2 * time.Second) // read almost nothing
			}
			close(done)
		}()
		select {
		case <-ctx.Done():
		case <-done:
		}
		c.Close()
		<-done
	}
}

// sampleMemory records the process's peak heap in use and resident set
// every 50 ms until ctx ends.
func sampleMemory(ctx context.Context) (heap, rss *atomic.Int64) {
	heap, rss = new(atomic.Int64), new(atomic.Int64)
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if v := int64(m.HeapInuse); v > heap.Load() {
				heap.Store(v)
			}
			if v := residentBytes(); v > rss.Load() {
				rss.Store(v)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return heap, rss
}

// residentBytes is the process's resident set from /proc, 0 where there
// is none.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkCancelLatency: a socket starts a 10,000-payment run, which
// records for 0.2 s; then the socket closes. It reports the time from the
// close to the simulation's end (its flight landing, cancelled), through
// the whole web path: reader, session, recordings, simulator.
//
//	go test ./web -run '^$' -bench CancelLatency -benchtime 10x -count 1
func BenchmarkCancelLatency(b *testing.B) {
	s, ts := startSocketServer(b)
	var took []time.Duration
	seed := 0
	for b.Loop() {
		seed++
		params := map[string]string{"design": "outbox-idempotent", "payments": "10000", "seed": strconv.Itoa(seed)}
		sc, err := webScenario(func(n string) string { return params[n] })
		if err != nil {
			b.Fatal(err)
		}
		c := dial(b, ts)
		c.send(runMsg("", 0, "design", params["design"], "payments", params["payments"], "seed", params["seed"]))
		var f *flight
		for f == nil {
			f = s.recs.flightOf(sc)
			time.Sleep(time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // recording by now
		start := time.Now()
		c.c.Close()
		<-f.done
		took = append(took, time.Since(start))
		if !errors.Is(f.err, errAbandoned) {
			b.Fatalf("the run ended with %v, want %v: it finished before the close", f.err, errAbandoned)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
}
