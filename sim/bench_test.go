package sim

import (
	"database/sql"
	"syscall"
	"testing"
)

// cpuTime is the process's user+system CPU time in ns. Benchmarks report it
// per op beside wall time: on a shared machine wall time swings with the
// neighbours' load, CPU time much less.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// reportRate reports payments per second of wall time and CPU ns per op.
func reportRate(b *testing.B, payments int, cpuStart int64) {
	b.ReportMetric(float64(payments)*float64(b.N)/b.Elapsed().Seconds(), "payments/s")
	b.ReportMetric(float64(cpuTime(b)-cpuStart)/float64(b.N), "cpu-ns/op")
}

// benchFaults is the fault mix the benchmarks run under: every fault on,
// at rates that leave a run busy but not drowning.
const benchFaults = "net.drop=0.02,net.dup=0.02,bus.publish.fail=0.02,bus.ack.lost=0.02,bus.redeliver=0.02,db.fail=0.01,crash.service=0.001,crash.relay=0.002,crash.consumer=0.002,bus.poison=0.02"

func benchScenario(b *testing.B, design string) Scenario {
	fs, err := ParseFaults(benchFaults)
	if err != nil {
		b.Fatal(err)
	}
	return scenario(design, 42, 1000, fs)
}

// BenchmarkRun measures a whole run (simulation, SQLite, checker) of 1,000
// payments per design, without an event sink.
//
//	go test ./sim -run '^$' -bench 'Run$' -benchtime 20x
func BenchmarkRun(b *testing.B) {
	for _, design := range DesignNames() {
		b.Run(design, func(b *testing.B) {
			sc := benchScenario(b, design)
			b.ReportAllocs()
			cpu := cpuTime(b)
			for b.Loop() {
				if _, err := Run(sc, nil); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, sc.Payments, cpu)
		})
	}
}

// BenchmarkRunWithEvents is BenchmarkRun with every event recorded, as the
// web app and `run -events` do.
func BenchmarkRunWithEvents(b *testing.B) {
	sc := benchScenario(b, "outbox-idempotent")
	cpu := cpuTime(b)
	for b.Loop() {
		if _, _, err := Record(sc); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, sc.Payments, cpu)
}

// BenchmarkSQLAlone executes exactly the SQL statements a run executed,
// in the same order, straight against SQLite with no simulator around them:
// the floor a run's cost is compared with (BenchmarkRun / BenchmarkSQLAlone
// is the simulator's own overhead factor).
func BenchmarkSQLAlone(b *testing.B) {
	for _, design := range []string{"dual-write", "outbox-idempotent"} {
		b.Run(design, func(b *testing.B) {
			sc := benchScenario(b, design)
			events, _, err := Record(sc)
			if err != nil {
				b.Fatal(err)
			}
			type stmt struct {
				db   string
				sql  string
				args []any
			}
			var stmts []stmt
			for _, ev := range events {
				if ev.SQL == "" {
					continue
				}
				q := ev.SQL
				if ev.Kind == KindCommitErr {
					q = "ROLLBACK" // the failed commit rolled back
				}
				db := ev.Node
				if ev.Node == NodeBus {
					db = "bus.db"
				}
				stmts = append(stmts, stmt{db, q, ev.Args})
			}
			b.ReportMetric(float64(len(stmts)), "statements")
			cpu := cpuTime(b)
			for b.Loop() {
				dbs := map[string]*database{}
				for name, schema := range map[string]string{NodeServiceDB: serviceSchema, "bus.db": busSchema, NodeLedgerDB: ledgerSchema} {
					d, err := openDatabase(nil, name, schema, nil)
					if err != nil {
						b.Fatal(err)
					}
					dbs[name] = d
				}
				for _, s := range stmts {
					st := dbs[s.db].prepare(s.sql).stmt
					if len(s.sql) > 6 && s.sql[:6] == "SELECT" {
						rows, err := st.Query(s.args...)
						if err != nil {
							b.Fatal(err)
						}
						drain(b, rows)
						continue
					}
					st.Exec(s.args...) // unique-key errors happen here as they did in the run
				}
				for _, d := range dbs {
					d.close()
				}
			}
			reportRate(b, sc.Payments, cpu)
		})
	}
}

func drain(b *testing.B, rows *sql.Rows) {
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
	}
	rows.Close()
}
