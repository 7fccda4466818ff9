package pebblestore_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

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

func TestPositions(t *testing.T) {
	t.Run("positions are gapless from 1 and a refused append takes none", func(t *testing.T) {
		s := openStore(t, t.TempDir())
		defer s.Close()
		ctx := t.Context()
		ev := func() eventstore.EventData {
			return eventstore.EventData{ID: uuid.New(), Type: "Tested"}
		}
		res, err := s.Append(ctx, "a", eventstore.NoStream(), ev(), ev())
		if err != nil || res.Position != (eventstore.Position{Commit: 2, Prepare: 2}) {
			t.Fatalf("first append: %v at %s, want position 2/2", err, res.Position)
		}
		if _, err := s.Append(ctx, "a", eventstore.NoStream(), ev()); !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
			t.Fatalf("conflicting append gives %v", err)
		}
		if _, err := s.Append(ctx, "b", eventstore.Any(), eventstore.EventData{}); !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Fatalf("invalid append gives %v", err)
		}
		res, err = s.Append(ctx, "b", eventstore.Any(), ev())
		if err != nil || res.Position != (eventstore.Position{Commit: 3, Prepare: 3}) {
			t.Fatalf("append after refused ones: %v at %s, want position 3/3", err, res.Position)
		}
		all, err := s.ReadAll(ctx, eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range all {
			if e.Position.Commit != uint64(i+1) || e.Position.Prepare != e.Position.Commit {
				t.Fatalf("event %d is at %s, want %d/%d", i, e.Position, i+1, i+1)
			}
		}
	})

	t.Run("concurrent appends fill positions without gaps", func(t *testing.T) {
		s := openStore(t, t.TempDir())
		defer s.Close()
		ctx := t.Context()
		var wg sync.WaitGroup
		var appended atomic.Uint64
		for g := range 16 {
			wg.Go(func() {
				for i := range 50 {
					evs := make([]eventstore.EventData, 1+i%4)
					for k := range evs {
						evs[k] = eventstore.EventData{ID: uuid.New(), Type: "Tested"}
					}
					// Half the appends conflict on purpose; they must
					// leave no hole behind.
					expected := eventstore.Any()
					if i%2 == 1 {
						expected = eventstore.NoStream()
					}
					if _, err := s.Append(ctx, fmt.Sprint("stream-", g%4), expected, evs...); err == nil {
						appended.Add(uint64(len(evs)))
					} else if !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
						t.Errorf("Append: %v", err)
					}
				}
			})
		}
		wg.Wait()
		all, err := s.ReadAll(ctx, eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(all)) != appended.Load() {
			t.Fatalf("the log holds %d events, %d were appended", len(all), appended.Load())
		}
		for i, e := range all {
			if e.Position.Commit != uint64(i+1) {
				t.Fatalf("event %d is at %s: the log has a gap", i, e.Position)
			}
		}
	})
}

func TestSubscriptions(t *testing.T) {
	event := func(typ string) eventstore.EventData { return eventstore.EventData{ID: uuid.New(), Type: typ} }

	t.Run("a subscriber that does not read holds no append back", func(t *testing.T) {
		s := openStore(t, t.TempDir())
		defer s.Close()
		ctx := t.Context()
		sub, err := s.Subscribe(ctx, eventstore.Start, eventstore.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		// Far more events than any buffer would hold, while nobody reads.
		const appends, size = 50, 200
		for i := range appends {
			evs := make([]eventstore.EventData, size)
			for k := range evs {
				evs[k] = event("Tested")
			}
			if _, err := s.Append(ctx, fmt.Sprint("stream-", i%5), eventstore.Any(), evs...); err != nil {
				t.Fatalf("Append %d: %v", i, err)
			}
		}
		for i := range appends * size {
			e, err := sub.Next()
			if err != nil {
				t.Fatalf("Next %d: %v", i, err)
			}
			if e.Position.Commit != uint64(i+1) {
				t.Fatalf("event %d is at %s", i, e.Position)
			}
		}
	})

	t.Run("a subscription crosses long runs of events its filter rejects", func(t *testing.T) {
		s := openStore(t, t.TempDir())
		defer s.Close()
		ctx := t.Context()
		var want []uuid.UUID
		for round := range 3 {
			// More rejected events than one read of the log looks at.
			noise := make([]eventstore.EventData, 10_000)
			for k := range noise {
				noise[k] = event("Noise")
			}
			if _, err := s.Append(ctx, "noise", eventstore.Any(), noise...); err != nil {
				t.Fatal(err)
			}
			e := event("Wanted")
			if _, err := s.Append(ctx, fmt.Sprint("wanted-", round), eventstore.NoStream(), e); err != nil {
				t.Fatal(err)
			}
			want = append(want, e.ID)
		}
		sub, err := s.Subscribe(ctx, eventstore.Start, eventstore.Filter{EventTypes: []string{"Wanted"}})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		for i, id := range want {
			e, err := sub.Next()
			if err != nil {
				t.Fatalf("Next %d: %v", i, err)
			}
			if e.ID != id {
				t.Fatalf("event %d is %s %s, want %s", i, e.Type, e.ID, id)
			}
		}
	})
}
