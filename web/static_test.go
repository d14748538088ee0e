package web

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
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

// hashedStaticPath is a static file's content-named URL path.
var hashedStaticPath = regexp.MustCompile(`^/static/[\w-]+\.[0-9a-f]{12}\.(js|css)$`)

// pageImportMap is the import map a page carries, from plain module URL to
// hashed one; nil when it has none.
func pageImportMap(t *testing.T, page string) map[string]string {
	t.Helper()
	m := regexp.MustCompile(`<script type="importmap">([^<]*)</script>`).FindStringSubmatch(page)
	if m == nil {
		return nil
	}
	var im struct{ Imports map[string]string }
	if err := json.Unmarshal([]byte(m[1]), &im); err != nil {
		t.Fatalf("import map %s: %v", m[1], err)
	}
	return im.Imports
}

func TestHashedStaticFilesAreImmutableAndPlainOnesStillServe(t *testing.T) {
	s := newTestServer(t)
	h := s.Handler()
	for _, name := range []string{"app.css", "play.js", "run.js"} {
		hashed := s.assets.URL(name)
		if !hashedStaticPath.MatchString(hashed) {
			t.Fatalf("URL(%q) = %s, want a content-hashed path", name, hashed)
		}
		res := get(t, h, hashed)
		if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("GET %s = %d, Cache-Control %q; want 200, immutable for a year", hashed, res.StatusCode, res.Header.Get("Cache-Control"))
		}
		plain := get(t, h, "/static/"+name)
		if body(t, res) != body(t, plain) {
			t.Errorf("%s and /static/%s serve different bytes", hashed, name)
		}
		if strings.HasSuffix(name, ".js") && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("GET %s: Content-Type %q, want text/javascript", hashed, res.Header.Get("Content-Type"))
		}
		// Another content's hash must never be served as this one's.
		stale := regexp.MustCompile(`\.[0-9a-f]{12}\.`).ReplaceAllString(hashed, ".000000000000.")
		if res := get(t, h, stale); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s (a hash of no content) = %d, want 404", stale, res.StatusCode)
		}
	}
}

// TestPlayLinksOnlyImmutableURLs checks, over HTTP, what makes a reload of
// /play ask for no static file: every stylesheet, script and preload it
// links is content-hashed and immutable, and every module any of them
// imports is sent by the import map to its hashed URL and preloaded. The
// CSP allows the import map by its hash.
func TestPlayLinksOnlyImmutableURLs(t *testing.T) {
	s := newTestServer(t)
	h := s.Handler()
	res := get(t, h, "/play")
	csp := res.Header.Get("Content-Security-Policy")
	page := body(t, res)
	importMap := pageImportMap(t, page)
	if len(importMap) == 0 {
		t.Fatal("/play carries no import map")
	}
	raw := regexp.MustCompile(`<script type="importmap">([^<]*)</script>`).FindStringSubmatch(page)[1]
	sum := sha256.Sum256([]byte(raw))
	if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
		t.Errorf("the CSP %q does not allow the import map (%s)", csp, want)
	}
	preloaded := map[string]bool{}
	for _, m := range regexp.MustCompile(`<link rel="modulepreload" href="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		preloaded[m[1]] = true
	}
	var queue []string
	for _, m := range regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		queue = append(queue, m[1])
	}
	imports := regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^"]*?from\s+"\./([^"]+)"`)
	seen := map[string]bool{}
	for len(queue) > 0 {
		url := queue[0]
		queue = queue[1:]
		if seen[url] {
			continue
		}
		seen[url] = true
		if !hashedStaticPath.MatchString(url) {
			t.Errorf("/play loads %s, not a content-hashed URL", url)
			continue
		}
		res := get(t, h, url)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s = %d, Cache-Control %q; want 200 and immutable", url, res.StatusCode, res.Header.Get("Cache-Control"))
			continue
		}
		for _, m := range imports.FindAllStringSubmatch(body(t, res), -1) {
			mapped, ok := importMap["/static/"+m[1]]
			if !ok {
				t.Errorf("%s imports ./%s, which the import map does not send to a hashed URL", url, m[1])
				continue
			}
			if !preloaded[mapped] {
				t.Errorf("%s imports ./%s, but /play does not preload %s", url, m[1], mapped)
			}
			queue = append(queue, mapped)
		}
	}
	if len(preloaded) < 5 {
		t.Fatalf("/play preloads %v; want every module play.js imports", keys(preloaded))
	}
}
