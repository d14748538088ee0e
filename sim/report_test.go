package sim

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// measured returns r's value for key, failing t if r does not measure it.
func measured(t testing.TB, r Report, key string) int {
	t.Helper()
	n, ok := r.count(key)
	if !ok {
		t.Fatalf("%s: report key %s is not measured", r.Design, key)
	}
	return n
}

// The family keys a report prints, in the order `run -json` prints them: a
// contract with every reader of reports. Each family's situation keys
// (which every design of the family reports, after its counters) came
// later than its counters, and follow them.
func TestFamilyReportKeysKeepTheirOrder(t *testing.T) {
	want := []string{"split_writes", "failed_saves", "relay_polls", "duplicate_deliveries", "timeouts",
		"charges", "retries", "double_charges", "retries_after_charge", "keyed_requests",
		"accepted", "declined", "stale_decisions", "limit_breaches", "lagged_decisions", "limit_hidden_by_lag",
		"double_payments", "confirm_lagged",
		"rejected", "overdrafts", "debits_in_partition",
		"applied", "ignored", "out_of_order_applied", "out_of_order_deliveries", "versioned_statuses",
		"cache_hits", "stale_cache_writes", "stale_payouts", "stale_cache_reads", "psp_charges",
		"dead_lettered", "alerts", "poison_messages"}
	if got := FamilyReportKeys(); !slices.Equal(got, want) {
		t.Errorf("FamilyReportKeys() = %v, want %v", got, want)
	}
}

// A family declares exactly the keys among its metrics that Report has no
// field for, in the metrics' order, each with what it counts; its
// invariants are among its metrics.
func TestFamilyReportKeysAreItsMetrics(t *testing.T) {
	for _, d := range designs {
		var declared, docs []string
		for _, k := range d.family.reportKeys {
			declared = append(declared, k.key)
			docs = append(docs, k.doc)
			if coreKeys[k.key] {
				t.Errorf("%s declares %s, a field every report has", d.Name, k.key)
			}
			if k.doc == "" {
				t.Errorf("%s declares %s without saying what it counts", d.Name, k.key)
			}
		}
		var want []string
		for _, m := range d.Metrics {
			if !coreKeys[m] {
				want = append(want, m)
			}
		}
		if !slices.Equal(declared, want) {
			t.Errorf("%s declares report keys %v; its metrics beyond Report's fields are %v", d.Name, declared, want)
		}
		for _, k := range d.Invariants {
			if !slices.Contains(d.Metrics, k) {
				t.Errorf("%s: invariant %s is not among its metrics %v", d.Name, k, d.Metrics)
			}
		}
		for _, k := range d.family.situations {
			if coreKeys[k.key] || slices.Contains(d.Metrics, k.key) || k.doc == "" {
				t.Errorf("%s: situation key %s is a field, a counter, or says nothing of what it counts", d.Name, k.key)
			}
		}
	}
}

// A report of every design, with its family's keys, goes through JSON and
// back to the same report and the same bytes, its family keys after
// first_violation in the family's order.
func TestReportJSONRoundTripsForEveryDesign(t *testing.T) {
	for _, d := range designs {
		r := runReport(t, familyScenario(d.Name, 5))
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		var back Report
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Errorf("%s: round trip gave %+v, want %+v", d.Name, back, r)
		}
		again, err := json.Marshal(&back)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		if !bytes.Equal(again, b) {
			t.Errorf("%s: round trip changed the bytes:\n%s\n%s", d.Name, b, again)
		}
		_, tail, ok := bytes.Cut(b, []byte(`"first_violation":`))
		if !ok {
			t.Fatalf("%s: no first_violation in %s", d.Name, b)
		}
		_, tail, _ = bytes.Cut(tail, []byte("}"))
		var keys []string
		for _, kv := range strings.Split(strings.TrimSuffix(string(tail), "}"), ",") {
			if k, _, ok := strings.Cut(kv, ":"); ok {
				keys = append(keys, strings.Trim(k, `"`))
			}
		}
		want := slices.Concat(d.Metrics, d.Situations)
		want = slices.DeleteFunc(want, func(k string) bool { return coreKeys[k] })
		if !slices.Equal(keys, want) {
			t.Errorf("%s: keys after first_violation %v, want %v", d.Name, keys, want)
		}
	}
}

func TestReportJSONRefusesARepeatedKey(t *testing.T) {
	for _, counts := range [][]KeyCount{{{"charges", 1}, {"charges", 2}}, {{"lost", 1}}} {
		if _, err := json.Marshal(Report{Counts: counts}); err == nil || !strings.Contains(err.Error(), `"`+counts[len(counts)-1].Key+`" appears twice`) {
			t.Errorf("counts %v: error %v, want one naming the repeated key", counts, err)
		}
	}
	var r Report
	if err := json.Unmarshal([]byte(`{"design":"retry-naive","charges":"many"}`), &r); err == nil || !strings.Contains(err.Error(), `"charges"`) {
		t.Errorf("a non-integer charges: error %v, want one naming the key", err)
	}
}
