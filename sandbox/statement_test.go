package sandbox

import (
	"errors"
	"strings"
	"testing"
	"time"

	"partialtruth/sim"
)

func TestStatementEndsAtTheFirstSemicolonOutsideStringsAndComments(t *testing.T) {
	cases := []struct {
		sql, stmt string
		explain   bool
	}{
		{"SELECT 1", "SELECT 1", false},
		{"SELECT 1;", "SELECT 1", false},
		{"SELECT 1 ; -- done\n/* really */  ", "SELECT 1 ", false},
		{"SELECT ';' -- ;\n;", "SELECT ';' -- ;\n", false},
		{"SELECT 'it''s;' ;", "SELECT 'it''s;' ", false},
		{`SELECT "a"";b" FROM t;`, `SELECT "a"";b" FROM t`, false},
		{"SELECT [a;b], `c;d` FROM t /* ; */;", "SELECT [a;b], `c;d` FROM t /* ; */", false},
		{"SELECT 1 - -1 / 2;", "SELECT 1 - -1 / 2", false},
		{"  /* x */ with c AS (SELECT 1) SELECT * FROM c", "  /* x */ with c AS (SELECT 1) SELECT * FROM c", false},
		{"explain query plan SELECT 1;", "explain query plan SELECT 1", true},
		{"SELECT 'never closed; DELETE", "SELECT 'never closed; DELETE", false},
	}
	for _, c := range cases {
		stmt, explain, err := statement(c.sql)
		if err != nil || stmt != c.stmt || explain != c.explain {
			t.Errorf("%q: got %q, %v, %v; want %q, %v", c.sql, stmt, explain, err, c.stmt, c.explain)
		}
	}
}

// The check never panics; what it lets through is the start of the text,
// followed by nothing but a semicolon, space and comments, and it would
// let it through again unchanged; running it against a real snapshot
// either reads or fails with an InputError for the sql field, and the
// database is as the run left it.
func FuzzStatement(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "select * from payments;", "WITH x AS (SELECT 1) SELECT * FROM x",
		"EXPLAIN QUERY PLAN SELECT 1", "SELECT ';' -- ;\n", "SELECT 1; DELETE FROM payments",
		"SELECT [a;b] FROM payments", "SELECT \"a\"\"b\" FROM t", "SELECT 'it''s'", "/* x */ SELECT 1 /* y */",
		"SELECT 1) UNION SELECT (2", "WITH x AS (SELECT 1) DELETE FROM payments", "PRAGMA query_only=OFF",
		"EXPLAIN PRAGMA query_only=OFF", "ATTACH ':memory:' AS x", "SELECT load_extension('x')",
		"SELECT randomblob(3000) FROM payments", "SELECT * FROM pragma_table_info('payments')",
		"SELECT * FROM payments) LIMIT 1) SELECT 1 /*", "EXPLAIN VACUUM INTO 'x'",
	} {
		f.Add(s)
	}
	_, snap := snapshotOf(f, scenario("outbox", 1, 5, sim.Faults{}))
	f.Fuzz(func(t *testing.T, q string) {
		stmt, explain, err := statement(q)
		if err != nil {
			var ie *sim.InputError
			if !errors.As(err, &ie) || ie.Field != "sql" {
				t.Fatalf("%q: refused with %v, want an InputError for sql", q, err)
			}
			return
		}
		if !strings.HasPrefix(q, stmt) {
			t.Fatalf("%q: accepted as %q, which is not its start", q, stmt)
		}
		if rest := q[len(stmt):]; rest != "" && (rest[0] != ';' || skipSpace(rest, 1) != len(rest)) {
			t.Fatalf("%q: accepted as %q, leaving %q", q, stmt, rest)
		}
		again, explain2, err := statement(stmt)
		if err != nil || again != stmt || explain2 != explain {
			t.Fatalf("%q: accepted as %q, which is then %q, %v", q, stmt, again, err)
		}
		if _, err := query(t.Context(), snap, "service.db", q, 200*time.Millisecond); err != nil {
			var ie *sim.InputError
			if !errors.As(err, &ie) || ie.Field != "sql" {
				t.Fatalf("%q: %v, want rows or an InputError for sql", q, err)
			}
		}
		if n := count(t, snap, "service.db", "SELECT COUNT(*) FROM payments"); n != 5 {
			t.Fatalf("%q: payments holds %d rows after it, want 5", q, n)
		}
	})
}
