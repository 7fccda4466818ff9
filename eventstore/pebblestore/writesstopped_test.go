package pebblestore_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
)

// failingSyncs fails every sync of the log once switched on.
type failingSyncs struct{ on atomic.Bool }

func (f *failingSyncs) MaybeError(op errorfs.Op) error {
	if f.on.Load() && strings.HasSuffix(op.Path, ".log") && (op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo) {
		return errorfs.ErrInjected
	}
	return nil
}

func (f *failingSyncs) String() string { return "failingSyncs" }

// The store tells its watchers, once, that it stopped taking writes, with
// the error appends get; a watcher that comes later is told at once; and a
// decorated store passes its watchers on.
func TestAFailedSyncTellsTheWatchers(t *testing.T) {
	fault := &failingSyncs{}
	s, err := pebblestore.Open(t.TempDir(), pebblestore.Options{FS: errorfs.Wrap(vfs.Default, fault)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var told []error
	if !eventstore.NotifyWritesStopped(eventstore.Decorated{Store: s}, func(err error) { told = append(told, err) }) {
		t.Fatal("a decorated embedded store says it cannot stop taking writes")
	}
	ev := func() eventstore.EventData { return eventstore.EventData{ID: uuid.New(), Type: "Tested"} }
	if _, err := s.Append(t.Context(), "a", eventstore.Any(), ev()); err != nil || len(told) != 0 {
		t.Fatalf("a synced append: %v; watchers told %v", err, told)
	}
	fault.on.Store(true)
	_, failed := s.Append(t.Context(), "a", eventstore.Any(), ev())
	if !errors.Is(failed, eventstore.ErrWritesStopped) || len(told) != 1 || told[0].Error() != failed.Error() {
		t.Fatalf("the append whose sync failed: %v; watchers told %v", failed, told)
	}
	if _, err := s.Append(t.Context(), "a", eventstore.Any(), ev()); !errors.Is(err, eventstore.ErrWritesStopped) || len(told) != 1 {
		t.Fatalf("a later append: %v; watchers told %v", err, told)
	}
	late := 0
	s.NotifyWritesStopped(func(error) { late++ })
	if late != 1 {
		t.Fatalf("a watcher registered after the failure was told %d times", late)
	}
}
