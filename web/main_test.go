package web

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// socket, pacer, writer and simulation must end when its server closes.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
