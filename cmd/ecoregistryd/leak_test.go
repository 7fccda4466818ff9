package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them. An
// idle drainer of the registry is let be: it is waiting for the next drain
// of a stream queue and ends by itself after registry's workerIdle (10s) of
// none, holding nothing but its stack. A drainer still inside a drain has
// another function on top of its stack and is reported.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/ecoregistry/ecoregistry/registry.(*drainers).loop"))
}
