package web

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"partialtruth/sandbox"
	"partialtruth/sim"
)

// tablesList is /api/tables's answer without sql: each node database of
// the run, its tables, and the starter queries its design offers.
type tablesList struct {
	Query     string     `json:"query"`
	Databases []tablesDB `json:"databases"`
}

// tablesDB is one database in tablesList: its name and tables as the run
// left them, and the design's starter queries for it (sim.Design's
// Databases), so the browser knows no family's tables.
type tablesDB struct {
	sim.Database
	Starters []sim.Starter `json:"starters"`
}

// listTables pairs each database of a run of d with d's starters for it.
func listTables(d sim.Design, snap *sim.Snapshot) []tablesDB {
	dbs := snap.Databases()
	out := make([]tablesDB, len(dbs))
	for i, db := range dbs {
		out[i] = tablesDB{Database: db, Starters: []sim.Starter{}}
		for _, info := range d.Databases {
			if info.Name == db.Name {
				out[i].Starters = info.Starters
			}
		}
	}
	return out
}

// tablesAnswer is /api/tables's answer to a query.
type tablesAnswer struct {
	DB string `json:"db"`
	sandbox.Table
	MaxRows int `json:"max_rows"`
}

// handleTables is GET /api/tables?<scenario>[&db=…&sql=…]: a finished
// run's node databases, as each node left its own. With the scenario's
// parameters alone it lists each database's tables, schemas and starter
// queries; with db and sql it runs one read-only query there
// (sandbox.Query bounds and guards it). The run comes from the
// recordings cache the stream plays from, so the page that just played it
// costs no new simulation.
func (s *Server) handleTables(w http.ResponseWriter, r *http.Request) {
	sc, db, sql, hasSQL, err := parseTablesQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	recs, err := s.recs.get(ctx, sc)
	if err != nil {
		if ctx.Err() == nil {
			s.fail(w, r, runFailed(sc, err))
		}
		return
	}
	tables := recs[0].tables
	if !hasSQL {
		writeJSON(w, http.StatusOK, tablesList{Query: recs[0].query, Databases: listTables(recs[0].design, tables)})
		return
	}
	t, err := s.query(ctx, tables, db, sql)
	if err != nil {
		if ctx.Err() == nil {
			s.fail(w, r, err)
		}
		return
	}
	writeJSON(w, http.StatusOK, tablesAnswer{DB: db, Table: t, MaxRows: sandbox.MaxRows})
}

// query runs one learner's query on tables once admission lets it, within
// s.queryTimeout (sandbox.Timeout) of its arrival: the wait for a slot counts, so a burst
// of queries cannot make another's last longer. A query that finds no
// slot in that time is turned away as busy.
func (s *Server) query(ctx context.Context, tables *sim.Snapshot, db, sql string) (sandbox.Table, error) {
	limit := fmtDuration(s.queryTimeout)
	ctx, cancel := context.WithTimeoutCause(ctx, s.queryTimeout, &sim.InputError{Field: "sql",
		Msg: fmt.Sprintf("sql did not finish within %s of its arrival (the wait for a free slot counts) and was stopped; allowed: queries that finish within %s", limit, limit)})
	defer cancel()
	release, err := s.recs.adm.admit(ctx, jobQuery)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return sandbox.Table{}, &busyError{fmt.Sprintf("no query slot freed within %s of the query's arrival", limit), retryAfter}
		}
		return sandbox.Table{}, err
	}
	defer release()
	return sandbox.Query(ctx, tables, db, sql)
}

// runFailed says a run needed for an answer could not be had: a busy
// server or a bad scenario as they are, anything else as the run's
// failure.
func runFailed(sc sim.Scenario, err error) error {
	var busy *busyError
	var ie *sim.InputError
	if errors.As(err, &busy) || errors.As(err, &ie) || errors.Is(err, errServerClosing) {
		return err
	}
	return fmt.Errorf("the run of %s failed: %w", sc.Query(), err)
}

// parseTablesQuery reads /api/tables's query: the scenario as in a share
// link (limited as on the socket), and db and sql. Errors are
// *sim.InputError naming the field.
func parseTablesQuery(q url.Values) (sc sim.Scenario, db, sql string, hasSQL bool, err error) {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if name != "db" && name != "sql" && !slices.Contains(sim.ParamNames, name) {
			return sc, "", "", false, &sim.InputError{Field: name, Msg: fmt.Sprintf("parameter %q is unknown; allowed: db, sql and the scenario's %s", name, strings.Join(sim.ParamNames, ", "))}
		}
		if len(q[name]) > 1 {
			return sc, "", "", false, &sim.InputError{Field: name, Msg: fmt.Sprintf("parameter %q is given %d times; allowed: once", name, len(q[name]))}
		}
	}
	sc, err = webScenario(q.Get)
	if err != nil {
		return sc, "", "", false, err
	}
	return sc, q.Get("db"), q.Get("sql"), q.Has("sql"), nil
}
