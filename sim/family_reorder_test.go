package sim

import (
	"strings"
	"testing"
)

// The versioned consumer always ends each payment at the newest status
// sent, whatever overtakes, repeats or crashes on the way.
func TestVersionedConsumerNeverAppliesOutOfOrder(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		mix := randomMix(seed, 0.1)
		sc := scenario("consumer-versioned", seed, 80, mix)
		sc.Jitter = Duration(int64(seed%4) * 2_000_000)
		r := runReport(t, sc)
		if measured(t, r, ViolationOutOfOrder) != 0 || !r.Converged {
			t.Errorf("seed %d faults %s jitter %v: out_of_order_applied %v converged %v, want a measured 0",
				seed, mix, sc.Jitter, measured(t, r, ViolationOutOfOrder), r.Converged)
		}
		if r.Stopped != "quiet" {
			t.Errorf("seed %d faults %s: stopped %q, want quiet", seed, mix, r.Stopped)
		}
	}
}

// The naive consumer applies whatever arrives last; counted independently
// from the events (with no fault, every write commits): the payments whose
// last write is older than the newest status the broker stored.
func TestNaiveConsumerEndsOnOlderStatuses(t *testing.T) {
	events, r, err := Record(scenario("consumer-naive", 42, 200, Faults{}))
	if err != nil {
		t.Fatal(err)
	}
	version := func(status string) int {
		for i, s := range statuses {
			if s == status {
				return i + 1
			}
		}
		t.Fatalf("unknown status %q", status)
		return 0
	}
	newest, last := map[int]int{}, map[int]int{}
	for _, ev := range events {
		switch {
		case ev.Kind == KindPublish:
			id := ev.Args[0].(string)
			newest[ev.Payment] = max(newest[ev.Payment], version(id[strings.LastIndexByte(id, '.')+1:]))
		case ev.Kind == KindExec && ev.Node == NodeOrdersDB:
			last[ev.Payment] = version(ev.Args[1].(string))
		}
	}
	want := 0
	for id, v := range last {
		if v < newest[id] {
			want++
		}
	}
	if want == 0 || measured(t, r, ViolationOutOfOrder) != want {
		t.Errorf("seed 42: out_of_order_applied %d, counted from the events %d; want equal and above 0", measured(t, r, ViolationOutOfOrder), want)
	}
	first := events[r.FirstViolation[ViolationOutOfOrder]-1]
	if first.Kind != KindCommit || first.Node != NodeOrdersDB || first.Violation != ViolationOutOfOrder {
		t.Errorf("first out-of-order evidence is %s on %s marked %q, want the commit of the older status", first.Kind, first.Node, first.Violation)
	}
}

// Jitter is what reorders: without it (and without faults) the events of a
// payment arrive in the order they left, and even the naive consumer ends
// every payment on its newest status.
func TestWithoutJitterNothingOvertakes(t *testing.T) {
	sc := scenario("consumer-naive", 42, 200, Faults{})
	sc.Jitter = 0
	r := runReport(t, sc)
	if measured(t, r, ViolationOutOfOrder) != 0 {
		t.Errorf("seed 42, no jitter: out_of_order_applied %d, want 0", measured(t, r, ViolationOutOfOrder))
	}
}

// The ordering item's old good form, an UPDATE guarded by the version,
// matches no row before the row exists: a "refunded" that overtakes
// "created" is dropped, and nothing ever records it. The guarded upsert
// keeps it and then ignores the late "created". Both run on the family's
// own schema in the simulator's SQLite.
func TestVersionGuardNeedsAnUpsertWhenAnEventArrivesBeforeItsRow(t *testing.T) {
	arrivals := []struct {
		status  string
		version int
	}{{"refunded", 3}, {"created", 1}} // sent: created (1), captured (2), refunded (3)
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"update guarded by version", `UPDATE payment_status SET status = ?1, version = ?2 WHERE payment_id = 7 AND version < ?2`, ""},
		{"upsert guarded by version", `INSERT INTO payment_status (payment_id, status, version) VALUES (7, ?1, ?2)
  ON CONFLICT (payment_id) DO UPDATE SET status = excluded.status, version = excluded.version
  WHERE payment_status.version < excluded.version`, "refunded"},
	} {
		db, err := openDatabase(nil, "orders", ordersSchema, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range arrivals {
			if err := db.exec(tc.sql, a.status, a.version); err != nil {
				t.Fatal(err)
			}
		}
		got := ""
		db.conn.QueryRowContext(bg, `SELECT status FROM payment_status WHERE payment_id = 7`).Scan(&got)
		if got != tc.want {
			t.Errorf("%s: status %q after refunded arrived before created, want %q", tc.name, got, tc.want)
		}
		db.close()
	}
}

// An event arriving before its row, run by the design: consumer-versioned's
// versioned upsert creates the row from whichever status arrives first,
// so a "captured" or "refunded" that overtakes "created" is kept, and the
// late "created" is then ignored. (An UPDATE guarded by the version would
// have matched no row and dropped it: see the test above.)
func TestVersionedConsumerKeepsAnEventThatArrivesBeforeItsRow(t *testing.T) {
	early := 0
	for seed := uint64(1); seed <= 10; seed++ {
		events, r, err := Record(scenario("consumer-versioned", seed, 200, Faults{}))
		if err != nil {
			t.Fatal(err)
		}
		if measured(t, r, ViolationOutOfOrder) != 0 {
			t.Errorf("seed %d: out_of_order_applied %d, want 0", seed, measured(t, r, ViolationOutOfOrder))
		}
		written := map[int]int{} // payment: the version its row holds
		for _, ev := range events {
			if ev.Kind != KindExec || ev.Node != NodeOrdersDB {
				continue
			}
			v := int(ev.Args[2].(int))
			if _, ok := written[ev.Payment]; !ok && v > 1 {
				early++ // the row's first write is a later status: it arrived before "created"
			}
			if v <= written[ev.Payment] {
				t.Errorf("seed %d: payment %d's version %d written over %d", seed, ev.Payment, v, written[ev.Payment])
			}
			written[ev.Payment] = v
		}
	}
	if early == 0 {
		t.Error("over 10 seeds no status arrived before its payment's row: the situation never arose")
	}
	t.Logf("10 seeds, 200 payments: %d rows first written by a status that overtook \"created\"", early)
}
