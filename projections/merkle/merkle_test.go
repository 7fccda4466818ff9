package merkle_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/testonly"

	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/internal/projtest"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
)

func openTree(t *testing.T, dir string, store eventstore.Store) (*projections.Manager, *merkle.Queries) {
	t.Helper()
	// Small commits, so that the tree is committed and resumed many times.
	m, err := projections.Open(dir, store, []projections.Projection{merkle.New()}, projections.Options{BatchEvents: 333})
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	r, _ := m.Runner(merkle.Name)
	return m, merkle.NewQueries(r)
}

// reference builds the library's reference tree from the log itself.
func reference(t *testing.T, store eventstore.Store) (*testonly.Tree, []logtree.Leaf) {
	t.Helper()
	evs, err := store.ReadAll(t.Context(), eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	ref := testonly.New(logtree.Hasher)
	var leaves []logtree.Leaf
	for i := range evs {
		l := logtree.LeafOf(&evs[i])
		leaves = append(leaves, l)
		ref.AppendData(l.AppendBinary(nil))
	}
	return ref, leaves
}

func view(t *testing.T, q *merkle.Queries, store eventstore.Store) *merkle.View {
	t.Helper()
	head, err := projections.Head(t.Context(), store)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	v, err := q.View(ctx, &head)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// checkAgainstReference compares the read model with the reference tree:
// roots at every size, inclusion proofs of sampled leaves, consistency
// proofs between sampled sizes, and the leaves found by position.
func checkAgainstReference(t *testing.T, v *merkle.View, store eventstore.Store) {
	t.Helper()
	ref, leaves := reference(t, store)
	if v.Size != ref.Size() {
		t.Fatalf("the tree has %d leaves, the log %d events", v.Size, ref.Size())
	}
	for size := uint64(0); size <= v.Size; size += 1 + size/7 {
		root, err := v.Root(size)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(root, ref.HashAt(size)) {
			t.Fatalf("root at %d = %x, the reference says %x", size, root, ref.HashAt(size))
		}
	}
	root := ref.Hash()
	for index := uint64(0); index < v.Size; index += 1 + index/3 {
		p, err := v.InclusionProof(index, v.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := logtree.VerifyInclusion(leaves[index].Hash(), index, v.Size, p, root); err != nil {
			t.Fatalf("inclusion of leaf %d: %v", index, err)
		}
		got, found, err := v.FindLeaf(leaves[index].Position)
		if err != nil || !found || got != index {
			t.Fatalf("FindLeaf(%s) = %d, %v, %v; want %d", leaves[index].Position, got, found, err, index)
		}
		stored, err := v.Leaf(index)
		if err != nil || stored != leaves[index] {
			t.Fatalf("leaf %d = %+v (%v), want %+v", index, stored, err, leaves[index])
		}
	}
	for size1 := uint64(0); size1 <= v.Size; size1 += 1 + size1/5 {
		p, err := v.ConsistencyProof(size1, v.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := logtree.VerifyConsistency(size1, v.Size, p, ref.HashAt(size1), root); err != nil {
			t.Fatalf("consistency %d -> %d: %v", size1, v.Size, err)
		}
	}
	if _, err := v.Root(v.Size + 1); err == nil {
		t.Fatal("a root beyond the tree was given")
	}
}

// appendChained appends n events to one new stream with a valid chain.
func appendChained(t *testing.T, store eventstore.Store, stream string, n int) {
	t.Helper()
	prev := eventcodec.GenesisHash
	var evs []eventstore.EventData
	for i := range n {
		md, _ := eventcodec.EncodeMetadata(eventcodec.Envelope{Actor: "test", OccurredAt: time.Unix(int64(i), 0), PreviousHash: prev})
		ev := eventstore.EventData{ID: uuid.New(), Type: "Probe", ContentType: eventcodec.ContentType, Data: []byte{byte(i)}, Metadata: md}
		prev = eventcodec.ChainHash(ev.Type, ev.Data, ev.Metadata)
		evs = append(evs, ev)
	}
	if _, err := store.Append(t.Context(), stream, eventstore.NoStream(), evs...); err != nil {
		t.Fatal(err)
	}
}

func generate(t *testing.T, store eventstore.Store, operations int) {
	t.Helper()
	_, err := projtest.Generate(t.Context(), store, projtest.Config{Seed: 7, Accounts: 12, Rights: 6, Operations: operations,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), RunLength: 20})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTheTreeFollowsTheLogOnTheEmbeddedStore(t *testing.T) {
	dir := t.TempDir()
	store, err := pebblestore.Open(dir+"/events", pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	generate(t, store, 1500)
	m, q := openTree(t, dir+"/read", store)
	checkAgainstReference(t, view(t, q, store), store)

	t.Run("after a restart it goes on from its checkpoint", func(t *testing.T) {
		m.Close()
		appendChained(t, store, "probe-1", 50)
		m, q = openTree(t, dir+"/read", store)
		defer m.Close()
		checkAgainstReference(t, view(t, q, store), store)
	})
}

func TestTheTreeFollowsTheLogOnEventStoreDB(t *testing.T) {
	store, err := esdbstore.Open(t.Context(), esdbfake.Start(t).URL(), esdbstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	generate(t, store, 400)
	m, q := openTree(t, t.TempDir(), store)
	defer m.Close()
	v := view(t, q, store)
	checkAgainstReference(t, v, store)
	// EventStoreDB's positions have gaps: leaves are found by search.
	if l, _ := v.Leaf(1); l.Position.Commit == 2 {
		t.Fatalf("leaf 1 is at position %s: the fake's positions are dense, so the search is not tested", l.Position)
	}
}
