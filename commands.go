package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// usageError is bad input on the command line; it exits with status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func badInput(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands in the order usage lists them. Each command lives in its own
// cmd_*.go file and adds itself here.
var commands []command

// defaultCommand runs when no subcommand is given.
var defaultCommand = "help"

// run is the whole program: main only calls it, and so do the tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name := defaultCommand
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(ctx, args, stdout, stderr)
		}
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return badInput("command %q is unknown; allowed: %s", name, strings.Join(names, ", "))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Partial Truth: what happens when state lives in more than one place.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: partialtruth <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'partialtruth <command> -h' for a command's flags.")
}

// parseFlags parses a command's flags, turning flag errors into usage
// errors; -h prints the flags and is not an error.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (help bool, err error) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, usageError{err}
	}
	if fs.NArg() > 0 {
		return false, badInput("unexpected argument %q; flags go before it and %s takes no arguments", fs.Arg(0), fs.Name())
	}
	return false, nil
}
