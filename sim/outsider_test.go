package sim_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"partialtruth/sim"
)

// An outsider's check of the simulator: it reads a run's events as
// `run -events` writes them (JSON lines, nothing else) and works out every
// violation the report claims from the SQL the events show committed, the
// messages the broker stored and the order things happened in. It uses no
// code of the simulator beyond running it, and only the numbers its
// documentation states (every customer's limit, every account's opening
// balance, the order of a payment's statuses).

const (
	outsiderLimitCents   = 300_000 // README: every customer's limit
	outsiderOpeningCents = 300_000 // README: every account's opening balance
)

var outsiderStatuses = []string{"created", "captured", "refunded"}

// outsiderEvent is what a line of -events holds that the checker reads.
type outsiderEvent struct {
	ID      int    `json:"id"`
	Node    string `json:"node"`
	Kind    string `json:"kind"`
	Payment int    `json:"payment"`
	Peer    string `json:"peer"`
	SQL     string `json:"sql"`
	Args    []any  `json:"args"`
}

// write is one statement a transaction ran and kept.
type write struct {
	sql     string
	args    []any
	payment int
}

// committedWrite is a write as its commit made it durable.
type committedWrite struct {
	write
	db     string
	commit int // the commit's event id
}

// replay reads events and returns every write that committed, in commit
// order, with everything else the checker needs along the way: reads and
// replication for the stale-read check, stored messages for the rest.
type replay struct {
	writes []committedWrite
	// stored lists the messages the broker stored: (payment, event id).
	stored []write
	events []outsiderEvent
}

func readEvents(t *testing.T, data []byte) replay {
	t.Helper()
	var rp replay
	type txKey struct {
		db, peer string
		payment  int
	}
	open := map[txKey][]write{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev outsiderEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		rp.events = append(rp.events, ev)
		k := txKey{ev.Node, ev.Peer, ev.Payment}
		switch ev.Kind {
		case "begin":
			open[k] = []write{}
		case "exec": // a statement that succeeded; "error" ones changed nothing
			open[k] = append(open[k], write{ev.SQL, ev.Args, ev.Payment})
		case "commit":
			for _, w := range open[k] {
				rp.writes = append(rp.writes, committedWrite{w, ev.Node, ev.ID})
			}
			delete(open, k)
		case "rollback", "commit-err":
			delete(open, k)
		case "publish":
			rp.stored = append(rp.stored, write{ev.SQL, ev.Args, ev.Payment})
		}
	}
	return rp
}

func argInt(a any) int       { f, _ := a.(float64); return int(f) }
func argString(a any) string { s, _ := a.(string); return s }

// violations works out, from the replay alone, the violations of every
// key the design's report can carry.
func (rp replay) violations() map[string]int {
	out := map[string]int{}
	has := func(prefix string) bool {
		return slices.ContainsFunc(rp.events, func(ev outsiderEvent) bool { return strings.HasPrefix(ev.Node, prefix) })
	}
	switch {
	case has("ledger"): // payments database and ledger, and the ledger's dead letters where it keeps them
		committed, entries, parked := map[int]bool{}, map[int]int{}, map[int]bool{}
		for _, w := range rp.writes {
			switch {
			case w.db == "service.db" && strings.HasPrefix(w.sql, "INSERT INTO payments"):
				committed[argInt(w.args[0])] = true
			case w.db == "ledger.db" && strings.HasPrefix(w.sql, "INSERT INTO ledger_entries"):
				entries[argInt(w.args[1])]++
			case w.db == "ledger.db" && strings.HasPrefix(w.sql, "INSERT INTO dead_letters"):
				parked[argInt(w.args[1])] = true // waiting for a person: not lost
			}
		}
		for id := range committed {
			if entries[id] == 0 && !parked[id] {
				out["lost"]++
			}
		}
		for id, n := range entries {
			if !committed[id] {
				out["phantom"]++
			}
			out["duplicate_effects"] += n - 1
		}
	case has("orders"): // statuses through the bus
		newest := map[int]int{}
		for _, m := range rp.stored {
			id := argString(m.args[0])
			v := slices.Index(outsiderStatuses, id[strings.LastIndex(id, ".")+1:]) + 1
			newest[m.payment] = max(newest[m.payment], v)
		}
		final := map[int]int{}
		for _, w := range rp.writes {
			if w.db == "orders.db" && strings.HasPrefix(w.sql, "INSERT INTO payment_status") {
				final[argInt(w.args[0])] = slices.Index(outsiderStatuses, argString(w.args[1])) + 1
			}
		}
		for id, v := range final {
			if v < newest[id] {
				out["out_of_order_applied"]++
			}
		}
	case has("region"): // two regions' debits, merged in the order they were first accepted
		first := map[int]committedWrite{}
		for _, w := range rp.writes {
			if strings.HasPrefix(w.sql, "INSERT INTO debits") {
				if _, ok := first[argInt(w.args[0])]; !ok {
					first[argInt(w.args[0])] = w
				}
			}
		}
		debits := make([]committedWrite, 0, len(first))
		for _, w := range first {
			debits = append(debits, w)
		}
		slices.SortFunc(debits, func(a, b committedWrite) int { return a.commit - b.commit })
		balance, overdrawn := map[string]int{}, map[string]bool{}
		for _, d := range debits {
			acct := argString(d.args[1])
			if _, ok := balance[acct]; !ok {
				balance[acct] = outsiderOpeningCents
			}
			balance[acct] -= argInt(d.args[2])
			if balance[acct] < 0 && !overdrawn[acct] {
				overdrawn[acct] = true
				out["overdrafts"]++
			}
		}
	case has("replica"): // a limit check reading the primary or a replica
		// Walk the events in order: what each copy held per customer, what
		// each payment's last read saw, and at each payment's commit
		// whether that read missed one the primary held.
		onCopy := map[string]map[string]int{"service.db": {}, "replica.db": {}}
		seen := map[int]int{}
		total := map[string]int{}
		breached := map[string]bool{}
		commitWrites := map[int][]committedWrite{}
		for _, w := range rp.writes {
			commitWrites[w.commit] = append(commitWrites[w.commit], w)
		}
		// The confirmation designs: a payment charged under two keys.
		charged := map[int]int{}
		for _, w := range rp.writes {
			if w.db == "service.db" && strings.HasPrefix(w.sql, "INSERT INTO charges") {
				if charged[w.payment]++; charged[w.payment] == 2 {
					out["double_payments"]++
				}
			}
		}
		for _, ev := range rp.events {
			switch {
			case ev.Kind == "query" && onCopy[ev.Node] != nil && len(ev.Args) > 0:
				seen[ev.Payment] = onCopy[ev.Node][argString(ev.Args[0])]
			case ev.Kind == "exec" && ev.Node == "service.db" && strings.HasPrefix(ev.SQL, "UPDATE limits"):
				// A conditional UPDATE of the limits row is the decision's
				// read: its WHERE reads the customer's row (args: amount,
				// account, amount).
				seen[ev.Payment] = onCopy[ev.Node][argString(ev.Args[1])]
			case ev.Kind == "replicate":
				onCopy["replica.db"][argString(ev.Args[1])]++
			case ev.Kind == "commit" && ev.Node == "service.db":
				for _, w := range commitWrites[ev.ID] {
					if !strings.HasPrefix(w.sql, "INSERT INTO payments") {
						continue
					}
					acct := argString(w.args[1])
					if seen[w.payment] < onCopy["service.db"][acct] {
						out["stale_decisions"]++
					}
					onCopy["service.db"][acct]++
					total[acct] += argInt(w.args[2])
					if total[acct] > outsiderLimitCents && !breached[acct] {
						breached[acct] = true
						out["limit_breaches"]++
					}
				}
			}
		}
	case has("psp"): // a payment provider behind the service: its charges are its money movements
		charges := map[int]int{}
		for _, ev := range rp.events {
			if ev.Node == "psp" && ev.Kind == "effect" {
				charges[ev.Payment]++
			}
		}
		for _, n := range charges {
			if n > 1 {
				out["double_charges"]++
			}
		}
	case has("cache"): // payouts decided on an account status the owner or a cache returned
		// Each committed freeze moves its account's version on from 1; a
		// payment's last read is either the owner's row (current) or a
		// cache hit, whose args say which version it returned. A payout
		// committed on a read older than the owner's then is stale.
		version := map[string]int{}
		type read struct{ version, ownerAt int }
		last := map[int]read{}
		stale := map[int]bool{}
		commitWrites := map[int][]committedWrite{}
		for _, w := range rp.writes {
			commitWrites[w.commit] = append(commitWrites[w.commit], w)
		}
		current := func(acct string) int { return max(version[acct], 1) }
		for _, ev := range rp.events {
			switch {
			case ev.Kind == "query" && ev.Node == "cache" && len(ev.Args) == 3:
				acct := argString(ev.Args[0])
				last[ev.Payment] = read{argInt(ev.Args[2]), current(acct)}
			case ev.Kind == "query" && ev.Node == "service.db" && strings.Contains(ev.SQL, "FROM accounts"):
				v := current(argString(ev.Args[0]))
				last[ev.Payment] = read{v, v}
			case ev.Kind == "commit" && ev.Node == "service.db":
				for _, w := range commitWrites[ev.ID] {
					switch {
					case strings.HasPrefix(w.sql, "INSERT INTO freezes"):
						acct := argString(w.args[0])
						version[acct] = current(acct) + 1
					case strings.HasPrefix(w.sql, "INSERT INTO payouts"):
						if r, ok := last[w.payment]; ok && r.version < r.ownerAt && !stale[w.payment] {
							stale[w.payment] = true
							out["stale_payouts"]++
						}
					}
				}
			}
		}
	default: // charges behind a client that retries
		charges := map[int]int{}
		for _, w := range rp.writes {
			if strings.HasPrefix(w.sql, "INSERT INTO charges") {
				charges[w.payment]++
			}
		}
		for _, n := range charges {
			if n > 1 {
				out["double_charges"]++
			}
		}
	}
	return out
}

// eventsFile runs sc and returns its events as `run -events` writes them.
func eventsFile(t *testing.T, sc sim.Scenario) ([]byte, sim.Report) {
	t.Helper()
	events, r, err := sim.Record(sc)
	if err != nil {
		t.Fatalf("%s seed %d faults %s: %v", sc.Design, sc.Seed, sc.Faults, err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes(), r
}

// outsiderMix draws a fault mix from the seed: each fault on or off, at up
// to maxP, partitions (per virtual second) more often.
func outsiderMix(seed uint64, maxP float64) sim.Faults {
	var fs sim.Faults
	x := seed*0x9E3779B97F4A7C15 + 1
	for _, f := range sim.AllFaults() {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		if x%2 == 0 {
			fs = fs.Set(f, float64(x%1000)/1000*maxP)
		}
	}
	if seed%2 == 0 {
		fs = fs.Set(sim.NetPartition, 0.9)
	}
	return fs
}

// Over every design and many seeds and fault mixes, every violation the
// report counts is one its own events show to an outsider: on a run that
// settled, the outsider counts exactly what the report counts; on a cut
// run, work still in flight is no violation in the report, so the report
// never counts more than the outsider.
func TestReportedViolationsAreWhatTheEventsShow(t *testing.T) {
	const seeds, payments = 6, 40
	shown := map[string]int{}
	for _, d := range sim.Designs() {
		n := payments
		if slices.Contains(d.Invariants, "limit_breaches") || slices.Contains(d.Invariants, "overdrafts") {
			n = 150 // customers reach their limits, and accounts their balances, only after many payments
		}
		for seed := uint64(1); seed <= seeds; seed++ {
			sc := sim.DefaultScenario()
			sc.Design, sc.Seed, sc.Payments, sc.Faults = d.Name, seed, n, outsiderMix(seed, 0.1)
			sc.ReplicaLag = sim.Duration(time.Duration(seed%3*20) * time.Millisecond)
			sc.PartitionDuration = sim.Duration(50 * time.Millisecond)
			data, r := eventsFile(t, sc)
			got := readEvents(t, data).violations()
			for _, k := range d.Invariants {
				n := r.Count(k)
				shown[k] += got[k]
				if n > got[k] || r.Settled() && n != got[k] {
					t.Errorf("%s seed %d faults %s (stopped %s): the report counts %s %d, its events show %d",
						d.Name, seed, sc.Faults, r.Stopped, k, n, got[k])
				}
			}
		}
	}
	// The mixes are harsh enough that the outsider finds every kind of
	// violation somewhere, so none of these comparisons is of zeros alone.
	for _, d := range sim.Designs() {
		for _, k := range d.Invariants {
			if shown[k] == 0 {
				t.Errorf("no run showed any %s; the property compares nothing for it", k)
				shown[k] = 1
			}
		}
	}
}

// The good design of each family never reports a violation on a run that
// settled, over many seeds and fault mixes (every probability below 1),
// and its events, read by the outsider, show none either.
func TestGoodDesignsNeverViolateOnASettledRun(t *testing.T) {
	const seeds, payments = 12, 40
	for _, design := range []string{"outbox-idempotent", "retry-idempotency-key", "decide-from-primary", "partition-cp", "consumer-versioned",
		"cache-versioned", "psp-atomic-phases", "consumer-dead-letter"} {
		settled := 0
		for seed := uint64(100); seed < 100+seeds; seed++ {
			sc := sim.DefaultScenario()
			sc.Design, sc.Seed, sc.Payments, sc.Faults = design, seed, payments, outsiderMix(seed, 0.2)
			sc.Jitter = sim.Duration(time.Duration(seed%4) * time.Millisecond)
			data, r := eventsFile(t, sc)
			if !r.Settled() {
				continue
			}
			settled++
			d, _ := sim.LookupDesign(design)
			got := readEvents(t, data).violations()
			for _, k := range d.Invariants {
				if r.Count(k) != 0 || got[k] != 0 {
					t.Errorf("%s seed %d faults %s: settled with %s %d (its events show %d), want none",
						design, seed, sc.Faults, k, r.Count(k), got[k])
				}
			}
		}
		if settled < seeds*3/4 {
			t.Errorf("%s settled on only %d of %d seeds; the property says little", design, settled, seeds)
		}
	}
}
