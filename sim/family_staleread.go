package sim

import (
	"fmt"
	"strconv"
)

// The stale-read family: the payment service's primary database and a
// replica that applies each committed payment replica-lag later. Before
// accepting a payment, a limit check reads the customer's running total
// (design_staleread.go). The checker follows what each decision read, so
// it can tell a decision made on an old total from one made on the newest.

// NodeReplicaDB is the stale-read designs' lagging copy.
const NodeReplicaDB = "replica.db"

// limitCents is every customer's limit on accepted payments: above it,
// money must not move without a review.
const limitCents = 300_000

const staleSchema = `
CREATE TABLE payments (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);
CREATE INDEX payments_account ON payments (account);
CREATE TABLE charges (key TEXT PRIMARY KEY, payment INTEGER NOT NULL, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);
CREATE INDEX charges_payment ON charges (payment);`

// limitsSchema is the primary's per-customer limits row: the cap, and how
// much of it accepted payments have used. Only a design that keeps it
// (decide-by-conditional-update) moves used_cents.
const limitsSchema = `
CREATE TABLE limits (account TEXT PRIMARY KEY, cap_cents INTEGER NOT NULL,
  used_cents INTEGER NOT NULL DEFAULT 0 CHECK (used_cents <= cap_cents));`

// The stale-read family's violation keys.
const (
	ViolationStale       = "stale_decisions"
	ViolationLimitBreach = "limit_breaches"
	// ViolationDoublePayment counts payments a customer made twice
	// because the confirmation page did not show the first.
	ViolationDoublePayment = "double_payments"
)

var staleFamily = &family{
	nodes:      []string{NodeClient, NodeService, NodeServiceDB, NodeReplicaDB},
	metrics:    []string{"accepted", "declined", ViolationStale, ViolationLimitBreach},
	invariants: []string{ViolationStale, ViolationLimitBreach},
	faults:     []Fault{NetDrop, NetDup, DBFail, CrashService},
	reportKeys: []reportKey{
		{"accepted", "payments the service accepted and recorded"},
		{"declined", "payments refused by a business rule (over the customer's limit) and not accepted: a copy of a request refused because its first copy was accepted is not counted"},
		{ViolationStale, "payments accepted on a running total that missed a payment the primary had committed before this one"},
		{ViolationLimitBreach, "customers whose accepted total exceeds their limit"},
	},
	situations: []reportKey{
		{"lagged_decisions", "payments decided while the replica lacked a payment of the same customer that the primary had committed: the moment a read of the replica is stale, whichever copy the design reads"},
		{"limit_hidden_by_lag", "payments decided while the replica's total would let them through and the primary's would refuse them: the moment a stale read lets a breach through"},
	},
	databases: []DatabaseInfo{
		{NodeServiceDB, []Starter{
			{"Payments saved", "SELECT COUNT(*) FROM payments"},
			{"Customers over their limit", "SELECT account, SUM(amount_cents) FROM payments GROUP BY account HAVING SUM(amount_cents) > 300000"},
			{"Limits rows (kept by decide-by-conditional-update)", "SELECT * FROM limits ORDER BY account"},
		}},
		{NodeReplicaDB, []Starter{{"Payments saved", "SELECT COUNT(*) FROM payments"}}},
	},
	open: openStale,
}

// confirmFamily is the stale-read family's topology put to another read:
// the payment is charged on the primary, and the confirmation page shows it
// back to the customer from whichever copy the design reads
// (design_staleread.go's confirmDesigns). Its own report keys, so each
// family's situations are ones all its designs meet.
var confirmFamily = &family{
	nodes:      []string{NodeClient, NodeService, NodeServiceDB, NodeReplicaDB},
	metrics:    []string{"accepted", ViolationDoublePayment},
	invariants: []string{ViolationDoublePayment},
	faults:     []Fault{NetDrop, NetDup, DBFail, CrashService},
	reportKeys: []reportKey{
		{"accepted", "payments the service accepted and recorded"},
		{ViolationDoublePayment, "payments charged under two keys: the customer paid again because the confirmation page did not show the first charge"},
	},
	situations: []reportKey{
		{"confirm_lagged", "payments whose confirmation page was read while the replica lacked a charge of the payment that the primary had committed: the moment a page that reads the replica misses the customer's own write, whichever copy the design reads"},
	},
	databases: []DatabaseInfo{
		{NodeServiceDB, []Starter{{"Payments charged twice", "SELECT payment, COUNT(*) FROM charges GROUP BY payment HAVING COUNT(*) > 1"}}},
		{NodeReplicaDB, []Starter{{"Charges applied", "SELECT COUNT(*) FROM charges"}}},
	},
	open: openConfirm,
}

// staleRun is one run of the stale-read family. Per customer it follows
// how many of their payments each copy holds, and the commit that first
// took them over their limit; per payment, the read its decision was made
// on, what that read saw, and whether it was stale.
type staleRun struct {
	w                    *world
	d                    *Design
	client, service      *node
	host                 *serviceHost
	primary, replica     *database
	onPrimary, onReplica map[string]int
	totalCents           map[string]int64
	breach               map[string]int
	reads                []staleRead
	// replicaCents is each customer's total on the replica; lagged and
	// hidden note, per payment, the situations the family reports.
	replicaCents   map[string]int64
	lagged, hidden []bool
	// charges are, per payment, the commits that charged it (the
	// confirmation designs), and chargedOnReplica how many the replica has
	// applied; confirmLagged notes the payments whose page read missed one.
	charges          [][]int
	chargedOnReplica []int
	confirmLagged    []bool
	confirm          bool
}

type staleRead struct {
	event int // the read the decision was made on
	seen  int // how many of the customer's payments it covered
	stale bool
}

func openStale(w *world, d *Design) (familyRun, error) { return openStaleRun(w, d, false) }

func openConfirm(w *world, d *Design) (familyRun, error) { return openStaleRun(w, d, true) }

// openStaleRun opens a run of the stale-read topology; confirm says it is
// the confirmation family's, whose reads are page reads.
func openStaleRun(w *world, d *Design, confirm bool) (familyRun, error) {
	f := &staleRun{w: w, d: d, confirm: confirm, onPrimary: map[string]int{}, onReplica: map[string]int{}, totalCents: map[string]int64{},
		breach: map[string]int{}, reads: make([]staleRead, w.sc.Payments+1),
		replicaCents: map[string]int64{}, lagged: make([]bool, w.sc.Payments+1), hidden: make([]bool, w.sc.Payments+1),
		charges: make([][]int, w.sc.Payments+1), chargedOnReplica: make([]int, w.sc.Payments+1), confirmLagged: make([]bool, w.sc.Payments+1)}
	f.client = &node{w: w, name: NodeClient}
	f.service = &node{w: w, name: NodeService, crashFault: CrashService, canCrash: true}
	w.nodes = []*node{f.client, f.service}
	saved := &watch{moves: func(int) []string { return movesAccepted }, committed: f.saved}
	charged := &watch{moves: f.chargeMoves, committed: f.charged}
	var err error
	if f.primary, err = w.openDB(NodeServiceDB, 1, staleSchema+limitsSchema, map[string]*watch{"payments": saved, "charges": charged}); err != nil {
		return nil, err
	}
	// Isolation is the limit checks' parameter: the confirmation designs'
	// customers pay one at a time, and the parameter table lists only the
	// limit-check designs as changed by it.
	if w.sc.Isolation == IsolationReadCommitted && !confirm {
		if err := f.primary.readCommitted(staleSchema + limitsSchema); err != nil {
			return nil, err
		}
	}
	for a := 1; a <= accounts; a++ {
		if err := f.primary.exec("INSERT INTO limits (account, cap_cents) VALUES (?, ?)", "A-"+strconv.Itoa(a), limitCents); err != nil {
			return nil, err
		}
	}
	if f.replica, err = w.openDB(NodeReplicaDB, 4, staleSchema, nil); err != nil {
		return nil, err
	}
	if confirm {
		f.primary.onQuery, f.replica.onQuery = f.pageRead, f.pageRead
	} else {
		f.primary.onQuery = f.seenBy(f.onPrimary)
		f.replica.onQuery = f.seenBy(f.onReplica)
	}
	f.host = w.newServiceHost(f.service, f.client, d.Handle, f.primary, f.replica)
	return f, nil
}

// checkoutBurst is how many payments of one customer arrive at once: a
// card presented at several tills in the same second, or a script
// testing a stolen card. Their limit checks run concurrently, which is
// what the isolation level decides the outcome of.
const checkoutBurst = 4

// burstOf is the first payment of the burst payment id belongs to.
func burstOf(id int) int { return (id-1)/checkoutBurst*checkoutBurst + 1 }

// payment is payment id of this family's workload: for the limit checks,
// the workload's, for the account of its burst's first payment; the
// confirmation designs send the workload's payments as they are.
func (f *staleRun) payment(id int) Payment {
	pay := f.w.nthPayment(id)
	if first := burstOf(id); first != id && !f.confirm {
		pay.Account = f.w.nthPayment(first).Account
	}
	return pay
}

// request sends, when the workload reaches a burst's first payment, every
// payment of the burst at once; the others were sent with it. The
// confirmation designs' customers pay one at a time.
func (f *staleRun) request(pay Payment) {
	if f.confirm {
		// The confirmation designs' customer runs the design's own code,
		// one payment at a time.
		f.w.spawn(f.client, pay.ID, func(p *proc) {
			f.d.Client(&Client{p: p, to: f.service, serve: f.host.serve, payingAgain: true}, pay)
		})
		return
	}
	if burstOf(pay.ID) != pay.ID {
		return
	}
	for id := pay.ID; id < pay.ID+checkoutBurst && id <= f.w.sc.Payments; id++ {
		f.w.callOnce(f.client, f.service, f.payment(id), f.host.serve)
	}
}

// chargeMoves is what committing a charge of payment moves: its first
// charge accepts the payment; a second is marked as the double payment.
func (f *staleRun) chargeMoves(payment int) []string {
	if payment > 0 && payment < len(f.charges) && len(f.charges[payment]) > 0 {
		return nil
	}
	return movesAccepted
}

// charged follows a committed charge to the replica, which applies it
// replica-lag later.
func (f *staleRun) charged(_ *database, payment, commitEvent int) {
	if payment <= 0 || payment >= len(f.charges) {
		return
	}
	f.charges[payment] = append(f.charges[payment], commitEvent)
	if len(f.charges[payment]) == 2 {
		f.w.keep(commitEvent) // the second charge is the double payment's evidence
	}
	pay := f.w.nthPayment(payment)
	var key string
	const keyQ = "SELECT key FROM charges WHERE payment = ? ORDER BY rowid LIMIT 1 OFFSET ?"
	if err := f.primary.prepare(keyQ).stmt.QueryRow(payment, len(f.charges[payment])-1).Scan(&key); err != nil {
		panic("sim: service.db: " + err.Error())
	}
	w := f.w
	lag := int64(w.sc.ReplicaLag) / 1000
	w.schedule(w.now+lag, false, func() {
		const copyQ = "INSERT INTO charges (key, payment, account, amount_cents) VALUES (?, ?, ?, ?)"
		if _, err := f.replica.prepare(copyQ).stmt.Exec(key, pay.ID, pay.Account, pay.AmountCents); err != nil {
			panic("sim: replica.db: " + err.Error())
		}
		f.chargedOnReplica[payment]++
		w.emit(Event{Node: NodeReplicaDB, Kind: KindReplicate, Payment: pay.ID, Peer: NodeServiceDB, SQL: copyQ,
			Args: []any{key, pay.ID, pay.Account, pay.AmountCents},
			Note: "replica applied a charge of payment " + strconv.Itoa(pay.ID) + ", " + msToString(lag) + " after the primary committed it"})
	})
}

func (f *staleRun) start() {}

// seenBy notes, for each read, how many of the customer's payments the
// copy it read held at that moment: the total it returned covers exactly
// those.
func (f *staleRun) seenBy(counts map[string]int) func(p *proc, ev int) {
	return func(p *proc, ev int) {
		if p.payment <= 0 || p.payment >= len(f.reads) {
			return
		}
		pay := f.payment(p.payment)
		f.w.forget(f.reads[p.payment].event)
		f.reads[p.payment].event, f.reads[p.payment].seen = ev, counts[pay.Account]
		f.w.keep(ev) // evidence if the decision turns out stale
		// What either copy would have told this decision, whichever it read.
		if f.onReplica[pay.Account] < f.onPrimary[pay.Account] {
			f.lagged[p.payment] = true
			if f.replicaCents[pay.Account]+pay.AmountCents <= limitCents && f.totalCents[pay.Account]+pay.AmountCents > limitCents {
				f.hidden[p.payment] = true
			}
		}
	}
}

// pageRead notes a confirmation page read while the replica lacked a
// charge of its payment that the primary had committed, whichever copy
// the page reads.
func (f *staleRun) pageRead(p *proc, _ int) {
	if p.payment > 0 && p.payment < len(f.charges) && len(f.charges[p.payment]) > f.chargedOnReplica[p.payment] {
		f.confirmLagged[p.payment] = true
	}
}

// saved follows a payment the primary committed: whether its decision
// read a stale total, whether it took its customer over the limit, and its
// way to the replica.
func (f *staleRun) saved(_ *database, id, commitEvent int) {
	if id <= 0 || id >= len(f.reads) {
		return
	}
	t := &f.reads[id]
	var pay Payment
	const q = "SELECT id, account, amount_cents FROM payments WHERE id = ?"
	if err := f.primary.prepare(q).stmt.QueryRow(id).Scan(&pay.ID, &pay.Account, &pay.AmountCents); err != nil {
		panic("sim: service.db: " + err.Error())
	}
	// Stale: the primary already held a payment of this customer that
	// the total this decision read did not include.
	if t.event > 0 && t.seen < f.onPrimary[pay.Account] {
		t.stale = true
	} else {
		f.w.forget(t.event)
	}
	f.onPrimary[pay.Account]++
	f.totalCents[pay.Account] += pay.AmountCents
	if f.totalCents[pay.Account] > limitCents && f.breach[pay.Account] == 0 {
		f.breach[pay.Account] = commitEvent
		f.w.keep(commitEvent)
	}
	f.replicate(pay)
}

// replicate ships a committed payment to the replica, which applies it
// replica-lag later, as log shipping does.
func (f *staleRun) replicate(pay Payment) {
	w := f.w
	lag := int64(w.sc.ReplicaLag) / 1000
	w.schedule(w.now+lag, false, func() {
		const q = "INSERT INTO payments (id, account, amount_cents) VALUES (?, ?, ?)"
		if _, err := f.replica.prepare(q).stmt.Exec(pay.ID, pay.Account, pay.AmountCents); err != nil {
			panic("sim: replica.db: " + err.Error())
		}
		f.onReplica[pay.Account]++
		f.replicaCents[pay.Account] += pay.AmountCents
		w.emit(Event{Node: NodeReplicaDB, Kind: KindReplicate, Payment: pay.ID, Peer: NodeServiceDB, SQL: q,
			Args: []any{pay.ID, pay.Account, pay.AmountCents},
			Note: "replica applied payment " + strconv.Itoa(pay.ID) + ", " + msToString(lag) + " after the primary committed it"})
	})
}

// check counts accepted payments and breached limits from the primary,
// and stale decisions from what each accepted payment's check read.
func (f *staleRun) check(r *Report, mark func(ev int, key, note string)) error {
	if f.confirm {
		return f.checkConfirm(r, mark)
	}
	var accepted int
	if err := f.primary.conn.QueryRowContext(bg, "SELECT COUNT(*) FROM payments").Scan(&accepted); err != nil {
		return fmt.Errorf("check payments: %w", err)
	}
	stale := 0
	for _, t := range f.reads {
		if t.stale {
			stale++
			mark(t.event, ViolationStale, "the limit check read this total, which missed a payment of the customer the primary had committed; the payment was accepted on it (stale_decisions)")
		}
	}
	rows, err := f.primary.conn.QueryContext(bg,
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
		mark(f.breach[account], ViolationLimitBreach, "this commit took "+account+"'s accepted total over the limit (limit_breaches)")
	}
	rows.Close()
	r.set("accepted", accepted)
	r.set("declined", f.w.moved["declined"])
	r.set(ViolationStale, stale)
	r.set(ViolationLimitBreach, breaches)
	r.set("lagged_decisions", countTrue(f.lagged))
	r.set("limit_hidden_by_lag", countTrue(f.hidden))
	return nil
}

// checkConfirm counts the confirmation designs' payments, those charged
// twice (from the commits that charged each, checked against the
// database), and the page reads that missed their own charge.
func (f *staleRun) checkConfirm(r *Report, mark func(ev int, key, note string)) error {
	var rows int
	if err := f.primary.conn.QueryRowContext(bg, "SELECT COUNT(*) FROM charges").Scan(&rows); err != nil {
		return fmt.Errorf("check charges: %w", err)
	}
	double, charged, tracked := 0, 0, 0
	for _, events := range f.charges {
		tracked += len(events)
		if len(events) > 0 {
			charged++
		}
		if len(events) > 1 {
			double++
			mark(events[1], ViolationDoublePayment, "a second charge for one payment, under a new key: the confirmation page had not shown the first, so the customer paid again (double_payments)")
		}
	}
	if tracked != rows {
		return fmt.Errorf("check charges: the database holds %d charges, the run committed %d", rows, tracked)
	}
	r.set("accepted", charged)
	r.set(ViolationDoublePayment, double)
	r.set("confirm_lagged", countTrue(f.confirmLagged))
	return nil
}
