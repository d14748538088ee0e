package sim

import (
	"slices"
	"strings"
	"testing"
)

// Only the owner approves a payout in cache-versioned, so no payout is
// ever made on an old status, whatever the faults; and on most runs the
// AML team's freezes and the cache were met, so the claim was tested. (A
// crash takes the whole service, so a high crash rate leaves little to
// decide.)
func TestCacheVersionedNeverPaysOnAStaleStatus(t *testing.T) {
	exercised := 0
	for seed := uint64(1); seed <= 30; seed++ {
		mix := randomMix(seed, 0.15)
		r := runReport(t, scenario("cache-versioned", seed, 300, mix))
		if n := measured(t, r, ViolationStalePayout); n != 0 {
			t.Errorf("seed %d faults %s: stale_payouts %d, want 0", seed, mix, n)
		}
		if measured(t, r, "declined") > 0 && measured(t, r, cacheHits) > 0 {
			exercised++
		}
	}
	if exercised < 20 {
		t.Errorf("only %d of 30 runs declined a payout and hit the cache: the claim was hardly tested", exercised)
	}
}

// Cache-aside with a delete pays from frozen accounts on most seeds with
// no fault at all, and each stale decision is marked on the cache hit it
// was made on, a hit that served a version older than the owner's.
func TestCacheAsideDeletePaysFromFrozenAccounts(t *testing.T) {
	failed, raced := 0, 0
	for seed := uint64(1); seed <= 30; seed++ {
		events, r, err := Record(scenario("cache-aside-delete", seed, 200, Faults{}))
		if err != nil {
			t.Fatal(err)
		}
		if measured(t, r, ViolationStalePayout) > 0 {
			failed++
		}
		if measured(t, r, staleCacheWrite) > 0 {
			raced++
		}
		marked := 0
		for _, ev := range events {
			if ev.Violation != ViolationStalePayout {
				continue
			}
			marked++
			if ev.Node != NodeCache || ev.Kind != KindQuery || !strings.Contains(ev.Note, "hit") {
				t.Errorf("seed %d: event %d marked stale is %s on %s (%q), want a cache hit", seed, ev.ID, ev.Kind, ev.Node, ev.Note)
			}
		}
		if marked != measured(t, r, ViolationStalePayout) {
			t.Errorf("seed %d: %d events marked stale, the report counts %d", seed, marked, measured(t, r, ViolationStalePayout))
		}
	}
	if failed < 24 {
		t.Errorf("cache-aside-delete paid on a stale status on %d of 30 seeds; the family should show it readily", failed)
	}
	if raced < 10 {
		t.Errorf("a slow reader wrote an old status back on %d of 30 seeds; the race the design is named for hardly shows", raced)
	}
}

// The set-if-newer write never replaces a live newer entry: in
// cache-versioned every stale write it makes lands where the cache held
// nothing newer, while cache-aside-delete's fills overwrite freezes.
func TestSetIfNewerKeepsTheNewerEntry(t *testing.T) {
	kept := 0
	for seed := uint64(1); seed <= 10; seed++ {
		events, _, err := Record(scenario("cache-versioned", seed, 200, Faults{}))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if ev.Node == NodeCache && strings.Contains(ev.Note, "kept the newer entry") {
				kept++
			}
		}
	}
	if kept == 0 {
		t.Error("over 10 seeds, set-if-newer never refused an older status: the race was never met")
	}
}

// A network fault on a payment's request is keyed like every family's:
// the payments whose first request is lost are the same in the cache
// family as in the stale-read family, on one seed.
func TestCacheFamilyMeetsTheSameRequestDrops(t *testing.T) {
	dropped := func(design string) []int {
		events, _, err := Record(scenario(design, 11, 200, Faults{}.Set(NetDrop, 0.1)))
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, ev := range events {
			if ev.Kind == KindDrop && ev.Note == lostNotes[chRequest] && !slices.Contains(out, ev.Payment) {
				out = append(out, ev.Payment)
			}
		}
		slices.Sort(out)
		return out
	}
	a, b := dropped("cache-aside-delete"), dropped("decide-from-primary")
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Errorf("seed 11: cache-aside-delete lost the requests of %v, decide-from-primary of %v; want the same, and some", a, b)
	}
}
