package sandbox

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

// columns compiles stmt, the first statement of it only, and returns its
// column names as written.
func columns(conn *sql.Conn, stmt string) ([]string, error) {
	var cols []string
	err := conn.Raw(func(dc any) error {
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
	return cols, err
}

// readTable runs q and reads at most MaxRows rows of it.
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
		if len(t.Rows) == MaxRows || size > maxResultBytes {
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

// sqlError turns SQLite's complaint about a learner's statement into a
// *sim.InputError for the "sql" field.
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
