package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"partialtruth/checklist"
	"partialtruth/sim"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestRunPrintsTheSameBytesTwice(t *testing.T) {
	args := []string{"run", "-design", "dual-write", "-payments", "300", "-faults", "bus.publish.fail=0.1", "-json"}
	a, _, code := runCLI(t, args...)
	b, _, _ := runCLI(t, args...)
	if code != 0 || a != b {
		t.Fatalf("exit %d; two runs printed different output:\n%s\n%s", code, a, b)
	}
	var r checklist.Report
	if err := json.Unmarshal([]byte(a), &r); err != nil {
		t.Fatalf("run -json printed %q: %v", a, err)
	}
	if r.Lost == 0 || r.FirstViolation["lost"] == 0 {
		t.Errorf("dual-write under bus.publish.fail=0.1 reported lost %d, first %v", r.Lost, r.FirstViolation)
	}
}

func TestRunJSONEqualsTheSimulatorsReport(t *testing.T) {
	out, _, code := runCLI(t, "run", "-design", "outbox-idempotent", "-seed", "42", "-payments", "1000",
		"-faults", "net.drop=0.05,bus.ack.lost=0.1,crash.relay=0.01", "-latency", "5ms", "-jitter", "5ms", "-json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	sc := sim.DefaultScenario()
	sc.Design, sc.Payments = "outbox-idempotent", 1000
	sc.Faults, _ = sim.ParseFaults("net.drop=0.05,bus.ack.lost=0.1,crash.relay=0.01")
	sc.Jitter = sim.Duration(5_000_000)
	res, err := sim.Run(sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(checklist.NewReport(res.Report))
	if strings.TrimSpace(out) != string(want) {
		t.Errorf("run -json printed\n%s\nwant\n%s", out, want)
	}
	if !res.Report.Converged {
		t.Errorf("outbox-idempotent did not converge: %+v", res.Report)
	}
}

func TestRunSummaryNamesTheFirstViolatingEvent(t *testing.T) {
	out, _, code := runCLI(t, "run", "-design", "dual-write", "-payments", "1000", "-faults", "bus.publish.fail=0.1")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, "NOT converged") || !strings.Contains(out, "first lost: event ") {
		t.Errorf("summary does not name the first lost event:\n%s", out)
	}
	// Under bus.publish.fail alone the first loss is a failed publish, and
	// the summary says so in the event's own words.
	if !strings.Contains(out, "on service, payment ") || !strings.Contains(out, "failed: the broker never got it") {
		t.Errorf("summary does not describe the first lost event:\n%s", out)
	}
}

func TestRunWritesEveryEventAsJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	out, _, code := runCLI(t, "run", "-design", "outbox", "-payments", "50", "-faults", "bus.ack.lost=0.2", "-events", path, "-json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var r sim.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != r.Events {
		t.Fatalf("%d lines in %s, report says %d events", len(lines), path, r.Events)
	}
	marked := map[string]int{}
	for i, l := range lines {
		var ev sim.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.ID != i+1 {
			t.Fatalf("line %d: %q (%v)", i+1, l, err)
		}
		if ev.Violation != "" {
			if marked[ev.Violation] == 0 && r.FirstViolation[ev.Violation] != ev.ID {
				t.Errorf("first event marked %s is %d, report's first_violation is %d", ev.Violation, ev.ID, r.FirstViolation[ev.Violation])
			}
			marked[ev.Violation]++
		}
	}
	if r.DuplicateEffects == 0 || marked["duplicate_effects"] != r.DuplicateEffects {
		t.Errorf("%d events marked duplicate_effects, report counts %d (want > 0: outbox under bus.ack.lost)", marked["duplicate_effects"], r.DuplicateEffects)
	}
}

func TestBadInputExitsTwoNamingTheValue(t *testing.T) {
	cases := []struct {
		args    []string
		mention string
	}{
		{[]string{"run", "-design", "triple-write"}, `design "triple-write" is unknown`},
		{[]string{"run", "-faults", "cosmic.ray=0.1"}, `fault "cosmic.ray" is unknown`},
		{[]string{"run", "-faults", "net.drop=1.5"}, "net.drop=1.5 is out of range"},
		{[]string{"run", "-faults", "net.drop"}, "malformed"},
		{[]string{"run", "-payments", "0"}, "payments 0 is out of range; allowed: 1 to 100000"},
		{[]string{"run", "-payments", "100001"}, "payments 100001 is out of range"},
		{[]string{"run", "-latency", "-5ms"}, "latency -5ms is negative"},
		{[]string{"run", "-nonsense"}, "flag provided but not defined"},
		{[]string{"teleport"}, `command "teleport" is unknown`},
	}
	for _, c := range cases {
		_, stderr, code := runCLI(t, c.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", c.args, code)
		}
		if !strings.Contains(stderr, c.mention) {
			t.Errorf("%v: stderr %q does not mention %q", c.args, stderr, c.mention)
		}
	}
}

func TestDesignsListsEveryDesign(t *testing.T) {
	out, _, code := runCLI(t, "designs")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, d := range sim.Designs() {
		if !strings.Contains(out, d.Name+" ") || !strings.Contains(out, d.Summary) {
			t.Errorf("designs output lacks %s:\n%s", d.Name, out)
		}
	}
}
