package sandbox

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// openReadOnly opens a private in-memory copy of image on which only reads
// are allowed: SQLite's limits bound what a statement may build, PRAGMA
// query_only refuses every write, and the authorizer refuses to compile
// anything but a read. The caller must call the returned close.
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
		return de.Deserialize(image) // copies image into SQLite's memory
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
		{sqlite3.SQLITE_LIMIT_SQL_LENGTH, 2 * MaxSQLBytes},
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

// readOnlyAuthorizer lets SQLite compile reads and nothing else: every
// other action (insert, update, delete, create, drop, alter, pragma,
// attach, detach, transaction, savepoint, analyze, reindex, …) is denied,
// and so is load_extension among the functions.
// For a function, the second argument is its name.
func readOnlyAuthorizer(action sqlite.AuthorizerActionCode, _, fn, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthRecursive:
		return sqlite.AuthorizerOK
	case sqlite.AuthFunction:
		if strings.EqualFold(fn, "load_extension") {
			return sqlite.AuthorizerDeny
		}
		return sqlite.AuthorizerOK
	}
	return sqlite.AuthorizerDeny
}
