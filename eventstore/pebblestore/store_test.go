package pebblestore_test

import (
	"testing"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/eventstore/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
		dir := t.TempDir()
		open := func() eventstore.Store { return openStore(t, dir) }
		return open(), open
	})
}

// openStore opens the store in dir; the caller closes it.
func openStore(t testing.TB, dir string) *pebblestore.Store {
	t.Helper()
	s, err := pebblestore.Open(dir, pebblestore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}
