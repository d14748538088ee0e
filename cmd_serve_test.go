package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestServeAnswersAndStopsWhenCancelled runs the real program on a free
// port, reads the URL it prints, checks /healthz, then cancels ctx the way
// SIGINT does and expects run to return cleanly.
func TestServeAnswersAndStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, outW := io.Pipe()
	db := filepath.Join(t.TempDir(), "app.db")
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-db", db}, outW, io.Discard)
		outW.Close()
	}()
	lines := bufio.NewScanner(out)
	urlc := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if _, url, ok := strings.Cut(lines.Text(), "serving on "); ok {
				urlc <- url
			}
		}
		close(urlc)
	}()
	var url string
	select {
	case url = <-urlc:
	case err := <-done:
		t.Fatalf("serve returned before printing its URL: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve printed no URL")
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, ":0") {
		t.Fatalf("printed URL %q, want the actual address listened on", url)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := client.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("GET /healthz = %d %q", res.StatusCode, body)
	}
	// An open socket playing a long run is told the server is going away.
	ws, res, err := websocket.DefaultDialer.DialContext(t.Context(), "ws"+strings.TrimPrefix(url, "http")+"/ws/run", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	defer ws.Close()
	run := `{"type":"run","params":{"payments":"100"},"speed":1,"autoplay":true}`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(run)); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, msg, err := ws.ReadMessage(); err != nil || !strings.Contains(string(msg), `"type":"meta"`) {
		t.Fatalf("first message %.60s, %v; want the run's meta", msg, err)
	}
	cancel()
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) || !strings.Contains(err.Error(), "server shutting down") {
			t.Fatalf("socket ended with %v, want close 1001 \"server shutting down\"", err)
		}
		break
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return after its context was cancelled")
	}
	if _, err := client.Get(url + "/healthz"); err == nil {
		t.Fatal("the server still answers after run returned")
	}
}

func TestServeRejectsABadAddrNamingTheFlag(t *testing.T) {
	err := run(t.Context(), []string{"serve", "-addr", "nonsense", "-db", ":memory:"}, io.Discard, io.Discard)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "addr") || !strings.Contains(err.Error(), "nonsense") {
		t.Fatalf("serve -addr nonsense: %v, want a usage error naming addr and the value", err)
	}
}

func TestServeIsTheDefaultAndHelpStillWorks(t *testing.T) {
	if defaultCommand != "serve" {
		t.Fatalf("default command is %q, want serve", defaultCommand)
	}
	var out strings.Builder
	if err := run(t.Context(), []string{"help"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "serve") {
		t.Fatalf("help: %v, output %q; want it to list serve", err, out.String())
	}
}

func TestServeRefusesAMalformedLessonFileNamingItsLine(t *testing.T) {
	dir := t.TempDir()
	bad := "---\nid: mine\ntitle: Mine\nsummary: A trainer's lesson.\nteaches: [no-such-item]\n---\n\n## Read: Hello\n\nText.\n"
	if err := os.WriteFile(filepath.Join(dir, "mine.md"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(t.Context(), []string{"serve", "-addr", "127.0.0.1:0", "-db", ":memory:", "-lessons", dir}, io.Discard, io.Discard)
	var stderr strings.Builder
	if code := exitCode(err, &stderr); code != 2 {
		t.Fatalf("serve with a malformed lesson exits %d (%v), want 2", code, err)
	}
	if want := filepath.Join(dir, "mine.md") + ":5: "; !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), "no-such-item") {
		t.Fatalf("serve says %q; want %s and what is wrong", stderr.String(), want)
	}
	err = run(t.Context(), []string{"serve", "-addr", "127.0.0.1:0", "-db", ":memory:", "-lessons", filepath.Join(dir, "absent")}, io.Discard, io.Discard)
	if code := exitCode(err, io.Discard); code != 2 {
		t.Fatalf("serve with a missing lessons folder exits %d (%v), want 2", code, err)
	}
}

func TestServeLoadsATrainersLessonsAfterTheBuiltInOnes(t *testing.T) {
	dir := t.TempDir()
	good := "---\nid: trainers-own\ntitle: The trainer's own\nsummary: One more lesson.\n---\n\n## Read: Hello\n\nText.\n"
	if err := os.WriteFile(filepath.Join(dir, "own.md"), []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	ls, err := serveLessons(dir)
	if err != nil {
		t.Fatal(err)
	}
	builtin, _ := serveLessons("")
	if len(ls) != len(builtin)+1 || ls[len(ls)-1].ID != "trainers-own" {
		t.Fatalf("serve -lessons serves %d lessons, the last %q; want the %d built-in ones and trainers-own", len(ls), ls[len(ls)-1].ID, len(builtin))
	}
}

// serve checks its flags before it touches the database: bad input exits
// 2 naming the flag, and no database file is created.
func TestServeBadFlagsCreateNoDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-addr", "127.0.0.1:99999", "-db", db}, `port "99999"`},
		{[]string{"-addr", "127.0.0.1:-1", "-db", db}, `port "-1"`},
		{[]string{"-addr", "127.0.0.1:http", "-db", db}, `port "http"`},
		{[]string{"-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "missing", "app.db")}, "not a directory"},
		{[]string{"-addr", "127.0.0.1:0", "-db", ""}, "db is empty"},
	} {
		var errb bytes.Buffer
		err := run(t.Context(), append([]string{"serve"}, c.args...), io.Discard, &errb)
		if code := exitCode(err, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("serve %q: exit %d, %q; want 2 and %q", c.args, code, errb.String(), c.want)
		}
		if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("serve %q left a database file: %v", c.args, err)
		}
	}
}

// An address that cannot be listened on fails before the database file
// is created.
func TestServeAddrInUseCreatesNoDatabase(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	db := filepath.Join(t.TempDir(), "app.db")
	err = run(t.Context(), []string{"serve", "-addr", ln.Addr().String(), "-db", db}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("serve on an address in use = %v, want a listen error", err)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve on an address in use left a database file: %v", err)
	}
}
