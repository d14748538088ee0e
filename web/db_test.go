package web

import (
	"database/sql"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/fstest"
)

// MustOpenDB opens a migrated in-memory database that is closed when the
// test ends.
func MustOpenDB(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := OpenDB(":memory:")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestOpenDBAppliesEveryMigrationOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.db")
	for range 2 { // the second open must find everything applied
		db, err := OpenDB(file)
		if err != nil {
			t.Fatal(err)
		}
		var applied, runsTables int
		if err := db.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&applied); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='runs'").Scan(&runsTables); err != nil {
			t.Fatal(err)
		}
		db.Close()
		files, _ := migrations.ReadDir("migrations")
		if applied != len(files) || runsTables != 0 {
			t.Fatalf("schema_migrations has %d rows for %d files, runs tables %d; want one row per file and no runs table (0002 drops it)", applied, len(files), runsTables)
		}
	}
}

func TestMigrateAppliesAMigrationThatArrivesAfterALaterOne(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }
	// A branch with 0003 landed and ran first; 0002 arrives later.
	first := fstest.MapFS{
		"migrations/0001_a.sql": file("CREATE TABLE a (x)"),
		"migrations/0003_c.sql": file("CREATE TABLE c (x)"),
	}
	later := fstest.MapFS{"migrations/0002_b.sql": file("CREATE TABLE b (x)")}
	maps.Copy(later, first)
	for _, fsys := range []fstest.MapFS{first, later, later} {
		if err := migrate(t.Context(), db, fsys); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	rows, err := db.Query("SELECT name FROM schema_migrations ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if want := []string{"0001_a", "0003_c", "0002_b"}; !slices.Equal(names, want) {
		t.Fatalf("applied %v, want %v: each once, 0002 when it arrived", names, want)
	}
	var tables int
	db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name IN ('a', 'b', 'c')").Scan(&tables)
	if tables != 3 {
		t.Fatalf("%d of the tables a, b, c exist, want 3", tables)
	}
}

func TestMemoryDBKeepsStateAcrossQueries(t *testing.T) {
	db := MustOpenDB(t)
	if _, err := db.Exec("CREATE TABLE notes (id TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO notes (id) VALUES ('a')"); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := db.QueryRow("SELECT id FROM notes").Scan(&id); err != nil {
		t.Fatalf("the row written on one query is gone on the next: %v", err)
	}
}

// Servers started at once on a new database all open it: the migrations
// take the write lock before they read what is applied, so the others
// wait instead of failing with SQLITE_BUSY.
func TestParallelOpensOfANewDatabaseAllSucceed(t *testing.T) {
	files, _ := migrations.ReadDir("migrations")
	for round := range 8 {
		file := filepath.Join(t.TempDir(), "app.db")
		const servers = 6
		errs := make([]error, servers)
		var wg sync.WaitGroup
		for i := range servers {
			wg.Go(func() {
				db, err := OpenDB(file)
				if err == nil {
					err = db.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, server %d: %v", round, i, err)
			}
		}
		db, err := OpenDB(file)
		if err != nil {
			t.Fatal(err)
		}
		var applied int
		err = db.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&applied)
		db.Close()
		if err != nil || applied != len(files) {
			t.Fatalf("round %d: schema_migrations has %d rows (%v), want %d", round, applied, err, len(files))
		}
	}
}
