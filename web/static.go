package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"partialtruth/web/ui"
)

// staticFile is one embedded asset with the ETag of its content.
type staticFile struct {
	body []byte
	etag string
	// hashed is the file's content-named URL path ("play.0123abcd4567.js").
	hashed string
	// imports are the modules a .js file imports ("./run.js" as "run.js").
	imports []string
}

// staticAssets is every embedded CSS and JS file, served twice: at its
// plain name (/static/play.js, revalidated on every use) and at a name
// that carries a hash of its content (/static/play.0123abcd4567.js, kept
// by the browser for a year, since that URL can never serve anything
// else). Pages link the hashed URLs, preload their modules, and give the
// browser an import map so that "./run.js" inside a module also resolves
// to the hashed URL: a reload then asks for no file it already has.
type staticAssets struct {
	files     map[string]*staticFile // by plain name
	byHash    map[string]*staticFile // by hashed name
	importMap string                 // JSON
	// importMapCSP is the import map's hash as a CSP source, so the one
	// inline script the pages carry is allowed and no other is.
	importMapCSP string
}

// hashLen is how many hex digits of a file's SHA-256 its hashed name
// carries: 48 bits, against a handful of files.
const hashLen = 12

// importRE finds a module's static imports of a sibling module.
var importRE = regexp.MustCompile(`(?m)^\s*(?:import|export)\s[^;]*?\bfrom\s*["']\./([\w.-]+\.js)["']|^\s*import\s*["']\./([\w.-]+\.js)["']`)

// loadStatic reads every embedded asset once, at startup, with its ETag,
// hashed name and imports, and builds the import map.
func loadStatic(fsys fs.FS) (*staticAssets, error) {
	a := &staticAssets{files: map[string]*staticFile{}, byHash: map[string]*staticFile{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		sumHex := hex.EncodeToString(sum[:])
		ext := path.Ext(name)
		f := &staticFile{body: body, etag: `"` + sumHex[:16] + `"`,
			hashed: strings.TrimSuffix(name, ext) + "." + sumHex[:hashLen] + ext}
		if ext == ".js" {
			for _, m := range importRE.FindAllSubmatch(body, -1) {
				f.imports = append(f.imports, string(m[1])+string(m[2]))
			}
		}
		a.files[name] = f
		a.byHash[f.hashed] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	imports := map[string]string{}
	for name, f := range a.files {
		if path.Ext(name) == ".js" {
			imports["/static/"+name] = "/static/" + f.hashed
		}
	}
	b, err := json.Marshal(map[string]any{"imports": imports}) // sorted keys: the same bytes every start
	if err != nil {
		return nil, err
	}
	a.importMap = string(b)
	sum := sha256.Sum256(b)
	a.importMapCSP = "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	return a, nil
}

var _ ui.Assets = (*staticAssets)(nil)

// URL is the hashed URL of the static file name, or its plain one if
// there is no such file (the request for it then answers 404).
func (a *staticAssets) URL(name string) string {
	if f, ok := a.files[name]; ok {
		return "/static/" + f.hashed
	}
	return "/static/" + name
}

// ImportMap is the JSON of the pages' import map.
func (a *staticAssets) ImportMap() string { return a.importMap }

// Preloads is the hashed URL of every module entry imports, directly or
// through another, each once, in a stable order.
func (a *staticAssets) Preloads(entry string) []string {
	seen := map[string]bool{entry: true}
	var out []string
	var visit func(name string)
	visit = func(name string) {
		f, ok := a.files[name]
		if !ok {
			return
		}
		for _, imp := range f.imports {
			if !seen[imp] {
				seen[imp] = true
				out = append(out, a.URL(imp))
				visit(imp)
			}
		}
	}
	visit(entry)
	slices.Sort(out)
	return out
}

// withAssets gives every page rendered for a request the hashed URLs.
func (s *Server) withAssets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(ui.WithAssets(r.Context(), s.assets)))
	})
}

// Cache-Control for the two kinds of static URL.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// handleStatic serves the embedded CSS and JS. At a hashed name a file is
// immutable: the browser keeps it for a year without asking again. At its
// plain name (for anything that links it so) it carries an ETag and
// Cache-Control: no-cache, so a browser revalidates it and gets a 304
// instead of the whole file when it has not changed; embedded files have
// no modification time, so without an ETag every use fetched it again. A
// hashed name whose hash is not the current content's is not found.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	f, cache := s.assets.byHash[name], cacheImmutable
	if f == nil {
		f, cache = s.assets.files[name], cacheRevalidate
	}
	if f == nil {
		s.fail(w, r, errNotFound(r.URL.Path))
		return
	}
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Cache-Control", cache)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
