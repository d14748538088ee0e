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
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/websocket"

	"partialtruth/lessons"
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
}

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

	mu        sync.Mutex
	closing   bool
	viewers   map[*viewer]struct{}
	wg        sync.WaitGroup // one per open viewer
	closeOnce sync.Once
	closeErr  error
}

// recordingBudget is how many bytes of recent runs the server keeps for
// viewers who open the same scenario: a few hundred default-sized runs.
const recordingBudget = 128 << 20

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
	s := &Server{log: log, db: db, clock: realClock{}, pongWait: defaultPongWait, recs: newRecordings(recordingBudget),
		viewers: map[*viewer]struct{}{}, lessons: ls, progress: progressStore{db}}
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

// routes wires every URL the app answers. Pages live in pages.go (the
// front end's), the stream in ws.go.
func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	// HEAD answers wherever GET does, with GET's status and headers and no
	// body (net/http drops it).
	r.Use(s.recoverer, s.logRequests, securityHeaders(s.csp), s.withAssets, middleware.GetHead)
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

// Close shuts the app down: every open socket gets a close frame saying
// the server is shutting down and its run is cancelled; then the database
// is closed. Call it after http.Server.Shutdown, which does not track
// WebSockets. Close is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		viewers := make([]*viewer, 0, len(s.viewers))
		for v := range s.viewers {
			viewers = append(viewers, v)
		}
		s.mu.Unlock()
		for _, v := range viewers {
			v.shutdown(websocket.CloseGoingAway, shutdownText, errServerClosing)
		}
		// A viewer whose writer is stuck on a full socket cannot take a
		// close frame; after a grace period its connection is cut.
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		grace := time.NewTimer(2 * closeWait)
		select {
		case <-done:
		case <-grace.C:
			for _, v := range viewers {
				v.conn.NetConn().Close()
			}
			<-done
		}
		grace.Stop()
		s.rooms.close()
		s.recs.close()
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
