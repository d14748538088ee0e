package main

import (
	"strings"
	"testing"
)

// The flags of the retry, stale-read and partition designs reject bad
// values with status 2 and a line naming the flag and the allowed range.
func TestRunRejectsBadFamilyFlagsWithStatus2(t *testing.T) {
	cases := []struct {
		flag, value, mentions string
	}{
		{"client-timeout", "-1ms", "negative"},
		{"client-timeout", "soon", "Go duration"},
		{"client-timeout", "2m", "0s to 1m0s"},
		{"replica-lag", "-5ms", "negative"},
		{"replica-lag", "lagging", "Go duration"},
		{"replica-lag", "61s", "0s to 1m0s"},
		{"partition-duration", "-1s", "negative"},
		{"partition-duration", "forever", "Go duration"},
		{"partition-duration", "11s", "0s to 10s"},
	}
	for _, c := range cases {
		out, stderr, code := runCLI(t, "run", "-design", "retry-naive", "-payments", "5", "-"+c.flag, c.value)
		if code != 2 {
			t.Errorf("-%s %s: exit %d, want 2 (stdout %q)", c.flag, c.value, code, out)
		}
		if !strings.Contains(stderr, c.flag) || !strings.Contains(stderr, c.mentions) {
			t.Errorf("-%s %s: stderr %q, want the flag's name and %q", c.flag, c.value, stderr, c.mentions)
		}
	}
}

// A good value of each flag is accepted and the run's summary prints the
// design's own counters and its first violation.
func TestRunSummaryShowsTheDesignsOwnCounters(t *testing.T) {
	out, stderr, code := runCLI(t, "run", "-design", "retry-naive", "-payments", "300", "-faults", "net.drop=0.1",
		"-client-timeout", "50ms", "-replica-lag", "10ms", "-partition-duration", "1s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"charges ", "retries ", "double charges ", "NOT converged", "first double charges: event "} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ledger entries") {
		t.Errorf("summary of a retry design shows the ledger's counters:\n%s", out)
	}
}
