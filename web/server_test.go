package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// newTestServer is a Server on an in-memory database, closed with the test.
func newTestServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := New(Config{DBPath: ":memory:"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Result()
}

func TestHealthzSaysOK(t *testing.T) {
	res := get(t, newTestServer(t).Handler(), "/healthz")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("GET /healthz = %d %q, want 200 ok", res.StatusCode, body)
	}
}

func TestEveryResponseCarriesTheCSP(t *testing.T) {
	s := newTestServer(t)
	h := s.Handler()
	for _, path := range []string{"/", "/play", "/healthz", "/static/app.css", "/no/such/page"} {
		res := get(t, h, path)
		if got := res.Header.Get("Content-Security-Policy"); got != s.csp {
			t.Errorf("GET %s: Content-Security-Policy = %q, want %q", path, got, s.csp)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options = %q, want nosniff", path, got)
		}
	}
	if strings.Contains(s.csp, "unsafe-inline") || !strings.Contains(s.csp, "script-src 'self' 'sha256-") {
		t.Fatalf("CSP allows inline code, or not the import map alone: %s", s.csp)
	}
}

func TestUnknownPathsAre404WithThePath(t *testing.T) {
	h := newTestServer(t).Handler()
	for _, path := range []string{"/nope", "/static/nope.css", "/ws/nope"} {
		res := get(t, h, path)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
		if path != "/static/nope.css" && !strings.Contains(string(body), path) {
			t.Errorf("GET %s: body %q does not name the path", path, body)
		}
	}
}

func TestStaticFilesAreServed(t *testing.T) {
	res := get(t, newTestServer(t).Handler(), "/static/app.css")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("GET /static/app.css = %d %s, want 200 text/css", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

func TestWrongMethodIs405(t *testing.T) {
	rec := httptest.NewRecorder()
	newTestServer(t).Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/healthz", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /healthz = %d, want 405", rec.Code)
	}
}

func TestPanicBecomes500(t *testing.T) {
	s := newTestServer(t)
	h := s.recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	res := get(t, h, "/x")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "boom") {
		t.Fatalf("panic gave %d %q, want 500 without the panic's detail", res.StatusCode, body)
	}
}

func TestNewNeedsADatabasePath(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "DBPath") {
		t.Fatalf("New without a DBPath: %v, want an error naming DBPath", err)
	}
}

func TestNewReportsADatabaseItCannotOpen(t *testing.T) {
	bad := t.TempDir() + "/no/such/dir/app.db"
	if _, err := New(Config{DBPath: bad}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("New with DBPath %s: %v, want an error naming the path", bad, err)
	}
}
