package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// staticFile is one embedded asset with the ETag of its content.
type staticFile struct {
	body []byte
	etag string
}

// loadStatic reads every embedded asset once, at startup, with its ETag.
func loadStatic(fsys fs.FS) (map[string]staticFile, error) {
	files := map[string]staticFile{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		files[path] = staticFile{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return files, err
}

// handleStatic serves the embedded CSS and JS with an ETag per file and
// Cache-Control: no-cache, so a browser revalidates each file and gets a
// 304 instead of the whole file when it has not changed. Embedded files have
// no modification time, so without an ETag every page load fetched every
// module again.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	f, ok := s.assets[name]
	if !ok {
		s.fail(w, r, errNotFound(r.URL.Path))
		return
	}
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
