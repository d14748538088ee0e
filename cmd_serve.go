package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"partialtruth/lessons"
	"partialtruth/web"
)

func init() {
	commands = append(commands, command{"serve", "serve the playground in the browser (the default)", runServe})
	// A learner who types `go run .` should land in the playground.
	defaultCommand = "serve"
}

// shutdownTimeout bounds how long serve waits for requests in flight once
// asked to stop.
const shutdownTimeout = 5 * time.Second

// maxRoomSizeLimit bounds -max-room-size: a room's state is kept whole
// in memory and sent whole to its trainer.
const maxRoomSizeLimit = 10_000

// runServe is `partialtruth serve`: the web app until ctx ends.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on, host:port (port 0 picks a free one)")
	dbPath := fs.String("db", "./partialtruth.db", "SQLite file for the app's state; created and migrated on start")
	lessonDir := fs.String("lessons", "", "a folder of extra lesson files (*.md) to serve after the built-in ones")
	maxRoomSize := fs.Int("max-room-size", web.DefaultMaxRoomSize, "how many participants one training room holds")
	publicURL := fs.String("public-url", "", "the server's public origin when it is reached under another name than -addr (behind a proxy), such as https://play.example.com: absolute links use it and its host is allowed; empty: only -addr's")
	maxConns := fs.Int("max-conns", 0, "most open connections in total (0: 1024, or fewer under a lower open-files limit)")
	if h, err := parseFlags(fs, args, stderr); h || err != nil {
		return err
	}
	if *maxRoomSize < 1 || *maxRoomSize > maxRoomSizeLimit {
		return badInput("max-room-size %d is out of range; allowed: 1 to %d", *maxRoomSize, maxRoomSizeLimit)
	}
	// Every flag is checked before anything is opened or created: bad
	// input leaves no database file behind.
	if err := checkServeFlags(*addr, *dbPath); err != nil {
		return err
	}
	if err := checkPublicURL(*publicURL); err != nil {
		return err
	}
	if *maxConns < 0 {
		return badInput("max-conns %d is out of range; allowed: 0 (the default) or more", *maxConns)
	}
	if *maxConns == 0 {
		*maxConns = web.ConnLimit(openFilesLimit())
	}
	ls, err := serveLessons(*lessonDir)
	if err != nil {
		return err
	}
	// Listen before opening the database, so that an address in use
	// fails before the database file is created.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	app, err := web.New(web.Config{DBPath: *dbPath, Logger: log, Lessons: ls, MaxRoomSize: *maxRoomSize, Addr: ln.Addr().String(), PublicURL: *publicURL})
	if err != nil {
		ln.Close()
		return err
	}
	url := "http://" + browsable(ln.Addr())
	fmt.Fprintf(stdout, "Partial Truth is serving on %s\n", url)
	log.Info("serving", "url", url, "db", *dbPath, "public_url", *publicURL, "max_conns", *maxConns)
	// The Go runtime collects garbage harder as the heap nears this, so
	// the recordings' budget (web.DefaultRunMemory) and the garbage of
	// encoding them stay under it; GOMEMLIMIT overrides it.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(2 * web.DefaultRunMemory)
	}
	ln = web.LimitListener(ln, *maxConns, web.DefaultMaxClientConns)

	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// No write timeout: a WebSocket lives as long as its viewer. Idle
		// keep-alive connections are let go.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext: app.BaseContext,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served: // the listener failed
		app.Close()
		return fmt.Errorf("serve on %s: %w", url, err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "cause", context.Cause(ctx))
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// The app cancels every run and query, running or queued, and tells
	// each socket it is going away; then Shutdown stops new requests and
	// waits for those in flight, which their cancelled contexts end at
	// once. Both within shutdownTimeout.
	appErr := app.Shutdown(sctx)
	shutErr := srv.Shutdown(sctx)
	closeErr := app.Close()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return errors.Join(appErr, shutErr, closeErr)
}

// serveLessons is the built-in lessons and, if dir is set, a trainer's
// from dir after them. A malformed lesson stops start-up as bad input,
// each problem on a line of its own as file:line: what is wrong.
func serveLessons(dir string) ([]*lessons.Lesson, error) {
	ls, err := lessons.Builtin()
	if err != nil {
		return nil, badInput("%v", err)
	}
	if dir == "" {
		return ls, nil
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, badInput("lessons %q is not a folder; give the folder that holds the lesson files", dir)
	}
	extra, err := lessons.LoadDir(dir)
	if err != nil {
		return nil, badInput("%v", err)
	}
	all, err := lessons.Merge(ls, extra)
	if err != nil {
		return nil, badInput("%v", err)
	}
	return all, nil
}

// browsable turns a listen address into one a browser can open: an
// unspecified host (":8080", "[::]:8080") becomes localhost.
func browsable(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("localhost", fmt.Sprint(tcp.Port))
}

// checkPublicURL refuses a -public-url that is not an http or https
// origin.
func checkPublicURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return badInput("public-url %q is not valid; allowed: http:// or https:// and a host, with no path, such as https://play.example.com", raw)
	}
	return nil
}

// checkServeFlags refuses an -addr that is not host:port with a port
// number from 0 to 65535, and a -db that is empty or whose directory does
// not exist, naming the flag and what is allowed.
func checkServeFlags(addr, dbPath string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return badInput("addr %q is not valid: %v; allowed: host:port such as 127.0.0.1:8080", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return badInput("addr %q has port %q; allowed: a port number from 0 to 65535 (0 picks a free one), as in 127.0.0.1:8080", addr, port)
	}
	if dbPath == "" {
		return badInput("db is empty; allowed: a file path (created if missing) or :memory:")
	}
	if dbPath != ":memory:" {
		dir := filepath.Dir(dbPath)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return badInput("db %q is in %s, which is not a directory; allowed: a file path in an existing directory, or :memory:", dbPath, dir)
		}
	}
	return nil
}
