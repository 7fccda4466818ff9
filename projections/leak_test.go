package projections_test

import (
	"flag"
	"testing"

	"go.uber.org/goleak"

	"github.com/ecoregistry/ecoregistry/domain"
)

// TestMain fails the package's tests when a goroutine outlives them. An
// idle drainer of the registry is let be: it is waiting for the next drain
// of a stream queue and ends by itself after registry's workerIdle (10s) of
// none, holding nothing but its stack. A drainer still inside a drain has
// another function on top of its stack and is reported.
//
// Tests check the invariants of the units after every event that a right
// (and the holdings read model) applies; benchmarks measure Apply as the
// server runs it, unchecked.
func TestMain(m *testing.M) {
	flag.Parse()
	domain.VerifyEveryApply(flag.Lookup("test.bench").Value.String() == "")
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/ecoregistry/ecoregistry/registry.(*drainers).loop"))
}
