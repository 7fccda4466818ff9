package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// contextWithTimeout bounds a subscription by Timeout, so that one that
// stalls fails the test instead of hanging it.
func contextWithTimeout(f *fixture) (context.Context, context.CancelFunc) {
	return context.WithTimeout(f.ctx, Timeout)
}

func testSubscriptions(t *testing.T, newStore NewStore) {
	const writers, appends, stored = 8, 30, 20
	cases := []struct {
		name string
		// from picks where to subscribe, given the stored events; skip is
		// how many of them the subscription must not deliver.
		from func(stored []eventstore.RecordedEvent) (eventstore.Position, int)
	}{
		{"from the start delivers stored then live events, each once and in order",
			func(stored []eventstore.RecordedEvent) (eventstore.Position, int) { return eventstore.Start, 0 }},
		{"from the middle delivers the events after that position",
			func(stored []eventstore.RecordedEvent) (eventstore.Position, int) { return stored[11].Position, 12 }},
		{"from the end delivers only the events appended after subscribing",
			func(stored []eventstore.RecordedEvent) (eventstore.Position, int) { return eventstore.End, len(stored) }},
	}
	for _, c := range cases {
		t.Run(c.name+" while 8 goroutines append", func(t *testing.T) {
			f := setup(t, newStore)
			for i := range stored {
				f.append(f.stream("stored"), eventstore.Any(), event("Tested", fmt.Sprint("stored-", i)))
			}
			before := f.readAll(eventstore.Start, eventstore.Forwards, 0, f.own())
			from, skip := c.from(before)

			ctx, cancel := contextWithTimeout(f)
			defer cancel()
			sub, err := f.store.Subscribe(ctx, from, f.own())
			if err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			defer sub.Close()

			wait := f.appendConcurrently("live", writers, appends)
			got := collect(t, sub, stored-skip+appendsTotal(writers, appends))
			w := wait()
			if t.Failed() {
				return
			}

			increasing(t, got)
			sameRecorded(t, got[:stored-skip], before[skip:])
			// Each writer's events arrive in revision order, each once,
			// interleaved with the other writers' in any way.
			delivered := map[string][]eventstore.EventData{}
			for _, e := range got[stored-skip:] {
				if want := uint64(len(delivered[e.Stream])); e.Revision != want {
					t.Fatalf("event %s/%d arrived where revision %d was due", e.Stream, e.Revision, want)
				}
				delivered[e.Stream] = append(delivered[e.Stream], e.EventData)
			}
			if len(delivered) != len(w.streams) {
				t.Fatalf("events of %d streams arrived, %d streams were written", len(delivered), len(w.streams))
			}
			for stream, want := range w.streams {
				got := delivered[stream]
				if len(got) != len(want) {
					t.Fatalf("stream %s: %d events arrived, %d were written", stream, len(got), len(want))
				}
				for i := range got {
					if got[i].ID != want[i].ID {
						t.Fatalf("stream %s revision %d: event %s arrived, %s was written", stream, i, got[i].ID, want[i].ID)
					}
				}
			}

			// Nothing else is on its way: the next event is a new one.
			marker := event("Tested", "marker")
			f.append(f.stream("marker"), eventstore.NoStream(), marker)
			if next := collect(t, sub, 1)[0]; next.ID != marker.ID {
				t.Fatalf("after every written event, %s/%d arrived instead of the marker", next.Stream, next.Revision)
			}
		})
	}

	t.Run("cancelling the context ends a waiting Next with the context's error", func(t *testing.T) {
		f := setup(t, newStore)
		ctx, cancel := context.WithCancel(f.ctx)
		defer cancel()
		sub, err := f.store.Subscribe(ctx, eventstore.End, f.own())
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		defer sub.Close()
		errs := make(chan error, 1)
		go func() {
			_, err := sub.Next()
			errs <- err
		}()
		cancel()
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Fatalf("Next gives %v after cancel, want context.Canceled", err)
		}
	})

	t.Run("closing a subscription ends a waiting Next with ErrClosed", func(t *testing.T) {
		f := setup(t, newStore)
		ctx, cancel := contextWithTimeout(f)
		defer cancel()
		sub, err := f.store.Subscribe(ctx, eventstore.End, f.own())
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		errs := make(chan error, 1)
		go func() {
			_, err := sub.Next()
			errs <- err
		}()
		if err := sub.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-errs; !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("Next gives %v after Close, want ErrClosed", err)
		}
		if err := sub.Close(); err != nil {
			t.Fatalf("a second Close gives %v", err)
		}
		if _, err := sub.Next(); !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("Next gives %v on a closed subscription, want ErrClosed", err)
		}
	})

	t.Run("closing the store ends its subscriptions with ErrClosed", func(t *testing.T) {
		f := setup(t, newStore)
		ctx, cancel := contextWithTimeout(f)
		defer cancel()
		sub, err := f.store.Subscribe(ctx, eventstore.End, f.own())
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		defer sub.Close()
		errs := make(chan error, 1)
		go func() {
			_, err := sub.Next()
			errs <- err
		}()
		if err := f.store.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-errs; !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("Next gives %v after the store closed, want ErrClosed", err)
		}
	})
}
