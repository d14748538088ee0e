package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
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

// HEAD answers wherever GET does, with GET's status and content type and
// no body; elsewhere it gets what GET gets (404), and other methods are
// still refused.
func TestHeadAnswersWhereGetDoes(t *testing.T) {
	ts := httptest.NewServer(newTestServer(t).Handler())
	defer ts.Close()
	do := func(method, path string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	_, home := do(http.MethodGet, "/")
	asset := regexp.MustCompile(`/static/[^"']+\.css`).Find(home)
	if asset == nil {
		t.Fatal("the home page links no stylesheet under /static/")
	}
	for _, path := range []string{"/", "/play", "/checklist", "/checklist.md", "/healthz", string(asset),
		"/api/tables?design=dual-write&payments=5", "/no-such-page"} {
		g, _ := do(http.MethodGet, path)
		h, body := do(http.MethodHead, path)
		if h.StatusCode != g.StatusCode || h.Header.Get("Content-Type") != g.Header.Get("Content-Type") || len(body) != 0 {
			t.Errorf("HEAD %s = %d %q with %d bytes; GET is %d %q", path, h.StatusCode, h.Header.Get("Content-Type"), len(body),
				g.StatusCode, g.Header.Get("Content-Type"))
		}
	}
	if h, _ := do(http.MethodHead, "/"); h.StatusCode != http.StatusOK {
		t.Errorf("HEAD / = %d, want 200", h.StatusCode)
	}
	if p, _ := do(http.MethodPost, "/"); p.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", p.StatusCode)
	}
}
