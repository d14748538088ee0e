// Package web serves the playground: pages, static files, the WebSocket
// that streams runs, and the app's own state in SQLite. It talks to the
// simulator only through sim's and checklist's exported API.
//
// Where things are: server.go builds the routes and owns the open sockets;
// session.go is a run apart from any socket (its recordings, playhead,
// speed and pacing, pacer.go, playback.go) that wakes any number of
// viewers; viewer.go is one socket following a session (its send queue and
// writer), ws.go its reader and the protocol, control.go what its messages
// do; recordings.go simulates and caches runs, recording.go holds one as
// the stream sends it; static.go serves the embedded files at hashed URLs;
// pages.go and the templ components in web/ui render the pages; db.go and
// migrations/ are the app's own state.
package web

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/websocket"

	"partialtruth/lessons"
	"partialtruth/sandbox"
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
	// Lessons are the lessons /lessons offers, in order; nil means the
	// built-in ones (lessons.Builtin).
	Lessons []*lessons.Lesson
	// MaxRoomSize is how many participants a training room holds; 0 means
	// DefaultMaxRoomSize.
	MaxRoomSize int
	// JoinBurst and JoinEvery limit joining and creating rooms per client
	// address: JoinBurst at once, then one every JoinEvery; 0 means 60 and
	// 500 ms.
	JoinBurst int
	JoinEvery time.Duration
	// Addr is the address the server listens on (host:port), the name
	// it answers to by default; see hostPolicy. Empty (with PublicURL
	// empty too) allows any well-formed Host, for tests.
	Addr string
	// PublicURL is the server's public origin (https://play.example.com)
	// when it is reached under another name than Addr, behind a proxy:
	// absolute links are written with it and its host is allowed.
	PublicURL string
	// RunMemory is the bytes of recordings the server holds at most,
	// cached and open together (see recordings); 0 means
	// DefaultRunMemory.
	RunMemory int
}

// DefaultRunMemory is what the server keeps for runs by default: room for
// the worst single run (a compare of two sides at MaxWebEvents, about
// 2 × 120 MB, twice that while it records) and a few hundred ordinary runs.
const DefaultRunMemory = 512 << 20

// Server is the playground's HTTP application. It owns the database and
// every open WebSocket, so Close can tell viewers the server is going away.
type Server struct {
	log    *slog.Logger
	db     *sql.DB
	router chi.Router

	lessons  []*lessons.Lesson
	progress progressStore

	clock    clock
	assets   *staticAssets // embedded CSS and JS, at plain and hashed URLs
	csp      string        // Content-Security-Policy, with the import map's hash
	pongWait time.Duration
	recs     *recordings
	upgrader *websocket.Upgrader
	rooms    *roomHub
	joins    *rateLimiter
	// queryTimeout is a query's time limit from its arrival,
	// sandbox.Timeout; tests shorten it.
	queryTimeout time.Duration
	hosts        *hostPolicy
	// base is every request's context (BaseContext); Shutdown cancels it
	// so requests waiting for a run or a query end at once.
	base       context.Context
	cancelBase context.CancelCauseFunc

	mu           sync.Mutex
	closing      bool
	viewers      map[*viewer]struct{}
	wg           sync.WaitGroup // one per open viewer
	shutdownOnce sync.Once
	shutdownErr  error
	closeOnce    sync.Once
	closeErr     error
}

// shutdownText is the close frame's reason when the server stops.
const shutdownText = "server shutting down"

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
	hosts, err := newHostPolicy(cfg.Addr, cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	runMemory := cfg.RunMemory
	if runMemory <= 0 {
		runMemory = DefaultRunMemory
	}
	db, err := OpenDB(cfg.DBPath)
	if err != nil {
		return nil, err
	}
	ls := cfg.Lessons
	if ls == nil {
		if ls, err = lessons.Builtin(); err != nil {
			db.Close()
			return nil, err
		}
	}
	s := &Server{log: log, db: db, clock: realClock{}, pongWait: defaultPongWait, queryTimeout: sandbox.Timeout, recs: newRecordings(runMemory),
		hosts: hosts, viewers: map[*viewer]struct{}{}, lessons: ls, progress: progressStore{db}}
	s.base, s.cancelBase = context.WithCancelCause(context.Background())
	if s.assets, err = loadStatic(static.FS); err != nil {
		db.Close()
		return nil, fmt.Errorf("web: reading embedded static files: %w", err)
	}
	s.csp = contentSecurityPolicy(s.assets.importMapCSP)
	s.upgrader = s.newUpgrader()
	s.rooms, s.joins = newRoomHub(roomStore{db}, s.recs, s.clock, log, cmp.Or(cfg.MaxRoomSize, DefaultMaxRoomSize)),
		newRateLimiter(cmp.Or(cfg.JoinBurst, defaultJoinBurst), cmp.Or(cfg.JoinEvery, defaultJoinEvery), s.clock)
	s.router = s.routes()
	return s, nil
}

// Handler is the whole app as one http.Handler, for http.Server and
// httptest alike.
func (s *Server) Handler() http.Handler { return s.router }

// BaseContext is for http.Server.BaseContext: every request's context
// ends when Shutdown begins, so a request waiting for a run or a query
// ends at once instead of holding up the server's shutdown.
func (s *Server) BaseContext(net.Listener) context.Context { return s.base }

// routes wires every URL the app answers. Pages live in pages.go (the
// front end's), the stream in ws.go.
func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	// HEAD answers wherever GET does, with GET's status and headers and no
	// body (net/http drops it).
	r.Use(s.recoverer, s.logRequests, securityHeaders(s.csp), s.checkHost, withClientAddr, s.withAssets, middleware.GetHead)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errNotFound(r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &StatusError{Status: http.StatusMethodNotAllowed, Msg: fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)})
	})
	r.Get("/", s.handleHome)
	r.Get("/play", s.handlePlay)
	r.Get("/checklist", s.handleChecklist)
	r.Get("/checklist.md", s.handleChecklistMarkdown)
	r.Get("/compare", s.handleCompare)
	r.Get("/source/{design}", s.handleSource)
	r.Get("/healthz", s.handleHealthz)
	r.Get("/static/*", s.handleStatic)
	r.Get("/ws/run", s.handleRunSocket)
	r.Get("/api/tables", s.handleTables)
	s.lessonRoutes(r)
	s.roomRoutes(r)
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

// Shutdown stops the app's work within ctx: it refuses new requests and
// sockets, cancels every simulation running or waiting and every request
// waiting for one (through BaseContext), and sends every open socket a
// close frame 1001 "server shutting down". It returns when the sockets
// have closed, or when ctx ends, after cutting the connections of viewers
// that did not take their close frame. Call it before (or with)
// http.Server.Shutdown, which waits for requests but does not see
// WebSockets. Only the first call does anything.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		viewers := make([]*viewer, 0, len(s.viewers))
		for v := range s.viewers {
			viewers = append(viewers, v)
		}
		s.mu.Unlock()
		// The simulations stop before the base context is cancelled, so
		// that no waiting run takes the slot of one cancelled here.
		s.recs.stop()
		s.cancelBase(errServerClosing)
		stopped := make(chan struct{})
		go func() { s.recs.wait(); close(stopped) }()
		for _, v := range viewers {
			v.shutdown(websocket.CloseGoingAway, shutdownText, errServerClosing)
		}
		// A viewer whose writer is stuck on a full socket cannot take a
		// close frame; once ctx ends its connection is cut.
		done := make(chan struct{})
		go func() { s.wg.Wait(); <-stopped; close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			s.shutdownErr = fmt.Errorf("shutdown: %w; cutting the connections of %d viewers", context.Cause(ctx), len(viewers))
			for _, v := range viewers {
				v.conn.NetConn().Close()
			}
			<-done
		}
		s.rooms.close()
	})
	return s.shutdownErr
}

// Close shuts the app down (Shutdown, with a grace of a couple of
// seconds for viewers to take their close frame) and closes the
// database. Close is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*closeWait)
		defer cancel()
		s.Shutdown(ctx)
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// addViewer registers an open socket so Close can reach it; it refuses
// once the server is closing.
func (s *Server) addViewer(v *viewer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.viewers[v] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) removeViewer(v *viewer) {
	s.mu.Lock()
	delete(s.viewers, v)
	s.mu.Unlock()
	s.wg.Done()
}
