package memstore_test

import (
	"testing"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/memstore"
	"github.com/ecoregistry/ecoregistry/eventstore/storetest"
)

// TestContract runs the store contract; reopening opens a new Store over
// the same Log, as a restarted process would.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
		log := memstore.NewLog(nil)
		return log.Open(), func() eventstore.Store { return log.Open() }
	})
}
