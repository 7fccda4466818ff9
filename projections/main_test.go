package projections_test

import (
	"flag"
	"os"
	"testing"

	"github.com/ecoregistry/ecoregistry/domain"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Tests check the invariants of the units after every event the
	// registry, the oracle and the holdings read model apply; benchmarks
	// measure them as the server runs them, unchecked.
	domain.VerifyEveryApply(flag.Lookup("test.bench").Value.String() == "")
	os.Exit(m.Run())
}
