package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"partialtruth/checklist"
)

func TestChecklistCommandPrintsTheMarkdownExport(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"checklist", "-base", "https://pt.example"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := checklist.WriteMarkdown(&want, "https://pt.example"); err != nil {
		t.Fatal(err)
	}
	if out.String() != want.String() {
		t.Errorf("`checklist` printed something other than the export")
	}
}

func TestRunJSONCarriesAVerdictPerItem(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"run", "-json", "-design", "dual-write", "-payments", "200", "-faults", "bus.publish.fail=0.1"}
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Lost           int                 `json:"lost"`
		FirstViolation map[string]int      `json:"first_violation"`
		Checklist      []checklist.Verdict `json:"checklist"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Checklist) != len(checklist.Items()) {
		t.Fatalf("%d verdicts, want %d", len(got.Checklist), len(checklist.Items()))
	}
	v := got.Checklist[0]
	if v.ID != "atomic-publish" || v.Verdict != checklist.Fail || v.Count != got.Lost || v.Event != got.FirstViolation["lost"] {
		t.Errorf("first verdict %+v; want atomic-publish failing with lost=%d at event %d", v, got.Lost, got.FirstViolation["lost"])
	}
}
