package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them; the
// registry services the tests start are closed when they end.
//
// Beside a --server, ecobench runs itself with --serve-baseline to serve the
// baseline in a process of its own; in the tests that binary is this one,
// which then serves instead of testing.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "--serve-baseline" {
		os.Exit(serveBaselineForTest())
	}
	goleak.VerifyTestMain(m)
}
