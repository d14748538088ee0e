package web

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// roomFollowers is how many participants the room benchmarks seat: the
// issue's 500.
const roomFollowers = 500

// cursorAt reads at_us from a cursor message without decoding the rest.
func cursorAt(b []byte) (int64, bool) {
	if !bytes.HasPrefix(b, []byte(`{"type":"cursor","at_us":`)) {
		return 0, false
	}
	b = b[len(`{"type":"cursor","at_us":`):]
	end := bytes.IndexByte(b, ',')
	if end < 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b[:end]), 10, 64)
	return n, err == nil
}

// seatRoom starts a room on a small run and seats n participants, each
// on its own socket. Every socket reads until it closes; seen is called
// with its index and the playhead of each cursor it receives.
func seatRoom(tb testing.TB, n int, seen func(i int, atUs int64)) (trainer *testClient, endUs int64) {
	var wg sync.WaitGroup
	tb.Cleanup(wg.Wait) // cleanups run last first: this one after the sockets are closed
	_, ts := startRoomServer(tb, Config{JoinBurst: n + 10, MaxRoomSize: n})
	host := newPerson(tb, ts.URL)
	code := host.startRoom(url.Values{"design": {"dual-write"}, "compare": {"outbox-idempotent"},
		"faults": {"bus.publish.fail=0.1"}, "payments": {"20"}, "seed": {"42"}})
	trainer = host.socket(code)
	meta := trainer.until("the run", has(msgMeta))
	var m serverMsg
	if err := json.Unmarshal(meta, &m); err != nil {
		tb.Fatal(err)
	}
	for _, r := range m.Runs {
		endUs = max(endUs, r.EndUs)
	}
	for i := range n {
		p := newPerson(tb, ts.URL)
		p.join(code, "p"+strconv.Itoa(i))
		c := p.socket(code)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, b, err := c.c.ReadMessage()
				if err != nil {
					return
				}
				if at, ok := cursorAt(b); ok {
					seen(i, at)
				}
			}
		}()
	}
	return trainer, endUs
}

// BenchmarkRoomSeek seats 500 participants in one room, shows them the
// whole run once, then has the trainer seek back and forth; each op is
// one seek, timed until every participant's socket has received a cursor
// at the new playhead. It reports the 50th and 99th percentile of that
// time over the ops, and of the time each single participant waited.
// Server and clients share the process (and the machine's two cores).
//
//	go test ./web -run '^$' -bench RoomSeek -benchtime 50x -count 3
func BenchmarkRoomSeek(b *testing.B) {
	var mu sync.Mutex
	var target int64 = -1
	var start time.Time
	got := make([]bool, roomFollowers)
	left := 0
	var each []time.Duration
	all := make(chan struct{}, 1)
	seen := func(i int, at int64) {
		mu.Lock()
		defer mu.Unlock()
		if at != target || got[i] {
			return
		}
		got[i] = true
		each = append(each, time.Since(start))
		if left--; left == 0 {
			all <- struct{}{}
		}
	}
	trainer, endUs := seatRoom(b, roomFollowers, seen)
	seek := func(at int64) time.Duration {
		mu.Lock()
		target, start, left = at, time.Now(), roomFollowers
		clear(got)
		mu.Unlock()
		trainer.send(map[string]any{"type": "seek", "at_us": at})
		select {
		case <-all:
		case <-time.After(safetyTimeout):
			b.Fatalf("seek to %d: not every participant got it within %s", at, safetyTimeout)
		}
		return time.Since(start)
	}
	seek(endUs) // every participant receives the whole run once
	each = nil
	var whole []time.Duration
	i := 0
	cpu := cpuTime()
	for b.Loop() {
		i++
		whole = append(whole, seek(endUs*int64(1+i%3)/4)) // a quarter, a half, three quarters of the run
	}
	// CPU time of the whole process (server and 500 clients) per seek:
	// what a seek costs, whatever else the machine is doing.
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(len(whole)), "cpu-ms/seek")
	b.ReportMetric(pct(whole, 50), "p50-ms/seek-to-all")
	b.ReportMetric(pct(whole, 99), "p99-ms/seek-to-all")
	b.ReportMetric(pct(each, 99), "p99-ms/seek-to-one")
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pct is the p-th percentile of ds, in milliseconds.
func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[min(len(s)-1, (len(s)*p+99)/100-1)]) / float64(time.Millisecond)
}

// idleParticipants is how many sockets the idle-participant measure opens.
const idleParticipants = 200

// idleParticipantBytes joins idleParticipants people to a room and opens
// a bare socket for each (the handshake written by hand, so the client's
// own cost in this process is small), and returns the heap and stack
// growth per participant, the join included.
func idleParticipantBytes(tb testing.TB) float64 {
	s, ts := startRoomServer(tb, Config{JoinBurst: idleParticipants + 10})
	code := newPerson(tb, ts.URL).startRoom(roomScenario)
	room, err := s.rooms.get(tb.Context(), code)
	if err != nil {
		tb.Fatal(err)
	}
	people := make([]*person, idleParticipants)
	for i := range people {
		people[i] = newPerson(tb, ts.URL)
	}
	hostport := strings.TrimPrefix(ts.URL, "http://")
	before := memInUse()
	conns := make([]net.Conn, 0, idleParticipants)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i, p := range people {
		p.join(code, "participant "+strconv.Itoa(i))
		u, _ := url.Parse(ts.URL + "/r/" + code)
		c, err := net.Dial("tcp", hostport)
		if err != nil {
			tb.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /r/%s/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: %s=%s\r\n\r\n",
			code, hostport, participantCookie, p.client.Jar.Cookies(u)[0].Value)
		res, err := http.ReadResponse(bufio.NewReaderSize(c, 256), nil)
		if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
			tb.Fatalf("handshake: %v %v", res, err)
		}
		p.client.CloseIdleConnections()
	}
	waitFor(tb, "every participant to be connected", func() bool {
		room.mu.Lock()
		defer room.mu.Unlock()
		n := 0
		for _, p := range room.order {
			n += p.connected
		}
		return n == idleParticipants
	})
	return float64(memInUse()-before) / idleParticipants
}

// BenchmarkRoomIdleParticipant reports what one idle participant costs
// the server: their place in the room and their open socket.
//
//	go test ./web -run '^$' -bench RoomIdleParticipant -benchtime 3x -count 2
func BenchmarkRoomIdleParticipant(b *testing.B) {
	var per float64
	for b.Loop() {
		per = idleParticipantBytes(b)
	}
	b.ReportMetric(per, "B/idle-participant")
}

// TestIdleParticipantCostsAtMost64KiB keeps the measure of
// BenchmarkRoomIdleParticipant within the budget.
func TestIdleParticipantCostsAtMost64KiB(t *testing.T) {
	if got := idleParticipantBytes(t); got > 64<<10 {
		t.Fatalf("an idle participant costs %.0f bytes; the budget is 65536", got)
	}
}

// TestEveryParticipantGetsTheTrainersSeek is BenchmarkRoomSeek's path
// on a small room: each seek of the trainer's reaches every participant.
func TestEveryParticipantGetsTheTrainersSeek(t *testing.T) {
	const n = 20
	var mu sync.Mutex
	last := make([]int64, n)
	trainer, endUs := seatRoom(t, n, func(i int, at int64) {
		mu.Lock()
		last[i] = at
		mu.Unlock()
	})
	for _, at := range []int64{endUs, endUs / 2, endUs / 4} {
		trainer.send(map[string]any{"type": "seek", "at_us": at})
		waitFor(t, fmt.Sprintf("every participant at %d", at), func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, a := range last {
				if a != at {
					return false
				}
			}
			return true
		})
	}
}
