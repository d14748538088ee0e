package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStaticFilesRevalidateByETag(t *testing.T) {
	h := newTestServer(t).Handler()
	for _, path := range []string{"/static/app.css", "/static/play.js"} {
		first := get(t, h, path)
		etag := first.Header.Get("ETag")
		if first.StatusCode != http.StatusOK || etag == "" || first.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("GET %s = %d, ETag %q, Cache-Control %q; want 200 with an ETag and no-cache",
				path, first.StatusCode, etag, first.Header.Get("Cache-Control"))
		}
		if path == "/static/play.js" && !strings.HasPrefix(first.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("GET %s: Content-Type %q, want text/javascript (modules need it)", path, first.Header.Get("Content-Type"))
		}
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("If-None-Match", etag)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("GET %s with If-None-Match %s = %d with %d bytes, want 304 and no body", path, etag, rec.Code, rec.Body.Len())
		}
		req.Header.Set("If-None-Match", `"stale"`)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("GET %s with a stale ETag = %d, want 200 and the file", path, rec.Code)
		}
	}
}
