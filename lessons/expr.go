package lessons

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"partialtruth/sim"
)

// Cond is a condition over a run's report, written in the report's own
// vocabulary: "lost = 0 and duplicate_effects = 0", "charges > payments",
// "injected.bus.ack.lost > 0 or converged = false". Goals, expectations and
// the options of a choice are all conditions, so a lesson states what a run
// must show in the same words `run -json` prints.
//
// Grammar: one or more comparisons joined by "and" or "or" ("and" binds
// tighter; there are no parentheses). A comparison is two operands and one
// of = != < <= > >=. An operand is a whole number, true, false, a report
// key (see ReportKeys) or injected.<fault> (how often that fault fired).
type Cond struct {
	src string
	any [][]cmp // or of ands
}

type cmp struct {
	left, right operand
	op          string
}

type operand struct {
	key string // report key or injected.<fault>; "" for a literal
	n   int64
	lit string // a literal as written: "true", "false", or the number
}

// maxCondLen bounds a condition's text: conditions come from files a
// trainer writes, and from fuzzing.
const maxCondLen = 1000

// ParseCond parses a condition, checking every key against the report's
// vocabulary.
func ParseCond(src string) (*Cond, error) {
	if len(src) > maxCondLen {
		return nil, fmt.Errorf("condition is %d bytes long; allowed: at most %d", len(src), maxCondLen)
	}
	toks := strings.Fields(spaceOps(src))
	if len(toks) == 0 {
		return nil, fmt.Errorf("condition is empty; allowed: comparisons such as \"lost = 0 and phantom = 0\"")
	}
	c := &Cond{src: strings.Join(strings.Fields(src), " ")}
	var and []cmp
	for i := 0; ; {
		if i+3 > len(toks) {
			return nil, fmt.Errorf("condition %q ends early; each comparison is an operand, an operator and an operand", src)
		}
		l, err := parseOperand(toks[i])
		if err != nil {
			return nil, err
		}
		op := toks[i+1]
		if op == "==" {
			op = "="
		}
		if !slices.Contains(ops, op) {
			return nil, fmt.Errorf("operator %q is unknown; allowed: %s", toks[i+1], strings.Join(ops, " "))
		}
		r, err := parseOperand(toks[i+2])
		if err != nil {
			return nil, err
		}
		if l.key == "" && r.key == "" {
			return nil, fmt.Errorf("comparison %q compares two numbers; one side must be a report key", strings.Join(toks[i:i+3], " "))
		}
		and = append(and, cmp{left: l, right: r, op: op})
		i += 3
		if i == len(toks) {
			c.any = append(c.any, and)
			return c, nil
		}
		switch toks[i] {
		case "and":
		case "or":
			c.any = append(c.any, and)
			and = nil
		default:
			return nil, fmt.Errorf("%q follows a comparison; allowed: and, or", toks[i])
		}
		i++
	}
}

var ops = []string{"=", "!=", "<", "<=", ">", ">="}

// spaceOps puts spaces around operators so that "lost=0" reads as "lost = 0".
func spaceOps(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '=' || ch == '!' || ch == '<' || ch == '>' {
			j := i + 1
			for j < len(s) && (s[j] == '=' || s[j] == '!' || s[j] == '<' || s[j] == '>') {
				j++
			}
			b.WriteByte(' ')
			b.WriteString(s[i:j])
			b.WriteByte(' ')
			i = j - 1
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func parseOperand(tok string) (operand, error) {
	switch tok {
	case "true":
		return operand{n: 1, lit: tok}, nil
	case "false":
		return operand{n: 0, lit: tok}, nil
	}
	if n, err := strconv.ParseInt(tok, 10, 64); err == nil {
		return operand{n: n, lit: strconv.FormatInt(n, 10)}, nil
	}
	if f, ok := strings.CutPrefix(tok, "injected."); ok {
		if _, known := sim.LookupFault(f); !known {
			return operand{}, fmt.Errorf("fault %q is unknown; allowed: %s", f, strings.Join(sim.FaultNames(), ", "))
		}
		return operand{key: tok}, nil
	}
	if !slices.Contains(ReportKeys(), tok) {
		return operand{}, fmt.Errorf("report key %q is unknown; allowed: a number, true, false, injected.<fault> or one of %s",
			tok, strings.Join(ReportKeys(), ", "))
	}
	return operand{key: tok}, nil
}

// String returns the condition as written, with its spacing tidied.
func (c *Cond) String() string { return c.src }

// Keys lists the report keys the condition reads, in order, each once.
func (c *Cond) Keys() []string {
	var out []string
	for _, and := range c.any {
		for _, t := range and {
			for _, o := range []operand{t.left, t.right} {
				if o.key != "" && !slices.Contains(out, o.key) {
					out = append(out, o.key)
				}
			}
		}
	}
	return out
}

// Eval tells whether r meets the condition. An error means r does not
// measure a key the condition reads (a retry design's run has no ledger,
// so "lost = 0" says nothing about it); it names the key and the design.
func (c *Cond) Eval(r sim.Report) (bool, error) {
	ok, _, err := c.eval(r)
	return ok, err
}

// Explain says why r does not meet the condition, naming each comparison
// that fails with the value the run measured; "" when it is met.
func (c *Cond) Explain(r sim.Report) (string, error) {
	ok, misses, err := c.eval(r)
	if err != nil || ok {
		return "", err
	}
	return strings.Join(misses, "; "), nil
}

func (c *Cond) eval(r sim.Report) (bool, []string, error) {
	var misses []string
	for _, and := range c.any {
		held := true
		for _, t := range and {
			l, err := value(t.left, r)
			if err != nil {
				return false, nil, err
			}
			rv, err := value(t.right, r)
			if err != nil {
				return false, nil, err
			}
			if !compare(l, t.op, rv) {
				held = false
				misses = append(misses, t.miss(l, rv))
			}
		}
		if held {
			return true, nil, nil
		}
	}
	return false, misses, nil
}

// Term is one comparison of a condition, judged on one run: what a page
// shows beside a goal, line by line.
type Term struct {
	// Text is the comparison as written: "lost = 0".
	Text string
	// Holds tells whether the run meets it.
	Holds bool
	// Measured says what the run measured for the comparison's keys
	// ("lost is 18"), or why it cannot ("… is not measured by design …").
	Measured string
}

// Terms judges each comparison of the condition on r, in order. (Whether
// the whole condition holds also depends on how they are joined: Eval.)
func (c *Cond) Terms(r sim.Report) []Term {
	var out []Term
	for _, and := range c.any {
		for _, t := range and {
			term := Term{Text: t.text()}
			l, errL := value(t.left, r)
			rv, errR := value(t.right, r)
			if err := errors.Join(errL, errR); err != nil {
				term.Measured = err.Error()
				out = append(out, term)
				continue
			}
			term.Holds = compare(l, t.op, rv)
			var parts []string
			for _, side := range []struct {
				o operand
				v int64
			}{{t.left, l}, {t.right, rv}} {
				if side.o.key != "" {
					parts = append(parts, fmt.Sprintf("%s is %s", side.o.key, valueText(side.o.key, side.v)))
				}
			}
			term.Measured = strings.Join(parts, ", ")
			out = append(out, term)
		}
	}
	return out
}

func (t cmp) text() string {
	side := func(o operand) string {
		if o.key != "" {
			return o.key
		}
		return o.text()
	}
	return side(t.left) + " " + t.op + " " + side(t.right)
}

func (t cmp) miss(l, r int64) string {
	side := func(o operand, v int64) string {
		if o.key == "" {
			return o.text()
		}
		return fmt.Sprintf("%s is %s", o.key, valueText(o.key, v))
	}
	switch {
	case t.left.key != "" && t.right.key == "":
		return fmt.Sprintf("%s, not %s %s", side(t.left, l), t.op, t.right.text())
	case t.left.key == "" && t.right.key != "":
		return fmt.Sprintf("%s, not %s %s", side(t.right, r), flip[t.op], t.left.text())
	}
	return fmt.Sprintf("%s and %s, not %s %s %s", side(t.left, l), side(t.right, r), t.left.key, t.op, t.right.key)
}

var flip = map[string]string{"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

func (o operand) text() string { return o.lit }

func valueText(key string, v int64) string {
	if key == "converged" {
		return strconv.FormatBool(v != 0)
	}
	return strconv.FormatInt(v, 10)
}

func compare(l int64, op string, r int64) bool {
	switch op {
	case "=":
		return l == r
	case "!=":
		return l != r
	case "<":
		return l < r
	case "<=":
		return l <= r
	case ">":
		return l > r
	}
	return l >= r
}

func value(o operand, r sim.Report) (int64, error) {
	if o.key == "" {
		return o.n, nil
	}
	return ReportValue(r, o.key)
}

// ReportValue returns a report key's value as a number (true is 1) for a
// run that measures it; injected.<fault> is how often the fault fired. A
// key the run's design does not measure is an error naming both.
func ReportValue(r sim.Report, key string) (int64, error) {
	if f, ok := strings.CutPrefix(key, "injected."); ok {
		return int64(r.Injected[f]), nil
	}
	if !Measures(r.Design, key) {
		return 0, fmt.Errorf("report key %s is not measured by design %s; it measures %s",
			key, r.Design, strings.Join(measuredKeys(r.Design), ", "))
	}
	switch key {
	case "payments":
		return int64(r.Payments), nil
	case "converged":
		if r.Converged {
			return 1, nil
		}
		return 0, nil
	case "events":
		return int64(r.Events), nil
	case "end_ms":
		return r.EndMs, nil
	}
	return int64(r.Count(key)), nil
}

// everyRunKeys are the report keys every design's runs carry.
var everyRunKeys = []string{"payments", "converged", "events", "end_ms"}

// Measures tells whether design's runs measure key: the keys every run
// carries, and the design's own counters (sim.Design.Metrics).
func Measures(design, key string) bool {
	return slices.Contains(measuredKeys(design), key)
}

func measuredKeys(design string) []string {
	d, ok := sim.LookupDesign(design)
	if !ok {
		return everyRunKeys
	}
	return append(slices.Clip(everyRunKeys), d.Metrics...)
}

var reportKeys = func() []string {
	var out []string
	t := reflect.TypeFor[sim.Report]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int64, reflect.Bool:
			if name != "" && name != "-" {
				out = append(out, name)
			}
		}
	}
	return append(out, sim.FamilyReportKeys()...)
}()

// ReportKeys lists the report's numeric and boolean keys, as `run -json`
// names them, in the report's order. Conditions and prose templates may use
// these; "seed" is left out because no lesson needs to compare it.
func ReportKeys() []string { return reportKeys }
