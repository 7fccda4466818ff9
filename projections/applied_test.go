package projections_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/internal/projtest"
)

// Options.Applied hears of every commit once, with the batch of events it
// holds: the batches of a read model, followed live while the log grows,
// follow each other without a gap or an overlap, each as large as its
// commit, from the first event to the head.
func TestEveryCommitIsToldWithItsBatchOfEvents(t *testing.T) {
	store := openEventStore(t, t.TempDir())
	var (
		mu      sync.Mutex
		batches = map[string][]projections.AppliedBatch{}
	)
	e := openProjections(t, t.TempDir(), store, projections.Options{Applied: func(b projections.AppliedBatch) {
		mu.Lock()
		defer mu.Unlock()
		batches[b.Projection] = append(batches[b.Projection], b)
	}})
	if _, err := projtest.Generate(context.Background(), store, projtest.Config{Seed: 7, Accounts: 20, Rights: 8, Operations: 3000,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Step: time.Minute, RunLength: 16}); err != nil {
		t.Fatal(err)
	}
	head, err := projections.Head(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	e.waitAll(t, head)
	mu.Lock()
	defer mu.Unlock()
	for _, name := range e.m.Names() {
		bs := batches[name]
		if len(bs) < 2 {
			t.Fatalf("%s: %d batches for %d events applied live", name, len(bs), head.Commit)
		}
		next, total := uint64(1), uint64(0)
		for _, b := range bs {
			if b.First.Commit != next || b.Last.Commit < b.First.Commit || b.Events != b.Last.Commit-b.First.Commit+1 ||
				b.Committing.Before(b.Started) || b.Generation != 1 {
				t.Fatalf("%s: batch %+v after position %d", name, b, next-1)
			}
			next, total = b.Last.Commit+1, total+b.Events
		}
		if total != head.Commit {
			t.Fatalf("%s: the batches hold %d events, the log %d", name, total, head.Commit)
		}
	}
}
