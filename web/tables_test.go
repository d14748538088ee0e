package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"partialtruth/sandbox"
	"partialtruth/sim"
)

// getJSON GETs path and decodes its JSON body into v.
func getJSON(t *testing.T, h http.Handler, path string, v any) int {
	t.Helper()
	res := get(t, h, path)
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("GET %s: Content-Type %q, want application/json", path, ct)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return res.StatusCode
}

// tablesPath is /api/tables for sc, with extra parameters.
func tablesPath(sc sim.Scenario, extra ...string) string {
	q := sc.Query()
	for i := 0; i+1 < len(extra); i += 2 {
		q += "&" + extra[i] + "=" + url.QueryEscape(extra[i+1])
	}
	return "/api/tables?" + q
}

func TestTablesListsTheRunsDatabasesFromTheStreamsCache(t *testing.T) {
	s := newTestServer(t)
	sc := small(20, "outbox")
	var got tablesList
	if code := getJSON(t, s.Handler(), tablesPath(sc), &got); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	var names []string
	for _, db := range got.Databases {
		names = append(names, db.Name)
	}
	if !slices.Equal(names, []string{"service.db", "bus.db", "ledger.db"}) {
		t.Fatalf("databases %v", names)
	}
	res, err := sim.Run(sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Databases[0].Tables[0]; p.Name != "payments" || p.Rows != res.Report.Committed || !strings.HasPrefix(p.Schema, "CREATE TABLE payments") {
		t.Errorf("service.db's first table: %+v; want payments with %d rows", p, res.Report.Committed)
	}
	// Each database comes with its design's starter queries.
	d, _ := sim.LookupDesign(sc.Design)
	for i, db := range got.Databases {
		if i >= len(d.Databases) || !reflect.DeepEqual(db.Starters, d.Databases[i].Starters) || len(db.Starters) == 0 {
			t.Errorf("%s: starters %+v; want the design's for it", db.Name, db.Starters)
		}
	}
	s.recs.mu.Lock()
	_, cached := s.recs.byQuery[sc.Query()]
	s.recs.mu.Unlock()
	if !cached {
		t.Errorf("the run is not in the recordings cache the socket plays from")
	}
}

// The starter query for duplicate ledger entries, asked over HTTP, adds up
// to the report's duplicate_effects.
func TestTablesQueryAnswersWhatTheReportCounted(t *testing.T) {
	h := newTestServer(t).Handler()
	sc := small(300, "outbox")
	sc.Seed, sc.Faults = 7, sim.Faults{}.Set(sim.BusAckLost, 0.2)
	res, err := sim.Run(sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		DB        string   `json:"db"`
		Columns   []string `json:"columns"`
		Rows      [][]any  `json:"rows"`
		Truncated bool     `json:"truncated"`
		MaxRows   int      `json:"max_rows"`
	}
	path := tablesPath(sc, "db", "ledger.db", "sql", "SELECT payment_id, COUNT(*) FROM ledger_entries GROUP BY payment_id HAVING COUNT(*) > 1")
	if code := getJSON(t, h, path, &got); code != http.StatusOK {
		t.Fatalf("status %d: %+v", code, got)
	}
	extra := 0
	for _, r := range got.Rows {
		extra += int(r[1].(float64)) - 1
	}
	if got.DB != "ledger.db" || !slices.Equal(got.Columns, []string{"payment_id", "COUNT(*)"}) || got.Truncated || got.MaxRows != sandbox.MaxRows {
		t.Errorf("answer %+v", got)
	}
	if extra == 0 || extra != res.Report.DuplicateEffects {
		t.Errorf("rows add up to %d extra entries; report's duplicate_effects %d", extra, res.Report.DuplicateEffects)
	}
}

func TestTablesRefusesBadInputNamingTheField(t *testing.T) {
	h := newTestServer(t).Handler()
	sc := small(10, "dual-write")
	cases := []struct {
		name, path, field, mentions string
	}{
		{"unknown db", tablesPath(sc, "db", "orders.db", "sql", "SELECT 1"), "db", "allowed: service.db, bus.db, ledger.db"},
		{"no db", tablesPath(sc, "sql", "SELECT 1"), "db", "db is missing"},
		{"a write", tablesPath(sc, "db", "service.db", "sql", "DELETE FROM payments"), "sql", "starts with DELETE"},
		{"two statements", tablesPath(sc, "db", "service.db", "sql", "SELECT 1; DROP TABLE payments"), "sql", "more than one statement"},
		{"a pragma", tablesPath(sc, "db", "service.db", "sql", "PRAGMA query_only = OFF"), "sql", "starts with PRAGMA"},
		{"an attach", tablesPath(sc, "db", "service.db", "sql", "ATTACH '/tmp/x.db' AS x"), "sql", "starts with ATTACH"},
		{"empty sql", tablesPath(sc, "db", "service.db", "sql", ""), "sql", "sql is empty"},
		{"no such table", tablesPath(sc, "db", "bus.db", "sql", "SELECT * FROM ledger_entries"), "sql", "no such table: ledger_entries"},
		{"payments over the socket's limit", "/api/tables?design=outbox&payments=10001&db=service.db&sql=SELECT+1", "payments", "1 to 10000"},
		{"the issue's runaway deadline", "/api/tables?design=outbox&payments=1&faults=bus.publish.fail=1&deadline=24h", "deadline", "allowed: 1ms to 1h"},
		{"bad design", "/api/tables?design=triple-write", "design", "allowed: dual-write"},
		{"unknown parameter", tablesPath(sc, "speed", "4"), "speed", "allowed: db, sql"},
		{"twice", tablesPath(sc, "db", "service.db", "db", "bus.db", "sql", "SELECT 1"), "db", "given 2 times"},
	}
	for _, c := range cases {
		var got apiError
		code := getJSON(t, h, c.path, &got)
		if code != http.StatusBadRequest || got.Field != c.field || !strings.Contains(got.Error, c.mentions) {
			t.Errorf("%s: %d %+v; want 400 for field %s mentioning %q", c.name, code, got, c.field, c.mentions)
		}
	}
}

func TestTablesQueryReturnsAtMostMaxRowsAndSaysSo(t *testing.T) {
	h := newTestServer(t).Handler()
	var got tablesAnswer
	path := tablesPath(small(10, "outbox"), "db", "service.db", "sql",
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2000) SELECT x FROM c")
	if code := getJSON(t, h, path, &got); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if len(got.Rows) != sandbox.MaxRows || !got.Truncated {
		t.Errorf("%d rows, truncated %v; want %d, truncated", len(got.Rows), got.Truncated, sandbox.MaxRows)
	}
}

// A /api/tables request whose client goes away cancels its simulation.
func TestTablesClientGoneCancelsTheRun(t *testing.T) {
	s := newTestServer(t)
	sc := sim.DefaultScenario()
	sc.Design, sc.Payments = "outbox-idempotent", MaxWebPayments
	ctx, cancel := context.WithCancel(t.Context())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, tablesPath(sc), nil)
	served := make(chan struct{})
	go func() {
		s.Handler().ServeHTTP(httptest.NewRecorder(), req)
		close(served)
	}()
	f := waitForFlight(t, s.recs, sc, 1)
	cancel()
	<-served
	<-f.done
	if !errors.Is(f.err, errAbandoned) {
		t.Errorf("the run of a request whose client left ended with %v, want %v", f.err, errAbandoned)
	}
}
