package web

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// migrations are applied in file-name order, each once, and recorded by
// name in schema_migrations, so a database file from an older binary is
// brought up to date on start. A migration is applied whenever its name is
// missing, not only when it sorts after the last one applied: a database
// that has 0001 and 0003 (from a branch that landed first) still gets 0002.
//
//go:embed migrations/*.sql
var migrations embed.FS

// OpenDB opens the app's SQLite database at path (":memory:" for a private
// in-memory one) and applies every migration it has not seen yet.
func OpenDB(dbPath string) (*sql.DB, error) {
	dsn := dbPath
	if dbPath != ":memory:" {
		// WAL lets readers and the writer proceed together; the busy
		// timeout makes concurrent writers wait instead of failing.
		dsn = "file:" + (&url.URL{Path: dbPath}).EscapedPath() +
			"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", dbPath, err)
	}
	if dbPath == ":memory:" {
		// Each connection to :memory: is a database of its own; one
		// connection keeps every query on the same one.
		db.SetMaxOpenConns(1)
	}
	// A new database's first connections switch it to WAL, and SQLite
	// answers a connection that tries while another does SQLITE_BUSY
	// without waiting; servers starting at once retry the migrations
	// (each is its own transaction) a few times.
	for attempt := 1; ; attempt++ {
		err = migrate(context.Background(), db, migrations)
		if err == nil || !isBusy(err) || attempt == 10 {
			break
		}
		time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate database %s: %w", dbPath, err)
	}
	return db, nil
}

// createSchemaMigrations makes the table of applied migrations; each
// migration's transaction runs it first, so that it too is written under
// the write lock.
const createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name       TEXT PRIMARY KEY,
  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))`

// migrate applies, in name order and each in its own transaction, the
// migrations/*.sql files of fsys that schema_migrations does not list yet.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS) error {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		if err := applyMigration(ctx, db, fsys, name); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, fsys fs.FS, file string) error {
	name := strings.TrimSuffix(path.Base(file), ".sql")
	body, err := fs.ReadFile(fsys, file)
	if err != nil {
		return err
	}
	// BEGIN IMMEDIATE takes the write lock before reading
	// schema_migrations: two servers starting on a new database then
	// queue on the busy timeout, and the second finds the migration
	// applied. A deferred transaction would read first and fail with
	// SQLITE_BUSY when the other server wrote in between.
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	committed := false
	defer func() {
		if !committed {
			conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, createSchemaMigrations); err != nil {
		return err
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE name = ?", name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := conn.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO schema_migrations (name) VALUES (?)", name); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	committed = true
	return nil
}

// isBusy says whether err is SQLite's SQLITE_BUSY (in any of its extended
// forms).
func isBusy(err error) bool {
	var coder interface{ Code() int }
	return errors.As(err, &coder) && coder.Code()&0xff == 5 // SQLITE_BUSY
}
