package lessons

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"partialtruth/checklist"
	"partialtruth/sandbox"
	"partialtruth/sim"
)

// ChallengeKind says what a challenge asks the learner to produce.
type ChallengeKind string

// The challenge kinds.
const (
	// ChallengeRun asks for a scenario (the start, with what May allows
	// changed) whose run meets Goal.
	ChallengeRun ChallengeKind = "run"
	// ChallengeQuery asks for one SQL query over one node's database after
	// the start run that returns exactly the payments the checker marked
	// with the violation Find.
	ChallengeQuery ChallengeKind = "query"
	// ChallengeReview asks which checklist items Design fails under
	// /compare's standard scenario.
	ChallengeReview ChallengeKind = "review"
)

// Challenge is a goal the learner meets with their own answer, which the
// server checks: solved only when the answer meets it, never because a
// button was pressed.
type Challenge struct {
	// Kind says which of the fields below apply.
	Kind ChallengeKind
	// Start is the scenario the challenge starts from: the learner's first
	// run (ChallengeRun), the run whose tables are queried
	// (ChallengeQuery), or /compare's scenario for Design
	// (ChallengeReview).
	Start sim.Scenario

	// Goal is what the learner's run must show (ChallengeRun).
	Goal *Cond
	// May lists what the learner may change from Start (ChallengeRun):
	// parameter names (sim.ParamNames; "faults" is any fault) or single
	// fault names.
	May []string
	// Solution is a scenario that meets Goal (ChallengeRun).
	Solution sim.Scenario

	// Find is the violation key whose marked payments a query must return
	// (ChallengeQuery).
	Find string
	// StartQuery is the query the editor starts with; SolutionQuery one
	// that solves the challenge (ChallengeQuery).
	StartQuery, SolutionQuery Query

	// Design is the design under review (ChallengeReview).
	Design string
	// SolutionItems are the items Design fails (ChallengeReview).
	SolutionItems []string

	once     sync.Once
	snap     *sim.Snapshot
	expected []int64 // query: the payment ids; review: unused
	failing  []string
	err      error
}

// Query is one read-only SQL statement against one node's database after
// a run (see sandbox.Query).
type Query struct {
	// DB names the node's database: "service.db", "ledger.db", …
	DB string `json:"db"`
	// SQL is one SELECT, WITH or EXPLAIN statement.
	SQL string `json:"sql"`
}

// Answer is a learner's answer to a challenge; the field that matters is
// the one for the challenge's kind.
type Answer struct {
	// Scenario is a run challenge's answer: the learner's scenario.
	Scenario sim.Scenario `json:"scenario"`
	// Query is a query challenge's answer.
	Query Query `json:"query"`
	// Items are a review challenge's answer: checklist item ids.
	Items []string `json:"items"`
}

// Verdict is a challenge's judgement of an answer.
type Verdict struct {
	// Solved is true only when the answer meets the challenge.
	Solved bool `json:"solved"`
	// Why says in a sentence what the answer got right or missed, with
	// the numbers the run measured.
	Why string `json:"why"`
}

// StartAnswer is the answer the learner starts from; it never solves the
// challenge (`lessons check` confirms it).
func (c *Challenge) StartAnswer() Answer {
	return Answer{Scenario: c.Start, Query: c.StartQuery}
}

// SolutionAnswer is the lesson's own solution, shown to a learner who asks.
func (c *Challenge) SolutionAnswer() Answer {
	return Answer{Scenario: c.Solution, Query: c.SolutionQuery, Items: slices.Clone(c.SolutionItems)}
}

// Check judges a learner's answer, running what it needs. An answer the
// challenge does not allow (a parameter May does not list changed, an
// unknown checklist item, a query that is not a read) is an error, a
// *sim.InputError naming the field, and not a verdict.
func (c *Challenge) Check(ctx context.Context, a Answer) (Verdict, error) {
	switch c.Kind {
	case ChallengeRun:
		if err := c.Allowed(a.Scenario); err != nil {
			return Verdict{}, err
		}
		res, err := sim.Run(a.Scenario, nil)
		if err != nil {
			return Verdict{}, err
		}
		return c.CheckRun(a.Scenario, res.Report)
	case ChallengeQuery:
		return c.checkQuery(ctx, a.Query)
	}
	return c.checkReview(a.Items)
}

// CheckRun judges the report r of the learner's run of sc, for a server
// that has run sc already (ChallengeRun only).
func (c *Challenge) CheckRun(sc sim.Scenario, r sim.Report) (Verdict, error) {
	if c.Kind != ChallengeRun {
		return Verdict{}, fmt.Errorf("CheckRun judges a run challenge; this is a %s challenge", c.Kind)
	}
	if err := c.Allowed(sc); err != nil {
		return Verdict{}, err
	}
	for _, k := range c.Goal.Keys() {
		if _, err := ReportValue(r, k); err != nil {
			return Verdict{Why: fmt.Sprintf("Design %s does not measure %s, so its run cannot meet %s; pick a design that does.",
				r.Design, k, c.Goal)}, nil
		}
	}
	why, err := c.Goal.Explain(r)
	if err != nil {
		return Verdict{}, err
	}
	if why == "" {
		return Verdict{Solved: true, Why: fmt.Sprintf("Solved: the run of %s meets %s.", r.Design, c.Goal)}, nil
	}
	return Verdict{Why: fmt.Sprintf("Not yet: %s.", why)}, nil
}

// Allowed checks that sc differs from Start only in what May allows.
func (c *Challenge) Allowed(sc sim.Scenario) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	if err := lessonSized(sc); err != nil {
		return err
	}
	may := strings.Join(c.May, ", ")
	for _, name := range sim.ParamNames {
		if name == "faults" {
			continue
		}
		if !slices.Contains(c.May, name) && sc.Param(name) != c.Start.Param(name) {
			return &sim.InputError{Field: name, Msg: fmt.Sprintf("this challenge keeps %s at %s; you may change: %s",
				name, c.Start.Param(name), may)}
		}
	}
	if slices.Contains(c.May, "faults") {
		return nil
	}
	for _, f := range sim.AllFaults() {
		if !slices.Contains(c.May, f.String()) && sc.Faults[f] != c.Start.Faults[f] {
			return &sim.InputError{Field: "faults", Msg: fmt.Sprintf("this challenge keeps fault %s at %s; you may change: %s",
				f, strconv.FormatFloat(c.Start.Faults[f], 'g', -1, 64), may)}
		}
	}
	return nil
}

// prepare runs the start scenario once for a query or review challenge.
func (c *Challenge) prepare() error {
	c.once.Do(func() {
		switch c.Kind {
		case ChallengeQuery:
			c.expected, c.snap, c.err = markedPayments(c.Start, c.Find)
		case ChallengeReview:
			var res sim.Result
			res, c.err = sim.Run(c.Start, nil)
			for _, v := range checklist.Evaluate(res.Report) {
				if v.Verdict == checklist.Fail {
					c.failing = append(c.failing, v.ID)
				}
			}
		}
	})
	return c.err
}

// markedPayments runs sc once and returns the ids of the payments whose
// evidence events the checker marked with key, in order, each once, and
// the run's databases.
func markedPayments(sc sim.Scenario, key string) ([]int64, *sim.Snapshot, error) {
	events, _, snap, err := sim.RecordSnapshot(sc)
	if err != nil {
		return nil, nil, err
	}
	var ids []int64
	for _, ev := range events {
		if ev.Violation != key {
			continue
		}
		if ev.Payment == 0 {
			return nil, nil, fmt.Errorf("event %d, marked %s, names no payment", ev.ID, key)
		}
		if id := int64(ev.Payment); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, snap, nil
}

// Expected is what a query or review challenge's answer must be, from the
// start run: the payment ids (query) as text, or the failing items
// (review). It is for `lessons check` and tests; pages show the solution.
func (c *Challenge) Expected() ([]string, error) {
	if err := c.prepare(); err != nil {
		return nil, err
	}
	if c.Kind == ChallengeReview {
		return slices.Clone(c.failing), nil
	}
	out := make([]string, len(c.expected))
	for i, id := range c.expected {
		out[i] = strconv.FormatInt(id, 10)
	}
	return out, nil
}

func (c *Challenge) checkQuery(ctx context.Context, q Query) (Verdict, error) {
	if err := c.prepare(); err != nil {
		return Verdict{}, err
	}
	t, err := sandbox.Query(ctx, c.snap, q.DB, q.SQL)
	if err != nil {
		return Verdict{}, err
	}
	if len(t.Columns) == 0 {
		return Verdict{Why: "Not yet: the query returned no columns; its first column must be payment ids."}, nil
	}
	var got []int64
	for _, row := range t.Rows {
		id, ok := row[0].(int64)
		if !ok {
			return Verdict{Why: fmt.Sprintf("Not yet: the first column holds %v, not a payment id; put the payment ids first.", row[0])}, nil
		}
		got = append(got, id)
	}
	if t.Truncated {
		return Verdict{Why: fmt.Sprintf("Not yet: the query returned more than %d rows; the run has %d %s payments.",
			len(t.Rows), len(c.expected), c.Find)}, nil
	}
	var wrong, dup []int64
	seen := map[int64]bool{}
	for _, id := range got {
		if seen[id] {
			dup = append(dup, id)
		}
		seen[id] = true
		if !slices.Contains(c.expected, id) {
			wrong = append(wrong, id)
		}
	}
	missing := 0
	for _, id := range c.expected {
		if !seen[id] {
			missing++
		}
	}
	if len(wrong) == 0 && len(dup) == 0 && missing == 0 {
		return Verdict{Solved: true, Why: fmt.Sprintf("Solved: the query returned exactly the %d %s payments the checker counted.",
			len(c.expected), c.Find)}, nil
	}
	var parts []string
	if len(wrong) > 0 {
		parts = append(parts, fmt.Sprintf("%d of its ids are not %s (payment %d, for one)", len(wrong), c.Find, wrong[0]))
	}
	if missing > 0 {
		parts = append(parts, fmt.Sprintf("it misses %d of the %d %s payments", missing, len(c.expected), c.Find))
	}
	if len(dup) > 0 {
		parts = append(parts, fmt.Sprintf("payment %d appears more than once", dup[0]))
	}
	return Verdict{Why: fmt.Sprintf("Not yet: the query returned %d rows; %s.", len(got), strings.Join(parts, "; "))}, nil
}

func (c *Challenge) checkReview(items []string) (Verdict, error) {
	for _, id := range items {
		if _, ok := checklist.ItemByID(id); !ok {
			return Verdict{}, &sim.InputError{Field: "items", Msg: fmt.Sprintf("checklist item %q is unknown; allowed: %s", id, strings.Join(itemIDs(), ", "))}
		}
	}
	if err := c.prepare(); err != nil {
		return Verdict{}, err
	}
	right, extra := 0, 0
	for _, id := range dedup(items) {
		if slices.Contains(c.failing, id) {
			right++
		} else {
			extra++
		}
	}
	missing := len(c.failing) - right
	if extra == 0 && missing == 0 {
		return Verdict{Solved: true, Why: fmt.Sprintf("Solved: %s fails exactly these %d items under /compare's scenario.", c.Design, right)}, nil
	}
	var parts []string
	if right > 0 {
		parts = append(parts, fmt.Sprintf("%d of your picks %s", right, plural(right, "fails", "fail")))
	}
	if extra > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", extra, plural(extra, "holds or is not tested", "hold or are not tested")))
	}
	if missing > 0 {
		parts = append(parts, fmt.Sprintf("%d failing %s missing", missing, plural(missing, "item is", "items are")))
	}
	return Verdict{Why: "Not yet: " + strings.Join(parts, ", ") + "."}, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func dedup(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// challenge reads a challenge step's settings.
func (p *parser) challenge(n *yaml.Node, base, headLine int) *Challenge {
	f := p.mapping(base, n, "a challenge step",
		[]string{"goal", "start", "may", "solution", "find", "query", "review"}, nil)
	if f == nil {
		return nil
	}
	c := &Challenge{}
	only := func(kind string, fields ...string) {
		for _, k := range []string{"goal", "start", "may", "solution", "find", "query", "review"} {
			if f[k] != nil && !slices.Contains(fields, k) {
				p.problem(line(base, f[k]), "field %q does not belong in a %s challenge; its fields: %s", k, kind, strings.Join(fields, ", "))
			}
		}
		for _, k := range fields {
			if f[k] == nil {
				p.problem(line(base, n), "field %q is missing from a %s challenge", k, kind)
			}
		}
	}
	switch {
	case f["goal"] != nil:
		c.Kind = ChallengeRun
		only("run", "goal", "start", "may", "solution")
		if len(p.ps) > 0 {
			return c
		}
		c.Goal = p.cond(base, f["goal"], "goal")
		c.Start, _ = p.scenario(base, f["start"], false)
		c.Solution, _ = p.scenario(base, f["solution"], false)
		for _, it := range p.list(base, f["may"], "may") {
			_, isFault := sim.LookupFault(it.v)
			if !isFault && !slices.Contains(sim.ParamNames, it.v) {
				p.problem(it.line, "may: %q is neither a scenario parameter nor a fault; allowed: %s, or a fault: %s",
					it.v, strings.Join(sim.ParamNames, ", "), strings.Join(sim.FaultNames(), ", "))
				continue
			}
			c.May = append(c.May, it.v)
		}
		if len(c.May) == 0 {
			p.problem(line(base, f["may"]), "may lists nothing; a learner must be able to change something")
		}
		if c.Goal != nil {
			for _, k := range c.Goal.Keys() {
				if !strings.HasPrefix(k, "injected.") && !Measures(c.Start.Design, k) && !Measures(c.Solution.Design, k) {
					p.problem(line(base, f["goal"]), "goal: report key %s is measured by neither design %s nor %s",
						k, c.Start.Design, c.Solution.Design)
				}
			}
		}
	case f["find"] != nil:
		c.Kind = ChallengeQuery
		only("query", "find", "start", "query", "solution")
		if len(p.ps) > 0 {
			return c
		}
		c.Find = p.scalar(base, f["find"], "find")
		if !slices.Contains(violationKeys(), c.Find) {
			p.problem(line(base, f["find"]), "find: %q is not a violation key; allowed: %s", c.Find, strings.Join(violationKeys(), ", "))
		}
		c.Start, _ = p.scenario(base, f["start"], false)
		c.StartQuery = p.query(base, f["query"], "query")
		c.SolutionQuery = p.query(base, f["solution"], "solution")
	case f["review"] != nil:
		c.Kind = ChallengeReview
		only("review", "review", "solution")
		if len(p.ps) > 0 {
			return c
		}
		c.Design = p.scalar(base, f["review"], "review")
		if _, ok := sim.LookupDesign(c.Design); !ok {
			p.problem(line(base, f["review"]), "review: design %q is unknown; allowed: %s", c.Design, strings.Join(sim.DesignNames(), ", "))
		}
		c.Start = checklist.StandardScenario(c.Design)
		for _, it := range p.list(base, f["solution"], "solution") {
			if _, ok := checklist.ItemByID(it.v); !ok {
				p.problem(it.line, "checklist item %q is unknown; allowed: %s", it.v, strings.Join(itemIDs(), ", "))
				continue
			}
			c.SolutionItems = append(c.SolutionItems, it.v)
		}
	default:
		p.problem(headLine, "a challenge needs goal (a run challenge), find (a query challenge) or review (a checklist challenge)")
	}
	return c
}

func (p *parser) query(base int, n *yaml.Node, field string) Query {
	f := p.mapping(base, n, field, []string{"db", "sql"}, []string{"db", "sql"})
	if f == nil || f["db"] == nil || f["sql"] == nil {
		return Query{}
	}
	return Query{DB: p.scalar(base, f["db"], "db"), SQL: p.scalar(base, f["sql"], "sql")}
}
