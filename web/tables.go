package web

import (
	"context"
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
			s.fail(w, r, fmt.Errorf("the run of %s failed: %w", sc.Query(), err))
		}
		return
	}
	tables := recs[0].tables
	if !hasSQL {
		writeJSON(w, http.StatusOK, tablesList{Query: recs[0].query, Databases: listTables(recs[0].design, tables)})
		return
	}
	// A query takes a simulation's slot: a burst of queries cannot starve
	// the server any more than a burst of runs.
	release, err := s.recs.slot(ctx)
	if err != nil {
		return
	}
	t, err := sandbox.Query(ctx, tables, db, sql)
	release()
	if err != nil {
		if ctx.Err() == nil {
			s.fail(w, r, err)
		}
		return
	}
	writeJSON(w, http.StatusOK, tablesAnswer{DB: db, Table: t, MaxRows: sandbox.MaxRows})
}

// slot waits for one of the simulation slots and returns its release.
func (c *recordings) slot(ctx context.Context) (func(), error) {
	select {
	case c.slots <- struct{}{}:
		return func() { <-c.slots }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
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
