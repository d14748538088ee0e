package sim

import (
	"fmt"
	"strconv"
)

// The stale-read family's harness: the payment service's primary database
// and a replica that applies each committed payment replica-lag later. The
// checker follows what each decision read, so it can tell a decision made
// on an old total from one made on the newest.

const staleSchema = `
CREATE TABLE payments (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);
CREATE INDEX payments_account ON payments (account);`

var staleFamily = &family{setup: setupStale, client: (*world).startClient, check: checkStale,
	databases: []DatabaseInfo{
		{NodeServiceDB, []Starter{{"Payments saved", "SELECT COUNT(*) FROM payments"}}},
		{NodeReplicaDB, []Starter{{"Payments saved", "SELECT COUNT(*) FROM payments"}}},
	},
}

// staleState is what the checker follows per customer: how many of their
// payments each copy holds, and the commit that first took them over their
// limit.
type staleState struct {
	onPrimary, onReplica map[string]int
	totalCents           map[string]int64
	breach               map[string]int
}

func setupStale(w *world) error {
	w.client = &node{w: w, name: NodeClient}
	w.service = &node{w: w, name: NodeService, crashFault: CrashService, canCrash: true}
	w.nodes = []*node{w.client, w.service}
	w.savedMoves = movesAccepted
	var err error
	if w.serviceDB, err = w.openDB(NodeServiceDB, 1, staleSchema, map[string]string{"payments": watchSaved}); err != nil {
		return err
	}
	if w.replica, err = w.openDB(NodeReplicaDB, 4, staleSchema, nil); err != nil {
		return err
	}
	st := &staleState{onPrimary: map[string]int{}, onReplica: map[string]int{}, totalCents: map[string]int64{}, breach: map[string]int{}}
	w.stale = st
	// A read notes how many of the customer's payments the copy it read
	// held at that moment: the total it returned covers exactly those.
	seenBy := func(counts map[string]int) func(p *proc, ev int) {
		return func(p *proc, ev int) {
			if p.payment <= 0 || p.payment >= len(w.payments) {
				return
			}
			t := &w.payments[p.payment]
			t.readEvent, t.seen = ev, counts[w.payment(p.payment).Account]
		}
	}
	w.serviceDB.onQuery = seenBy(st.onPrimary)
	w.replica.onQuery = seenBy(st.onReplica)
	w.serviceDB.onSaved = func(id, commitEvent int) {
		t := &w.payments[id]
		var pay Payment
		const q = "SELECT id, account, amount_cents FROM payments WHERE id = ?"
		if err := w.serviceDB.prepare(q).stmt.QueryRow(id).Scan(&pay.ID, &pay.Account, &pay.AmountCents); err != nil {
			panic("sim: service.db: " + err.Error())
		}
		// Stale: the primary already held a payment of this customer that
		// the total this decision read did not include.
		if t.readEvent > 0 && t.seen < st.onPrimary[pay.Account] {
			t.stale = true
		}
		st.onPrimary[pay.Account]++
		st.totalCents[pay.Account] += pay.AmountCents
		if st.totalCents[pay.Account] > limitCents && st.breach[pay.Account] == 0 {
			st.breach[pay.Account] = commitEvent
		}
		w.replicate(pay)
	}
	return nil
}

// replicate ships a committed payment to the replica, which applies it
// replica-lag later, as log shipping does.
func (w *world) replicate(pay Payment) {
	lag := int64(w.sc.ReplicaLag) / 1000
	w.schedule(w.now+lag, false, func() {
		const q = "INSERT INTO payments (id, account, amount_cents) VALUES (?, ?, ?)"
		if _, err := w.replica.prepare(q).stmt.Exec(pay.ID, pay.Account, pay.AmountCents); err != nil {
			panic("sim: replica.db: " + err.Error())
		}
		w.stale.onReplica[pay.Account]++
		w.emit(Event{Node: NodeReplicaDB, Kind: KindReplicate, Payment: pay.ID, Peer: NodeServiceDB, SQL: q,
			Args: []any{pay.ID, pay.Account, pay.AmountCents},
			Note: "replica applied payment " + strconv.Itoa(pay.ID) + ", " + msToString(lag) + " after the primary committed it"})
	})
}

// checkStale counts accepted payments and breached limits from the
// primary, and stale decisions from what each accepted payment's check read.
func checkStale(w *world, r *Report, mark func(ev int, key string)) error {
	var accepted int
	if err := w.serviceDB.conn.QueryRowContext(bg, "SELECT COUNT(*) FROM payments").Scan(&accepted); err != nil {
		return fmt.Errorf("check payments: %w", err)
	}
	stale := 0
	for id := 1; id < len(w.payments); id++ {
		if t := &w.payments[id]; t.stale {
			stale++
			mark(t.readEvent, ViolationStale)
		}
	}
	rows, err := w.serviceDB.conn.QueryContext(bg,
		"SELECT account FROM payments GROUP BY account HAVING SUM(amount_cents) > ? ORDER BY account", limitCents)
	if err != nil {
		return fmt.Errorf("check limits: %w", err)
	}
	breaches := 0
	for rows.Next() {
		var account string
		if err := rows.Scan(&account); err != nil {
			rows.Close()
			return err
		}
		breaches++
		mark(w.stale.breach[account], ViolationLimitBreach)
	}
	rows.Close()
	declined := w.declined
	r.Accepted, r.Declined, r.StaleDecisions, r.LimitBreaches = &accepted, &declined, &stale, &breaches
	return nil
}
