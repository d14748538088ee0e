package web

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestConnLimitStaysBelowTheOpenFilesLimit(t *testing.T) {
	for _, c := range []struct {
		fds  uint64
		want int
	}{{0, DefaultMaxConns}, {1 << 20, DefaultMaxConns}, {300, 300 - reservedFDs}, {100, 50}} {
		if got := ConnLimit(c.fds); got != c.want {
			t.Errorf("ConnLimit(%d) = %d, want %d", c.fds, got, c.want)
		}
	}
}

// dialFrom connects to addr from local address 127.0.0.N (every 127/8
// address is this machine's), so one test can be several clients.
func dialFrom(t *testing.T, n int, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(n))}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// getOn sends GET / on an open connection and reads the answer.
func getOn(t *testing.T, c net.Conn) (*http.Response, string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(safetyTimeout))
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	return res, string(b)
}

// Connections beyond a cap, per address or in total, get a 503 naming the
// cap at once; those within keep being served, and a closed one frees its
// place.
func TestConnectionsBeyondACapAreRefusedClearly(t *testing.T) {
	s := newTestServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.Handler()}
	go srv.Serve(LimitListener(ln, 3, 2))
	defer srv.Close()
	addr := ln.Addr().String()

	a1, a2 := dialFrom(t, 1, addr), dialFrom(t, 1, addr)
	for _, c := range []net.Conn{a1, a2} {
		if res, _ := getOn(t, c); res.StatusCode != http.StatusOK {
			t.Fatalf("a connection within the caps = %d", res.StatusCode)
		}
	}
	res, body := getOn(t, dialFrom(t, 1, addr))
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "your address has 2 connections open") {
		t.Fatalf("a third connection of one address = %d %q, want 503 naming the per-address cap", res.StatusCode, body)
	}
	b1 := dialFrom(t, 2, addr)
	if res, _ := getOn(t, b1); res.StatusCode != http.StatusOK {
		t.Fatalf("another address within the total = %d", res.StatusCode)
	}
	res, body = getOn(t, dialFrom(t, 3, addr))
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "the server has 3 connections open") {
		t.Fatalf("a connection beyond the total = %d %q, want 503 naming the total cap", res.StatusCode, body)
	}
	a1.Close()
	deadline := time.Now().Add(safetyTimeout)
	for {
		res, _ := getOn(t, dialFrom(t, 1, addr))
		if res.StatusCode == http.StatusOK {
			break // the closed connection's place was given back
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection's place was never given back")
		}
		time.Sleep(time.Millisecond) // the server notices the close a moment later
	}
}
