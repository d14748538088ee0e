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
)

// The design files are embedded so that the source the UI shows is the very
// code that runs, read at build time, never a copy that can drift.
//
//go:embed design_*.go
var designFiles embed.FS

// SourceFunc is one function of a design's source, as written in sim.
type SourceFunc struct {
	// Role is "client", "service", "relay" or "consumer".
	Role string `json:"role"`
	// Name is the Go function's name.
	Name string `json:"name"`
	// Code is the function with its doc comment.
	Code string `json:"code"`
}

// DesignSource returns the Go source of the functions a design runs.
func DesignSource(name string) ([]SourceFunc, error) {
	d, ok := lookupDesign(name)
	if !ok {
		return nil, inputErr("design", "design %q is unknown; allowed: %s", name, strings.Join(DesignNames(), ", "))
	}
	var out []SourceFunc
	add := func(role string, fn any) error {
		if reflect.ValueOf(fn).IsNil() {
			return nil
		}
		full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
		short := full[strings.LastIndexByte(full, '.')+1:]
		code, err := funcSource(short)
		if err != nil {
			return err
		}
		out = append(out, SourceFunc{Role: role, Name: short, Code: code})
		return nil
	}
	for _, f := range []struct {
		role string
		fn   any
	}{{"client", d.Client}, {"service", d.Handle}, {"relay", d.Relay}, {"consumer", d.Consume}} {
		if err := add(f.role, f.fn); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// funcSource finds a top-level function by name in the embedded design
// files and returns its text, doc comment included.
func funcSource(name string) (string, error) {
	entries, err := designFiles.ReadDir(".")
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		src, err := designFiles.ReadFile(e.Name())
		if err != nil {
			return "", err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, e.Name(), src, parser.ParseComments)
		if err != nil {
			return "", err
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || fd.Name.Name != name {
				continue
			}
			start := fd.Pos()
			if fd.Doc != nil {
				start = fd.Doc.Pos()
			}
			return string(src[fset.Position(start).Offset:fset.Position(fd.End()).Offset]), nil
		}
	}
	return "", fmt.Errorf("sim: source of %s not found", name)
}
