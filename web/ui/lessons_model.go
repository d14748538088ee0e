package ui

import (
	"fmt"
	"strconv"
)

// Progress marks, as data-progress carries them.
const (
	NotStarted = "not-started"
	InProgress = "in-progress"
	Done       = "done"
)

// LessonsIndex is what /lessons shows: the path of lessons, each with its
// progress, and the lesson to continue.
type LessonsIndex struct {
	Lessons []LessonEntry
	// Continue is the lesson the learner touched last, nil when none.
	Continue *LessonEntry
	// Notice says what an import did; ImportError why it was refused.
	Notice      string
	ImportError string
}

// LessonEntry is one lesson in the path.
type LessonEntry struct {
	N       int // 1-based place in the path
	ID      string
	Title   string
	Summary string
	// Progress is NotStarted, InProgress or Done.
	Progress string
	// Step is the learner's step (0-based) and Steps how many there are.
	Step, Steps int
	// StepTitle names the learner's step.
	StepTitle string
	// Items are the checklist items the lesson teaches.
	Items []ItemLink
	// SolutionShown marks a lesson solved after the solution was shown.
	SolutionShown bool
}

// URL is the lesson's page.
func (e LessonEntry) URL() string { return "/lessons/" + e.ID }

// Mark says the progress in words.
func (e LessonEntry) Mark() string {
	switch e.Progress {
	case Done:
		if e.SolutionShown {
			return "Done, solution shown"
		}
		return "Done"
	case InProgress:
		return fmt.Sprintf("Step %d of %d", e.Step+1, e.Steps)
	}
	return "Not started"
}

// ItemLink is a checklist item a lesson teaches.
type ItemLink struct {
	ID    string
	Title string
}

// LessonView is what /lessons/<id> shows: one step of one lesson.
type LessonView struct {
	Entry LessonEntry
	Steps []StepLink
	Step  StepView
	// PrevURL and NextURL move one step; NextLesson is set on the last
	// step, to go on to the next lesson.
	PrevURL, NextURL string
	NextLesson       *LessonEntry
}

// StepLink is one step in the lesson's step list.
type StepLink struct {
	Index int
	Kind  string
	Title string
	// Seen is set for the steps before the learner's.
	Seen bool
}

// URL is the step's address.
func (s StepLink) URL(lesson string) string { return StepURL(lesson, s.Index) }

// StepURL is the address of one step of a lesson.
func StepURL(lesson string, step int) string {
	return "/lessons/" + lesson + "?step=" + strconv.Itoa(step)
}

// StepView is the step on screen. Kind says which of the kind-specific
// fields are set.
type StepView struct {
	Index int
	Kind  string // read, predict, run, reveal, challenge
	Title string
	// Body is the step's prose as HTML, rendered from the lesson's
	// Markdown with the run's numbers filled in.
	Body string

	// Predict is set on a predict step.
	Predict *PredictView
	// Run is set on a run step: the scenario the player plays.
	Run *RunView
	// Reveals are set on a reveal step: each prediction beside the measure.
	Reveals []RevealView
	// Replay is set on a reveal step: the run it reveals, played through,
	// so the explanation's event links can jump into it.
	Replay *RunView
	// Challenge is set on a challenge step.
	Challenge *ChallengeView
}

// PredictView is a question answered before the run.
type PredictView struct {
	Question string
	// Choices are the answers to pick from; empty for a number.
	Choices []Choice
	// Min and Max bound a number answer, as text; Unit follows it.
	Min, Max, Unit string
	// Answer is the saved answer, or the refused one as typed.
	Answer string
	// Saved says the answer shown is the saved one.
	Saved bool
	// Locked is set once the reveal was seen: the answer cannot change.
	Locked bool
	// Error says why the answer was refused.
	Error string
}

// Choice is one option of a select or a choice question.
type Choice struct {
	Value string
	Label string
}

// RunView is a scenario played in a player embedded in the step.
type RunView struct {
	// ID prefixes the player's element ids ("run-", "challenge-").
	ID string
	// Query is the scenario as the playground's URL query, with compare
	// when two designs run side by side.
	Query string
	// Caption says what the run shows.
	Caption string
	// Autoplay plays the run at once, at Speed (virtual ms per real
	// second, "0" as fast as it can).
	Autoplay bool
	Speed    string
	// Speeds are the speeds the player offers.
	Speeds []SpeedOption
}

// PlayURL opens the run in the playground.
func (r RunView) PlayURL() string { return "/play?" + r.Query }

// RevealView is a prediction beside what the run measured.
type RevealView struct {
	Question string
	// Prediction is the learner's answer ("" when they made none).
	Prediction string
	// Measured is what the run measured, as text.
	Measured string
	// Right says the prediction matched.
	Right bool
	// Explanation is HTML.
	Explanation string
	// EvidenceURL opens the run at its first violating event, "" when none.
	EvidenceURL string
	// Key is the report key measured.
	Key string
}

// ChallengeView is the challenge: its goal, the fields the learner may
// change, and the verdict on the learner's last run.
type ChallengeView struct {
	// Goal is HTML.
	Goal string
	// Action is the button's label: what sending the answer does.
	Action string
	Fields []ChallengeField
	// Error is a refusal that names no field.
	Error string
	// Tries counts the learner's runs; Solved says one met the goal.
	Tries  int
	Solved bool
	// Tried says Verdict is about the learner's last answer; LastSolved
	// says whether that answer met the goal.
	Tried      bool
	LastSolved bool
	// Verdict says why the last run did or did not meet the goal.
	Verdict string
	// Results are the report values the goal reads, from the last run.
	Results []ResultLine
	// Run plays the learner's last scenario (a run challenge).
	Run *RunView
	// Solution is the lesson's solution, set only once shown; SolutionShown marks it.
	Solution      string
	SolutionShown bool
}

// State is what data-challenge carries.
func (c ChallengeView) State() string {
	if c.Solved {
		return "solved"
	}
	return "unsolved"
}

// ChallengeField is one thing the learner may change.
type ChallengeField struct {
	Name  string
	Label string
	Help  string
	// Kind is "textarea" or "checks" (a checkbox per option); otherwise
	// Options make it a select, and without them it is a text input.
	Kind    string
	Options []Choice
	Value   string
	// Checked are the checked options of a "checks" field.
	Checked []string
	Error   string
}

// ResultLine is one report value the goal reads, from the learner's run;
// OK says whether the run met the goal.
type ResultLine struct {
	Key string
	Got string
	OK  bool
}

// Invalid is aria-invalid for a field with an error.
func Invalid(err string) string {
	if err != "" {
		return "true"
	}
	return "false"
}

// NotFoundView is a 404 page: what was asked for and where to go.
type NotFoundView struct {
	Message  string
	BackURL  string
	BackText string
}
