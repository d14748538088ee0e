package sim

import (
	"fmt"
	"go/parser"
	"reflect"
	"runtime"
	"slices"
	"strings"
)

// Snippet is a region of a design's source that the checklist quotes as
// its good (or bad) code: the lines between a `// snippet:NAME` comment and
// the next `// end snippet` inside one function of a design_*.go file. The
// checklist cuts its code from the function that runs, so the reference a
// reviewer copies cannot drift from the code the simulator proved.
type Snippet struct {
	// Name is the region's name, as its opening marker spells it.
	Name string `json:"name"`
	// Func is the function the region is cut from.
	Func string `json:"func"`
	// Design is the first design, in teaching order, that runs Func.
	Design string `json:"design"`
	// Code is the region's lines, their common indentation removed.
	Code string `json:"code"`
}

const (
	snippetOpen  = "// snippet:"
	snippetClose = "// end snippet"
)

// LookupSnippet returns the marked region called name.
func LookupSnippet(name string) (Snippet, error) {
	all, err := Snippets()
	if err != nil {
		return Snippet{}, err
	}
	for _, s := range all {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name
	}
	return Snippet{}, inputErr("snippet", "snippet %q is not marked in any design; marked: %s", name, strings.Join(names, ", "))
}

// Snippets lists every marked region of the design files, sorted by name.
// A marker left open, a region outside a function, a name used twice or a
// region in a function no design runs is an error, since the checklist
// would then show code that does not run.
func Snippets() ([]Snippet, error) {
	src, err := loadDesignSource()
	if err != nil {
		return nil, err
	}
	return src.snippets, src.snippetErr
}

// cutSnippets finds the marked regions of one function's code.
func cutSnippets(fn, code string) ([]Snippet, error) {
	var out []Snippet
	var open *Snippet
	var lines []string
	for line := range strings.SplitSeq(code, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, snippetOpen):
			if open != nil {
				return nil, fmt.Errorf("sim: snippet %q in %s opens inside snippet %q", trimmed, fn, open.Name)
			}
			open = &Snippet{Name: strings.TrimSpace(strings.TrimPrefix(trimmed, snippetOpen)), Func: fn}
			lines = nil
		case trimmed == snippetClose:
			if open == nil {
				return nil, fmt.Errorf("sim: %s closes a snippet that was never opened", fn)
			}
			open.Code = dedent(lines)
			out = append(out, *open)
			open = nil
		case open != nil:
			lines = append(lines, line)
		}
	}
	if open != nil {
		return nil, fmt.Errorf("sim: snippet %q in %s is never closed", open.Name, fn)
	}
	return out, nil
}

// dedent removes the indentation of the region's first line from every
// line that has it; a raw string's continuation lines keep theirs.
func dedent(lines []string) string {
	base := ""
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			base = l[:len(l)-len(strings.TrimLeft(l, "\t"))]
			break
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimRight(strings.TrimPrefix(l, base), " \t")
	}
	return strings.Trim(strings.Join(out, "\n"), "\n")
}

// snippetsOf collects the regions of every function and names the design
// that runs each.
func snippetsOf(funcs map[string]sourceFunc) ([]Snippet, error) {
	runs := map[string]string{} // function: first design that runs it
	for _, d := range designs {
		for _, fn := range []any{d.Client, d.Handle, d.Writer, d.Relay, d.Consume} {
			if reflect.ValueOf(fn).IsNil() {
				continue
			}
			full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
			short := full[strings.LastIndexByte(full, '.')+1:]
			if _, ok := runs[short]; !ok {
				runs[short] = d.Name
			}
		}
	}
	var out []Snippet
	seen := map[string]string{}
	for name, f := range funcs {
		cut, err := cutSnippets(name, f.body)
		if err != nil {
			return nil, err
		}
		for _, s := range cut {
			if other, dup := seen[s.Name]; dup {
				return nil, fmt.Errorf("sim: snippet %q is marked in both %s and %s", s.Name, other, name)
			}
			seen[s.Name] = name
			s.Design = runs[name]
			if s.Design == "" {
				return nil, fmt.Errorf("sim: snippet %q is in %s, which no design runs", s.Name, name)
			}
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Snippet) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// parsesAsStatements reports whether code is a list of Go statements, as
// a region cut from a function body must be.
func parsesAsStatements(code string) error {
	_, err := parser.ParseExpr("func() {\n" + code + "\n}")
	return err
}
