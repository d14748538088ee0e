// Package checklist is the self-review checklist for code that keeps state
// in more than one place: the questions a reviewer asks of a
// change (does the state and the intent to publish commit together? is
// the consumer idempotent?), each with why it matters, a bad and a good
// snippet, and the simulator's report keys that prove or refute it.
//
// Evaluate turns one run's sim.Report into a verdict per item (pass, fail,
// not exercised, not demonstrable) with its evidence; NewReport is the
// report with those verdicts, the JSON `run -json` prints and the
// playground streams. Items, Demos and WriteMarkdown feed the reference
// page, the compare matrix and the Markdown export for pull requests.
//
// The package imports only sim: items are data, and every link it writes
// goes through sim's one link writer (sim.Scenario.PlayQuery).
package checklist
