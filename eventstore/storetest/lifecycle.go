package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

func testContext(t *testing.T, newStore NewStore) {
	t.Run("a cancelled context stops append, reads and subscribe", func(t *testing.T) {
		f := setup(t, newStore)
		stream := f.stream("cancelled")
		f.append(stream, eventstore.NoStream(), event("Tested", "first"))
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		calls := map[string]func() error{
			"Append": func() error {
				_, err := f.store.Append(ctx, stream, eventstore.Any(), event("Tested", "cancelled"))
				return err
			},
			"ReadStream": func() error {
				_, err := f.store.ReadStream(ctx, stream, 0, eventstore.Forwards, 0)
				return err
			},
			"ReadAll": func() error {
				_, err := f.store.ReadAll(ctx, eventstore.Start, eventstore.Forwards, 0, f.own())
				return err
			},
			"Subscribe": func() error {
				sub, err := f.store.Subscribe(ctx, eventstore.Start, f.own())
				if err == nil {
					// Some adapters only notice the context on the first
					// Next; that must then give the context's error.
					defer sub.Close()
					_, err = sub.Next()
				}
				return err
			},
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context gives %v, want context.Canceled", name, err)
			}
		}
	})
}

func testRoundTrip(t *testing.T, newStore NewStore) {
	t.Run("id, type, content type, data and metadata round-trip byte for byte", func(t *testing.T) {
		f := setup(t, newStore)
		every := make([]byte, 256)
		for i := range every {
			every[i] = byte(i)
		}
		large := make([]byte, 256<<10)
		for i := range large {
			large[i] = byte(i*7 + i>>8)
		}
		want := []eventstore.EventData{
			{ID: uuid.New(), Type: "UnitsTransferred", ContentType: "application/protobuf", Data: every, Metadata: []byte{0, 0xff, 0}},
			{ID: uuid.New(), Type: "Événement – 事件", ContentType: "", Data: nil, Metadata: nil},
			{ID: uuid.New(), Type: "Large", ContentType: "application/octet-stream", Data: large, Metadata: every},
			{ID: uuid.MustParse("ffffffff-ffff-ffff-ffff-ffffffffffff"), Type: "x", ContentType: "text/plain; charset=utf-8", Data: []byte("\n"), Metadata: []byte("{}")},
		}
		stream := f.stream("bytes ünd spaces")
		f.append(stream, eventstore.NoStream(), want...)
		check := func(got []eventstore.RecordedEvent) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("read %d events, want %d", len(got), len(want))
			}
			for i := range got {
				sameData(t, got[i], want[i])
				if got[i].Stream != stream {
					t.Fatalf("event %d belongs to %q, want %q", i, got[i].Stream, stream)
				}
			}
		}
		check(f.readStream(stream, 0, eventstore.Forwards, 0))
		check(reversed(f.readStream(stream, eventstore.StreamEnd, eventstore.Backwards, 0)))
		check(f.readAll(eventstore.Start, eventstore.Forwards, 0, f.own()))
		ctx, cancel := contextWithTimeout(f)
		defer cancel()
		sub, err := f.store.Subscribe(ctx, eventstore.Start, f.own())
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		defer sub.Close()
		check(collect(t, sub, len(want)))
	})
}

func testClosing(t *testing.T, newStore NewStore) {
	t.Run("events survive Close and reopen", func(t *testing.T) {
		f := setup(t, newStore)
		if f.reopen == nil {
			t.Skip("the store keeps nothing across Close")
		}
		a, b := f.stream("a"), f.stream("b")
		wantA, wantB := events(3, "a"), events(2, "b")
		f.append(a, eventstore.NoStream(), wantA...)
		f.append(b, eventstore.NoStream(), wantB...)
		before := f.readAll(eventstore.Start, eventstore.Forwards, 0, f.own())

		if err := f.store.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		f.store = f.reopen()

		after := f.readAll(eventstore.Start, eventstore.Forwards, 0, f.own())
		sameRecorded(t, after, before)
		for i := range after {
			sameData(t, after[i], before[i].EventData)
		}
		sameEvents(t, f.readStream(a, 0, eventstore.Forwards, 0), wantA)
		// Appends go on where they stopped: revisions and positions.
		res := f.append(a, eventstore.Exact(2), event("Tested", "after reopen"))
		if res.NextExpectedRevision != 3 {
			t.Fatalf("the first append after reopen got revision %d, want 3", res.NextExpectedRevision)
		}
		if !before[len(before)-1].Position.Before(res.Position) {
			t.Fatalf("the first append after reopen is at %s, not after %s", res.Position, before[len(before)-1].Position)
		}
		_, err := f.store.Append(f.ctx, b, eventstore.NoStream(), event("Tested", "conflict"))
		wrongRevision(t, err, true, 1)
	})

	t.Run("calls after Close return ErrClosed", func(t *testing.T) {
		f := setup(t, newStore)
		stream := f.stream("closed")
		f.append(stream, eventstore.NoStream(), event("Tested", "before close"))
		if err := f.store.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		calls := map[string]func() error{
			"Append": func() error {
				_, err := f.store.Append(f.ctx, stream, eventstore.Any(), event("Tested", "after close"))
				return err
			},
			"ReadStream": func() error {
				_, err := f.store.ReadStream(f.ctx, stream, 0, eventstore.Forwards, 0)
				return err
			},
			"ReadAll": func() error {
				_, err := f.store.ReadAll(f.ctx, eventstore.Start, eventstore.Forwards, 0, f.own())
				return err
			},
			"Subscribe": func() error {
				_, err := f.store.Subscribe(f.ctx, eventstore.Start, f.own())
				return err
			},
			"Close": func() error { return f.store.Close() },
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, eventstore.ErrClosed) {
				t.Errorf("%s after Close gives %v, want ErrClosed", name, err)
			}
		}
	})
}
