package registry

import (
	"flag"
	"os"
	"testing"

	"github.com/ecoregistry/ecoregistry/domain"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Tests check every right's invariants after every event the service
	// applies; benchmarks measure Apply as the server runs it, unchecked.
	domain.VerifyEveryApply(flag.Lookup("test.bench").Value.String() == "")
	os.Exit(m.Run())
}
