package lessons

import (
	"fmt"
	"strings"
)

// Problem is something wrong with a lesson file, at a line of it: a
// malformed file when loading, a stated expectation a run does not meet
// when checking. Its message reads `file:line: what is wrong`; Line 0
// means the file as a whole.
type Problem struct {
	// File is the lesson file, as it was named to the loader.
	File string
	// Line is the line of File the problem is on; 0 is the file as a whole.
	Line int
	// Msg says what is wrong, naming the value and what is allowed.
	Msg string
}

func (p Problem) Error() string {
	if p.Line <= 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Msg) // about the file, or the set of lessons, as a whole
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
}

// Problems are every problem found in one or more lesson files, in file
// and line order; as an error it reads one problem a line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// orNil returns ps as an error, or nil when there is none.
func (ps Problems) orNil() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}
