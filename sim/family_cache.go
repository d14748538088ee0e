package sim

import (
	"fmt"
	"strconv"
)

// The cache family: the payment service pays out from accounts whose
// status (active, or frozen by the AML team) the service database owns and
// a cache node copies, with a time to live. Now and then the AML team,
// screening a payment, orders its account frozen: the design's Writer runs
// on the service and changes the owner's row, then tells the cache. The
// checker follows which version of each account every decision read, and
// every value written into the cache.

// The cache family's own lanes.
const (
	NodeAML   = "aml"
	NodeCache = "cache"
)

// cacheTTLUs is how long a cache entry lives: a stale entry is served at
// most this long after it was written.
const cacheTTLUs = 100_000

// freezeShare is the share of payments after which the AML team orders
// the account frozen, and freezeDelayUs the most it takes to do so after
// the payment's request was sent (keyed per payment, from a fifth of it).
const (
	freezeShare   = 0.15
	freezeDelayUs = 20_000
)

// cacheAccounts is how many accounts the workload pays from (A-1 … A-20).
const cacheAccounts = 20

const (
	cacheOwnerSchema = `
CREATE TABLE accounts (account TEXT PRIMARY KEY, frozen INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE payouts (id INTEGER PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL);
CREATE TABLE freezes (id INTEGER PRIMARY KEY, account TEXT NOT NULL);`
	cacheSchema = `
CREATE TABLE entries (key TEXT PRIMARY KEY, frozen INTEGER NOT NULL, version INTEGER NOT NULL, expires_us INTEGER NOT NULL);`
)

// The cache family's report keys.
const (
	// ViolationStalePayout counts the cache family's stale decisions:
	// payouts approved on a status older than the owner's when it was read.
	ViolationStalePayout = "stale_payouts"
	cacheHits            = "cache_hits"
	staleCacheWrite      = "stale_cache_writes"
	staleCacheReads      = "stale_cache_reads"
)

var (
	chCacheCall   = newChannel(10, "cache call")   // service → cache: get, set or delete a key
	chCacheAnswer = newChannel(11, "cache answer") // cache → service
	chFreeze      = newChannel(12, "freeze order") // aml → service: freeze this account
)

// tagFreeze keys which payments the AML team freezes the account after,
// and how long it takes.
var tagFreeze = newTag(1007)

var cacheFamily = &family{
	nodes:      []string{NodeClient, NodeAML, NodeService, NodeServiceDB, NodeCache},
	metrics:    []string{"accepted", "declined", cacheHits, staleCacheWrite, ViolationStalePayout},
	invariants: []string{ViolationStalePayout},
	faults:     []Fault{NetDrop, NetDup, DBFail, CrashService},
	reportKeys: []reportKey{
		{"accepted", "payouts the service accepted and recorded"},
		{"declined", "payouts refused because the account was frozen, as far as the decision knew"},
		{cacheHits, "reads the cache answered from a live entry"},
		{staleCacheWrite, "cache writes that stored a value older than the owner's at that moment: served until the TTL"},
		{ViolationStalePayout, "payouts accepted on an account status older than the owner's when it was read: money paid from a frozen account"},
	},
	situations: []reportKey{
		{staleCacheReads, "payments whose read of the cache returned a status older than the owner's: the moment a decision on the cache goes wrong"},
	},
	databases: []DatabaseInfo{
		{NodeServiceDB, []Starter{
			{"Frozen accounts", "SELECT * FROM accounts WHERE frozen = 1"},
			{"Payouts per account", "SELECT account, COUNT(*), SUM(amount_cents) FROM payouts GROUP BY account"},
		}},
		{NodeCache, []Starter{{"Cache entries", "SELECT * FROM entries ORDER BY key"}}},
	},
	open: openCache,
}

// AccountState is an account's status as the owner holds it or a cache
// copies it: frozen (1) or not (0), and the owner's version of the row.
type AccountState struct {
	Frozen  int
	Version int
}

// cacheRun is one run of the cache family.
type cacheRun struct {
	w                            *world
	d                            *Design
	client, aml, service, cacheN *node
	host                         *serviceHost
	owner, cache                 *database
	// version is each account's committed version at the owner.
	version map[string]int
	// reads holds, per payment, the last status its decision read.
	reads []cacheRead
	// stale are the payouts accepted on a stale read, by payment.
	stale map[int]int
	// staleRead marks the payments that read an old status from the cache.
	staleRead []bool
	// staleWrites are the cache writes that stored an old value.
	staleWrites []int
}

type cacheRead struct {
	event            int // the read
	version, ownerAt int // the version read, and the owner's then
	frozen           int // what the read said
}

func openCache(w *world, d *Design) (familyRun, error) {
	f := &cacheRun{w: w, d: d, version: map[string]int{}, reads: make([]cacheRead, w.sc.Payments+1), stale: map[int]int{},
		staleRead: make([]bool, w.sc.Payments+1)}
	f.client = &node{w: w, name: NodeClient}
	f.aml = &node{w: w, name: NodeAML}
	f.service = &node{w: w, name: NodeService, crashFault: CrashService, canCrash: true}
	f.cacheN = &node{w: w, name: NodeCache}
	w.nodes = []*node{f.client, f.aml, f.service, f.cacheN}
	schema := cacheOwnerSchema
	for i := 1; i <= cacheAccounts; i++ {
		schema += "\nINSERT INTO accounts (account) VALUES ('A-" + strconv.Itoa(i) + "');"
		f.version["A-"+strconv.Itoa(i)] = 1
	}
	watches := map[string]*watch{
		"payouts": {moves: func(int) []string { return movesAccepted }, committed: f.paid},
		"freezes": {committed: f.frozen},
	}
	var err error
	if f.owner, err = w.openDB(NodeServiceDB, 1, schema, watches); err != nil {
		return nil, err
	}
	if f.cache, err = w.openDB(NodeCache, 5, cacheSchema, nil); err != nil {
		return nil, err
	}
	f.owner.onQuery = f.readOwner
	f.host = w.newServiceHost(f.service, f.client, d.Handle, f.owner, nil)
	open := f.host.open
	f.host.open = func(p *proc) *Service {
		s := open(p)
		s.state = f
		return s
	}
	return f, nil
}

// request sends payment pay and, for a keyed share of payments, has the
// AML team order its account frozen a little later.
func (f *cacheRun) request(pay Payment) {
	w := f.w
	w.callOnce(f.client, f.service, pay, f.host.serve)
	if uniform(w.sc.Seed, tagFreeze, uint64(pay.ID), 0, 0) >= freezeShare {
		return
	}
	delay := freezeDelayUs/5 + int64(uniform(w.sc.Seed, tagFreeze, uint64(pay.ID), 1, 0)*freezeDelayUs*4/5)
	w.schedule(w.now+delay, false, func() {
		w.send(f.aml, f.service, chFreeze, pay.ID, KindSend, "AML: freeze "+pay.Account+" after payment "+strconv.Itoa(pay.ID), func() {
			w.spawn(f.service, pay.ID, func(p *proc) {
				s := f.host.open(p)
				if err := f.d.Writer(s, pay.Account); err != nil {
					w.emit(Event{Node: f.service.name, Kind: KindError, Payment: pay.ID, Note: "freeze of " + pay.Account + " returned " + err.Error()})
				}
			})
		})
	})
}

func (f *cacheRun) start() {}

// readOwner notes that a decision read the owner's row: current by
// construction.
func (f *cacheRun) readOwner(p *proc, ev int) {
	if p.payment <= 0 || p.payment >= len(f.reads) {
		return
	}
	v := f.version[f.w.nthPayment(p.payment).Account]
	f.reads[p.payment] = cacheRead{event: ev, version: v, ownerAt: v}
}

// frozen follows a committed freeze: the account's version moves on.
func (f *cacheRun) frozen(_ *database, payment, _ int) {
	if payment <= 0 || payment > f.w.sc.Payments {
		return
	}
	f.version[f.w.nthPayment(payment).Account]++
}

// paid follows a committed payout: stale if the status its decision read
// was older than the owner's at that moment.
func (f *cacheRun) paid(_ *database, payment, commitEvent int) {
	if payment <= 0 || payment >= len(f.reads) {
		return
	}
	if r := f.reads[payment]; r.event > 0 && r.version < r.ownerAt && f.stale[payment] == 0 {
		f.stale[payment] = r.event
	}
}

// errFrozen declines a payout from an account the AML team froze.
var errFrozen = fmt.Errorf("%w: the account is frozen", ErrDeclined)

// cacheCall sends one operation to the cache and waits for its answer;
// serve runs at the cache when the call arrives. A call that gets no
// answer within a round trip and 20ms returns ErrTimeout: the operation
// may or may not have happened.
func (s *Service) cacheCall(note string, serve func() any) (any, error) {
	v, ok := callPeer(s.p, s.state.(*cacheRun).cacheN, chCacheCall, chCacheAnswer, "cache", note, "", serve)
	if !ok {
		return nil, ErrTimeout
	}
	return v, nil
}

// The cache's own statements run on its database when a call arrives.
// Its events show what it did in words, not SQL: the SQL a run shows is
// the design's (the cache's entries can still be queried after the run).

// CacheGet asks the cache for account's status: the entry and true when a
// live one is there, false on a miss or when the cache did not answer.
func (s *Service) CacheGet(account string) (AccountState, bool) {
	f := s.state.(*cacheRun)
	p := s.p
	v, err := s.cacheCall("get "+account, func() any {
		const q = `SELECT frozen, version FROM entries WHERE key = ? AND expires_us > ?`
		var st AccountState
		hit := f.cache.prepare(q).stmt.QueryRow(account, f.w.now).Scan(&st.Frozen, &st.Version) == nil
		var moves []string
		note := "miss"
		if hit {
			moves, note = movesCacheHit, "hit: version "+strconv.Itoa(st.Version)+" (the owner holds "+strconv.Itoa(f.version[account])+")"
		}
		// A hit shows what it returned (account, frozen, version), so the
		// events alone tell which status a decision was made on.
		var args []any
		if hit {
			args = []any{account, st.Frozen, st.Version}
		}
		ev := f.w.emit(Event{Node: NodeCache, Kind: KindQuery, Payment: p.payment, Peer: NodeService, Args: args,
			Note: "get " + account + ": " + note, Moves: moves})
		if !hit {
			return nil
		}
		if st.Version < f.version[account] {
			f.w.keep(ev) // evidence if a payout is approved on it
		}
		return cacheRead{event: ev, version: st.Version, ownerAt: f.version[account], frozen: st.Frozen}
	})
	if err != nil || v == nil {
		return AccountState{}, false
	}
	r := v.(cacheRead)
	if p.payment > 0 && p.payment < len(f.reads) {
		f.reads[p.payment] = r
		f.staleRead[p.payment] = f.staleRead[p.payment] || r.version < r.ownerAt
	}
	return AccountState{Frozen: r.frozen, Version: r.version}, true
}

// CacheSet stores st under account, whatever the cache holds: a value read
// before a change can overwrite the change's.
func (s *Service) CacheSet(account string, st AccountState) {
	f := s.state.(*cacheRun)
	p := s.p
	s.cacheCall("set "+account+" to version "+strconv.Itoa(st.Version), func() any {
		f.store(p.payment, account, st, false)
		return nil
	})
}

// CacheSetIfNewer stores st under account unless the cache holds a live
// entry at least as new: an old value never replaces a newer one.
func (s *Service) CacheSetIfNewer(account string, st AccountState) {
	f := s.state.(*cacheRun)
	p := s.p
	s.cacheCall("set "+account+" to version "+strconv.Itoa(st.Version)+" if newer", func() any {
		f.store(p.payment, account, st, true)
		return nil
	})
}

const (
	cacheSet = `INSERT INTO entries (key, frozen, version, expires_us) VALUES (?, ?, ?, ?)
  ON CONFLICT (key) DO UPDATE SET frozen = excluded.frozen, version = excluded.version, expires_us = excluded.expires_us`
	cacheSetIfNewer = cacheSet + `
  WHERE entries.version < excluded.version OR entries.expires_us <= ?`
)

// store writes an entry at the cache, as set or set-if-newer, and notes a
// write that stored a value older than the owner's.
func (f *cacheRun) store(payment int, account string, st AccountState, ifNewer bool) {
	q, args := cacheSet, []any{account, st.Frozen, st.Version, f.w.now + cacheTTLUs}
	if ifNewer {
		q, args = cacheSetIfNewer, append(args, f.w.now)
	}
	res, err := f.cache.prepare(q).stmt.Exec(args...)
	if err != nil {
		panic("sim: cache: " + err.Error())
	}
	changed, _ := res.RowsAffected()
	note := "stored version " + strconv.Itoa(st.Version)
	if changed == 0 {
		note = "kept the newer entry: version " + strconv.Itoa(st.Version) + " is older"
	}
	f.w.emit(Event{Node: NodeCache, Kind: KindExec, Payment: payment, Peer: NodeService, Note: "set " + account + ": " + note})
	if owner := f.version[account]; changed > 0 && st.Version < owner {
		ev := f.w.emit(Event{Node: NodeCache, Kind: KindEffect, Payment: payment, Moves: movesStaleWrite,
			Note: "the cache now serves version " + strconv.Itoa(st.Version) + " of " + account + ", the owner holds version " +
				strconv.Itoa(owner) + ": until the entry expires, reads get the old status"})
		f.staleWrites = append(f.staleWrites, ev)
	}
}

// CacheDelete removes account's entry, so the next read goes to the owner.
func (s *Service) CacheDelete(account string) {
	f := s.state.(*cacheRun)
	p := s.p
	s.cacheCall("delete "+account, func() any {
		if _, err := f.cache.prepare(`DELETE FROM entries WHERE key = ?`).stmt.Exec(account); err != nil {
			panic("sim: cache: " + err.Error())
		}
		f.w.emit(Event{Node: NodeCache, Kind: KindExec, Payment: p.payment, Peer: NodeService, Note: "delete " + account})
		return nil
	})
}

var (
	movesCacheHit   = []string{cacheHits}
	movesStaleWrite = []string{staleCacheWrite}
)

// check counts payouts, declines, hits and stale writes from what the run
// moved, and marks each stale decision on the read it was made on.
func (f *cacheRun) check(r *Report, mark func(ev int, key, note string)) error {
	var accepted int
	if err := f.owner.conn.QueryRowContext(bg, "SELECT COUNT(*) FROM payouts").Scan(&accepted); err != nil {
		return fmt.Errorf("check payouts: %w", err)
	}
	stale := 0
	for id := 1; id < len(f.reads); id++ {
		if ev := f.stale[id]; ev > 0 {
			stale++
			mark(ev, ViolationStalePayout, "the payout was approved on this read: the cache's status was older than the owner's, which had frozen the account (stale_payouts)")
		}
	}
	r.set("accepted", accepted)
	r.set("declined", f.w.moved["declined"])
	r.set(cacheHits, f.w.moved[cacheHits])
	r.set(staleCacheWrite, len(f.staleWrites))
	r.set(ViolationStalePayout, stale)
	r.set(staleCacheReads, countTrue(f.staleRead))
	return nil
}
