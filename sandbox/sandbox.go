// Package sandbox runs a learner's SQL against the databases a finished
// simulation left behind, safely: the SQL comes from a browser.
//
// Each node of a run holds only its own truth, and comparing them by hand
// is the lesson, so after a run the playground's Tables panel lets the
// learner query each node's database as the run left it. The simulator
// (package sim) copies those databases out of the run as SQLite images
// (sim.Snapshot); this package opens a private in-memory copy of one image
// per query and runs the query there, read-only three times over:
//
//   - SQLite's authorizer lets a statement compile only if all it does is
//     read: no write, no schema change, no PRAGMA, no ATTACH, no
//     transaction, no load_extension;
//   - PRAGMA query_only is on, so a write that got past the authorizer
//     would still fail, and no database can be attached at all;
//   - the copy is private and in memory, so even a write that got past both
//     would change nothing anyone else sees, and no file is ever opened.
//
// In front of those, a short check (statement.go) refuses what SQLite
// cannot see or would word less clearly: more than one statement, a first
// word other than SELECT, WITH or EXPLAIN, a NUL byte. Every query is bound
// in rows (MaxRows), in the size of its values and result, and in time
// (Timeout).
//
// The simulator does not import this package: it stays a pure function of
// its scenario, and the sandbox stays out of its core.
package sandbox

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"partialtruth/sim"
)

// Bounds on a query: the SQL comes from a browser.
const (
	// MaxRows is how many rows a query returns; the rest are cut and the
	// Table says so.
	MaxRows = 500
	// MaxSQLBytes is the longest SQL text accepted.
	MaxSQLBytes = 4096
	// Timeout is how long a query may run before it is stopped.
	Timeout = 2 * time.Second

	// maxValueBytes caps one string or blob SQLite may build
	// (SQLITE_LIMIT_LENGTH), and maxColumns a result's columns: with
	// MaxRows they bound what one query can hold in memory.
	maxValueBytes = 4096
	maxColumns    = 32
	// maxResultBytes stops adding rows once the result is this big.
	maxResultBytes = 1 << 20
)

// Table is a query's result. Each value is an int64, a float64, a string
// (text, or a blob written as x'…' hex) or nil for NULL.
type Table struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// Truncated is true when the query had more rows than were returned
	// (MaxRows, or about a megabyte of values).
	Truncated bool `json:"truncated"`
}

// Query runs one read-only statement against the database named db (e.g.
// "ledger.db") of snap and returns at most MaxRows rows. It is stopped
// after Timeout, or sooner when ctx ends (then the error is ctx's cause).
// Errors in the input are *sim.InputError naming the field, "db" or
// "sql", with a message that says what is allowed.
func Query(ctx context.Context, snap *sim.Snapshot, db, sql string) (Table, error) {
	return query(ctx, snap, db, sql, Timeout)
}

// Inspect runs sc and queries the database named db as the run left it,
// within Timeout: the run is a pure function of sc, so its final state is
// too.
func Inspect(sc sim.Scenario, db, sql string) (Table, error) {
	_, snap, err := sim.RunSnapshot(sc)
	if err != nil {
		return Table{}, err
	}
	return Query(context.Background(), snap, db, sql)
}

func query(ctx context.Context, snap *sim.Snapshot, db, sql string, timeout time.Duration) (Table, error) {
	image, ok := snap.Image(db)
	if !ok {
		var names []string
		for _, d := range snap.Databases() {
			names = append(names, d.Name)
		}
		if db == "" {
			return Table{}, inputErr("db", "db is missing; allowed: %s", strings.Join(names, ", "))
		}
		return Table{}, inputErr("db", "db %q is not a database of this run; allowed: %s", db, strings.Join(names, ", "))
	}
	stmt, explain, err := statement(sql)
	if err != nil {
		return Table{}, err
	}
	return run(ctx, image, stmt, explain, timeout)
}

// run runs stmt, one statement that statement let through, on a private
// read-only copy of image. The time limit covers opening the copy too: on
// a busy server that is part of what the query costs.
func run(ctx context.Context, image []byte, stmt string, explain bool, timeout time.Duration) (Table, error) {
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t, err := runOnCopy(qctx, image, stmt, explain)
	if err != nil {
		if ctx.Err() != nil {
			return Table{}, context.Cause(ctx)
		}
		if qctx.Err() != nil {
			return Table{}, inputErr("sql", "sql ran longer than %s and was stopped; allowed: queries that finish within %s", timeout, timeout)
		}
		return Table{}, err
	}
	return t, nil
}

func runOnCopy(ctx context.Context, image []byte, stmt string, explain bool) (Table, error) {
	conn, closeConn, err := openReadOnly(ctx, image)
	if err != nil {
		return Table{}, err
	}
	defer closeConn()
	// The statement alone is compiled first: the authorizer judges it as
	// the learner wrote it, its errors read as written, and its column
	// names are kept as written (SQLite renames duplicates in a subquery).
	cols, err := columns(conn, stmt)
	if err != nil {
		return Table{}, err
	}
	// A query is run materialized: SQLite computes the whole (bounded)
	// result in its first step, which the context's deadline interrupts.
	// Rows read one by one could run away between two rows, where nothing
	// interrupts them. The statement cannot break out of the subquery: it
	// has just compiled on its own, so its parentheses balance, and a
	// second statement after a semicolon would leave the subquery open, a
	// syntax error. EXPLAIN runs nothing and cannot be a subquery.
	q := stmt
	if !explain {
		q = "WITH pt_result AS MATERIALIZED (SELECT * FROM (\n" + stmt + "\n) LIMIT " +
			strconv.Itoa(MaxRows+1) + ") SELECT * FROM pt_result"
	}
	return readTable(ctx, conn, q, cols)
}

func inputErr(field, format string, args ...any) error {
	return &sim.InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
