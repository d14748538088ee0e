package lessons

import (
	"bytes"
	"fmt"
	"html/template"
	"regexp"
	"slices"
	"strconv"
	"strings"
	ttemplate "text/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"partialtruth/checklist"
	"partialtruth/sim"
)

// Result is the run step i reads (its own run for a run or challenge step,
// the run that answers a prediction, the run before a reveal), made on
// first use and kept. ok is false for a step that reads no run (a read
// step in a lesson without runs).
func (l *Lesson) Result(i int) (*Result, bool, error) {
	if i < 0 || i >= len(l.Steps) {
		return nil, false, fmt.Errorf("step %d is out of range; allowed: 0 to %d", i, len(l.Steps)-1)
	}
	at := l.Steps[i].runAt
	if at < 0 {
		return nil, false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.results[at]; ok {
		return r, true, nil
	}
	st := l.Steps[at]
	var res *Result
	var err error
	if st.Kind == KindRun {
		res, err = runResult(st.Run.Scenario, st.Run.Compare)
	} else {
		res, err = runResult(st.Challenge.Start, "")
	}
	if err != nil {
		return nil, false, Problem{l.File, st.Line, err.Error()}
	}
	if l.results == nil {
		l.results = map[int]*Result{}
	}
	l.results[at] = res
	return res, true, nil
}

// RunStep is the index of the step whose run step i reads, or -1.
func (l *Lesson) RunStep(i int) int { return l.Steps[i].runAt }

func runResult(sc sim.Scenario, compare string) (*Result, error) {
	res, err := sim.Run(sc, nil)
	if err != nil {
		return nil, err
	}
	out := &Result{Scenario: sc, Report: res.Report}
	if compare != "" {
		other := sc
		other.Design = compare
		cr, err := sim.Run(other, nil)
		if err != nil {
			return nil, err
		}
		out.Compare = &cr.Report
	}
	return out, nil
}

// Measured is what the run measured for the prediction at step i (a
// predict step, or a reveal step, which reveals the prediction before it):
// its value and the text that shows it.
func (l *Lesson) Measured(i int) (int64, string, error) {
	st := l.Steps[i]
	if st.Kind == KindReveal {
		if st.Reveal.Predict < 0 {
			return 0, "", fmt.Errorf("step %d reveals no prediction", i)
		}
		i, st = st.Reveal.Predict, l.Steps[st.Reveal.Predict]
	}
	if st.Kind != KindPredict {
		return 0, "", fmt.Errorf("step %d is a %s step, not a prediction", i, st.Kind)
	}
	res, _, err := l.Result(i)
	if err != nil {
		return 0, "", err
	}
	v, err := st.Predict.Answer(res.Report)
	if err != nil {
		return 0, "", Problem{l.File, st.Line, err.Error()}
	}
	return v, st.Predict.Format(v), nil
}

// Render renders step i's prose to HTML, with every number a run produces
// filled in from the lesson's own run of that step. The step's settings
// block is not part of it. Raw HTML in a lesson is left out (goldmark's
// default), so a trainer's file cannot put script on the page.
//
// An event link, from {{event "lost"}}, is an anchor to #event-<id>: the
// page's player can jump to that event.
func (l *Lesson) Render(i int) (template.HTML, error) {
	if i < 0 || i >= len(l.Steps) {
		return "", fmt.Errorf("step %d is out of range; allowed: 0 to %d", i, len(l.Steps)-1)
	}
	var res *Result
	if l.Steps[i].after {
		r, _, err := l.Result(i)
		if err != nil {
			return "", err
		}
		res = r
	}
	md, err := l.render(i, res)
	if err != nil {
		return "", err
	}
	return markdownHTML(md)
}

// markdownHTML renders Markdown to HTML, leaving out the step blocks.
func markdownHTML(md string) (template.HTML, error) {
	src := []byte(md)
	doc := goldmark.DefaultParser().Parse(text.NewReader(src))
	var drop []ast.Node
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if b, ok := n.(*ast.FencedCodeBlock); ok && b.Info != nil && string(b.Info.Segment.Value(src)) == stepInfo {
			drop = append(drop, n)
		}
	}
	for _, n := range drop {
		doc.RemoveChild(doc, n)
	}
	var b bytes.Buffer
	if err := goldmark.DefaultRenderer().Render(&b, src, doc); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

// render executes step i's prose template. With res nil it only checks the
// template: every key exists and the step's run measures it, and no step
// shows a number before the learner has seen its run.
func (l *Lesson) render(i int, res *Result) (string, error) {
	st := l.Steps[i]
	var run *Step
	if st.runAt >= 0 {
		run = l.Steps[st.runAt]
	}
	design, compare := "", ""
	var sc sim.Scenario
	if run != nil {
		if run.Kind == KindRun {
			sc, compare = run.Run.Scenario, run.Run.Compare
		} else {
			sc = run.Challenge.Start
		}
		design = sc.Design
	}
	needRun := func(fn string) error {
		if run == nil {
			return fmt.Errorf("%s: this step reads no run; the lesson has no run step", fn)
		}
		if !st.after {
			return fmt.Errorf("%s: the numbers of a run belong after it; this %s step comes before the run it reads (line %d)",
				fn, st.Kind, run.Line)
		}
		return nil
	}
	value := func(r *sim.Report, design, key string) (string, error) {
		if !strings.HasPrefix(key, "injected.") && !slices.Contains(ReportKeys(), key) {
			return "", fmt.Errorf("report key %q is unknown; allowed: injected.<fault> or %s", key, strings.Join(ReportKeys(), ", "))
		}
		if f, ok := strings.CutPrefix(key, "injected."); ok {
			if _, known := sim.LookupFault(f); !known {
				return "", fmt.Errorf("fault %q is unknown; allowed: %s", f, strings.Join(sim.FaultNames(), ", "))
			}
		} else if !Measures(design, key) {
			return "", fmt.Errorf("report key %s is not measured by design %s; it measures %s", key, design, strings.Join(measuredKeys(design), ", "))
		}
		if r == nil {
			return "0", nil
		}
		v, err := ReportValue(*r, key)
		if key == "converged" {
			return strconv.FormatBool(v != 0), err
		}
		return strconv.FormatInt(v, 10), err
	}
	funcs := ttemplate.FuncMap{
		// report is a number the step's run measured.
		"report": func(key string) (string, error) {
			if err := needRun("report"); err != nil {
				return "", err
			}
			var r *sim.Report
			if res != nil {
				r = &res.Report
			}
			return value(r, design, key)
		},
		// compared is a number the run's compare partner measured.
		"compared": func(key string) (string, error) {
			if err := needRun("compared"); err != nil {
				return "", err
			}
			if compare == "" {
				return "", fmt.Errorf("compared: the run (line %d) has no compare design", run.Line)
			}
			var r *sim.Report
			if res != nil {
				r = res.Compare
			}
			return value(r, compare, key)
		},
		// scenario is a parameter of the run, as the playground writes it.
		"scenario": func(name string) (string, error) {
			if run == nil {
				return "", fmt.Errorf("scenario: this step reads no run; the lesson has no run step")
			}
			if !slices.Contains(sim.ParamNames, name) {
				return "", fmt.Errorf("scenario parameter %q is unknown; allowed: %s", name, strings.Join(sim.ParamNames, ", "))
			}
			return sc.Param(name), nil
		},
		// event links to the run's first event that shows a violation.
		"event": func(key string) (string, error) {
			if err := needRun("event"); err != nil {
				return "", err
			}
			if !slices.Contains(violationKeys(), key) {
				return "", fmt.Errorf("event: %q is not a violation key; allowed: %s", key, strings.Join(violationKeys(), ", "))
			}
			if res == nil {
				return "[event](#event)", nil
			}
			id, ok := res.Report.FirstViolation[key]
			if !ok {
				return "", fmt.Errorf("event: the run shows no %s violation", key)
			}
			return fmt.Sprintf("[event %d](#event-%d)", id, id), nil
		},
	}
	// bad and good are a checklist item's code pair, as the checklist
	// shows it; source is a design's code, as the playground shows it.
	// Each is a fenced block, so a lesson shows the code that is, never a
	// copy that can drift from it.
	snippet := func(which string) func(string) (string, error) {
		return func(id string) (string, error) {
			it, ok := checklist.ItemByID(id)
			if !ok {
				return "", fmt.Errorf("%s: checklist item %q is unknown; allowed: %s", which, id, strings.Join(itemIDs(), ", "))
			}
			code := it.Bad
			if which == "good" {
				code = it.Good
			}
			return fence(code), nil
		}
	}
	funcs["bad"], funcs["good"] = snippet("bad"), snippet("good")
	funcs["source"] = func(design string, roles ...string) (string, error) {
		fns, err := sim.DesignSource(design)
		if err != nil {
			return "", fmt.Errorf("source: %v", err)
		}
		var parts []string
		for _, r := range roles {
			if !slices.ContainsFunc(fns, func(f sim.SourceFunc) bool { return f.Role == r }) {
				var have []string
				for _, f := range fns {
					have = append(have, f.Role)
				}
				return "", fmt.Errorf("source: design %s has no %q code; it has %s", design, r, strings.Join(have, ", "))
			}
		}
		for _, f := range fns {
			if len(roles) == 0 || slices.Contains(roles, f.Role) {
				parts = append(parts, f.Code)
			}
		}
		return fence(strings.Join(parts, "\n\n")), nil
	}
	t, err := ttemplate.New(l.File).Funcs(funcs).Option("missingkey=error").Parse(st.prose)
	if err != nil {
		return "", templateProblem(l.File, st.Line, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return "", templateProblem(l.File, st.Line, err)
	}
	return b.String(), nil
}

// fence writes code as a fenced Markdown block, its fence longer than any
// run of backticks inside it.
func fence(code string) string {
	f := "```"
	for strings.Contains(code, f) {
		f += "`"
	}
	lang := "go"
	if t := strings.ToUpper(strings.TrimSpace(code)); strings.HasPrefix(t, "--") || strings.HasPrefix(t, "SELECT") {
		lang = "sql"
	}
	return f + lang + "\n" + strings.TrimRight(code, "\n") + "\n" + f
}

var templateLine = regexp.MustCompile(`^template: [^:]*:(\d+):(?:\d+:)? ?(?:executing "[^"]*" at <[^>]*>: )?(?:error calling \w+: )?(.*)$`)

// templateProblem turns a template error into file:line: what is wrong;
// the prose keeps its file's line breaks, so the template's line is the
// file's.
func templateProblem(file string, stepLine int, err error) error {
	if m := templateLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Problem{file, n, m[2]}
	}
	return Problem{file, stepLine, err.Error()}
}
