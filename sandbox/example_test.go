package sandbox_test

import (
	"fmt"

	"partialtruth/sandbox"
	"partialtruth/sim"
)

// A run of the outbox design loses no payment without faults: the
// service's database and the ledger hold one row per payment.
func ExampleInspect() {
	sc := sim.DefaultScenario()
	sc.Design, sc.Payments, sc.Faults = "outbox", 20, sim.Faults{}
	for _, q := range []struct{ db, sql string }{
		{"service.db", "SELECT COUNT(*) AS payments FROM payments"},
		{"ledger.db", "SELECT COUNT(DISTINCT payment_id) AS posted FROM ledger_entries"},
	} {
		t, err := sandbox.Inspect(sc, q.db, q.sql)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(q.db, t.Columns[0], t.Rows[0][0])
	}
	_, err := sandbox.Inspect(sc, "service.db", "DELETE FROM payments")
	fmt.Println(err)
	// Output:
	// service.db payments 20
	// ledger.db posted 20
	// sql starts with DELETE; allowed: one SELECT, WITH or EXPLAIN statement
}
