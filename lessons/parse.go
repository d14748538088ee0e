package lessons

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"go.yaml.in/yaml/v3"

	"partialtruth/checklist"
	"partialtruth/sim"
)

// Bounds on a lesson file: trainers' files are loaded at start-up, and a
// fuzzer feeds the parser anything.
const (
	// MaxFileBytes is the largest lesson file accepted.
	MaxFileBytes = 64 << 10
	// MaxSteps is the most steps one lesson may have.
	MaxSteps = 40
	// MaxLessons is the most lessons one directory may hold.
	MaxLessons = 200
	// MaxPayments bounds every run a lesson makes, and every run a
	// learner's answer asks for: a lesson shows a story, not a load test,
	// and `lessons check` stays fast.
	MaxPayments = 2000
)

// stepInfo is the info string of the fenced block that holds a step's
// settings.
const stepInfo = "step"

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Load reads every *.md file directly in dir of fsys, in name order, and
// parses each as a lesson. Every problem in every file is returned, as
// Problems, with no lessons: a server must not start with a broken lesson.
// Two lessons with one id are a problem too.
func Load(fsys fs.FS, dir string) ([]*Lesson, error) {
	return load(fsys, dir, dir)
}

// load is Load, naming files shown/<name> in messages.
func load(fsys fs.FS, dir, shown string) ([]*Lesson, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading lessons: %w", err)
	}
	var out []*Lesson
	var ps Problems
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		if len(out)+len(ps) >= MaxLessons {
			return nil, fmt.Errorf("%s holds more than %d lessons; allowed: at most %d", shown, MaxLessons, MaxLessons)
		}
		name := path.Join(shown, e.Name())
		src, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		l, err := Parse(name, src)
		if err != nil {
			ps = append(ps, asProblems(name, err)...)
			continue
		}
		out = append(out, l)
	}
	ps = append(ps, duplicateIDs(out)...)
	if len(ps) > 0 {
		return nil, ps
	}
	return out, nil
}

// Merge appends extra lessons (a trainer's) to base (the built-in ones),
// refusing an id that is already taken.
func Merge(base, extra []*Lesson) ([]*Lesson, error) {
	all := append(slices.Clip(base), extra...)
	return all, duplicateIDs(all).orNil()
}

func duplicateIDs(ls []*Lesson) Problems {
	var ps Problems
	first := map[string]*Lesson{}
	for _, l := range ls {
		if f, ok := first[l.ID]; ok {
			ps = append(ps, Problem{l.File, 2, fmt.Sprintf("id %q is taken by %s; every lesson needs its own", l.ID, f.File)})
			continue
		}
		first[l.ID] = l
	}
	return ps
}

func asProblems(file string, err error) Problems {
	switch e := err.(type) {
	case Problems:
		return e
	case Problem:
		return Problems{e}
	}
	return Problems{{file, 1, err.Error()}}
}

// parser holds one file's parse.
type parser struct {
	file string
	src  []byte
	ps   Problems
}

func (p *parser) problem(line int, format string, args ...any) {
	p.ps = append(p.ps, Problem{p.file, line, fmt.Sprintf(format, args...)})
}

// Parse parses one lesson file. file names it in messages. Every problem
// found is returned, as Problems.
func Parse(file string, src []byte) (*Lesson, error) {
	p := &parser{file: file}
	if len(src) > MaxFileBytes {
		p.problem(1, "file is %d bytes; allowed: at most %d", len(src), MaxFileBytes)
		return nil, p.ps
	}
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	p.src = src
	l := &Lesson{File: file}
	bodyAt, bodyLine := p.frontMatter(l)
	if len(p.ps) > 0 {
		return nil, p.ps
	}
	p.steps(l, src[bodyAt:], bodyLine)
	if len(p.ps) > 0 {
		return nil, p.ps
	}
	p.bind(l)
	if len(p.ps) > 0 {
		return nil, p.ps
	}
	for i := range l.Steps {
		if _, err := l.render(i, nil); err != nil {
			p.ps = append(p.ps, asProblems(file, err)...)
		}
	}
	if len(p.ps) > 0 {
		return nil, p.ps
	}
	return l, nil
}

const frontMatterHelp = "a lesson starts with a line ---, then YAML with id, title, summary and teaches, then a line ---"

// frontMatter parses the block between the first two --- lines and returns
// where the body starts, as a byte offset and a line number.
func (p *parser) frontMatter(l *Lesson) (int, int) {
	rest, ok := bytes.CutPrefix(p.src, []byte("---\n"))
	if !ok {
		p.problem(1, "front matter is missing; %s", frontMatterHelp)
		return 0, 0
	}
	end := -1
	for at := 0; at < len(rest); {
		nl := bytes.IndexByte(rest[at:], '\n')
		line := rest[at:]
		if nl >= 0 {
			line = rest[at : at+nl]
		}
		if string(line) == "---" {
			end = at
			break
		}
		if nl < 0 {
			break
		}
		at += nl + 1
	}
	if end < 0 {
		p.problem(1, "front matter is not closed; %s", frontMatterHelp)
		return 0, 0
	}
	fm := rest[:end]
	bodyAt := 4 + end + 4
	if bodyAt > len(p.src) {
		bodyAt = len(p.src)
	}
	bodyLine := 1 + bytes.Count(p.src[:bodyAt], []byte("\n"))

	var doc yaml.Node
	if err := yaml.Unmarshal(fm, &doc); err != nil {
		p.yamlProblem(2, err)
		return 0, 0
	}
	if len(doc.Content) == 0 {
		p.problem(2, "front matter is empty; %s", frontMatterHelp)
		return 0, 0
	}
	f := p.mapping(2, doc.Content[0], "front matter", []string{"id", "title", "summary", "teaches"}, []string{"id", "title", "summary"})
	if f == nil {
		return 0, 0
	}
	if n := f["id"]; n != nil {
		l.ID = p.scalar(2, n, "id")
		if l.ID != "" && !idPattern.MatchString(l.ID) {
			p.problem(line(2, n), "id %q is not allowed; allowed: lower-case letters and digits in words joined by -, such as two-writes", l.ID)
		}
	}
	if n := f["title"]; n != nil {
		l.Title = p.oneLine(2, n, "title")
	}
	if n := f["summary"]; n != nil {
		l.Summary = p.oneLine(2, n, "summary")
	}
	if n := f["teaches"]; n != nil {
		for _, item := range p.list(2, n, "teaches") {
			if _, ok := checklist.ItemByID(item.v); !ok {
				p.problem(item.line, "checklist item %q is unknown; allowed: %s", item.v, strings.Join(itemIDs(), ", "))
				continue
			}
			l.Teaches = append(l.Teaches, item.v)
		}
	}
	return bodyAt, bodyLine
}

func itemIDs() []string {
	var out []string
	for _, it := range checklist.Items() {
		out = append(out, it.ID)
	}
	return out
}

// line turns a YAML node's line into the file's: base is the file line of
// the YAML text's first line.
func line(base int, n *yaml.Node) int { return base + n.Line - 1 }

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

func (p *parser) yamlProblem(base int, err error) {
	found := false
	for _, m := range yamlLine.FindAllStringSubmatch(err.Error(), -1) {
		n, _ := strconv.Atoi(m[1])
		p.problem(base+n-1, "YAML: %s", m[2])
		found = true
	}
	if !found {
		p.problem(base, "YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
}

// mapping reads a YAML mapping, refusing keys not in allowed and reporting
// missing required ones; nil when n is not a mapping.
func (p *parser) mapping(base int, n *yaml.Node, what string, allowed, required []string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.problem(line(base, n), "%s is not a set of fields; allowed fields: %s", what, strings.Join(allowed, ", "))
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(allowed, k.Value):
			p.problem(line(base, k), "field %q is unknown in %s; allowed: %s", k.Value, what, strings.Join(allowed, ", "))
		case out[k.Value] != nil:
			p.problem(line(base, k), "field %q is set twice in %s", k.Value, what)
		default:
			out[k.Value] = v
		}
	}
	for _, r := range required {
		if out[r] == nil {
			p.problem(line(base, n), "field %q is missing from %s", r, what)
		}
	}
	return out
}

func (p *parser) scalar(base int, n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode {
		p.problem(line(base, n), "%s is not a single value", field)
		return ""
	}
	if strings.TrimSpace(n.Value) == "" {
		p.problem(line(base, n), "%s is empty", field)
	}
	return strings.TrimSpace(n.Value)
}

func (p *parser) oneLine(base int, n *yaml.Node, field string) string {
	v := p.scalar(base, n, field)
	if strings.Contains(v, "\n") {
		p.problem(line(base, n), "%s runs over more than one line; allowed: one line", field)
	}
	return v
}

func (p *parser) integer(base int, n *yaml.Node, field string) (int64, bool) {
	v := p.scalar(base, n, field)
	i, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if v != "" {
			p.problem(line(base, n), "%s %q is not a whole number", field, v)
		}
		return 0, false
	}
	return i, true
}

type listItem struct {
	v    string
	line int
}

func (p *parser) list(base int, n *yaml.Node, field string) []listItem {
	if n.Kind != yaml.SequenceNode {
		p.problem(line(base, n), "%s is not a list; write [a, b] or one \"- a\" a line", field)
		return nil
	}
	var out []listItem
	for _, c := range n.Content {
		if v := p.scalar(base, c, field); v != "" {
			out = append(out, listItem{v, line(base, c)})
		}
	}
	return out
}

// steps splits the body at its level-2 headings, one step each, and reads
// each step's settings block.
func (p *parser) steps(l *Lesson, body []byte, bodyLine int) {
	doc := goldmark.New().Parser().Parse(text.NewReader(body))
	lineAt := func(off int) int { return bodyLine + bytes.Count(body[:off], []byte("\n")) }
	lineStart := func(off int) int { return bytes.LastIndexByte(body[:off], '\n') + 1 }

	type span struct {
		step     *Step
		from     int // first byte after the heading's line
		blocks   []*ast.FencedCodeBlock
		headFrom int
	}
	var spans []*span
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		h, isHeading := n.(*ast.Heading)
		if len(spans) == 0 && !(isHeading && h.Level == 2) {
			p.problem(lineAt(nodeStart(n)), "text before the first step; every part of a lesson is in a step that starts with \"## Kind\", the kind one of %s", kindList())
			return
		}
		switch n := n.(type) {
		case *ast.Heading:
			if n.Level != 2 {
				continue
			}
			start := nodeStart(n)
			if len(spans) >= MaxSteps {
				p.problem(lineAt(start), "lesson has more than %d steps; allowed: at most %d", MaxSteps, MaxSteps)
				return
			}
			st := &Step{Line: lineAt(start)}
			head, end := "", lineEnd(body, start)
			if n.Lines().Len() > 0 {
				seg := n.Lines().At(0)
				head = strings.TrimSpace(string(seg.Value(body)))
				end = lineEnd(body, seg.Stop)
			}
			kind, title, _ := strings.Cut(head, ":")
			st.Kind = Kind(strings.ToLower(strings.TrimSpace(kind)))
			st.Title = strings.TrimSpace(title)
			if !slices.Contains(kinds, st.Kind) {
				p.problem(st.Line, "step kind %q is unknown; a step's heading is \"## Kind\" or \"## Kind: title\", the kind one of %s",
					strings.TrimSpace(kind), kindList())
			}
			spans = append(spans, &span{step: st, from: end, headFrom: lineStart(start)})
		case *ast.FencedCodeBlock:
			if n.Info != nil && string(n.Info.Segment.Value(body)) == stepInfo {
				spans[len(spans)-1].blocks = append(spans[len(spans)-1].blocks, n)
			}
		}
	}
	if len(spans) == 0 {
		p.problem(bodyLine, "lesson has no steps; a step starts with a heading \"## Kind\", the kind one of %s", kindList())
		return
	}
	for i, s := range spans {
		to := len(body)
		if i+1 < len(spans) {
			to = spans[i+1].headFrom
		}
		s.step.prose = strings.Repeat("\n", lineAt(s.from)-1) + string(body[s.from:to])
		var settings *yaml.Node
		base := 0
		switch len(s.blocks) {
		case 0:
		case 1:
			b := s.blocks[0]
			var content []byte
			for j := 0; j < b.Lines().Len(); j++ {
				seg := b.Lines().At(j)
				content = append(content, seg.Value(body)...)
			}
			base = lineAt(b.Info.Segment.Start) + 1
			var doc yaml.Node
			if err := yaml.Unmarshal(content, &doc); err != nil {
				p.yamlProblem(base, err)
				continue
			}
			if len(doc.Content) > 0 {
				settings = doc.Content[0]
			} else {
				p.problem(base-1, "the step block is empty")
				continue
			}
		default:
			p.problem(lineAt(s.blocks[1].Info.Segment.Start), "a step has at most one ```%s block; this is its second", stepInfo)
			continue
		}
		if settings != nil && settings.Kind == yaml.MappingNode {
			s.step.lines = map[string]int{}
			for j := 0; j+1 < len(settings.Content); j += 2 {
				s.step.lines[settings.Content[j].Value] = line(base, settings.Content[j])
			}
		}
		p.settings(s.step, settings, base)
		l.Steps = append(l.Steps, s.step)
	}
}

// nodeStart is the byte offset where a block starts: its first line, or
// the position the parser recorded for a block without lines (an empty
// heading, a thematic break).
func nodeStart(n ast.Node) int {
	if n.Lines().Len() > 0 {
		return n.Lines().At(0).Start
	}
	return max(n.Pos(), 0)
}

// lineEnd is the offset just after the line break that ends the line
// holding off (or the end of body).
func lineEnd(body []byte, off int) int {
	off = min(off, len(body))
	if nl := bytes.IndexByte(body[off:], '\n'); nl >= 0 {
		return off + nl + 1
	}
	return len(body)
}

func kindList() string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// settings reads a step's ```step block (nil when it has none).
func (p *parser) settings(st *Step, n *yaml.Node, base int) {
	if n == nil {
		switch st.Kind {
		case KindRun, KindPredict, KindChallenge:
			p.problem(st.Line, "a %s step needs a ```%s block with its settings", st.Kind, stepInfo)
		case KindReveal:
			st.Reveal = &Reveal{Predict: -1}
		}
		return
	}
	switch st.Kind {
	case KindRead:
		p.problem(line(base, n), "a read step has no settings; remove its ```%s block", stepInfo)
	case KindRun:
		f := p.mapping(base, n, "a run step", []string{"scenario", "expect", "expect-compare"}, []string{"scenario"})
		if f == nil || f["scenario"] == nil {
			return
		}
		st.Run = &Run{}
		st.Run.Scenario, st.Run.Compare = p.scenario(base, f["scenario"], true)
		if e := f["expect"]; e != nil {
			st.Run.Expect = p.cond(base, e, "expect")
		}
		if e := f["expect-compare"]; e != nil {
			if st.Run.Compare == "" {
				p.problem(line(base, e), "expect-compare needs a compare design in the scenario (compare=…)")
			} else {
				st.Run.ExpectCompare = p.cond(base, e, "expect-compare")
			}
		}
	case KindPredict:
		p.prediction(st, n, base)
	case KindReveal:
		f := p.mapping(base, n, "a reveal step", []string{"event"}, nil)
		st.Reveal = &Reveal{Predict: -1}
		if f != nil && f["event"] != nil {
			st.Reveal.Event = p.scalar(base, f["event"], "event")
			if !slices.Contains(violationKeys(), st.Reveal.Event) {
				p.problem(line(base, f["event"]), "event %q is not a violation key; allowed: %s",
					st.Reveal.Event, strings.Join(violationKeys(), ", "))
			}
		}
	case KindChallenge:
		st.Challenge = p.challenge(n, base, st.Line)
	}
}

// violationKeys lists every design's invariants, each once.
func violationKeys() []string {
	var out []string
	for _, d := range sim.Designs() {
		for _, k := range d.Invariants {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

func (p *parser) cond(base int, n *yaml.Node, field string) *Cond {
	v := p.scalar(base, n, field)
	if v == "" {
		return nil
	}
	c, err := ParseCond(v)
	if err != nil {
		p.problem(line(base, n), "%s: %v", field, err)
		return nil
	}
	return c
}

func (p *parser) prediction(st *Step, n *yaml.Node, base int) {
	f := p.mapping(base, n, "a predict step", []string{"number", "min", "max", "choice"}, nil)
	if f == nil {
		return
	}
	pr := &Prediction{Min: 0, Max: -1}
	switch {
	case f["number"] != nil && f["choice"] != nil:
		p.problem(line(base, n), "a predict step asks for a number or a choice, not both")
		return
	case f["number"] != nil:
		pr.Key = p.scalar(base, f["number"], "number")
		if pr.Key != "" && !slices.Contains(ReportKeys(), pr.Key) {
			p.problem(line(base, f["number"]), "number: report key %q is unknown; allowed: %s", pr.Key, strings.Join(ReportKeys(), ", "))
		}
		if m := f["min"]; m != nil {
			pr.Min, _ = p.integer(base, m, "min")
		}
		if m := f["max"]; m != nil {
			if v, ok := p.integer(base, m, "max"); ok {
				pr.Max = v
				if v < pr.Min {
					p.problem(line(base, m), "max %d is below min %d", v, pr.Min)
				}
			}
		}
	case f["choice"] != nil:
		c := f["choice"]
		if f["min"] != nil || f["max"] != nil {
			p.problem(line(base, n), "min and max belong to a number prediction, not a choice")
		}
		if c.Kind != yaml.SequenceNode || len(c.Content) < 2 {
			p.problem(line(base, c), "choice is a list of at least two options, each with text and when")
			return
		}
		for _, o := range c.Content {
			of := p.mapping(base, o, "a choice's option", []string{"text", "when"}, []string{"text", "when"})
			if of == nil || of["text"] == nil || of["when"] == nil {
				continue
			}
			pr.Options = append(pr.Options, Option{Text: p.oneLine(base, of["text"], "text"), When: p.cond(base, of["when"], "when")})
		}
	default:
		p.problem(line(base, n), "a predict step needs number (a report key) or choice (a list of options)")
		return
	}
	st.Predict = pr
}

// scenario reads a scenario in the playground's URL form. compare says
// whether a compare partner may be named.
func (p *parser) scenario(base int, n *yaml.Node, compare bool) (sim.Scenario, string) {
	v := p.scalar(base, n, "scenario")
	sc, partner, err := ParseScenario(v, compare)
	if err != nil {
		p.problem(line(base, n), "%v", err)
	}
	return sc, partner
}

// ParseScenario reads a scenario written as the playground's URL
// parameters ("design=dual-write&faults=bus.publish.fail=0.1", optionally
// after "/play?"), through sim.FromParams. compare says whether the
// parameter compare (a design run beside it) is allowed; it is returned.
func ParseScenario(v string, compare bool) (sim.Scenario, string, error) {
	if _, q, ok := strings.Cut(v, "?"); ok {
		v = q
	}
	vals, err := url.ParseQuery(v)
	if err != nil {
		return sim.Scenario{}, "", fmt.Errorf("scenario %q is not URL parameters: %v", v, err)
	}
	allowed := slices.Clone(sim.ParamNames)
	if compare {
		allowed = append(allowed, "compare")
	}
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		if !slices.Contains(allowed, k) {
			return sim.Scenario{}, "", fmt.Errorf("scenario parameter %q is unknown; allowed: %s", k, strings.Join(allowed, ", "))
		}
		if len(vals[k]) > 1 {
			return sim.Scenario{}, "", fmt.Errorf("scenario parameter %q is given %d times; allowed: once", k, len(vals[k]))
		}
	}
	sc, err := sim.FromParams(vals.Get)
	if err != nil {
		return sc, "", fmt.Errorf("scenario: %v", err)
	}
	if err := lessonSized(sc); err != nil {
		return sc, "", fmt.Errorf("scenario: %v", err)
	}
	partner := vals.Get("compare")
	if partner != "" {
		if _, ok := sim.LookupDesign(partner); !ok {
			return sc, "", fmt.Errorf("compare design %q is unknown; allowed: %s", partner, strings.Join(sim.DesignNames(), ", "))
		}
	}
	return sc, partner, nil
}

// lessonSized refuses a run bigger than a lesson makes.
func lessonSized(sc sim.Scenario) error {
	if sc.Payments > MaxPayments {
		return &sim.InputError{Field: "payments",
			Msg: fmt.Sprintf("payments %d is more than a lesson runs; allowed: %d to %d", sc.Payments, sim.MinPayments, MaxPayments)}
	}
	return nil
}

// bind ties each step to the run it reads: a predict step to the next run
// step (which answers it), a reveal to the run before it and the
// prediction before that, a read step to the run or challenge before it
// (or else the next one), a run step and a challenge to their own (a
// challenge's is its start).
func (p *parser) bind(l *Lesson) {
	prevRun, prevRunOrChallenge, lastPredict := -1, -1, -1
	next := func(i int, kinds ...Kind) int {
		for j := i + 1; j < len(l.Steps); j++ {
			if slices.Contains(kinds, l.Steps[j].Kind) {
				return j
			}
		}
		return -1
	}
	for i, st := range l.Steps {
		st.runAt = -1
		switch st.Kind {
		case KindRun:
			st.runAt = i
			prevRun, prevRunOrChallenge = i, i
		case KindChallenge:
			st.runAt, st.after = i, true
			prevRunOrChallenge = i
		case KindPredict:
			st.runAt = next(i, KindRun)
			if st.runAt < 0 {
				p.problem(st.Line, "a predict step needs a run step after it, to answer it")
			} else if st.Predict != nil && st.Predict.Max < 0 {
				st.Predict.Max = 10 * int64(l.Steps[st.runAt].Run.Scenario.Payments)
			}
			lastPredict = i
		case KindReveal:
			st.runAt, st.after = prevRun, true
			if prevRun < 0 {
				p.problem(st.Line, "a reveal step needs a run step before it, to show what it measured")
			}
			if lastPredict >= 0 && l.Steps[lastPredict].runAt < i {
				st.Reveal.Predict = lastPredict
				lastPredict = -1
			}
		case KindRead:
			if prevRunOrChallenge >= 0 {
				st.runAt, st.after = prevRunOrChallenge, true
			} else {
				st.runAt = next(i, KindRun, KindChallenge)
			}
		}
	}
}
