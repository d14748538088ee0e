package checklist

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestMarkdownMatchesGolden keeps the export a reviewer pastes under
// review: any change to an item's words or links shows up as a diff of
// testdata/checklist.md. Refresh it with go test ./checklist -update.
func TestMarkdownMatchesGolden(t *testing.T) {
	var got bytes.Buffer
	if err := WriteMarkdown(&got, "http://localhost:8080"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "checklist.md")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./checklist -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("the Markdown export differs from %s; if the change is meant, run go test ./checklist -update and review the diff", path)
	}
}
