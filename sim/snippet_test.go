package sim

import (
	"strings"
	"testing"
)

// Every marked region exists where the checklist expects one, lies in a
// function a design runs, and is a list of Go statements: cut from a
// function that compiles, it reads as code on its own.
func TestSnippetsAreRegionsOfFunctionsDesignsRun(t *testing.T) {
	all, err := Snippets()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no snippet is marked in the design files")
	}
	for _, s := range all {
		if s.Name == "" || strings.TrimSpace(s.Code) == "" {
			t.Errorf("snippet %q in %s is empty or unnamed", s.Name, s.Func)
		}
		if err := parsesAsStatements(s.Code); err != nil {
			t.Errorf("snippet %s (%s) does not parse as statements: %v\n%s", s.Name, s.Func, err, s.Code)
		}
		src, err := DesignSource(s.Design)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range src {
			found = found || f.Name == s.Func && strings.Contains(f.Code, s.Code[:strings.IndexByte(s.Code+"\n", '\n')])
		}
		if !found {
			t.Errorf("snippet %s: design %s does not run %s, or its code lacks the region", s.Name, s.Design, s.Func)
		}
		got, err := LookupSnippet(s.Name)
		if err != nil || got != s {
			t.Errorf("LookupSnippet(%q) = %+v, %v", s.Name, got, err)
		}
	}
	if _, err := LookupSnippet("no-such-snippet"); err == nil || !strings.Contains(err.Error(), "no-such-snippet") {
		t.Errorf("an unknown snippet's error does not name it: %v", err)
	}
}

// The cutter refuses regions that would show code that is not whole.
func TestCutSnippetsRefusesBrokenMarkers(t *testing.T) {
	for name, code := range map[string]string{
		"never closed": "func f() {\n\t// snippet:a\n\tx := 1\n}",
		"never opened": "func f() {\n\tx := 1\n\t// end snippet\n}",
		"nested":       "func f() {\n\t// snippet:a\n\t// snippet:b\n\t// end snippet\n}",
	} {
		if _, err := cutSnippets("f", code); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	got, err := cutSnippets("f", "func f() {\n\t// snippet:a\n\tif x {\n\t\ty()\n\t}\n\t// end snippet\n}")
	if err != nil || len(got) != 1 || got[0].Code != "if x {\n\ty()\n}" {
		t.Errorf("cut %+v, %v; want the region dedented", got, err)
	}
}
