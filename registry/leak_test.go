package registry

import (
	"flag"
	"testing"

	"go.uber.org/goleak"

	"github.com/ecoregistry/ecoregistry/domain"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// test closes the services it made (newService), which ends their drainers.
//
// Tests check the invariants of the units after every event that a right
// (and the holdings read model) applies; benchmarks measure Apply as the
// server runs it, unchecked.
func TestMain(m *testing.M) {
	flag.Parse()
	domain.VerifyEveryApply(flag.Lookup("test.bench").Value.String() == "")
	goleak.VerifyTestMain(m)
}
