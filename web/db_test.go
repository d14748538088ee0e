package web

import (
	"database/sql"
	"path/filepath"
	"testing"
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
		if applied != len(files) || runsTables != 1 {
			t.Fatalf("schema_migrations has %d rows for %d files, runs tables %d; want one row per file and the runs table", applied, len(files), runsTables)
		}
	}
}

func TestMemoryDBKeepsStateAcrossQueries(t *testing.T) {
	db := MustOpenDB(t)
	if _, err := db.Exec("INSERT INTO runs (id, query) VALUES ('a', 'design=dual-write')"); err != nil {
		t.Fatal(err)
	}
	var q string
	if err := db.QueryRow("SELECT query FROM runs WHERE id='a'").Scan(&q); err != nil {
		t.Fatalf("the row written on one query is gone on the next: %v", err)
	}
}
