package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/websocket"
)

// contentSecurityPolicy allows only this origin's scripts, styles and
// sockets: no inline script but the ones whose hashes are given (the
// pages' import map), no third-party host, no framing.
func contentSecurityPolicy(scriptHashes ...string) string {
	scripts := strings.Join(append([]string{"'self'"}, scriptHashes...), " ")
	return "default-src 'self'; script-src " + scripts + "; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// securityHeaders sets the headers every response carries, so no page can
// forget them; csp is the Content-Security-Policy.
func securityHeaders(csp string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			next.ServeHTTP(w, r)
		})
	}
}

// logRequests logs one line per request with log/slog: method, path,
// status, bytes and duration.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		status := ww.Status()
		if status == 0 && websocket.IsWebSocketUpgrade(r) {
			status = http.StatusSwitchingProtocols // hijacked: the upgrader wrote it
		}
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", status,
			"bytes", ww.BytesWritten(), "duration", time.Since(start))
	})
}

// recoverer turns a handler's panic into a 500 and a log line instead of a
// dropped connection, so one bad request cannot take a viewer's page down.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // the server's own way to abort a response
			}
			s.fail(w, r, fmt.Errorf("panic serving %s: %v", r.URL.Path, v))
		}()
		next.ServeHTTP(w, r)
	})
}
