package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them. An
// idle drainer of the registry is let be: it is waiting for the next drain
// of a stream queue and ends by itself after registry's workerIdle (10s) of
// none, holding nothing but its stack. A drainer still inside a drain has
// another function on top of its stack and is reported.
//
// Beside a --server, ecobench runs itself with --serve-baseline to serve the
// baseline in a process of its own; in the tests that binary is this one,
// which then serves instead of testing.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "--serve-baseline" {
		os.Exit(serveBaselineForTest())
	}
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/ecoregistry/ecoregistry/registry.(*drainers).loop"))
}
