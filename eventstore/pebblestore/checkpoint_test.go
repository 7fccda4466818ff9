package pebblestore_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

func TestCheckpointIsAConsistentPrefixTakenWhileAppendsGoOn(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	ctx := t.Context()
	var acked atomic.Uint64 // the highest position acknowledged so far
	appendOne := func(w, i int) error {
		// Two events per append, so that a copy ending inside an append
		// would show.
		res, err := s.Append(ctx, fmt.Sprintf("w%d-%d", w, i%7), eventstore.Any(),
			eventstore.EventData{ID: uuid.New(), Type: "Tested", Data: []byte(fmt.Sprint(w, i))},
			eventstore.EventData{ID: uuid.New(), Type: "Tested", Data: bytes.Repeat([]byte{byte(i)}, 300)})
		if err == nil {
			for cur := acked.Load(); res.Position.Commit > cur && !acked.CompareAndSwap(cur, res.Position.Commit); cur = acked.Load() {
			}
		}
		return err
	}
	for i := range 200 {
		if err := appendOne(0, i); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 1; w <= 8; w++ {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := appendOne(w, i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// Let the writers get going, so that the checkpoint meets appends in flight.
	for start := acked.Load(); acked.Load() < start+400; {
		runtime.Gosched()
	}
	before := acked.Load()
	dir := filepath.Join(t.TempDir(), "copy")
	pos, err := s.Checkpoint(ctx, dir)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if pos.Commit < before || pos.Commit != pos.Prepare {
		t.Fatalf("the copy ends at %s, before position %d acknowledged before the checkpoint", pos, before)
	}

	orig, err := s.ReadAll(ctx, eventstore.Start, eventstore.Forwards, int(pos.Commit), eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	c := openStore(t, dir)
	defer c.Close()
	copied, err := c.ReadAll(ctx, eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(copied)) != pos.Commit || uint64(len(orig)) != pos.Commit {
		t.Fatalf("the copy holds %d events, the store %d up to %s", len(copied), len(orig), pos)
	}
	for i := range copied {
		a, b := orig[i], copied[i]
		if a.ID != b.ID || a.Stream != b.Stream || a.Revision != b.Revision || a.Position != b.Position || !bytes.Equal(a.Data, b.Data) {
			t.Fatalf("event %d differs: %+v, copied %+v", i+1, a.Position, b.Position)
		}
	}
	// The copy continues where it ends.
	res, err := c.Append(context.Background(), "after", eventstore.NoStream(), eventstore.EventData{ID: uuid.New(), Type: "Tested"})
	if err != nil || res.Position.Commit != pos.Commit+1 {
		t.Fatalf("an append to the copy: %v at %s, want %d", err, res.Position, pos.Commit+1)
	}
}

func TestCheckpointRefusesAnExistingDirectory(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	if _, err := s.Checkpoint(t.Context(), t.TempDir()); err == nil {
		t.Fatal("a checkpoint into an existing directory was taken")
	}
}

func TestCheckpointOfAnEmptyStore(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	pos, err := s.Checkpoint(t.Context(), filepath.Join(t.TempDir(), "copy"))
	if err != nil || pos != (eventstore.Position{}) {
		t.Fatalf("checkpoint of an empty store: %s, %v", pos, err)
	}
}

func TestMetricsCountTheLogWritten(t *testing.T) {
	s := openStore(t, t.TempDir())
	before := s.Metrics()
	if _, err := s.Append(t.Context(), "a", eventstore.Any(), eventstore.EventData{ID: uuid.New(), Type: "Tested", Data: make([]byte, 1000)}); err != nil {
		t.Fatal(err)
	}
	after := s.Metrics()
	if after.WAL.BytesWritten < before.WAL.BytesWritten+1000 || after.LogWriter.FsyncLatency == nil {
		t.Fatalf("WAL bytes %d -> %d after a 1000-byte event", before.WAL.BytesWritten, after.WAL.BytesWritten)
	}
	s.Close()
	if s.Metrics() != nil {
		t.Fatal("a closed store has metrics")
	}
}
