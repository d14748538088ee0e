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
	// Open the events file before the run, so that a path that cannot be
	// written fails at once rather than after the whole simulation.
	var events *os.File
	if *eventsFile != "" {
		if events, err = os.Create(*eventsFile); err != nil {
			return usageError{fmt.Errorf("-events %s cannot be written: %w", *eventsFile, err)}
		}
	}
	return writeRun(ctx, sc, *asJSON, events, stdout)
}

// interrupted is the error of a run stopped by Ctrl-C (or SIGTERM): the
// report of the run as far as it got has been printed; the process exits
// with status 130, as a shell does for a command interrupted by SIGINT.
type interrupted struct{ msg string }

func (e interrupted) Error() string { return e.msg }

// writeRun runs sc until it ends or ctx is cancelled, writes its events to
// events if not nil (and closes it), and prints the report. A cancelled run
// prints the report of what it did, with stopped: cancelled, and returns an
// interrupted error.
func writeRun(ctx context.Context, sc sim.Scenario, asJSON bool, events *os.File, stdout io.Writer) (err error) {
	if events != nil {
		defer func() {
			if cerr := events.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("writing -events %s: %w", events.Name(), cerr)
			}
		}()
	}
	// The run keeps the events its report names as first violations, so
	// the summary can show them without simulating again.
	res, err := sim.RunContext(ctx, sc, nil, sim.Options{KeepEvidence: true})
	if err != nil {
		return err
	}
	r := res.Report
	if events != nil && r.Stopped != "cancelled" {
		if err := writeEvents(ctx, sc, r, res.Marks, events); err != nil {
			return err
		}
	}
	out := checklist.NewReport(r)
	if asJSON {
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		if _, err = fmt.Fprintf(stdout, "%s\n", b); err != nil {
			return err
		}
	} else {
		writeSummary(stdout, sc, r, res.FirstEvents)
	}
	if r.Stopped == "cancelled" {
		msg := fmt.Sprintf("interrupted after %d events; the report covers the run that far", r.Events)
		if events != nil {
			msg += fmt.Sprintf(", and -events %s holds no events", events.Name())
		}
		return interrupted{msg}
	}
	return nil
}

// writeEvents writes every event of sc as JSON lines to f, each carrying
// the violation it is evidence of. The checker only knows those at the end
// of a run, and holding a large run's events in memory to mark them would
// cost hundreds of megabytes; a run is deterministic, so running it a
// second time, to exactly as many events as the first, and marking the
// events as they stream costs time, not memory.
func writeEvents(ctx context.Context, sc sim.Scenario, r sim.Report, marks []sim.Mark, f *os.File) error {
	bw := bufio.NewWriterSize(f, 1<<16)
	enc := json.NewEncoder(bw)
	var writeErr error
	next := 0
	again, err := sim.RunContext(ctx, sc, func(ev *sim.Event) {
		if next < len(marks) && marks[next].Event == ev.ID {
			marks[next].Apply(ev)
			next++
		}
		if writeErr == nil {
			writeErr = enc.Encode(ev)
		}
	}, sim.Options{MaxEvents: r.Events})
	if err != nil {
		return err
	}
	if writeErr == nil {
		writeErr = bw.Flush()
	}
	if writeErr != nil {
		return fmt.Errorf("writing -events %s: %w", f.Name(), writeErr)
	}
	if again.Report.Stopped == "cancelled" {
		return interrupted{fmt.Sprintf("interrupted while writing -events %s; it holds the first %d of %d events",
			f.Name(), again.Report.Events, r.Events)}
	}
	return nil
}

// writeSummary prints the design's own counters, then whether its
// invariants held and, for each one broken, the first event that shows it
// (from first, which the run kept).
func writeSummary(w io.Writer, sc sim.Scenario, r sim.Report, first map[string]sim.Event) {
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
	if n := r.Count("dead_lettered"); n > 0 {
		held += fmt.Sprintf(", %d dead-lettered payments waiting for a person", n)
	}
	switch {
	case !r.Settled():
		notSent := ""
		if n := r.InFlight[sim.InFlightNotSent]; n > 0 {
			notSent = fmt.Sprintf(", %d not sent yet", n)
		}
		fmt.Fprintf(w, "  stopped before it settled: %d in flight%s (%d events, %d ms virtual, stopped: %s)\n",
			r.InFlightCount(), notSent, r.Events, r.EndMs, r.Stopped)
		if line := inFlightLine(r); line != "" {
			fmt.Fprintf(w, "  %s\n", line)
		}
		if len(r.FirstViolation) == 0 {
			fmt.Fprintln(w, "  no violation so far; work in flight is not counted as one")
			return
		}
	case r.Converged:
		fmt.Fprintf(w, "  converged: %s (%d events, %d ms virtual, stopped: %s)\n", held, r.Events, r.EndMs, r.Stopped)
		return
	default:
		fmt.Fprintf(w, "  NOT converged: %s (%d events, %d ms virtual, stopped: %s)\n", broken, r.Events, r.EndMs, r.Stopped)
	}
	for _, k := range d.Invariants {
		if ev, ok := first[k]; ok {
			fmt.Fprintf(w, "  first %s: event %d at %s on %s, payment %d: %s\n",
				strings.ReplaceAll(k, "_", " "), ev.ID, time.Duration(ev.AtUs)*time.Microsecond, ev.Node, ev.Payment, ev.Note)
		}
	}
	if r.Stopped != "cancelled" {
		fmt.Fprintln(w, "  (every event: -events FILE)")
	}
}

// inFlightLine says where a cut run's payments in flight were (the
// payments not sent yet are not among them; the line above counts those):
// "" when there is nothing more to say.
func inFlightLine(r sim.Report) string {
	var parts []string
	if n := r.InFlight["ledger_entries"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d committed payments whose ledger entry was on its way", n))
	}
	if n := r.InFlight["committed"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d posted payments whose commit was still running", n))
	}
	if n := r.InFlight["applied"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d payments whose newest status had not been applied", n))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("of the %d in flight: ", r.InFlightCount()) + strings.Join(parts, "; ")
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
