package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

func testReadStream(t *testing.T, newStore NewStore) {
	// seed writes a stream of 10 events in appends of 1, 2, 3 and 4, plus a
	// neighbour whose name extends the stream's, and returns the stream.
	seed := func(f *fixture) (string, []eventstore.EventData) {
		f.t.Helper()
		stream := f.stream("read")
		var all []eventstore.EventData
		expected := eventstore.NoStream()
		for n := 1; n <= 4; n++ {
			evs := events(n, fmt.Sprintf("append-%d", n))
			res := f.append(stream, expected, evs...)
			// Interleave another stream so that the stream's positions are
			// not contiguous in the global log.
			f.append(stream+"-neighbour", eventstore.Any(), event("Tested", "neighbour"))
			expected = eventstore.Exact(res.NextExpectedRevision)
			all = append(all, evs...)
		}
		return stream, all
	}

	cases := []struct {
		name  string
		from  uint64
		dir   eventstore.Direction
		limit int
		want  func(all []eventstore.EventData) []eventstore.EventData
	}{
		{"forwards from the start returns every event in order", 0, eventstore.Forwards, 0,
			func(all []eventstore.EventData) []eventstore.EventData { return all }},
		{"forwards from the middle starts at that revision", 4, eventstore.Forwards, 0,
			func(all []eventstore.EventData) []eventstore.EventData { return all[4:] }},
		{"forwards with a limit returns the first events", 2, eventstore.Forwards, 5,
			func(all []eventstore.EventData) []eventstore.EventData { return all[2:7] }},
		{"forwards from the last revision returns it alone", 9, eventstore.Forwards, 0,
			func(all []eventstore.EventData) []eventstore.EventData { return all[9:] }},
		{"forwards from beyond the end returns nothing", 10, eventstore.Forwards, 0,
			func(all []eventstore.EventData) []eventstore.EventData { return nil }},
		{"backwards from StreamEnd returns every event newest first", eventstore.StreamEnd, eventstore.Backwards, 0,
			func(all []eventstore.EventData) []eventstore.EventData { return reversed(all) }},
		{"backwards from the middle starts at that revision", 5, eventstore.Backwards, 0,
			func(all []eventstore.EventData) []eventstore.EventData { return reversed(all[:6]) }},
		{"backwards with a limit returns the newest events", eventstore.StreamEnd, eventstore.Backwards, 3,
			func(all []eventstore.EventData) []eventstore.EventData { return reversed(all[7:]) }},
		{"backwards from the first revision returns it alone", 0, eventstore.Backwards, 0,
			func(all []eventstore.EventData) []eventstore.EventData { return all[:1] }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := setup(t, newStore)
			stream, all := seed(f)
			got := f.readStream(stream, c.from, c.dir, c.limit)
			want := c.want(all)
			sameEvents(t, got, want)
			for i, e := range got {
				if e.Stream != stream {
					t.Fatalf("event %d belongs to %q, want %q", i, e.Stream, stream)
				}
				wantRev := c.from + uint64(i)
				if c.dir == eventstore.Backwards {
					wantRev = min(c.from, 9) - uint64(i)
				}
				if e.Revision != wantRev {
					t.Fatalf("event %d has revision %d, want %d", i, e.Revision, wantRev)
				}
			}
			if c.dir == eventstore.Backwards {
				got = reversed(got)
			}
			increasing(t, got)
		})
	}

	t.Run("a missing stream is ErrStreamNotFound", func(t *testing.T) {
		f := setup(t, newStore)
		stream := f.stream("missing")
		// A stream whose name starts with the missing one's must not count.
		f.append(stream+"-other", eventstore.Any(), event("Tested", "other"))
		for _, dir := range []eventstore.Direction{eventstore.Forwards, eventstore.Backwards} {
			_, err := f.store.ReadStream(f.ctx, stream, 0, dir, 0)
			if !errors.Is(err, eventstore.ErrStreamNotFound) {
				t.Fatalf("ReadStream(%v) of a missing stream gives %v, want ErrStreamNotFound", dir, err)
			}
		}
	})
}

func testGlobalOrder(t *testing.T, newStore NewStore) {
	t.Run("positions increase in the order appends commit", func(t *testing.T) {
		f := setup(t, newStore)
		var want []eventstore.EventData
		var last eventstore.Position
		for i := range 12 {
			stream := f.stream(fmt.Sprintf("order-%d", i%3))
			evs := events(1+i%2, fmt.Sprintf("order-%d", i))
			res := f.append(stream, eventstore.Any(), evs...)
			if !last.Before(res.Position) {
				t.Fatalf("append %d is at %s, not after the previous one at %s", i, res.Position, last)
			}
			last = res.Position
			want = append(want, evs...)
		}
		got := f.readAll(eventstore.Start, eventstore.Forwards, 0, f.own())
		sameEvents(t, got, want)
		increasing(t, got)
		if got[len(got)-1].Position != last {
			t.Fatalf("the last append reported %s, its event is at %s", last, got[len(got)-1].Position)
		}
	})

	t.Run("concurrent appends are read back at the positions they reported", func(t *testing.T) {
		f := setup(t, newStore)
		var mu sync.Mutex
		reported := map[string]eventstore.Position{} // event id -> position
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 25 {
					ev := event("Tested", fmt.Sprintf("%d-%d", g, i))
					res, err := f.store.Append(f.ctx, f.stream(fmt.Sprintf("writer-%d", g%3)), eventstore.Any(), ev)
					if err != nil {
						t.Errorf("Append: %v", err)
						return
					}
					mu.Lock()
					reported[ev.ID.String()] = res.Position
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		got := f.readAll(eventstore.Start, eventstore.Forwards, 0, f.own())
		if len(got) != len(reported) {
			t.Fatalf("read %d events, appended %d", len(got), len(reported))
		}
		increasing(t, got)
		for _, e := range got {
			if p := reported[e.ID.String()]; p != e.Position {
				t.Fatalf("event %s is at %s, its append reported %s", e.ID, e.Position, p)
			}
		}
	})
}

func testReadAll(t *testing.T, newStore NewStore) {
	// seed writes 10 events over three streams and reads them back.
	seed := func(f *fixture) []eventstore.RecordedEvent {
		f.t.Helper()
		for i := range 10 {
			f.append(f.stream(fmt.Sprintf("all-%d", i%3)), eventstore.Any(), event("Tested", fmt.Sprint(i)))
		}
		all := f.readAll(eventstore.Start, eventstore.Forwards, 0, f.own())
		if len(all) != 10 {
			f.t.Fatalf("read %d events, want 10", len(all))
		}
		return all
	}

	t.Run("forwards from an event's position returns the events after it", func(t *testing.T) {
		f := setup(t, newStore)
		all := seed(f)
		sameRecorded(t, f.readAll(all[3].Position, eventstore.Forwards, 0, f.own()), all[4:])
		sameRecorded(t, f.readAll(all[3].Position, eventstore.Forwards, 2, f.own()), all[4:6])
	})
	t.Run("backwards from End returns every event newest first", func(t *testing.T) {
		f := setup(t, newStore)
		all := seed(f)
		sameRecorded(t, f.readAll(eventstore.End, eventstore.Backwards, 0, f.own()), reversed(all))
		sameRecorded(t, f.readAll(eventstore.End, eventstore.Backwards, 3, f.own()), reversed(all[7:]))
	})
	t.Run("backwards from an event's position returns the events before it", func(t *testing.T) {
		f := setup(t, newStore)
		all := seed(f)
		sameRecorded(t, f.readAll(all[6].Position, eventstore.Backwards, 0, f.own()), reversed(all[:6]))
	})
	t.Run("forwards from End and backwards from Start return nothing", func(t *testing.T) {
		f := setup(t, newStore)
		seed(f)
		if got := f.readAll(eventstore.End, eventstore.Forwards, 0, f.own()); len(got) != 0 {
			t.Fatalf("forwards from End gives %d events", len(got))
		}
		if got := f.readAll(eventstore.Start, eventstore.Backwards, 0, f.own()); len(got) != 0 {
			t.Fatalf("backwards from Start gives %d events", len(got))
		}
	})
	for _, dir := range []eventstore.Direction{eventstore.Forwards, eventstore.Backwards} {
		name := map[eventstore.Direction]string{eventstore.Forwards: "forwards", eventstore.Backwards: "backwards"}[dir]
		t.Run("paging "+name+" with a limit visits every event once", func(t *testing.T) {
			f := setup(t, newStore)
			all := seed(f)
			want := all
			from := eventstore.Start
			if dir == eventstore.Backwards {
				want, from = reversed(all), eventstore.End
			}
			var got []eventstore.RecordedEvent
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatalf("paging has not ended after %d pages", pages)
				}
				page := f.readAll(from, dir, 3, f.own())
				if len(page) > 3 {
					t.Fatalf("a page of limit 3 has %d events", len(page))
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				from = page[len(page)-1].Position
			}
			sameRecorded(t, got, want)
		})
	}
}

func testFilters(t *testing.T, newStore NewStore) {
	// The event types are unique to the subtest too, so that a filter on
	// types alone sees no one else's events on a shared server.
	type seeded struct {
		all          []eventstore.RecordedEvent
		typeA, typeB string
	}
	seed := func(f *fixture) seeded {
		f.t.Helper()
		s := seeded{typeA: "Opened" + f.prefix, typeB: "Closed" + f.prefix}
		for i := range 12 {
			stream := f.stream([]string{"alpha-1", "alpha-2", "beta-1"}[i%3])
			typ := s.typeA
			if i%2 == 1 {
				typ = s.typeB
			}
			f.append(stream, eventstore.Any(), event(typ, fmt.Sprint(i)))
		}
		s.all = f.readAll(eventstore.Start, eventstore.Forwards, 0, f.own())
		return s
	}
	where := func(all []eventstore.RecordedEvent, keep func(eventstore.RecordedEvent) bool) []eventstore.RecordedEvent {
		var out []eventstore.RecordedEvent
		for _, e := range all {
			if keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	cases := []struct {
		name   string
		filter func(f *fixture, s seeded) eventstore.Filter
		keep   func(f *fixture, s seeded, e eventstore.RecordedEvent) bool
	}{
		{"a stream prefix selects the streams that start with it",
			func(f *fixture, s seeded) eventstore.Filter {
				return eventstore.Filter{StreamPrefixes: []string{f.stream("alpha-")}}
			},
			func(f *fixture, s seeded, e eventstore.RecordedEvent) bool { return e.Stream != f.stream("beta-1") }},
		{"several stream prefixes select the streams of any of them",
			func(f *fixture, s seeded) eventstore.Filter {
				return eventstore.Filter{StreamPrefixes: []string{f.stream("alpha-2"), f.stream("beta")}}
			},
			func(f *fixture, s seeded, e eventstore.RecordedEvent) bool { return e.Stream != f.stream("alpha-1") }},
		{"event types select the events of those types",
			func(f *fixture, s seeded) eventstore.Filter {
				return eventstore.Filter{EventTypes: []string{s.typeB}}
			},
			func(f *fixture, s seeded, e eventstore.RecordedEvent) bool { return e.Type == s.typeB }},
		{"a prefix and types together select the events that match both",
			func(f *fixture, s seeded) eventstore.Filter {
				return eventstore.Filter{StreamPrefixes: []string{f.stream("alpha-")}, EventTypes: []string{s.typeA}}
			},
			func(f *fixture, s seeded, e eventstore.RecordedEvent) bool {
				return e.Stream != f.stream("beta-1") && e.Type == s.typeA
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := setup(t, newStore)
			s := seed(f)
			filter := c.filter(f, s)
			want := where(s.all, func(e eventstore.RecordedEvent) bool { return c.keep(f, s, e) })
			if len(want) == 0 || len(want) == len(s.all) {
				t.Fatalf("the case selects %d of %d events; it should select some", len(want), len(s.all))
			}
			sameRecorded(t, f.readAll(eventstore.Start, eventstore.Forwards, 0, filter), want)
			sameRecorded(t, f.readAll(eventstore.End, eventstore.Backwards, 0, filter), reversed(want))
			sameRecorded(t, f.readAll(want[0].Position, eventstore.Forwards, 2, filter), want[1:3])

			ctx, cancel := contextWithTimeout(f)
			defer cancel()
			sub, err := f.store.Subscribe(ctx, eventstore.Start, filter)
			if err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			defer sub.Close()
			sameRecorded(t, collect(t, sub, len(want)), want)
		})
	}
	t.Run("the zero filter selects every event", func(t *testing.T) {
		f := setup(t, newStore)
		s := seed(f)
		// Other data may follow the subtest's on a shared store; the
		// subtest's own events must all be there, in order.
		got := f.readAll(s.all[0].Position, eventstore.Forwards, 0, eventstore.Filter{})
		got = slices.DeleteFunc(got, func(e eventstore.RecordedEvent) bool { return !eventstore.Filter.Matches(f.own(), e.Stream, e.Type) })
		sameRecorded(t, got, s.all[1:])
	})
}
