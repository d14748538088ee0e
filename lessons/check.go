package lessons

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"partialtruth/sim"
)

// Check runs every run of a parsed lesson and confirms everything it
// states: each run's expectation holds, each prediction has exactly one
// answer within its range, each reveal's event exists, every prose
// template fills in from its run, no number in the prose is typed by hand,
// and each challenge is unsolved at its start and solved by its solution.
// It returns every problem found, in line order.
func Check(ctx context.Context, l *Lesson) Problems {
	var ps Problems
	add := func(line int, format string, args ...any) {
		ps = append(ps, Problem{l.File, line, fmt.Sprintf(format, args...)})
	}
	addErr := func(line int, err error) {
		if p, ok := err.(Problem); ok {
			ps = append(ps, p)
			return
		}
		add(line, "%v", err)
	}
	for _, n := range handTypedNumbers(l.Title + " " + l.Summary) {
		add(2, "the title or summary holds %q, a number typed by hand; a lesson's numbers come from its runs", n.text)
	}
	for i, st := range l.Steps {
		if err := ctx.Err(); err != nil {
			add(st.Line, "check stopped: %v", err)
			return ps
		}
		for _, n := range handTypedNumbers(st.Title) {
			add(st.Line, "the step's title holds %q, a number typed by hand; a lesson's numbers come from its runs", n.text)
		}
		for _, n := range handTypedNumbers(st.prose) {
			add(n.line, "%q is a number typed by hand; write it from the run ({{report \"key\"}}, {{scenario \"name\"}}) or in `code`", n.text)
		}
		switch st.Kind {
		case KindRun:
			res, _, err := l.Result(i)
			if err != nil {
				addErr(st.Line, err)
				continue
			}
			for _, x := range []struct {
				field string
				cond  *Cond
				rep   *sim.Report
			}{{"expect", st.Run.Expect, &res.Report}, {"expect-compare", st.Run.ExpectCompare, res.Compare}} {
				if x.cond == nil {
					continue
				}
				why, err := x.cond.Explain(*x.rep)
				switch {
				case err != nil:
					add(st.lineOf(x.field), "%s %s: %v", x.field, x.cond, err)
				case why != "":
					add(st.lineOf(x.field), "%s %s does not hold on the run of %s: %s", x.field, x.cond, x.rep.Design, why)
				}
			}
		case KindPredict:
			v, _, err := l.Measured(i)
			if err != nil {
				addErr(st.Line, err)
				continue
			}
			for _, o := range st.Predict.Options {
				for _, n := range handTypedNumbers(o.Text) {
					add(st.Line, "option %q holds %q, a number typed by hand", o.Text, n.text)
				}
			}
			if !st.Predict.IsChoice() && (v < st.Predict.Min || v > st.Predict.Max) {
				add(st.lineOf("number"), "the run measured %s = %d, outside the answers allowed (%d to %d); widen min or max",
					st.Predict.Key, v, st.Predict.Min, st.Predict.Max)
			}
		case KindReveal:
			if st.Reveal.Event == "" {
				break
			}
			res, _, err := l.Result(i)
			if err != nil {
				addErr(st.Line, err)
				continue
			}
			if _, ok := res.Report.FirstViolation[st.Reveal.Event]; !ok {
				add(st.lineOf("event"), "event %s: the run (line %d) shows no %s violation to point at", st.Reveal.Event, l.Steps[st.runAt].Line, st.Reveal.Event)
			}
		case KindChallenge:
			for _, p := range checkChallenge(ctx, st) {
				add(st.lineOf(p.field), "%s", p.msg)
			}
		}
		if _, err := l.Render(i); err != nil {
			addErr(st.Line, err)
		}
	}
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Line - b.Line })
	return ps
}

// checkChallenge confirms a challenge is unsolved at its start and solved
// by its solution.
func checkChallenge(ctx context.Context, st *Step) []fieldProblem {
	c := st.Challenge
	var out []fieldProblem
	startField := "start"
	if c.Kind == ChallengeQuery {
		startField = "query"
	}
	if c.Kind == ChallengeReview {
		startField = "review"
	}
	start, err := c.Check(ctx, c.StartAnswer())
	switch {
	case err != nil:
		out = append(out, fieldProblem{startField, fmt.Sprintf("the start does not run: %v", err)})
	case start.Solved:
		out = append(out, fieldProblem{startField, fmt.Sprintf("the challenge is solved at its start (%s); the learner would have nothing to do", start.Why)})
	}
	sol, err := c.Check(ctx, c.SolutionAnswer())
	switch {
	case err != nil:
		out = append(out, fieldProblem{"solution", fmt.Sprintf("the solution is not an allowed answer: %v", err)})
	case !sol.Solved:
		out = append(out, fieldProblem{"solution", fmt.Sprintf("the solution does not solve the challenge: %s", sol.Why)})
	}
	if c.Kind == ChallengeRun {
		for _, sc := range []sim.Scenario{c.Start, c.Solution} {
			for _, k := range c.Goal.Keys() {
				if !strings.HasPrefix(k, "injected.") && !Measures(sc.Design, k) {
					out = append(out, fieldProblem{"goal", fmt.Sprintf("goal %s: design %s does not measure %s", c.Goal, sc.Design, k)})
				}
			}
		}
	}
	return out
}

type fieldProblem struct{ field, msg string }

type typedNumber struct {
	text string
	line int
}

var action = regexp.MustCompile(`(?s)\{\{.*?\}\}`)

// handTypedNumbers finds digits in prose text, outside code and template
// actions: a number a learner reads in the prose must come from a run, and
// anything else numeric (a version, a status code) belongs in `code`.
// The prose keeps its file's line breaks, so lines are the file's.
func handTypedNumbers(prose string) []typedNumber {
	src := []byte(action.ReplaceAllStringFunc(prose, func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '\n' {
				return r
			}
			return 'x'
		}, s)
	}))
	doc := goldmark.DefaultParser().Parse(text.NewReader(src))
	var out []typedNumber
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.CodeSpan, *ast.FencedCodeBlock, *ast.CodeBlock, *ast.HTMLBlock, *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		case *ast.Text:
			seg := n.Segment
			t := string(seg.Value(src))
			if i := strings.IndexFunc(t, unicode.IsDigit); i >= 0 {
				end := i
				for end < len(t) && (unicode.IsDigit(rune(t[end])) || t[end] == ',' || t[end] == '.') {
					end++
				}
				out = append(out, typedNumber{strings.TrimRight(t[i:end], ",."), 1 + strings.Count(string(src[:seg.Start]), "\n")})
			}
		}
		return ast.WalkContinue, nil
	})
	return out
}

// CheckAll checks every lesson in turn.
func CheckAll(ctx context.Context, ls []*Lesson) Problems {
	var ps Problems
	for _, l := range ls {
		ps = append(ps, Check(ctx, l)...)
	}
	return ps
}

// Coverage lists what the lessons together leave out: checklist items no
// lesson teaches, designs no lesson runs, faults no lesson's run turns on.
// The built-in lessons leave out nothing (the content test holds them to
// it); a trainer's own need not cover everything.
func Coverage(ls []*Lesson) (items, designs, faults []string) {
	taught := map[string]bool{}
	ran := map[string]bool{}
	fired := map[string]bool{}
	scenario := func(sc sim.Scenario) {
		ran[sc.Design] = true
		for _, f := range sim.AllFaults() {
			if sc.Faults[f] > 0 {
				fired[f.String()] = true
			}
		}
	}
	for _, l := range ls {
		for _, t := range l.Teaches {
			taught[t] = true
		}
		for _, st := range l.Steps {
			switch {
			case st.Run != nil:
				scenario(st.Run.Scenario)
				if st.Run.Compare != "" {
					ran[st.Run.Compare] = true
				}
			case st.Challenge != nil:
				scenario(st.Challenge.Start)
				if st.Challenge.Kind == ChallengeRun {
					scenario(st.Challenge.Solution)
				}
			}
		}
	}
	for _, id := range itemIDs() {
		if !taught[id] {
			items = append(items, id)
		}
	}
	for _, d := range sim.DesignNames() {
		if !ran[d] {
			designs = append(designs, d)
		}
	}
	for _, f := range sim.FaultNames() {
		if !fired[f] {
			faults = append(faults, f)
		}
	}
	return items, designs, faults
}
