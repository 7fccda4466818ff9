package esdbstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
)

// nextWithin returns the subscription's next event, or fails the test with
// what was delivered when none comes in time.
func nextWithin(t *testing.T, sub eventstore.Subscription, delivered, of int) eventstore.RecordedEvent {
	t.Helper()
	e, err := sub.Next()
	if err != nil {
		t.Fatalf("the subscription delivered %d of %d events, then: %v", delivered, of, err)
	}
	return e
}

// TestCheckpointsNeverFilterEvents holds the adapter to one rule: a
// checkpoint tells where a new subscription may start after a drop, and
// nothing else. Released servers have sent checkpoints ahead of events they
// had not sent yet.
func TestCheckpointsNeverFilterEvents(t *testing.T) {
	filter := eventstore.Filter{StreamPrefixes: []string{"wanted-"}}
	appendWanted := func(t *testing.T, s eventstore.Store, n int) []uuid.UUID {
		t.Helper()
		ids := make([]uuid.UUID, n)
		for i := range ids {
			ids[i] = uuid.New()
			if _, err := s.Append(t.Context(), "wanted-1", eventstore.Any(), eventstore.EventData{ID: ids[i], Type: "Tested"}); err != nil {
				t.Fatal(err)
			}
		}
		return ids
	}
	expect := func(t *testing.T, sub eventstore.Subscription, want []uuid.UUID, already int) {
		t.Helper()
		for i, id := range want {
			if e := nextWithin(t, sub, already+i, already+len(want)); e.ID != id {
				t.Fatalf("event %d delivered is %s, want %s", already+i, e.ID, id)
			}
		}
	}

	// subscribe opens a store on srv and subscribes it to the wanted
	// streams from the start.
	subscribe := func(t *testing.T, srv *esdbfake.Server) (eventstore.Store, eventstore.Subscription) {
		t.Helper()
		s := open(t, srv.URL())
		t.Cleanup(func() { s.Close() })
		// A loss shows as a Next that waits for ever: bound it.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		t.Cleanup(cancel)
		sub, err := s.Subscribe(ctx, eventstore.Start, filter)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Close() })
		return s, sub
	}

	t.Run("events after a checkpoint ahead of them are delivered, each of them", func(t *testing.T) {
		srv := esdbfake.Start(t)
		srv.SetCheckpoints(esdbfake.CheckpointsAheadAtEnd)
		s, sub := subscribe(t, srv)
		expect(t, sub, appendWanted(t, s, 3), 0)
	})

	t.Run("a subscription dropped after a checkpoint ahead of unsent events resumes with none missing", func(t *testing.T) {
		srv := esdbfake.Start(t)
		s, sub := subscribe(t, srv)
		expect(t, sub, appendWanted(t, s, 1), 0)
		// The server sends, after the event delivered, a checkpoint at the
		// position the next event will take, then drops the subscription
		// before that event is written.
		srv.SetCheckpoints(esdbfake.CheckpointsAheadAtEnd)
		if srv.DropSubscriptions() != 1 {
			t.Fatal("the server had no subscription to drop")
		}
		expect(t, sub, appendWanted(t, s, 3), 1)
	})
}
