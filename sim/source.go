package sim

import (
	"embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"runtime"
	"strings"
	"sync"
)

// The design files are embedded so that the source the UI shows is the very
// code that runs, read at build time, never a copy that can drift.
//
//go:embed design_*.go
var designFiles embed.FS

// SourceFunc is one function of a design's source, as written in sim.
type SourceFunc struct {
	// Role is "client", "service", "writer", "relay" or "consumer".
	Role string `json:"role"`
	// Name is the Go function's name.
	Name string `json:"name"`
	// Code is the function with its doc comment, followed by each constant
	// and variable of the design files that it uses (the SQL statements
	// it runs among them), with theirs.
	Code string `json:"code"`
}

// DesignSource returns the Go source of the functions a design runs, so
// that the reader sees every statement the design runs.
func DesignSource(name string) ([]SourceFunc, error) {
	d, ok := lookupDesign(name)
	if !ok {
		return nil, inputErr("design", "design %q is unknown; allowed: %s", name, strings.Join(DesignNames(), ", "))
	}
	src, err := loadDesignSource()
	if err != nil {
		return nil, err
	}
	var out []SourceFunc
	for _, f := range []struct {
		role string
		fn   any
	}{{"client", d.Client}, {"service", d.Handle}, {"writer", d.Writer}, {"relay", d.Relay}, {"consumer", d.Consume}} {
		if reflect.ValueOf(f.fn).IsNil() {
			continue
		}
		full := runtime.FuncForPC(reflect.ValueOf(f.fn).Pointer()).Name()
		short := full[strings.LastIndexByte(full, '.')+1:]
		fn, ok := src.funcs[short]
		if !ok {
			return nil, fmt.Errorf("sim: source of %s not found", short)
		}
		out = append(out, SourceFunc{Role: f.role, Name: short, Code: fn.code})
	}
	return out, nil
}

// designSource is the embedded design files, read once: the code of each
// top-level function, with the constants and variables it uses appended.
type designSource struct {
	funcs map[string]sourceFunc
	// snippets are the marked regions (snippet.go); snippetErr says why
	// they could not be cut, for the test that holds them to the rules.
	snippets   []Snippet
	snippetErr error
}

type sourceFunc struct {
	code string
	// body is the function alone, with its doc comment.
	body string
}

var (
	designSourceOnce sync.Once
	designSourceVal  *designSource
	designSourceErr  error
)

func loadDesignSource() (*designSource, error) {
	designSourceOnce.Do(func() { designSourceVal, designSourceErr = readDesignSource() })
	return designSourceVal, designSourceErr
}

func readDesignSource() (*designSource, error) {
	entries, err := designFiles.ReadDir(".")
	if err != nil {
		return nil, err
	}
	ds := &designSource{funcs: map[string]sourceFunc{}}
	values := map[string]string{} // a constant's or variable's name: its code
	var bodies []*ast.FuncDecl
	var texts []string
	markers := 0 // snippet markers in the files, inside functions or not
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		src, err := designFiles.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		markers += strings.Count(string(src), snippetOpen) + strings.Count(string(src), snippetClose)
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, e.Name(), src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		text := func(doc *ast.CommentGroup, from, to token.Pos) string {
			if doc != nil {
				from = doc.Pos()
			}
			return string(src[fset.Position(from).Offset:fset.Position(to).Offset])
		}
		for _, decl := range f.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				if decl.Recv == nil {
					bodies = append(bodies, decl)
					texts = append(texts, text(decl.Doc, decl.Pos(), decl.End()))
				}
			case *ast.GenDecl:
				if decl.Tok != token.CONST && decl.Tok != token.VAR {
					continue
				}
				for _, spec := range decl.Specs {
					vs := spec.(*ast.ValueSpec)
					code := text(decl.Doc, decl.Pos(), decl.End()) // a declaration of its own
					if decl.Lparen.IsValid() {
						code = decl.Tok.String() + " " + text(vs.Doc, vs.Pos(), vs.End())
					}
					for _, n := range vs.Names {
						values[n.Name] = code
					}
				}
			}
		}
	}
	for i, fd := range bodies {
		code := texts[i]
		seen := map[string]bool{}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && !seen[id.Name] {
				if v, ok := values[id.Name]; ok {
					seen[id.Name] = true
					code += "\n\n" + v
				}
			}
			return true
		})
		ds.funcs[fd.Name.Name] = sourceFunc{code: code, body: texts[i]}
	}
	inFuncs := 0
	for _, text := range texts {
		inFuncs += strings.Count(text, snippetOpen) + strings.Count(text, snippetClose)
	}
	if inFuncs != markers {
		ds.snippetErr = fmt.Errorf("sim: %d snippet markers of the design files lie outside any function", markers-inFuncs)
	} else {
		ds.snippets, ds.snippetErr = snippetsOf(ds.funcs)
	}
	return ds, nil
}
