package sim

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
)

// The partition family: two regions, each with its own copy of
// every account's balance, a link between them that net.partition breaks,
// and clients that send each debit to one region or the other. The checker
// merges both regions' debits and looks for accounts below zero.

const partitionSchema = `
CREATE TABLE balances (account TEXT PRIMARY KEY, balance_cents INTEGER NOT NULL);
CREATE TABLE debits (payment_id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);
CREATE TABLE offline_budget (account TEXT PRIMARY KEY, left_cents INTEGER NOT NULL);`

// Every account opens with the same balance in both regions; the workload
// asks for more than that, so balances run low and the choice matters.
const (
	accounts            = 20
	openingBalanceCents = 300_000
	// regionShareCents is each region's share of an account's balance in
	// partition-budget: half, so that the shares add up to the balance.
	regionShareCents = openingBalanceCents / 2
)

// Node names of the partition designs' two regions.
const (
	NodeRegionA   = "region-a"
	NodeRegionADB = "region-a.db"
	NodeRegionB   = "region-b"
	NodeRegionBDB = "region-b.db"
)

// ViolationOverdraft is the partition family's violation key.
const ViolationOverdraft = "overdrafts"

// tagRegion keys which region a payment's client sends it to.
var tagRegion = newTag(1005)

// The channels between the regions (see newChannel).
var (
	chForward      = newChannel(7, "forwarded debit")  // region → the other region: decide this debit
	chReplicate    = newChannel(8, "replicated debit") // region → the other region: apply this debit
	chReplicateAck = newChannel(9, "replication ack")  // the other region → region: applied
)

var partitionFamily = &family{
	nodes:      []string{NodeClient, NodeRegionA, NodeRegionADB, NodeRegionB, NodeRegionBDB},
	metrics:    []string{"accepted", "declined", "rejected", ViolationOverdraft},
	invariants: []string{ViolationOverdraft},
	faults:     []Fault{NetDrop, NetDup, DBFail, CrashService, NetPartition},
	reportKeys: []reportKey{
		{"accepted", "debits a region accepted and recorded"},
		{"declined", "payments refused by a business rule (not enough money in the account) and not already accepted or refused: each payment counts once, however many copies of its request arrived"},
		{"rejected", "payments refused for lack of consistency (the other region could not be reached) and not already accepted or refused: the price of consistency, not a violation"},
		{ViolationOverdraft, "accounts below zero once both regions have merged every debit"},
	},
	situations: []reportKey{
		{"debits_in_partition", "payments a region received while the link between the regions was broken: the moment a region must choose between refusing and risking the balance"},
	},
	databases: []DatabaseInfo{
		{NodeRegionADB, regionStarters},
		{NodeRegionBDB, regionStarters},
	},
	open: openPartition,
}

// regionStarters are the Tables panel's starters for either region's
// database.
var regionStarters = []Starter{
	{"Accounts below zero", "SELECT * FROM balances WHERE balance_cents < 0 ORDER BY balance_cents"},
	{"Debits", "SELECT COUNT(*), SUM(amount_cents) FROM debits"},
}

// partitionRun is one run of the partition family: the client, the two
// regions, when their link is broken, and the commit that first recorded
// each debit.
type partitionRun struct {
	w         *world
	d         *Design
	client    *node
	regions   [2]*region
	plan      *partitionPlan
	committed []int
	// inPartition marks the payments a region received while the link
	// was broken.
	inPartition []bool
}

// region is one region's service node and database.
type region struct {
	f    *partitionRun
	node *node
	db   *database
	peer *region
	// shipping are the debits this region accepted that the other has
	// not acknowledged yet, in the order they were accepted.
	shipping []*shipment
}

// open makes the Service a handler in this region runs against.
func (r *region) open(p *proc) *Service {
	return &Service{DB: DB{r.db, p}, Region: r.node.name, p: p, state: r}
}

func openPartition(w *world, d *Design) (familyRun, error) {
	f := &partitionRun{w: w, d: d, committed: make([]int, w.sc.Payments+1), inPartition: make([]bool, w.sc.Payments+1)}
	f.client = &node{w: w, name: NodeClient}
	w.nodes = []*node{f.client}
	debits := &watch{moves: f.debitMoves, committed: f.debited}
	for i, name := range []string{NodeRegionA, NodeRegionB} {
		n := &node{w: w, name: name, crashFault: CrashService, canCrash: true, linked: true}
		db, err := w.openDB(name+".db", 5+uint32(i), partitionSchema, map[string]*watch{"debits": debits})
		if err != nil {
			return nil, err
		}
		for a := 1; a <= accounts; a++ {
			if err := db.exec("INSERT INTO balances (account, balance_cents) VALUES (?, ?)", "A-"+strconv.Itoa(a), openingBalanceCents); err != nil {
				return nil, err
			}
			// This region's share of the balance, which partition-budget
			// spends; the shares of both regions add up to the balance.
			if err := db.exec("INSERT INTO offline_budget (account, left_cents) VALUES (?, ?)", "A-"+strconv.Itoa(a), regionShareCents); err != nil {
				return nil, err
			}
		}
		rg := &region{f: f, node: n, db: db}
		n.onRestart = func() { f.resumeShipping(rg) }
		f.regions[i] = rg
		w.nodes = append(w.nodes, n)
	}
	f.regions[0].peer, f.regions[1].peer = f.regions[1], f.regions[0]
	f.plan = newPartitionPlan(w)
	w.cut = f.cut
	return f, nil
}

// request sends pay's debit to one region or the other, keyed on the
// payment.
func (f *partitionRun) request(pay Payment) {
	w := f.w
	r := f.regions[0]
	if uniform(w.sc.Seed, tagRegion, uint64(pay.ID), 0, 0) >= 0.5 {
		r = f.regions[1]
	}
	w.spawn(f.client, pay.ID, func(p *proc) {
		serve := func(pay Payment, answer func(string, error)) {
			if f.plan.down(w.now) {
				f.inPartition[pay.ID] = true
			}
			w.serveRequest(r.node, f.client, pay, f.d.Handle, r.open, false, answer)
		}
		(&Client{p: p, to: r.node, serve: serve}).Call(pay)
	})
}

func (f *partitionRun) start() { f.watchLink() }

func (f *partitionRun) inWorkload(payment int) bool {
	return payment > 0 && payment < len(f.committed)
}

// debitMoves counts a debit as accepted on the commit that first records
// it, in either region: merging it into the other region accepts nothing
// new.
func (f *partitionRun) debitMoves(payment int) []string {
	if f.inWorkload(payment) && f.committed[payment] == 0 {
		return movesAccepted
	}
	return nil
}

func (f *partitionRun) debited(_ *database, payment, commitEvent int) {
	if f.inWorkload(payment) && f.committed[payment] == 0 {
		f.committed[payment] = commitEvent
		f.w.keep(commitEvent) // evidence if the merge overdraws its account
	}
}

// Forward sends pay to the other region, which decides it, and returns its
// answer: nil when it accepted, its error when it refused, and
// ErrUnavailable when no answer came in time (the link may be broken). A
// timeout does not prove the other region did nothing: if only its answer
// was lost, it debited, and the refusal the client hears is wrong.
func (s *Service) Forward(pay Payment) error {
	p := s.p
	p.step()
	w := p.w
	from := s.state.(*region)
	to := from.peer
	token := p.waitFor()
	w.send(from.node, to.node, chForward, pay.ID, KindSend, w.note3("forward: debit ", cents(pay.AmountCents), " from "+pay.Account), func() {
		w.serveRequest(to.node, from.node, pay, from.f.d.Handle, to.open, true, func(result string, err error) {
			w.wake(p, token, answer{result, err}, false)
		})
	})
	timeout := w.roundTripUs() + 20_000
	w.schedule(w.now+timeout, false, func() { w.resume(p, token, nil) })
	v := p.park()
	if v == nil {
		w.emit(Event{Node: from.node.name, Kind: KindTimeout, Payment: pay.ID, Peer: to.node.name,
			Note: w.note3("no answer from "+to.node.name+" within ", msToString(timeout), ": refusing, though it may have debited")})
		return ErrUnavailable
	}
	a := v.(answer)
	w.emit(Event{Node: from.node.name, Kind: KindResponse, Payment: pay.ID, Peer: to.node.name, Note: to.node.name + " answered: " + a.text})
	return a.err
}

// Replicate ships m to the other region in the background and returns at
// once. The other region applies it with the design's Consume; until it
// acknowledges, the message is sent again with growing pauses, so a broken
// link delays the merge but never loses it.
func (s *Service) Replicate(m Message) {
	p := s.p
	p.step()
	from := s.state.(*region)
	from.f.shipDebit(from, from.peer, m)
}

func (f *partitionRun) shipDebit(from, to *region, m Message) {
	s := &shipment{m: m}
	from.shipping = append(from.shipping, s)
	f.ship(from, to, s, 1)
}

// shipment is one debit a region ships to the other until it is
// acknowledged. The list of them stands for the region's replication log:
// it is durable, so a crash stops the shipping and a restart resumes it
// (see resumeShipping), but nothing is sent while the region is down.
type shipment struct {
	m     Message
	acked bool
	// gen counts the restarts that resent it: a retry timer of an earlier
	// generation died with the crash and does nothing.
	gen int
}

// ship sends s's debit from one region to the other, attempt 1 first,
// and sends it again with growing pauses until it is acknowledged.
func (f *partitionRun) ship(from, to *region, s *shipment, attempt int) {
	w := f.w
	m, gen := s.m, s.gen
	w.send(from.node, to.node, chReplicate, m.Payment, KindSend, w.note2("replicate ", m.ID), func() {
		w.spawn(to.node, m.Payment, func(p *proc) {
			if err := f.d.Consume(&Consumer{DB: DB{to.db, p}, p: p}, m); err != nil {
				w.emit(Event{Node: to.node.name, Kind: KindError, Payment: m.Payment, Note: "merge returned error: " + err.Error() + "; no ack"})
				return
			}
			p.stepAt(momentBeforeReply)
			w.send(to.node, from.node, chReplicateAck, m.Payment, KindSend, w.note2("ack ", m.ID), func() { s.acked = true })
		})
	})
	after := (w.roundTripUs() + 20_000) << min(attempt-1, 5)
	w.schedule(w.now+after, false, func() {
		if s.acked || s.gen != gen || from.node.down {
			return // acknowledged, or the timer died with a crash
		}
		w.emit(Event{Node: from.node.name, Kind: KindRetry, Payment: m.Payment,
			Note: "no ack for " + m.ID + " from " + to.node.name + " within " + msToString(after) + ": sending again"})
		f.ship(from, to, s, attempt+1)
	})
}

// resumeShipping is a region back from a crash: it sends again, in the
// order they were accepted, every debit the other region has not
// acknowledged.
func (f *partitionRun) resumeShipping(from *region) {
	live := from.shipping[:0]
	for _, s := range from.shipping {
		if !s.acked {
			live = append(live, s)
		}
	}
	clear(from.shipping[len(live):])
	from.shipping = live
	for _, s := range live {
		s.gen++
		f.ship(from, from.peer, s, 1)
	}
}

// partitionPlan is when the link between the regions is broken: a pure
// function of the seed, the fault's probability, the partition duration
// and the workload's length, worked out before the run starts.
//
// net.partition's p is the fraction of the workload's span (payments ×
// requestIntervalUs) during which the link is down, so a learner can
// predict it at any run length: at 0.3 and 200 payments, the link is down
// for 60 ms of the 200 in which debits arrive. The down time is cut into
// the fewest outages no longer than partition-duration, all as long as
// each other, one in each equal slice of the span at a place keyed on the
// seed. At 1 the link never works.
type partitionPlan struct {
	windows []window // broken intervals, in order, not overlapping
	forever bool     // p = 1: broken from the start, never healed
}

type window struct{ start, end int64 }

func newPartitionPlan(w *world) *partitionPlan {
	p := w.sc.Faults[NetPartition]
	durUs := int64(w.sc.PartitionDuration) / 1000
	pl := &partitionPlan{}
	switch {
	case p == 0 || durUs == 0:
		return pl
	case p >= 1:
		pl.forever = true
		return pl
	}
	spanUs := int64(w.sc.Payments) * requestIntervalUs
	downUs := int64(math.Round(p * float64(spanUs)))
	if downUs == 0 {
		return pl
	}
	k := (downUs + durUs - 1) / durUs // outages
	lenUs := downUs / k
	slice := spanUs / k
	for i := range k {
		u := uniform(w.sc.Seed, uint64(NetPartition)+1, 0, 0, uint64(i))
		start := i*slice + int64(u*float64(slice-lenUs))
		pl.windows = append(pl.windows, window{start, start + lenUs})
	}
	return pl
}

// down says whether the link is broken at time t.
func (pl *partitionPlan) down(t int64) bool {
	if pl.forever {
		return true
	}
	i := sort.Search(len(pl.windows), func(i int) bool { return pl.windows[i].start > t }) - 1
	return i >= 0 && t < pl.windows[i].end
}

// cut says whether a message between from and to, sent now and arriving at
// at, is lost to a partition: the link was broken when it left or when it
// would have arrived.
func (f *partitionRun) cut(from, to *node, at int64) bool {
	return from.linked && to.linked && (f.plan.down(f.w.now) || f.plan.down(at))
}

// watchLink shows the link's partitions as events: "broke" as each
// starts, "works again" as it ends. Each is scheduled by the one before
// it, as background work: they never keep a finished run going.
func (f *partitionRun) watchLink() {
	w, pl := f.w, f.plan
	broke := func() {
		w.injected[NetPartition]++
		w.emit(Event{Node: NodeRegionA, Kind: KindPartition, Peer: NodeRegionB, Fault: NetPartition.String(),
			Note: "the link between " + NodeRegionA + " and " + NodeRegionB + " broke"})
	}
	if pl.forever {
		w.schedule(w.now, true, broke)
		return
	}
	var next func(i int)
	next = func(i int) {
		if i == len(pl.windows) {
			return
		}
		win := pl.windows[i]
		w.schedule(win.start, true, func() {
			broke()
			w.schedule(win.end, true, func() {
				w.emit(Event{Node: NodeRegionA, Kind: KindHeal, Peer: NodeRegionB,
					Note: "the link between the regions works again after " + msToString(win.end-win.start)})
				next(i + 1)
			})
		})
	}
	next(0)
}

// checkPartition merges both regions' debits, as the regions do once the
// link heals, and counts the accounts the merge leaves below zero.
func (f *partitionRun) check(r *Report, mark func(ev int, key, note string)) error {
	type debit struct {
		payment int
		account string
		amount  int64
	}
	byID := map[int]debit{}
	for _, rg := range f.regions {
		rows, err := rg.db.conn.QueryContext(bg, "SELECT payment_id, account, amount_cents FROM debits")
		if err != nil {
			return fmt.Errorf("check %s: %w", rg.db.name, err)
		}
		for rows.Next() {
			var d debit
			if err := rows.Scan(&d.payment, &d.account, &d.amount); err != nil {
				rows.Close()
				return err
			}
			byID[d.payment] = d
		}
		rows.Close()
	}
	// Replay the debits in the order they were accepted: the one that takes
	// an account below zero is the evidence.
	merged := make([]debit, 0, len(byID))
	for id := 1; id < len(f.committed); id++ {
		if d, ok := byID[id]; ok {
			merged = append(merged, d)
		}
	}
	accepted := len(merged)
	if accepted != len(byID) {
		return fmt.Errorf("check debits: %d debits for payments outside the workload", len(byID)-accepted)
	}
	slices.SortStableFunc(merged, func(a, b debit) int { return f.committed[a.payment] - f.committed[b.payment] })
	balance := map[string]int64{}
	overdrawn := map[string]bool{}
	overdrafts := 0
	for _, d := range merged {
		if _, ok := balance[d.account]; !ok {
			balance[d.account] = openingBalanceCents
		}
		balance[d.account] -= d.amount
		if balance[d.account] < 0 && !overdrawn[d.account] {
			overdrawn[d.account] = true
			overdrafts++
			mark(f.committed[d.payment], ViolationOverdraft, "this debit, merged with the other region's, took "+d.account+" below zero (overdrafts)")
		}
	}
	r.set("accepted", accepted)
	r.set("declined", f.w.moved["declined"])
	r.set("rejected", f.w.moved["rejected"])
	r.set(ViolationOverdraft, overdrafts)
	r.set("debits_in_partition", countTrue(f.inPartition))
	return nil
}
