package sandbox

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"partialtruth/sim"
)

// scenario is sim's default scenario with a design, seed, size and faults.
func scenario(design string, seed uint64, payments int, faults sim.Faults) sim.Scenario {
	sc := sim.DefaultScenario()
	sc.Design, sc.Seed, sc.Payments, sc.Faults = design, seed, payments, faults
	return sc
}

// snapshotOf runs sc and keeps its databases.
func snapshotOf(t testing.TB, sc sim.Scenario) (sim.Report, *sim.Snapshot) {
	t.Helper()
	res, snap, err := sim.RunSnapshot(sc)
	if err != nil {
		t.Fatalf("seed %d: %v", sc.Seed, err)
	}
	return res.Report, snap
}

func mustQuery(t testing.TB, s *sim.Snapshot, db, q string) Table {
	t.Helper()
	tab, err := Query(t.Context(), s, db, q)
	if err != nil {
		t.Fatalf("%s: %s: %v", db, q, err)
	}
	return tab
}

// count runs a query of one integer.
func count(t testing.TB, s *sim.Snapshot, db, q string) int64 {
	t.Helper()
	tab := mustQuery(t, s, db, q)
	if len(tab.Rows) != 1 || len(tab.Rows[0]) != 1 {
		t.Fatalf("%s: %s: got %v, want one value", db, q, tab.Rows)
	}
	n, ok := tab.Rows[0][0].(int64)
	if !ok {
		t.Fatalf("%s: %s: got %T %v, want an integer", db, q, tab.Rows[0][0], tab.Rows[0][0])
	}
	return n
}

// wantSQLError fails t unless err is a *sim.InputError for the sql field
// whose message mentions mentions and says what is allowed.
func wantSQLError(t *testing.T, q string, err error, mentions string) {
	t.Helper()
	var ie *sim.InputError
	if !errors.As(err, &ie) || ie.Field != "sql" || !strings.Contains(ie.Msg, mentions) {
		t.Errorf("%.60q: got %v, want an InputError for sql mentioning %q", q, err, mentions)
		return
	}
	if !strings.Contains(ie.Msg, "SELECT") {
		t.Errorf("%.60q: message %q does not say what is allowed", q, ie.Msg)
	}
}

// The ledger's own table shows what the checker counted: under lost bus
// acks the outbox's relay publishes again, and a consumer that is not
// idempotent posts twice. Summing the extra entries per payment in SQL
// gives the report's duplicate_effects, and counting rows gives its
// committed and ledger_entries.
func TestQueriesAfterARunCountWhatTheCheckerCounted(t *testing.T) {
	sc := scenario("outbox", 7, 300, sim.Faults{}.Set(sim.BusAckLost, 0.2))
	rep, snap := snapshotOf(t, sc)
	if rep.DuplicateEffects == 0 {
		t.Fatalf("seed %d: no duplicate effects; the test needs some", sc.Seed)
	}
	got := count(t, snap, "ledger.db", `SELECT COALESCE(SUM(n - 1), 0) FROM
		(SELECT payment_id, COUNT(*) AS n FROM ledger_entries GROUP BY payment_id HAVING COUNT(*) > 1)`)
	if got != int64(rep.DuplicateEffects) {
		t.Errorf("seed %d: duplicates by SQL %d, report's duplicate_effects %d", sc.Seed, got, rep.DuplicateEffects)
	}
	// The starter query the playground offers lists the same payments.
	tab := mustQuery(t, snap, "ledger.db", "SELECT payment_id, COUNT(*) FROM ledger_entries GROUP BY payment_id HAVING COUNT(*) > 1")
	if !slices.Equal(tab.Columns, []string{"payment_id", "COUNT(*)"}) {
		t.Errorf("columns %v", tab.Columns)
	}
	extra := 0
	for _, r := range tab.Rows {
		extra += int(r[1].(int64)) - 1
	}
	if extra != rep.DuplicateEffects {
		t.Errorf("seed %d: starter query's rows add up to %d extra entries, report %d", sc.Seed, extra, rep.DuplicateEffects)
	}
	if n := count(t, snap, "service.db", "SELECT COUNT(*) FROM payments"); n != int64(rep.Committed) {
		t.Errorf("payments rows %d, report's committed %d", n, rep.Committed)
	}
	if n := count(t, snap, "ledger.db", "select count(*) from ledger_entries;"); n != int64(rep.LedgerEntries) {
		t.Errorf("ledger_entries rows %d, report's ledger_entries %d", n, rep.LedgerEntries)
	}
	// The listing's row counts agree.
	for _, db := range snap.Databases() {
		for _, tb := range db.Tables {
			if n := count(t, snap, db.Name, `SELECT COUNT(*) FROM "`+tb.Name+`"`); n != int64(tb.Rows) {
				t.Errorf("%s.%s: listed %d rows, holds %d", db.Name, tb.Name, tb.Rows, n)
			}
		}
	}
}

func TestInspectRerunsTheScenarioToTheSameState(t *testing.T) {
	sc := scenario("dual-write", 3, 100, sim.Faults{}.Set(sim.BusPublishFail, 0.1))
	q := "SELECT id, account, amount_cents FROM payments ORDER BY id DESC LIMIT 20"
	a, err := Inspect(sc, "service.db", q)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Inspect(sc, "service.db", q)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Rows) != 20 || !reflect.DeepEqual(a, b) {
		t.Errorf("two inspections of one scenario differ or are short:\n%v\n%v", a, b)
	}
	if _, err := Inspect(scenario("triple-write", 1, 5, sim.Faults{}), "service.db", "SELECT 1"); err == nil {
		t.Errorf("Inspect of an unknown design: no error")
	}
}

// Every way out tried by hand against the server is refused with a
// message that says what is allowed, and the database is as the run left
// it afterwards. Which layer refuses each is tested in open_test.go.
func TestQueryRefusesAnythingButOneRead(t *testing.T) {
	_, snap := snapshotOf(t, scenario("outbox", 1, 20, sim.Faults{}))
	cases := []struct{ sql, mentions string }{
		{"", "empty"},
		{"  -- just a comment\n", "empty"},
		{"/* a comment */ ;", "empty"},
		{"INSERT INTO payments VALUES (999, 'A-1', 5)", "starts with INSERT"},
		{"UPDATE payments SET amount_cents = 0", "starts with UPDATE"},
		{"DELETE FROM payments", "starts with DELETE"},
		{"DROP TABLE payments", "starts with DROP"},
		{"CREATE TABLE x (y)", "starts with CREATE"},
		{"REPLACE INTO payments VALUES (1, 'A', 1)", "starts with REPLACE"},
		{"PRAGMA query_only = OFF", "starts with PRAGMA"},
		{"pragma table_info(payments)", "starts with PRAGMA"},
		{"ATTACH DATABASE '/tmp/pt.db' AS x", "starts with ATTACH"},
		{"VACUUM INTO '/tmp/pt.db'", "starts with VACUUM"},
		{"BEGIN", "starts with BEGIN"},
		{"(SELECT 1)", "starts with ("},
		{"SELECT 1; DELETE FROM payments", "more than one statement"},
		{"SELECT 1; SELECT 2", "more than one statement"},
		{"SELECT 1;;", "more than one statement"},
		{"SELECT 1; PRAGMA query_only = OFF", "more than one statement"},
		{"SELECT * FROM (SELECT 1; DELETE FROM payments)", "more than one statement"},
		{"EXPLAIN SELECT 1; SELECT 2", "more than one statement"},
		// What follows gets past the first word; SQLite refuses it.
		{"EXPLAIN DELETE FROM payments", "may only read"},
		{"EXPLAIN PRAGMA query_only = OFF", "may only read"},
		{"EXPLAIN QUERY PLAN UPDATE payments SET id = 1", "may only read"},
		{"EXPLAIN ATTACH '/tmp/pt.db' AS x", "may only read"},
		{"WITH x AS (SELECT 1) DELETE FROM payments", "may only read"},
		{"WITH x AS (SELECT 1) INSERT INTO payments SELECT 999, 'A', 1 FROM x", "may only read"},
		{"SELECT load_extension('/tmp/x.so')", "may only read"},
		{"SELECT writefile('/tmp/pt.txt', 'x')", "no such function: writefile"},
		{"SELECT (1", "incomplete input"},
		{"SELECT 1)", `near ")": syntax error`},
		{"SELECT 1) UNION SELECT (2", `near ")": syntax error`},
		{"SELECT * FROM payments) LIMIT 1) SELECT 1 /*", `near ")": syntax error`},
		{"SELECT 'unterminated", "unrecognized token"},
		{"SELECT 'x'; DELETE FROM payments -- '", "more than one statement"},
		{"SELECT 1 /* unterminated", "incomplete input"},
		{"SELECT \x00 1", "NUL"},
		{"SELECT '\xff'", "UTF-8"},
		{"SELECT '" + strings.Repeat("x", MaxSQLBytes) + "'", "at most 4096 bytes"},
		{"SELECT * FROM no_such_table", "no such table"},
		{"SELEC 1", "starts with SELEC"},
		{"SELECT randomblob(100000)", "too big"},
	}
	for _, c := range cases {
		_, err := Query(t.Context(), snap, "service.db", c.sql)
		wantSQLError(t, c.sql, err, c.mentions)
	}
	if n := count(t, snap, "service.db", "SELECT COUNT(*) FROM payments"); n != 20 {
		t.Errorf("payments holds %d rows after the refused statements, want 20", n)
	}
}

func TestQueryAcceptsReadsAsWritten(t *testing.T) {
	_, snap := snapshotOf(t, scenario("outbox", 1, 20, sim.Faults{}))
	cases := []struct {
		sql  string
		cols []string
		rows int
	}{
		{"select count(*) from payments;", []string{"count(*)"}, 1},
		{"SELECT COUNT(*) FROM payments; -- how many", []string{"COUNT(*)"}, 1},
		{"SELECT COUNT(*) FROM payments /* how many */ ;\n/* that's all */", []string{"COUNT(*)"}, 1},
		{"SELECT ';' AS semi, ')' AS paren, \"id\" FROM payments LIMIT 2 -- (;", []string{"semi", "paren", "id"}, 2},
		{"SELECT [id], `account` FROM payments /* ; */ LIMIT 3", []string{"id", "account"}, 3},
		{"SELECT 'it''s;' AS s, \"a\"\"b;\" FROM (SELECT 1 AS \"a\"\"b;\")", []string{"s", `a"b;`}, 1},
		{"SELECT a.id, b.id FROM payments a JOIN outbox b ON b.payment_id = a.id LIMIT 4", []string{"id", "id"}, 4},
		{"WITH big AS (SELECT * FROM payments WHERE amount_cents > 0) SELECT COUNT(*) AS n FROM big", []string{"n"}, 1},
		{"SELECT * FROM outbox WHERE sent_us IS NULL", []string{"id", "event_id", "payment_id", "account", "amount_cents", "sent_us"}, 0},
		{"SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", []string{"name"}, 2},
	}
	for _, c := range cases {
		tab, err := Query(t.Context(), snap, "service.db", c.sql)
		if err != nil {
			t.Errorf("%q: %v", c.sql, err)
			continue
		}
		if !slices.Equal(tab.Columns, c.cols) || len(tab.Rows) != c.rows || tab.Truncated {
			t.Errorf("%q: got columns %v, %d rows, truncated %v; want %v, %d rows", c.sql, tab.Columns, len(tab.Rows), tab.Truncated, c.cols, c.rows)
		}
	}
	for _, q := range []string{"EXPLAIN SELECT * FROM payments", "explain query plan SELECT * FROM outbox WHERE sent_us IS NULL;"} {
		if tab := mustQuery(t, snap, "service.db", q); len(tab.Rows) == 0 || len(tab.Columns) == 0 {
			t.Errorf("%q: got %v, want its plan", q, tab)
		}
	}
}

func TestQueryWritesValuesAsJSONCarriesThem(t *testing.T) {
	_, snap := snapshotOf(t, scenario("outbox", 1, 5, sim.Faults{}))
	tab := mustQuery(t, snap, "bus.db", "SELECT NULL, 1.5, 42, x'00FF', 'text', 9007199254740993, zeroblob(40), 1e999, -1e999")
	want := []any{nil, 1.5, int64(42), "x'00FF'", "text", "9007199254740993",
		"x'" + strings.Repeat("00", 32) + "…' (40 bytes)", "+Inf", "-Inf"}
	if !reflect.DeepEqual(tab.Rows[0], want) {
		t.Errorf("got %#v\nwant %#v", tab.Rows[0], want)
	}
}

func TestQueryReturnsAtMostMaxRowsAndSaysSo(t *testing.T) {
	_, snap := snapshotOf(t, scenario("outbox", 1, 5, sim.Faults{}))
	series := func(n int) string {
		return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT " + strconv.Itoa(n) + ") SELECT x FROM c"
	}
	tab := mustQuery(t, snap, "ledger.db", series(MaxRows+1000))
	if len(tab.Rows) != MaxRows || !tab.Truncated {
		t.Fatalf("got %d rows, truncated %v; want %d, truncated", len(tab.Rows), tab.Truncated, MaxRows)
	}
	for i, r := range tab.Rows {
		if r[0] != int64(i+1) {
			t.Fatalf("row %d is %v; the query's order is kept", i, r[0])
		}
	}
	if tab := mustQuery(t, snap, "ledger.db", series(MaxRows)); len(tab.Rows) != MaxRows || tab.Truncated {
		t.Errorf("exactly %d rows: got %d, truncated %v", MaxRows, len(tab.Rows), tab.Truncated)
	}
}

// A statement that would never finish is stopped at the deadline, whether
// it runs away before its first row or between two rows.
func TestRunawayQueryIsStoppedWithAnError(t *testing.T) {
	_, snap := snapshotOf(t, scenario("outbox", 1, 5, sim.Faults{}))
	const forever = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
	for _, q := range []string{
		forever + "SELECT COUNT(*) FROM c",
		forever + "SELECT x FROM c WHERE x = 1 OR x < 0",
		"SELECT COUNT(*) FROM ledger_entries a, ledger_entries b, ledger_entries c, ledger_entries d, (" + forever + "SELECT x FROM c)",
	} {
		_, err := query(t.Context(), snap, "ledger.db", q, 50*time.Millisecond)
		var ie *sim.InputError
		if !errors.As(err, &ie) || ie.Field != "sql" || !strings.Contains(ie.Msg, "stopped") {
			t.Errorf("%q: got %v, want an InputError for sql saying it was stopped", q, err)
		}
	}
}

// The time limit covers opening the copy: on a busy server a query whose
// time runs out before it starts is stopped like one that ran too long,
// not an internal error.
func TestQueryWhoseTimeRunsOutWhileOpeningIsStopped(t *testing.T) {
	_, snap := snapshotOf(t, scenario("outbox", 1, 5, sim.Faults{}))
	_, err := query(t.Context(), snap, "ledger.db", "SELECT 1", time.Nanosecond)
	var ie *sim.InputError
	if !errors.As(err, &ie) || ie.Field != "sql" || !strings.Contains(ie.Msg, "stopped") {
		t.Errorf("got %v, want an InputError for sql saying it was stopped", err)
	}
}

func TestQueryOfAGoneCallerReturnsItsCause(t *testing.T) {
	_, snap := snapshotOf(t, scenario("outbox", 1, 5, sim.Faults{}))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Query(ctx, snap, "ledger.db", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestQueryOfAnUnknownDatabaseNamesTheOnesThereAre(t *testing.T) {
	_, snap := snapshotOf(t, scenario("decide-from-replica", 1, 5, sim.Faults{}))
	for _, db := range []string{"", "ledger.db", "../service.db", "SERVICE.DB"} {
		_, err := Query(t.Context(), snap, db, "SELECT 1")
		var ie *sim.InputError
		if !errors.As(err, &ie) || ie.Field != "db" || !strings.Contains(ie.Msg, "allowed: service.db, replica.db") {
			t.Errorf("db %q: got %v, want an InputError for db listing service.db, replica.db", db, err)
		}
	}
}

// Queries run side by side on one snapshot, as the web's requests do,
// each on its own copy: they agree, and none sees another's work.
func TestQueriesOnOneSnapshotRunSideBySide(t *testing.T) {
	rep, snap := snapshotOf(t, scenario("outbox", 7, 100, sim.Faults{}.Set(sim.BusAckLost, 0.2)))
	const workers = 8
	errs := make(chan error, workers)
	for range workers {
		go func() {
			tab, err := Query(t.Context(), snap, "ledger.db", "SELECT COUNT(*) FROM ledger_entries")
			if err == nil && tab.Rows[0][0] != int64(rep.LedgerEntries) {
				err = fmt.Errorf("counted %v ledger entries, report %d", tab.Rows[0][0], rep.LedgerEntries)
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
