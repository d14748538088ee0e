package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"partialtruth/sim"
)

// Ctrl-C cancels main's context: run stops, prints the report of what it
// did with stopped: cancelled, leaves -events empty and exits 130.
func TestRunInterruptedPrintsWhatItHas(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	for _, asJSON := range []bool{true, false} {
		args := []string{"run", "-design", "dual-write", "-payments", "100000", "-faults", "bus.publish.fail=0.5", "-events", path}
		if asJSON {
			args = append(args, "-json")
		}
		var out, errb bytes.Buffer
		code := exitCode(run(ctx, args, &out, &errb), &errb)
		if code != 130 || !strings.Contains(errb.String(), "interrupted after") {
			t.Errorf("json %v: exit %d, stderr %q; want 130 and interrupted", asJSON, code, errb.String())
		}
		if asJSON {
			var r sim.Report
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("%q: %v", out.String(), err)
			}
			if r.Stopped != "cancelled" || r.Payments != 100000 {
				t.Errorf("report %+v, want stopped cancelled", r)
			}
		} else if !strings.Contains(out.String(), "stopped: cancelled") {
			t.Errorf("summary %q does not say stopped: cancelled", out.String())
		}
		if data, err := os.ReadFile(path); err != nil || len(data) != 0 {
			t.Errorf("-events after an interrupted run: %d bytes, %v", len(data), err)
		}
	}
}

// -events is opened before the run: a path that cannot be written fails
// with status 2, naming the flag, and prints no report.
func TestRunEventsUnwritableFailsFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "events.jsonl")
	out, stderr, code := runCLI(t, "run", "-design", "dual-write", "-payments", "100000", "-events", path)
	if code != 2 || !strings.Contains(stderr, "-events "+path) || out != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2 naming -events and no report", code, out, stderr)
	}
}

// A run cut by its deadline says so, and how much was in flight, rather
// than that the databases disagree.
func TestRunCutSaysItDidNotSettle(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"run", "-design", "outbox-idempotent", "-payments", "200", "-deadline", "100ms"}, &out, &errb)
	if err != nil {
		t.Fatal(err, errb.String())
	}
	s := out.String()
	for _, want := range []string{"lost 0,", "stopped: deadline", "ledger entry was on its way"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary does not say %q:\n%s", want, s)
		}
	}
	if !regexp.MustCompile(`stopped before it settled: [1-9][0-9]* in flight, [1-9][0-9]* not sent yet`).MatchString(s) {
		t.Errorf("summary does not say how much was in flight and how much not sent:\n%s", s)
	}
	// The breakdown is of the payments in flight: the ones not sent yet
	// are not among them, so it must not list them as if they were.
	if m := regexp.MustCompile(`of the [1-9][0-9]* in flight: [^\n]*`).FindString(s); m == "" || strings.Contains(m, "not sent") {
		t.Errorf("summary's breakdown of the payments in flight is %q:\n%s", m, s)
	}
	if strings.Contains(s, "NOT converged") || strings.Contains(s, "converged:") {
		t.Errorf("a cut run's summary claims an outcome:\n%s", s)
	}
}
