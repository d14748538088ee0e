// Command partialtruth teaches what happens when state lives in more than
// one place: it simulates a payment system under failures, deterministically,
// and serves a playground to watch it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks for a clean stop; a second one, while that
	// stop is under way, ends the process at once.
	go func() { <-ctx.Done(); stop() }()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode turns run's error into the process's exit status, in one place:
// 0 for success, 2 for bad input (the message names the field), 130 for a
// run interrupted by Ctrl-C (its report is printed), 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "partialtruth:", err)
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	var i interrupted
	if errors.As(err, &i) {
		return 130
	}
	return 1
}
