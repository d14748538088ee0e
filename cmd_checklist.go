package main

import (
	"context"
	"flag"
	"io"

	"partialtruth/checklist"
)

func init() {
	commands = append(commands,
		command{"checklist", "print the self-review checklist as Markdown, for a pull request", runChecklist},
	)
}

// runChecklist is `partialtruth checklist`: the same Markdown /checklist.md
// serves, with links on the base URL given.
func runChecklist(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("checklist", flag.ContinueOnError)
	base := fs.String("base", "http://localhost:8080", "URL the demo links start with: where the playground is served")
	if h, err := parseFlags(fs, args, stderr); h || err != nil {
		return err
	}
	return checklist.WriteMarkdown(stdout, *base)
}
