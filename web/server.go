// Package web serves the playground: pages, static files, the WebSocket
// that streams runs, and the app's own state in SQLite. It talks to the
// simulator only through sim's and checklist's exported API.
package web

import (
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/go-chi/chi/v5"

	"partialtruth/static"
)

// Config is what a Server needs from its caller. The zero value is not
// usable: DBPath must be set (":memory:" for tests).
type Config struct {
	// DBPath is the SQLite file holding app state; it is created and
	// migrated if needed. ":memory:" keeps state in memory.
	DBPath string
	// Logger receives request and stream logs; nil discards them.
	Logger *slog.Logger
}

// Server is the playground's HTTP application. It owns the database and
// every open WebSocket, so Close can tell viewers the server is going away.
type Server struct {
	log    *slog.Logger
	db     *sql.DB
	router chi.Router

	mu      sync.Mutex
	closing bool
	conns   map[*viewer]struct{}
	wg      sync.WaitGroup // one per open viewer
}

// New opens and migrates the database and builds the routes. The caller
// must Close the Server.
func New(cfg Config) (*Server, error) {
	if cfg.DBPath == "" {
		return nil, fmt.Errorf("web: Config.DBPath is empty; allowed: a file path or %q", ":memory:")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := OpenDB(cfg.DBPath)
	if err != nil {
		return nil, err
	}
	s := &Server{log: log, db: db, conns: map[*viewer]struct{}{}}
	s.router = s.routes()
	return s, nil
}

// Handler is the whole app as one http.Handler, for http.Server and
// httptest alike.
func (s *Server) Handler() http.Handler { return s.router }

// routes wires every URL the app answers. Pages live in pages.go (the
// front end's), the stream in ws.go.
func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(s.recoverer, s.logRequests, securityHeaders)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errNotFound(r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &StatusError{Status: http.StatusMethodNotAllowed, Msg: fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)})
	})
	r.Get("/", s.handleHome)
	r.Get("/play", s.handlePlay)
	r.Get("/healthz", s.handleHealthz)
	r.Handle("/static/*", http.StripPrefix("/static/", http.FileServerFS(static.FS)))
	r.Get("/ws/run", s.handleRunSocket)
	return r
}

// handleHealthz says whether the server can serve: it pings the database.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if err := s.db.PingContext(r.Context()); err != nil {
		s.fail(w, r, fmt.Errorf("database ping: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "ok")
}

// Close closes the database. Open sockets are closed by the stream code.
func (s *Server) Close() error { return s.db.Close() }
