package web

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"partialtruth/checklist"
)

// serverAt is a Server configured as `serve -addr addr -public-url public`.
func serverAt(t *testing.T, addr, public string) *Server {
	t.Helper()
	s, err := New(Config{DBPath: ":memory:", Addr: addr, PublicURL: public})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func getHost(t *testing.T, h http.Handler, host, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(body)
}

func TestHostPolicyAllowsTheServersOwnNames(t *testing.T) {
	for _, c := range []struct {
		addr, public string
		allowed      []string
		refused      []string
	}{
		{"127.0.0.1:8080", "", []string{"127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080"},
			[]string{"evil.example:8080", "127.0.0.1:9090", "localhost", "10.0.0.5:8080", ""}},
		{"0.0.0.0:8080", "", []string{"localhost:8080", "192.168.1.20:8080", "[fe80::1]:8080"},
			[]string{"evil.example:8080", "192.168.1.20:80", "rebind.example"}},
		{"127.0.0.1:8080", "https://play.example.com", []string{"play.example.com", "localhost:8080"},
			[]string{"play.example.com.evil.example", "evil.example"}},
		{"", "", []string{"example.com", "127.0.0.1:1"}, []string{"a b", "x\"y", "<script>", ""}},
	} {
		p, err := newHostPolicy(c.addr, c.public)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range c.allowed {
			if !p.allowed(h) {
				t.Errorf("-addr %s -public-url %q refuses Host %q", c.addr, c.public, h)
			}
		}
		for _, h := range c.refused {
			if p.allowed(h) {
				t.Errorf("-addr %s -public-url %q allows Host %q", c.addr, c.public, h)
			}
		}
	}
	if _, err := newHostPolicy("127.0.0.1:8080", "ftp://x/y"); err == nil || !strings.Contains(err.Error(), `"ftp://x/y"`) {
		t.Fatalf("a bad public URL = %v, want refused naming it", err)
	}
}

// A request whose Host is not the server's (a DNS-rebinding page) gets no
// page, no link and no socket.
func TestSpoofedHostGetsNoLinkAndNoSocket(t *testing.T) {
	s := serverAt(t, "127.0.0.1:8080", "")
	h := s.Handler()
	for _, path := range []string{"/", "/checklist.md", "/api/tables?design=outbox", "/ws/run"} {
		res, body := getHost(t, h, "rebind.example:8080", path,
			"Origin", "http://rebind.example:8080", "Connection", "Upgrade", "Upgrade", "websocket",
			"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		if res.StatusCode != http.StatusMisdirectedRequest || !strings.Contains(body, "not a name of this server") || strings.Contains(body, "](http") {
			t.Errorf("GET %s with a spoofed Host = %d %.200s; want 421 and no link", path, res.StatusCode, body)
		}
	}
	// The server's own name gets its links written with that name.
	res, body := getHost(t, h, "localhost:8080", "/checklist.md")
	var want bytes.Buffer
	checklist.WriteMarkdown(&want, "http://localhost:8080")
	if res.StatusCode != http.StatusOK || body != want.String() {
		t.Fatalf("/checklist.md on the server's own name = %d, links not on http://localhost:8080", res.StatusCode)
	}
	// A page of another origin cannot open a socket even with the right
	// Host.
	res, _ = getHost(t, h, "localhost:8080", "/ws/run",
		"Origin", "http://rebind.example:8080", "Connection", "Upgrade", "Upgrade", "websocket",
		"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a socket from another origin = %d, want 403", res.StatusCode)
	}
}

// With -public-url, absolute links are the public ones whatever name the
// request came under.
func TestPublicURLWritesTheLinks(t *testing.T) {
	s := serverAt(t, "127.0.0.1:8080", "https://play.example.com")
	_, body := getHost(t, s.Handler(), "localhost:8080", "/checklist.md")
	var want bytes.Buffer
	checklist.WriteMarkdown(&want, "https://play.example.com")
	if body != want.String() {
		t.Fatalf("/checklist.md links are not on the public URL:\n%.300s", body)
	}
}

// With -public-url, a room's join link (and so its QR code) is the public
// one, not the name the trainer's browser happened to use.
func TestPublicURLWritesTheRoomsJoinLink(t *testing.T) {
	s := serverAt(t, "127.0.0.1:8080", "https://play.example.com")
	h := s.Handler()
	req := httptest.NewRequest(http.MethodPost, "/rooms", strings.NewReader("design=dual-write&compare=outbox-idempotent"))
	req.Host = "127.0.0.1:8080"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://127.0.0.1:8080")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/r/") {
		t.Fatalf("POST /rooms: %s, Location %q", res.Status, loc)
	}
	var cookies []string
	for _, c := range res.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	_, body := getHost(t, h, "127.0.0.1:8080", loc, "Cookie", strings.Join(cookies, "; "))
	if want := "https://play.example.com" + loc; !strings.Contains(body, want) {
		t.Fatalf("the room page does not give the public join link %s:\n%.400s", want, body)
	}
	if strings.Contains(body, "http://127.0.0.1:8080"+loc) {
		t.Fatalf("the room page gives the listen address as its join link")
	}
}
