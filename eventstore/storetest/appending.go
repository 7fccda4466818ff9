package storetest

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

func testExpectedRevision(t *testing.T, newStore NewStore) {
	cases := []struct {
		name     string
		existing int // events in the stream before the append
		expected eventstore.ExpectedRevision
		accepted bool
	}{
		{"any appends to a new stream", 0, eventstore.Any(), true},
		{"any appends to an existing stream", 3, eventstore.Any(), true},
		{"no stream appends to a new stream", 0, eventstore.NoStream(), true},
		{"no stream is refused on an existing stream", 3, eventstore.NoStream(), false},
		{"stream exists is refused on a new stream", 0, eventstore.StreamExists(), false},
		{"stream exists appends to an existing stream", 3, eventstore.StreamExists(), true},
		{"exact is refused on a new stream", 0, eventstore.Exact(0), false},
		{"exact at the last revision appends", 3, eventstore.Exact(2), true},
		{"exact before the last revision is refused", 3, eventstore.Exact(1), false},
		{"exact after the last revision is refused", 3, eventstore.Exact(3), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := setup(t, newStore)
			stream := f.stream("account")
			before := events(c.existing, "before")
			if c.existing > 0 {
				f.append(stream, eventstore.NoStream(), before...)
			}
			ev := event("Tested", "the append")
			res, err := f.store.Append(f.ctx, stream, c.expected, ev)
			if !c.accepted {
				wrongRevision(t, err, c.existing > 0, uint64(c.existing)-1)
				var werr *eventstore.WrongExpectedRevisionError
				errors.As(err, &werr)
				if werr.Stream != stream || werr.Expected != c.expected {
					t.Errorf("conflict names stream %q expecting %s, want %q expecting %s", werr.Stream, werr.Expected, stream, c.expected)
				}
				// The refused append left nothing behind.
				if c.existing == 0 {
					if _, err := f.store.ReadStream(f.ctx, stream, 0, eventstore.Forwards, 0); !errors.Is(err, eventstore.ErrStreamNotFound) {
						t.Fatalf("after a refused append to a new stream, ReadStream gives %v, want ErrStreamNotFound", err)
					}
				} else {
					sameEvents(t, f.readStream(stream, 0, eventstore.Forwards, 0), before)
				}
				sameEvents(t, f.readAll(eventstore.Start, eventstore.Forwards, 0, f.own()), before)
				return
			}
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if res.NextExpectedRevision != uint64(c.existing) {
				t.Fatalf("NextExpectedRevision = %d, want %d", res.NextExpectedRevision, c.existing)
			}
			got := f.readStream(stream, 0, eventstore.Forwards, 0)
			sameEvents(t, got, append(before, ev))
			if last := got[len(got)-1]; last.Position != res.Position {
				t.Fatalf("the append reported position %s, its event is at %s", res.Position, last.Position)
			}
		})
	}
}

func testAppending(t *testing.T, newStore NewStore) {
	t.Run("an append of many events gets contiguous revisions in order", func(t *testing.T) {
		f := setup(t, newStore)
		stream := f.stream("batch")
		first, second := events(5, "first"), events(3, "second")
		res := f.append(stream, eventstore.NoStream(), first...)
		if res.NextExpectedRevision != 4 {
			t.Fatalf("NextExpectedRevision = %d after 5 events, want 4", res.NextExpectedRevision)
		}
		res2 := f.append(stream, eventstore.Exact(4), second...)
		if res2.NextExpectedRevision != 7 {
			t.Fatalf("NextExpectedRevision = %d after 8 events, want 7", res2.NextExpectedRevision)
		}
		got := f.readStream(stream, 0, eventstore.Forwards, 0)
		sameEvents(t, got, append(first, second...))
		for i, e := range got {
			if e.Revision != uint64(i) || e.Stream != stream {
				t.Fatalf("event %d is %s/%d, want %s/%d", i, e.Stream, e.Revision, stream, i)
			}
		}
		increasing(t, got)
		if got[4].Position != res.Position || got[7].Position != res2.Position {
			t.Fatalf("appends reported positions %s and %s, their last events are at %s and %s",
				res.Position, res2.Position, got[4].Position, got[7].Position)
		}
	})

	t.Run("each event records when it was written", func(t *testing.T) {
		f := setup(t, newStore)
		stream := f.stream("clock")
		f.append(stream, eventstore.Any(), events(2, "clock")...)
		for _, e := range f.readStream(stream, 0, eventstore.Forwards, 0) {
			if e.Recorded.IsZero() {
				t.Fatalf("event %d has no recorded time", e.Revision)
			}
		}
	})
}

func testInvalidAppends(t *testing.T, newStore NewStore) {
	valid := func() eventstore.EventData { return event("Tested", "valid") }
	cases := []struct {
		name   string
		stream string // "" stays empty; anything else gets the subtest's prefix
		events []eventstore.EventData
	}{
		{"an empty stream name is refused", "", []eventstore.EventData{valid()}},
		{"an append without events is refused", "s", nil},
		{"an event without id is refused", "s", []eventstore.EventData{valid(), {Type: "Tested"}}},
		{"an event without type is refused", "s", []eventstore.EventData{{ID: uuid.New()}, valid()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := setup(t, newStore)
			stream := c.stream
			if stream != "" {
				stream = f.stream(stream)
			}
			_, err := f.store.Append(f.ctx, stream, eventstore.Any(), c.events...)
			if !errors.Is(err, eventstore.ErrInvalidEvent) {
				t.Fatalf("Append gives %v, want ErrInvalidEvent", err)
			}
			if stream != "" {
				if _, err := f.store.ReadStream(f.ctx, stream, 0, eventstore.Forwards, 0); !errors.Is(err, eventstore.ErrStreamNotFound) {
					t.Fatalf("after an invalid append, ReadStream gives %v, want ErrStreamNotFound", err)
				}
			}
		})
	}
}
