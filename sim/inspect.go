package sim

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// After a run the learner may query each node's database as the run left
// it: each node holds only its own truth, and comparing them by hand is the
// lesson. The databases are copied out of the run as SQLite images; every
// query opens its own private copy, read-only three times over: only one
// SELECT, WITH or EXPLAIN statement gets in (readOnlyStatement), SQLite's
// authorizer refuses every other operation, and PRAGMA query_only is on.

// Bounds on a query after a run: the SQL comes from a browser.
const (
	// MaxQueryRows is how many rows a query returns; the rest are cut and
	// the Table says so.
	MaxQueryRows = 500
	// MaxQueryBytes is the longest SQL text accepted.
	MaxQueryBytes = 4096
	// QueryTimeout is how long a query may run before it is stopped.
	QueryTimeout = 2 * time.Second

	// maxValueBytes caps one string or blob SQLite may build
	// (SQLITE_LIMIT_LENGTH), and maxColumns a result's columns: with
	// MaxQueryRows they bound what one query can hold in memory.
	maxValueBytes = 4096
	maxColumns    = 32
	// maxResultBytes stops adding rows once the result is this big.
	maxResultBytes = 1 << 20
)

// Snapshot is a finished run's node databases, each as the run left it.
// It is immutable and safe for concurrent use.
type Snapshot struct {
	dbs []snapshotDB
}

type snapshotDB struct {
	info  Database
	image []byte // the SQLite database file, from sqlite3_serialize
}

// Database is one node's database after a run: its name (e.g.
// "service.db") and its tables.
type Database struct {
	Name   string      `json:"name"`
	Tables []TableInfo `json:"tables"`
}

// TableInfo is one table: its CREATE statement, the CREATE statements of
// its indexes, and how many rows it held when the run ended.
type TableInfo struct {
	Name    string   `json:"name"`
	Schema  string   `json:"schema"`
	Indexes []string `json:"indexes,omitempty"`
	Rows    int      `json:"rows"`
}

// Table is a query's result. Each value is an int64, a float64, a string
// (text, or a blob written as x'…' hex) or nil for NULL.
type Table struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// Truncated is true when the query had more rows than were returned
	// (MaxQueryRows, or about a megabyte of values).
	Truncated bool `json:"truncated"`
}

// RecordSnapshot is Record, and also copies out every node database as
// the run left it, for queries after the run.
func RecordSnapshot(sc Scenario) ([]Event, Report, *Snapshot, error) {
	var snap *Snapshot
	events, rep, err := record(sc, func(w *world) (err error) {
		snap, err = takeSnapshot(w)
		return err
	})
	if err != nil {
		return nil, Report{}, nil, err
	}
	return events, rep, snap, nil
}

// RunSnapshot is Run without a sink, keeping the databases: the run is a
// pure function of sc, so its final state is too.
func RunSnapshot(sc Scenario) (Result, *Snapshot, error) {
	var snap *Snapshot
	res, err := run(sc, nil, func(w *world) (err error) {
		snap, err = takeSnapshot(w)
		return err
	})
	if err != nil {
		return Result{}, nil, err
	}
	return res, snap, nil
}

// Inspect runs sc and queries the database named db (e.g. "ledger.db")
// as the run left it, within QueryTimeout.
func Inspect(sc Scenario, db, query string) (Table, error) {
	_, snap, err := RunSnapshot(sc)
	if err != nil {
		return Table{}, err
	}
	return snap.Query(context.Background(), db, query)
}

// Schemas lists the databases a design's runs have and their tables, in
// the order the design sets them up. Row counts are those of a run of one
// payment without faults; only the schemas matter.
func Schemas(design string) ([]Database, error) {
	sc := DefaultScenario()
	sc.Design, sc.Payments, sc.Faults = design, MinPayments, Faults{}
	_, snap, err := RunSnapshot(sc)
	if err != nil {
		return nil, err
	}
	return snap.Databases(), nil
}

// takeSnapshot copies every database of the finished world w.
func takeSnapshot(w *world) (*Snapshot, error) {
	s := &Snapshot{}
	for _, d := range w.dbs {
		info, err := describe(d.name, d.conn)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", d.name, err)
		}
		var image []byte
		err = d.conn.Raw(func(dc any) error {
			ser, ok := dc.(interface{ Serialize() ([]byte, error) })
			if !ok {
				return fmt.Errorf("driver connection %T cannot serialize", dc)
			}
			image, err = ser.Serialize()
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", d.name, err)
		}
		s.dbs = append(s.dbs, snapshotDB{info: info, image: image})
	}
	return s, nil
}

// describe lists a database's tables, their indexes and row counts.
func describe(name string, conn *sql.Conn) (Database, error) {
	db := Database{Name: name, Tables: []TableInfo{}}
	rows, err := conn.QueryContext(bg, `SELECT type, name, tbl_name, sql FROM sqlite_schema
		WHERE type IN ('table', 'index') AND sql IS NOT NULL AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY rowid`)
	if err != nil {
		return Database{}, err
	}
	byName := map[string]int{}
	for rows.Next() {
		var typ, name, table, ddl string
		if err := rows.Scan(&typ, &name, &table, &ddl); err != nil {
			rows.Close()
			return Database{}, err
		}
		if typ == "table" {
			byName[name] = len(db.Tables)
			db.Tables = append(db.Tables, TableInfo{Name: name, Schema: ddl})
		} else if i, ok := byName[table]; ok {
			db.Tables[i].Indexes = append(db.Tables[i].Indexes, ddl)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Database{}, err
	}
	for i := range db.Tables {
		t := &db.Tables[i]
		q := `SELECT COUNT(*) FROM "` + strings.ReplaceAll(t.Name, `"`, `""`) + `"`
		if err := conn.QueryRowContext(bg, q).Scan(&t.Rows); err != nil {
			return Database{}, err
		}
	}
	return db, nil
}

// Databases lists the run's databases and their tables, in the order the
// design set them up.
func (s *Snapshot) Databases() []Database {
	out := make([]Database, len(s.dbs))
	for i, d := range s.dbs {
		out[i] = d.info
	}
	return out
}

// Size is about how many bytes the snapshot holds, for a cache's budget;
// 0 for a nil Snapshot.
func (s *Snapshot) Size() int {
	if s == nil {
		return 0
	}
	n := 0
	for _, d := range s.dbs {
		n += len(d.image) + 512*len(d.info.Tables)
	}
	return n
}

func (s *Snapshot) names() string {
	names := make([]string, len(s.dbs))
	for i, d := range s.dbs {
		names[i] = d.info.Name
	}
	return strings.Join(names, ", ")
}

// Query runs one read-only statement against the database named db (e.g.
// "ledger.db") and returns at most MaxQueryRows rows. It is stopped after
// QueryTimeout, or sooner when ctx ends. Errors in the input are
// *InputError naming the field, "db" or "sql".
func (s *Snapshot) Query(ctx context.Context, db, query string) (Table, error) {
	return s.query(ctx, db, query, QueryTimeout)
}

func (s *Snapshot) query(ctx context.Context, db, query string, timeout time.Duration) (Table, error) {
	var image []byte
	for _, d := range s.dbs {
		if d.info.Name == db {
			image = d.image
		}
	}
	if image == nil {
		if db == "" {
			return Table{}, inputErr("db", "db is missing; allowed: %s", s.names())
		}
		return Table{}, inputErr("db", "db %q is not a database of this run; allowed: %s", db, s.names())
	}
	stmt, explain, err := readOnlyStatement(query)
	if err != nil {
		return Table{}, err
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, closeConn, err := openReadOnly(qctx, image)
	if err != nil {
		return Table{}, err
	}
	defer closeConn()

	// The statement alone is prepared first: its errors read as the
	// learner wrote it, and its column names are kept as written
	// (SQLite renames duplicates in a subquery).
	var cols []string
	err = conn.Raw(func(dc any) error {
		ci, ok := dc.(interface {
			ColumnInfo(string) ([]sqlite.ColumnInfo, error)
		})
		if !ok {
			return fmt.Errorf("driver connection %T has no ColumnInfo", dc)
		}
		info, err := ci.ColumnInfo(stmt)
		if err != nil {
			return sqlError(err)
		}
		for _, c := range info {
			cols = append(cols, c.Name)
		}
		return nil
	})
	if err != nil {
		return Table{}, err
	}
	// A query is run materialized: SQLite computes the whole (bounded)
	// result in its first step, which the context's deadline interrupts.
	// Rows read one by one could run away between two rows, where nothing
	// interrupts them. EXPLAIN runs nothing and cannot be a subquery.
	q := stmt
	if !explain {
		q = "WITH pt_result AS MATERIALIZED (SELECT * FROM (\n" + stmt + "\n) LIMIT " +
			strconv.Itoa(MaxQueryRows+1) + ") SELECT * FROM pt_result"
	}
	t, err := readTable(qctx, conn, q, cols)
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

// openReadOnly opens a private in-memory copy of image on which only reads
// are allowed.
func openReadOnly(ctx context.Context, image []byte) (*sql.Conn, func(), error) {
	sqldb, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, nil, err
	}
	sqldb.SetMaxOpenConns(1)
	conn, err := sqldb.Conn(ctx)
	if err != nil {
		sqldb.Close()
		return nil, nil, err
	}
	closeConn := func() { conn.Close(); sqldb.Close() }
	fail := func(err error) (*sql.Conn, func(), error) {
		closeConn()
		return nil, nil, fmt.Errorf("open snapshot: %w", err)
	}
	err = conn.Raw(func(dc any) error {
		de, ok := dc.(interface{ Deserialize([]byte) error })
		if !ok {
			return fmt.Errorf("driver connection %T cannot deserialize", dc)
		}
		return de.Deserialize(image)
	})
	if err != nil {
		return fail(err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only = ON"); err != nil {
		return fail(err)
	}
	for _, l := range []struct{ id, max int }{
		{sqlite3.SQLITE_LIMIT_LENGTH, maxValueBytes},
		{sqlite3.SQLITE_LIMIT_COLUMN, maxColumns},
		{sqlite3.SQLITE_LIMIT_SQL_LENGTH, 2 * MaxQueryBytes},
		{sqlite3.SQLITE_LIMIT_ATTACHED, 0},
	} {
		if _, err := sqlite.Limit(conn, l.id, l.max); err != nil {
			return fail(err)
		}
	}
	err = conn.Raw(func(dc any) error {
		reg, ok := dc.(sqlite.AuthorizerRegisterer)
		if !ok {
			return fmt.Errorf("driver connection %T has no authorizer", dc)
		}
		return reg.RegisterAuthorizer(readOnlyAuthorizer)
	})
	if err != nil {
		return fail(err)
	}
	return conn, closeConn, nil
}

// readOnlyAuthorizer lets SQLite compile reads and nothing else.
func readOnlyAuthorizer(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthRecursive:
		return sqlite.AuthorizerOK
	case sqlite.AuthFunction:
		if strings.EqualFold(arg2, "load_extension") {
			return sqlite.AuthorizerDeny
		}
		return sqlite.AuthorizerOK
	}
	return sqlite.AuthorizerDeny
}

// readTable runs q and reads at most MaxQueryRows rows of it.
func readTable(ctx context.Context, conn *sql.Conn, q string, cols []string) (Table, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return Table{}, sqlError(err)
	}
	defer rows.Close()
	if got, _ := rows.Columns(); len(got) != len(cols) {
		cols = got
	}
	t := Table{Columns: cols, Rows: [][]any{}}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	size := 0
	for rows.Next() {
		if len(t.Rows) == MaxQueryRows || size > maxResultBytes {
			t.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return Table{}, sqlError(err)
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = cell(v)
			if s, ok := row[i].(string); ok {
				size += len(s)
			}
			size += 8
		}
		t.Rows = append(t.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return Table{}, sqlError(err)
	}
	return t, nil
}

// maxExactInt is the largest integer a JSON reader (JavaScript) holds
// exactly; larger ones are written as strings.
const maxExactInt = 1 << 53

// cell turns a value SQLite returned into one JSON carries faithfully.
func cell(v any) any {
	switch v := v.(type) {
	case nil, string:
		return v
	case float64:
		// JSON has no infinities (SQLite turns NaN into NULL itself).
		if math.IsInf(v, 0) {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return v
	case int64:
		if v > maxExactInt || v < -maxExactInt {
			return strconv.FormatInt(v, 10)
		}
		return v
	case []byte:
		const show = 32
		if len(v) > show {
			return "x'" + strings.ToUpper(hex.EncodeToString(v[:show])) + "…' (" + strconv.Itoa(len(v)) + " bytes)"
		}
		return "x'" + strings.ToUpper(hex.EncodeToString(v)) + "'"
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// sqlError turns SQLite's complaint about a learner's statement into an
// *InputError for the "sql" field.
func sqlError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()
	code := 0
	var se *sqlite.Error
	if errors.As(err, &se) {
		code = se.Code() & 0xff
		// "SQL logic error: no such table: x (1)" reads "no such table: x".
		if i := strings.LastIndex(msg, " ("); i > 0 && strings.HasSuffix(msg, ")") {
			msg = msg[:i]
		}
		msg = strings.TrimPrefix(msg, "SQL logic error: ")
	}
	switch {
	case code == sqlite3.SQLITE_INTERRUPT:
		return context.DeadlineExceeded
	case code == sqlite3.SQLITE_AUTH || code == sqlite3.SQLITE_READONLY || strings.Contains(msg, "not authorized"):
		return inputErr("sql", "sql may only read (%s); allowed: %s", msg, allowedSQL)
	case code == sqlite3.SQLITE_TOOBIG:
		return inputErr("sql", "sql makes a value too big (%s); allowed: %s whose values are at most %d bytes", msg, allowedSQL, maxValueBytes)
	}
	return inputErr("sql", "sql: %s; allowed: %s", msg, allowedSQL)
}
