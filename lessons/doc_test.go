package lessons

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestThePackageDocExampleIsAWorkingLesson keeps the trainers' reference
// honest: the example lesson in doc.go parses and passes its check.
func TestThePackageDocExampleIsAWorkingLesson(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "// A complete lesson, the shape of every built-in one:\n//\n")
	example, _, ok2 := strings.Cut(rest, "\n//\n// # Using the package")
	if !ok || !ok2 {
		t.Fatal("doc.go has no example lesson between its markers")
	}
	var b strings.Builder
	for _, line := range strings.Split(example, "\n") {
		line = strings.TrimPrefix(line, "//")
		b.WriteString(strings.TrimPrefix(line, "\t"))
		b.WriteByte('\n')
	}
	l, err := Parse("doc.go example", []byte(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(l.Steps) != 5 {
		t.Errorf("the example has %d steps; want one of each kind", len(l.Steps))
	}
	for _, p := range Check(context.Background(), l) {
		t.Error(p)
	}
}
