package sim

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// After a run the learner may query each node's database as the run left
// it: each node holds only its own truth, and comparing them by hand is the
// lesson. The simulator's part is to copy the databases out of the run as
// SQLite images and list their schemas; running a learner's SQL against an
// image is the sandbox's (package partialtruth/sandbox), outside the
// deterministic core.

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

// RecordSnapshot is Record, and also copies out every node database as
// the run left it, for queries after the run.
func RecordSnapshot(sc Scenario) ([]Event, Report, *Snapshot, error) {
	return RecordSnapshotContext(context.Background(), sc, Options{})
}

// RecordSnapshotContext is RecordSnapshot, bounded by ctx and opts as
// RunContext is; a cancelled run has Report.Stopped = "cancelled" and the
// events and databases as far as it got.
func RecordSnapshotContext(ctx context.Context, sc Scenario, opts Options) ([]Event, Report, *Snapshot, error) {
	var snap *Snapshot
	events, rep, err := record(ctx, sc, opts, func(w *world) (err error) {
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
	res, err := run(context.Background(), sc, nil, Options{}, func(w *world) (err error) {
		snap, err = takeSnapshot(w)
		return err
	})
	if err != nil {
		return Result{}, nil, err
	}
	return res, snap, nil
}

// RunSnapshotContext is RunContext, and also copies out every node
// database as the run left it. A caller that keeps events in its own form
// (the web encodes each as it comes) needs no []Event of the whole run:
// the sink sees each event once, and Result.Marks says afterwards which
// are evidence of a violation.
func RunSnapshotContext(ctx context.Context, sc Scenario, sink func(*Event), opts Options) (Result, *Snapshot, error) {
	var snap *Snapshot
	res, err := run(ctx, sc, sink, opts, func(w *world) (err error) {
		snap, err = takeSnapshot(w)
		return err
	})
	if err != nil {
		return Result{}, nil, err
	}
	return res, snap, nil
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

// Image is the SQLite database file of the database named name (e.g.
// "ledger.db") as the run left it, and whether the run has one by that
// name. The bytes are the snapshot's own, shared by every caller: read
// them (sqlite3_deserialize copies them), never change them.
func (s *Snapshot) Image(name string) ([]byte, bool) {
	for _, d := range s.dbs {
		if d.info.Name == name {
			return d.image, true
		}
	}
	return nil, false
}
