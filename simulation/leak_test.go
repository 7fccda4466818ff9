package simulation

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them. An
// idle drainer of the registry is let be: it waits for the next drain of a
// stream queue and ends by itself after registry's workerIdle (10s) of none,
// holding nothing but its stack; a simulated crash leaves some behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/ecoregistry/ecoregistry/registry.(*drainers).loop"))
}
