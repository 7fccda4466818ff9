package esdbstore_test

import (
	"os"
	"testing"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
	"github.com/ecoregistry/ecoregistry/eventstore/storetest"
)

// open connects to url for one test and fails it when that is not possible.
func open(t *testing.T, url string) *esdbstore.Store {
	t.Helper()
	s, err := esdbstore.Open(t.Context(), url, esdbstore.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	return s
}

// TestContractOnTheFake runs the contract suite against the in-process fake
// server, a new one for each subtest. It runs everywhere, in every CI run.
func TestContractOnTheFake(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
		url := esdbfake.Start(t).URL()
		return open(t, url), func() eventstore.Store { return open(t, url) }
	})
}

// TestContractWithEveryCheckpointStyle runs the contract suite against fakes
// that shape their checkpoints as released servers did: ahead of events not
// yet sent, and with a prepare position of 0. A subscription that let a
// checkpoint filter the events it receives loses events here.
func TestContractWithEveryCheckpointStyle(t *testing.T) {
	styles := []struct {
		name  string
		style esdbfake.CheckpointStyle
	}{
		{"checkpoints ahead of unsent events", esdbfake.CheckpointsAheadAtEnd},
		{"checkpoints with a prepare position of 0", esdbfake.CheckpointsCommitOnly},
	}
	for _, c := range styles {
		t.Run(c.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
				srv := esdbfake.Start(t)
				srv.SetCheckpoints(c.style)
				return open(t, srv.URL()), func() eventstore.Store { return open(t, srv.URL()) }
			})
		})
	}
}

// TestContractOnACluster runs the contract suite against a fake cluster of
// three nodes, reached by gossip discovery.
func TestContractOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("the single-node run covers the contract in -short mode")
	}
	storetest.Run(t, func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
		url := esdbfake.StartCluster(t, 3).URL()
		return open(t, url), func() eventstore.Store { return open(t, url) }
	})
}

// TestContractOnARealServer runs the contract suite against the EventStoreDB
// or KurrentDB server that ECOREGISTRY_ESDB_URL names. Every subtest writes
// streams of its own prefix, so the server may hold other data.
func TestContractOnARealServer(t *testing.T) {
	url := os.Getenv("ECOREGISTRY_ESDB_URL")
	if url == "" {
		t.Skip("no EventStoreDB server given: set ECOREGISTRY_ESDB_URL (for example " +
			"esdb://localhost:2113?tls=false, see the README) to run the contract suite against a real one")
	}
	// Fail early, and once, when the server cannot be reached.
	s := open(t, url)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
		return open(t, url), func() eventstore.Store { return open(t, url) }
	})
}
