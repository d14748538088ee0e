package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"partialtruth/lessons"
	"partialtruth/sim"
)

func TestLessonsCommandListsEachLessonOnALineStartingWithItsID(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"lessons"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	ls, err := lessons.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != len(ls) {
		t.Fatalf("%d lines for %d lessons:\n%s", len(lines), len(ls), out.String())
	}
	for i, l := range ls {
		if !strings.HasPrefix(lines[i], l.ID+" ") || !strings.Contains(lines[i], l.Title) {
			t.Errorf("line %d %q does not start with id %q and name its title", i+1, lines[i], l.ID)
		}
	}
}

func TestLessonsCheckPassesAGoodTrainerFolder(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "lessons/testdata/good.md", filepath.Join(dir, "01-good.md"))
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"lessons", "check", dir}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.HasPrefix(out.String(), "ok: 1 lessons") {
		t.Errorf("output %q", out.String())
	}
}

func TestLessonsCheckNamesFileAndLineOfAFailedExpectation(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("lessons/testdata/good.md")
	if err != nil {
		t.Fatal(err)
	}
	// The run loses payments, so an expectation that it loses none fails.
	bad := strings.Replace(string(good), "expect: lost > 0", "expect: lost = 0", 1)
	if err := os.WriteFile(filepath.Join(dir, "02-bad.md"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"lessons", "check", dir}, &out, &errOut)
	if !errors.Is(err, errLessonsFailed) || exitCode(err, &errOut) != 1 {
		t.Fatalf("err %v; want the check to fail with exit status 1", err)
	}
	want := filepath.Join(dir, "02-bad.md") + ":25: expect lost = 0 does not hold on the run of dual-write: lost is "
	if !strings.HasPrefix(out.String(), want) {
		t.Errorf("output\n%s\nwant it to start with\n%s", out.String(), want)
	}
}

func TestLessonsCheckRefusesATrainerLessonThatTakesABuiltinID(t *testing.T) {
	ls, err := lessons.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good, err := os.ReadFile("lessons/testdata/good.md")
	if err != nil {
		t.Fatal(err)
	}
	clash := strings.Replace(string(good), "id: trainer-dual-write", "id: "+ls[0].ID, 1)
	if err := os.WriteFile(filepath.Join(dir, "01-clash.md"), []byte(clash), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"lessons", "check", dir}, &out, &errOut)
	if !errors.Is(err, errLessonsFailed) || !strings.Contains(out.String(), ":2: id \""+ls[0].ID+"\" is taken") {
		t.Errorf("err %v, output %q", err, out.String())
	}
}

func TestLessonsCommandBadInputExitsTwo(t *testing.T) {
	for _, args := range [][]string{{"lessons", "chek"}, {"lessons", "check", "/no/such/folder"}, {"lessons", "check", "a", "b"}} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if code := exitCode(err, &errOut); code != 2 {
			t.Errorf("%v: exit %d (%v); want 2", args, code, err)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEveryLessonRunReportsWhatRunJSONPrints holds the lessons' numbers to
// the CLI's: each run step's scenario and each challenge's start, given to
// `run -json` as flags, prints the report the lesson's prose is filled in
// from.
func TestEveryLessonRunReportsWhatRunJSONPrints(t *testing.T) {
	ls, err := lessons.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		for i, st := range l.Steps {
			var sc sim.Scenario
			switch {
			case st.Run != nil:
				sc = st.Run.Scenario
			case st.Challenge != nil:
				sc = st.Challenge.Start // a challenge's prose reads its start
			default:
				continue
			}
			res, _, err := l.Result(i)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"run", "-json"}
			for _, kv := range sc.Params() {
				args = append(args, "-"+kv[0], kv[1])
			}
			var out, errOut bytes.Buffer
			if err := run(context.Background(), args, &out, &errOut); err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			var fromCLI, fromLesson map[string]any
			if err := json.Unmarshal(out.Bytes(), &fromCLI); err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(res.Report)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &fromLesson); err != nil {
				t.Fatal(err)
			}
			for k, v := range fromLesson {
				if !reflect.DeepEqual(fromCLI[k], v) {
					t.Errorf("%s:%d: %s is %v in the lesson, %v from run -json", l.File, st.Line, k, v, fromCLI[k])
				}
			}
		}
	}
}
