package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"partialtruth/lessons"
)

func init() {
	commands = append(commands,
		command{"lessons", "list the lessons; 'lessons check [DIR]' runs and checks them", runLessons},
	)
}

const lessonsUsage = `Usage:
  partialtruth lessons              list the built-in lessons, one a line, id first
  partialtruth lessons check        parse, run and check every built-in lesson
  partialtruth lessons check DIR    the same for a trainer's lesson files in DIR
`

// runLessons is `partialtruth lessons`.
func runLessons(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stderr, lessonsUsage)
		return nil
	}
	if len(args) == 0 {
		ls, err := lessons.Builtin()
		if err != nil {
			return err
		}
		for _, l := range ls {
			fmt.Fprintf(stdout, "%-24s %s: %s\n", l.ID, l.Title, l.Summary)
		}
		return nil
	}
	if args[0] != "check" {
		return badInput("lessons: %q is not a subcommand; allowed: check (or nothing, to list them)", args[0])
	}
	if len(args) > 2 {
		return badInput("lessons check: unexpected argument %q; it takes at most one folder", args[2])
	}
	dir := ""
	if len(args) == 2 {
		dir = args[1]
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return badInput("lessons check: %q is not a folder; give the folder that holds the lesson files", dir)
		}
	}
	return checkLessons(ctx, dir, stdout)
}

// errLessonsFailed is a check that found problems; they are printed
// already, one a line.
var errLessonsFailed = errors.New("lessons check failed")

// checkLessons checks the built-in lessons, or DIR's beside them, and
// prints every problem as file:line: what failed.
func checkLessons(ctx context.Context, dir string, stdout io.Writer) error {
	builtin, err := lessons.Builtin()
	if err != nil {
		return report(stdout, err)
	}
	ls := builtin
	if dir != "" {
		extra, err := lessons.LoadDir(dir)
		if err != nil {
			return report(stdout, err)
		}
		if _, err := lessons.Merge(builtin, extra); err != nil {
			return report(stdout, err)
		}
		ls = extra
	}
	ps := lessons.CheckAll(ctx, ls)
	if dir == "" {
		items, designs, faults := lessons.Coverage(ls)
		for _, gap := range []struct {
			what  string
			names []string
		}{
			{"checklist items no lesson teaches", items},
			{"designs no lesson runs", designs},
			{"faults no lesson turns on", faults},
		} {
			if len(gap.names) > 0 {
				ps = append(ps, lessons.Problem{File: "lessons/content", Msg: gap.what + ": " + strings.Join(gap.names, ", ")})
			}
		}
	}
	if len(ps) > 0 {
		return report(stdout, ps)
	}
	runs := 0
	for _, l := range ls {
		for _, st := range l.Steps {
			if st.Run != nil || st.Challenge != nil {
				runs++
			}
		}
	}
	fmt.Fprintf(stdout, "ok: %d lessons, %d runs and challenges checked\n", len(ls), runs)
	return nil
}

// report prints a load or check error, one problem a line.
func report(w io.Writer, err error) error {
	fmt.Fprintln(w, err)
	return errLessonsFailed
}
