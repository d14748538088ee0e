package lessons

import (
	"fmt"
	"strconv"
	"sync"

	"partialtruth/checklist"
	"partialtruth/sim"
)

// Lesson is one lesson file, parsed and validated: everything it names
// exists, every condition parses, every template calls only what its step
// may call. Its runs are made on first use and kept: a run is a pure
// function of its scenario, so a lesson's numbers never change while the
// binary runs. A Lesson is safe for concurrent use.
type Lesson struct {
	// ID is the lesson's stable id, its URL (/lessons/<id>).
	ID string
	// Title names the lesson in a few words.
	Title string
	// Summary says in one line what the learner will see.
	Summary string
	// Teaches lists the checklist items (checklist.Item IDs) the lesson
	// teaches, so the checklist can link to it.
	Teaches []string
	// Steps are the lesson's steps, in order.
	Steps []*Step
	// File is where the lesson was read from, for messages.
	File string

	mu      sync.Mutex
	results map[int]*Result
}

// Kind is what a step asks of the learner.
type Kind string

// The step kinds.
const (
	// KindRead is prose to read, often with the handbook's code.
	KindRead Kind = "read"
	// KindPredict asks a question before the run that answers it.
	KindPredict Kind = "predict"
	// KindRun is a scenario to play in the embedded playground.
	KindRun Kind = "run"
	// KindReveal puts the prediction beside what the run measured.
	KindReveal Kind = "reveal"
	// KindChallenge is a goal the learner meets with a run of their own.
	KindChallenge Kind = "challenge"
)

var kinds = []Kind{KindRead, KindPredict, KindRun, KindReveal, KindChallenge}

// Step is one step of a lesson. Exactly one of Run, Predict, Reveal and
// Challenge is set, matching Kind; a read step has none.
type Step struct {
	// Kind is what the step asks of the learner.
	Kind Kind
	// Title is the heading's text after the kind ("## Predict: How many?"
	// has the title "How many?"); it may be empty.
	Title string
	// Line is the line of the step's heading in File.
	Line int

	// Run is a run step's scenario.
	Run *Run
	// Predict is a predict step's question.
	Predict *Prediction
	// Reveal says which prediction a reveal step shows, and where.
	Reveal *Reveal
	// Challenge is a challenge step's goal and how it is checked.
	Challenge *Challenge

	prose string         // the step's Markdown, a template, with its file's line breaks before it
	runAt int            // the step whose run this step's templates read, -1 for none
	after bool           // whether this step comes after that run, so may show its numbers
	lines map[string]int // the file line of each settings field
}

// lineOf is the line of a settings field, or of the heading when the
// step has no such field.
func (st *Step) lineOf(field string) int {
	if n, ok := st.lines[field]; ok {
		return n
	}
	return st.Line
}

// Run is a scenario the learner plays, in the playground's own words.
type Run struct {
	// Scenario is what runs: the playground's URL parameters, parsed by
	// sim.FromParams, so a lesson and the playground mean the same thing.
	Scenario sim.Scenario
	// Compare, if set, is a design run beside Scenario on the same seed
	// and faults.
	Compare string
	// Expect, if set, is what the run must show; `lessons check` fails
	// when it does not, so the prose around it cannot go stale.
	Expect *Cond
	// ExpectCompare is the same for the compare design's run.
	ExpectCompare *Cond
}

// PlayURL is the playground link that plays the run (and its compare
// partner) from the start.
func (r *Run) PlayURL() string { return checklist.PlayURL(r.Scenario, r.Compare) }

// Query is the run's scenario as URL parameters, the form a lesson file
// writes it in: "design=dual-write&seed=42&payments=200&…".
func (r *Run) Query() string {
	q := r.Scenario.Query() // sim's one writer: the playground's and the checklist's form
	if r.Compare != "" {
		q += "&compare=" + r.Compare
	}
	return q
}

// Prediction is a question asked before a run: a number (Key set) or a
// choice (Options set). Its answer is never written in the file: it is what
// the run measures.
type Prediction struct {
	// Key is the report key whose value answers a number prediction.
	Key string
	// Min and Max bound the number a learner may answer.
	Min, Max int64
	// Options are a choice's answers; the right one is the one whose
	// condition holds on the run (`lessons check` confirms that exactly
	// one does).
	Options []Option
}

// Option is one answer of a choice.
type Option struct {
	// Text is what the learner reads.
	Text string
	// When is the condition under which this is the right answer.
	When *Cond
}

// IsChoice tells a choice from a number prediction.
func (p *Prediction) IsChoice() bool { return len(p.Options) > 0 }

// Validate checks a learner's answer before it is saved: a number within
// Min and Max, or an option's index (from 0). The error is a
// *sim.InputError for the field "prediction", naming what is allowed.
func (p *Prediction) Validate(v int64) error {
	if p.IsChoice() {
		if v < 0 || v >= int64(len(p.Options)) {
			return &sim.InputError{Field: "prediction",
				Msg: fmt.Sprintf("choice %d is not an option; allowed: 0 to %d", v, len(p.Options)-1)}
		}
		return nil
	}
	if v < p.Min || v > p.Max {
		return &sim.InputError{Field: "prediction",
			Msg: fmt.Sprintf("prediction %d is out of range; allowed: %d to %d", v, p.Min, p.Max)}
	}
	return nil
}

// Answer is the prediction's right answer on r: the key's value, or the
// index of the one option whose condition holds. An error means the run
// does not settle it (no option or several hold, or r does not measure the
// key), which `lessons check` reports.
func (p *Prediction) Answer(r sim.Report) (int64, error) {
	if !p.IsChoice() {
		return ReportValue(r, p.Key)
	}
	right := -1
	for i, o := range p.Options {
		ok, err := o.When.Eval(r)
		if err != nil {
			return 0, err
		}
		if ok {
			if right >= 0 {
				return 0, fmt.Errorf("options %d and %d both hold on the run (%s; %s); exactly one may",
					right+1, i+1, p.Options[right].When, o.When)
			}
			right = i
		}
	}
	if right < 0 {
		return 0, fmt.Errorf("no option holds on the run; exactly one must")
	}
	return int64(right), nil
}

// Format writes an answer the way the learner gave it: the number, or the
// option's text.
func (p *Prediction) Format(v int64) string {
	if p.IsChoice() {
		if v >= 0 && v < int64(len(p.Options)) {
			return p.Options[v].Text
		}
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// Reveal puts the learner's prediction beside what the run measured.
type Reveal struct {
	// Predict is the index of the predict step this step reveals.
	Predict int
	// Event, if set, is a violation key: the explanation points at the
	// run's first event that shows it (Result.Report.FirstViolation).
	Event string
}

// Result is what a step's run produced, made once and kept.
type Result struct {
	// Scenario is what ran.
	Scenario sim.Scenario
	// Report is the checker's report on it.
	Report sim.Report
	// Compare is the report of the run's compare partner, if it has one.
	Compare *sim.Report
}

// ByID finds a lesson by its id.
func ByID(ls []*Lesson, id string) (*Lesson, bool) {
	for _, l := range ls {
		if l.ID == id {
			return l, true
		}
	}
	return nil, false
}

// Teaching returns the first lesson that teaches the checklist item id, so
// the checklist can link each item to its lesson.
func Teaching(ls []*Lesson, item string) (*Lesson, bool) {
	for _, l := range ls {
		for _, t := range l.Teaches {
			if t == item {
				return l, true
			}
		}
	}
	return nil, false
}
