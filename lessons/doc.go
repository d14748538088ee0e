// Package lessons holds the self-paced lessons: content as Markdown files,
// embedded in the binary, parsed and validated at start-up, and checked
// like code by `partialtruth lessons check`. It imports sim and checklist,
// never the web; the web app renders what it gives.
//
// This comment is the trainers' reference for the file format.
//
// # A lesson file
//
// One lesson per file, named NN-slug.md (the built-in ones live in
// lessons/content; lessons load in file-name order). A file starts with a
// front-matter block of YAML between two lines of three dashes:
//
//	---
//	id: two-writes               # stable: the lesson's URL, /lessons/two-writes
//	title: Two writes, no plan
//	summary: One line on what the learner will see.
//	teaches: [atomic-publish]    # checklist item ids (go run . checklist)
//	---
//
// The rest is Markdown (CommonMark, rendered with goldmark; raw HTML is left
// out). Each level-2 heading starts a step and names its kind, optionally
// with a title after a colon: "## Predict: How many will be lost?". The
// kinds are read, predict, run, reveal and challenge. A step's settings, if
// it has any, are YAML in one fenced block whose info string is "step";
// that block is never shown to the learner. Everything else under the
// heading is the step's prose.
//
// # Step kinds
//
// read: prose only; no step block. The handbook's code comes from the
// checklist and a design's from the simulator ({{bad}}, {{good}} and
// {{source}} below); other code goes in fenced blocks.
//
// predict: a question asked before the run that answers it (the next run
// step). Either a number, the value of a report key, with the range of
// answers the page accepts (min defaults to 0, max to ten times the run's
// payments):
//
//	number: lost
//	max: 200
//
// or a choice, each option with the condition under which it is the right
// answer; exactly one must hold on the run:
//
//	choice:
//	  - {text: The ledger misses payments, when: lost > 0}
//	  - {text: The ledger and the database agree, when: lost = 0}
//
// The answer is never written in the file: it is what the run measures.
//
// run: a scenario, written as the playground's URL parameters and parsed
// by sim.FromParams, so it means exactly what the same /play link means;
// compare adds a design run beside it on the same seed and faults. expect,
// optional, is a condition the run must meet; `lessons check` fails when
// it does not, so the prose around the run cannot go stale:
//
//	scenario: design=dual-write&payments=200&faults=bus.publish.fail=0.1&compare=outbox-idempotent
//	expect: lost > 0 and phantom = 0
//	expect-compare: lost = 0        # the same, for the compare design's run
//
// reveal: shows the prediction before it beside what the run before it
// measured. Its optional block names a violation key; the page offers a
// jump to the run's first event that shows it, and `lessons check` fails
// if the run shows none:
//
//	event: lost
//
// challenge: a goal the learner meets with an answer of their own, which
// the server checks (Challenge.Check). Three kinds. A run challenge: a
// goal, the scenario the learner starts from, what they may change
// (scenario parameter names, "faults" for any fault, or single fault
// names) and a solution:
//
//	goal: lost = 0 and phantom = 0 and duplicate_effects = 0
//	start: design=dual-write&payments=200&faults=bus.publish.fail=0.1
//	may: [design]
//	solution: design=outbox-idempotent&payments=200&faults=bus.publish.fail=0.1
//
// A query challenge: one read-only SQL query over one node's database after
// the start run must return, in its first column, exactly the payment ids
// the checker marked with the violation find; query is what the editor
// starts with:
//
//	find: lost
//	start: design=dual-write&payments=200&faults=bus.publish.fail=0.1
//	query: {db: ledger.db, sql: SELECT payment_id FROM ledger_entries}
//	solution: {db: ledger.db, sql: SELECT …}
//
// A review challenge: pick the checklist items a design fails under
// /compare's standard scenario (checklist.StandardScenario); the solution
// lists them, and `lessons check` fails when the verdicts change:
//
//	review: dual-write-retry
//	solution: [relay-until-acked, idempotent-consumer]
//
// `lessons check` confirms that every challenge is unsolved at its start
// and solved by its solution.
//
// # Conditions
//
// Goals, expectations and options are conditions in the report's own
// vocabulary (see Cond): comparisons of report keys (ReportKeys), numbers,
// true, false and injected.<fault> (how often a fault fired), joined by
// and / or. A key the run's design does not measure is an error, never a
// silent zero.
//
// # Numbers in prose
//
// A number a run produces is never typed by hand. The prose is a Go
// template with these functions:
//
//	{{report "lost"}}        a report key of the step's run (injected.<fault> too)
//	{{compared "lost"}}      the same, for the run's compare design
//	{{scenario "payments"}}  a parameter of the step's run, as the URL writes it
//	{{event "lost"}}         a link to the run's first event that shows lost
//
// and three that show code that exists rather than a copy of it, each as a
// fenced block (put the action on a line of its own):
//
//	{{bad "atomic-publish"}}              a checklist item's bad snippet
//	{{good "atomic-publish"}}             its good snippet
//	{{source "dual-write" "service"}}     a design's code, as the playground shows it;
//	                                      roles: client, service, relay, consumer (all if none)
//
// A step reads the run it belongs to: a predict step, and a read step
// before any run, read the next run; a reveal, and a read step after a
// run, read the run before; a challenge reads its start. report, compared
// and event are refused before the learner has seen the run, so no step
// gives the answer away. `lessons check` also refuses digits typed in
// prose outside `code`: write numbers from the run, or put them in code.
//
// # Example
//
// A complete lesson, the shape of every built-in one:
//
//	---
//	id: two-writes
//	title: Two writes, no plan
//	summary: Save, then publish; when the publish fails, the ledger never hears of it.
//	teaches: [atomic-publish]
//	---
//
//	## Read
//
//	The service saves the payment, then publishes its event.
//
//	## Predict: How many will the ledger never hear of?
//
//	Of {{scenario "payments"}} payments, how many will be lost?
//
//	```step
//	number: lost
//	```
//
//	## Run
//
//	```step
//	scenario: design=dual-write&payments=200&faults=bus.publish.fail=0.1
//	expect: lost > 0
//	```
//
//	## Reveal
//
//	{{report "lost"}} payments were lost; the first at {{event "lost"}}.
//
//	```step
//	event: lost
//	```
//
//	## Challenge: Lose nothing
//
//	```step
//	goal: lost = 0 and phantom = 0
//	start: design=dual-write&payments=200&faults=bus.publish.fail=0.1
//	may: [design]
//	solution: design=outbox-idempotent&payments=200&faults=bus.publish.fail=0.1
//	```
//
// # Using the package
//
// Builtin returns the built-in lessons; LoadDir a trainer's folder; Merge
// puts them together, refusing a taken id. A malformed file is a Problem,
// `file:line: what is wrong`, at load: a server exits on it. For a page,
// Lesson.Render gives a step's prose as HTML with its numbers filled in
// from the lesson's own runs, Lesson.Result the run a step reads,
// Run.PlayURL its playground link, Lesson.Measured a prediction's right
// answer, and Challenge.Check judges a learner's answer.
package lessons
