package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"partialtruth/checklist"
	"partialtruth/sim"
)

func init() {
	commands = append(commands,
		command{"run", "simulate one scenario and print the checker's report", runRun},
		command{"designs", "list the designs with a line about each", runDesigns},
	)
}

// runRun is `partialtruth run`: one scenario, one report.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	values := map[string]*string{}
	for _, p := range sim.AllParams() {
		if !p.View { // compare, speed and autoplay are the playground's
			values[p.Name] = fs.String(p.Name, p.Default, p.Help)
		}
	}
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	eventsFile := fs.String("events", "", "write every event to this file as JSON lines")
	if h, err := parseFlags(fs, args, stderr); h || err != nil {
		return err
	}
	sc, err := sim.FromParams(func(name string) string { return *values[name] })
	if err != nil {
		return usageError{err}
	}
	return writeRun(sc, *asJSON, *eventsFile, stdout)
}

// writeRun runs sc, writes its events to eventsFile if set, and prints the
// report.
func writeRun(sc sim.Scenario, asJSON bool, eventsFile string, stdout io.Writer) error {
	res, err := sim.Run(sc, nil)
	if err != nil {
		return err
	}
	if eventsFile != "" {
		if err := writeEvents(sc, res.Marks, eventsFile); err != nil {
			return err
		}
	}
	out := checklist.NewReport(res.Report)
	if asJSON {
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	return writeSummary(stdout, sc, res.Report)
}

// writeEvents writes every event of sc as JSON lines, each carrying the
// violation it is evidence of. The checker only knows those at the end of a
// run, and holding a large run's events in memory to mark them would cost
// hundreds of megabytes; a run is deterministic, so running it a second
// time and marking the events as they stream costs time, not memory.
func writeEvents(sc sim.Scenario, marks []sim.Mark, path string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing %s: %w", path, cerr)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	enc := json.NewEncoder(bw)
	var writeErr error
	next := 0
	_, err = sim.Run(sc, func(ev *sim.Event) {
		if next < len(marks) && marks[next].Event == ev.ID {
			ev.Violation = marks[next].Violation
			next++
		}
		if writeErr == nil {
			writeErr = enc.Encode(ev)
		}
	})
	if err != nil {
		return err
	}
	if writeErr == nil {
		writeErr = bw.Flush()
	}
	if writeErr != nil {
		return fmt.Errorf("writing %s: %w", path, writeErr)
	}
	return nil
}

// writeSummary prints the design's own counters, then whether its
// invariants held and, for each one broken, the first event that shows it.
func writeSummary(w io.Writer, sc sim.Scenario, r sim.Report) error {
	faults := sc.Faults.String()
	if faults == "" {
		faults = "none"
	}
	d, _ := sim.LookupDesign(r.Design)
	fmt.Fprintf(w, "design %s, seed %d, %d payments, faults: %s\n", r.Design, r.Seed, r.Payments, faults)
	var counters, invariants []string
	for _, k := range d.Metrics {
		kv := fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), r.Count(k))
		if slices.Contains(d.Invariants, k) {
			invariants = append(invariants, kv)
		} else {
			counters = append(counters, kv)
		}
	}
	fmt.Fprintf(w, "  %s\n  %s\n", strings.Join(counters, ", "), strings.Join(invariants, ", "))
	held, broken := "every invariant held", "an invariant is violated"
	if slices.Equal(d.Invariants, sim.Violations) {
		held, broken = "the payments database and the ledger agree", "the payments database and the ledger disagree"
	}
	if r.Converged {
		fmt.Fprintf(w, "  converged: %s (%d events, %d ms virtual, stopped: %s)\n", held, r.Events, r.EndMs, r.Stopped)
		return nil
	}
	fmt.Fprintf(w, "  NOT converged: %s (%d events, %d ms virtual, stopped: %s)\n", broken, r.Events, r.EndMs, r.Stopped)
	evidence, err := firstViolations(sc, r)
	if err != nil {
		return err
	}
	for _, k := range d.Invariants {
		if ev, ok := evidence[k]; ok {
			fmt.Fprintf(w, "  first %s: event %d at %s on %s, payment %d: %s\n",
				strings.ReplaceAll(k, "_", " "), ev.ID, time.Duration(ev.AtUs)*time.Microsecond, ev.Node, ev.Payment, ev.Note)
		}
	}
	fmt.Fprintln(w, "  (every event: -events FILE)")
	return nil
}

// firstViolations returns, per violated key, the event the report names as
// its first violation. The report holds only the ids; the run is
// deterministic, so running it again yields the very same events to pick
// them from, without keeping the whole stream in memory.
func firstViolations(sc sim.Scenario, r sim.Report) (map[string]sim.Event, error) {
	want := map[int]string{}
	for k, id := range r.FirstViolation {
		want[id] = k
	}
	out := map[string]sim.Event{}
	_, err := sim.Run(sc, func(ev *sim.Event) {
		if k, ok := want[ev.ID]; ok {
			e := *ev
			e.Args = slices.Clone(e.Args) // the sink's event is reused after the call
			out[k] = e
		}
	})
	return out, err
}

// runDesigns is `partialtruth designs`.
func runDesigns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("designs", flag.ContinueOnError)
	if h, err := parseFlags(fs, args, stderr); h || err != nil {
		return err
	}
	for _, d := range sim.Designs() {
		fmt.Fprintf(stdout, "%-21s %s\n", d.Name, d.Summary)
	}
	return nil
}
