package sandbox

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"partialtruth/sim"
)

// escapes are statements that would write, reach the file system or turn
// a defence off, and that SQLite's authorizer is asked about; file is a
// path under a test's temporary directory. VACUUM is not among them: the
// authorizer is never asked about it (see the VACUUM test).
func escapes(file string) []string {
	return []string{
		"DELETE FROM payments",
		"INSERT INTO payments VALUES (999, 'A-1', 5)",
		"UPDATE payments SET amount_cents = 0",
		"DROP TABLE payments",
		"CREATE TABLE x (y)",
		"CREATE TEMP TABLE x (y)",
		"PRAGMA query_only = OFF",
		"PRAGMA writable_schema = ON",
		"ATTACH DATABASE '" + file + "' AS x",
		"BEGIN",
		"SAVEPOINT x",
		"ANALYZE",
		"REINDEX",
		"SELECT load_extension('" + file + "')",
		"WITH x AS (SELECT 1) DELETE FROM payments",
	}
}

// imageOf is the image of db after a small outbox run, and a copy of it
// to compare with afterwards.
func imageOf(t *testing.T, db string) (image, before []byte) {
	t.Helper()
	_, snap := snapshotOf(t, scenario("outbox", 1, 20, sim.Faults{}))
	image, ok := snap.Image(db)
	if !ok {
		t.Fatalf("no %s", db)
	}
	return image, bytes.Clone(image)
}

// SQLite's authorizer alone, without the first-word and one-statement
// check in front of it, refuses every escape, and no file appears.
func TestAuthorizerRefusesEveryEscapeOnItsOwn(t *testing.T) {
	image, before := imageOf(t, "service.db")
	file := filepath.Join(t.TempDir(), "escape.db")
	for _, q := range escapes(file) {
		for _, explain := range []bool{false, true} {
			stmt := q
			if explain {
				stmt = "EXPLAIN " + q
			}
			_, err := run(t.Context(), image, stmt, explain, Timeout)
			wantSQLError(t, stmt, err, "may only read")
		}
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after the escapes (%v)", file, err)
	}
	if !bytes.Equal(image, before) {
		t.Errorf("the snapshot's image changed")
	}
}

// SQLite's authorizer is never asked about VACUUM. A query is run inside
// a subquery, where VACUUM is a syntax error; EXPLAIN VACUUM shows its
// program and runs nothing; and query_only refuses it (see below). No
// file appears.
func TestVacuumIntoAFileDoesNothing(t *testing.T) {
	image, before := imageOf(t, "service.db")
	file := filepath.Join(t.TempDir(), "escape.db")
	for _, q := range []string{"VACUUM INTO '" + file + "'", "VACUUM"} {
		_, err := run(t.Context(), image, q, false, Timeout)
		wantSQLError(t, q, err, "sql: ")
		tab, err := run(t.Context(), image, "EXPLAIN "+q, true, Timeout)
		if err != nil || len(tab.Rows) == 0 {
			t.Errorf("EXPLAIN %s: %d rows, %v; want its program", q, len(tab.Rows), err)
		}
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after VACUUM INTO (%v)", file, err)
	}
	if !bytes.Equal(image, before) {
		t.Errorf("the snapshot's image changed")
	}
}

// With the authorizer replaced by one that allows everything, the limit
// of no attached database still refuses ATTACH and VACUUM (which attaches
// its target), and PRAGMA query_only every write: no file appears. With
// that limit lifted too, query_only alone still refuses VACUUM INTO.
func TestQueryOnlyAndTheAttachLimitRefuseWritesWithoutTheAuthorizer(t *testing.T) {
	image, before := imageOf(t, "service.db")
	file := filepath.Join(t.TempDir(), "escape.db")
	conn, closeConn, err := openReadOnly(t.Context(), image)
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn()
	err = conn.Raw(func(dc any) error {
		return dc.(sqlite.AuthorizerRegisterer).RegisterAuthorizer(
			func(sqlite.AuthorizerActionCode, string, string, string, string) sqlite.AuthorizerReturnCode {
				return sqlite.AuthorizerOK
			})
	})
	if err != nil {
		t.Fatal(err)
	}
	refused := func(q, want string) {
		t.Helper()
		_, err := conn.ExecContext(t.Context(), q)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", q, err, want)
		}
	}
	const readOnly, noAttach = "attempt to write a readonly database", "too many attached databases"
	refused("DELETE FROM payments", readOnly)
	refused("INSERT INTO payments VALUES (999, 'A-1', 5)", readOnly)
	refused("CREATE TABLE x (y)", readOnly)
	refused("ATTACH DATABASE '"+file+"' AS x", noAttach)
	refused("VACUUM INTO '"+file+"'", noAttach)
	refused("VACUUM", noAttach)
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after the escapes (%v)", file, err)
	}
	// query_only alone refuses VACUUM INTO only once SQLite has opened,
	// and so created, the target file: the attach limit is what keeps
	// files away.
	if _, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_ATTACHED, 10); err != nil {
		t.Fatal(err)
	}
	refused("VACUUM INTO '"+filepath.Join(t.TempDir(), "other.db")+"'", readOnly)
	refused("VACUUM", readOnly)
	if !bytes.Equal(image, before) {
		t.Errorf("the snapshot's image changed")
	}
}

// With both the authorizer and query_only off, a write changes only the
// query's private copy: the next query sees the run's state.
func TestAWriteToAQuerysCopyIsGoneByTheNext(t *testing.T) {
	image, before := imageOf(t, "service.db")
	conn, closeConn, err := openReadOnly(t.Context(), image)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.Raw(func(dc any) error {
		return dc.(sqlite.AuthorizerRegisterer).RegisterAuthorizer(nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"PRAGMA query_only = OFF", "DELETE FROM payments"} {
		if _, err := conn.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var n int
	if err := conn.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM payments").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the copy holds %d payments (%v) after the delete, want 0", n, err)
	}
	closeConn()
	tab, err := run(t.Context(), image, "SELECT COUNT(*) FROM payments", false, Timeout)
	if err != nil || tab.Rows[0][0] != int64(20) {
		t.Errorf("the next query counts %v payments (%v), want 20", tab.Rows, err)
	}
	if !bytes.Equal(image, before) {
		t.Errorf("the snapshot's image changed")
	}
}
