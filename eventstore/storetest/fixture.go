package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// fixture is one subtest's store and namespace.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	store  eventstore.Store
	reopen func() eventstore.Store
	// prefix starts the name of every stream the subtest writes, so that
	// the subtest sees only its own events on a shared server.
	prefix string
}

func setup(t *testing.T, newStore NewStore) *fixture {
	t.Helper()
	store, reopen := newStore(t)
	f := &fixture{
		t:      t,
		ctx:    t.Context(),
		store:  store,
		reopen: reopen,
		prefix: "storetest-" + uuid.NewString() + "-",
	}
	// Close whatever store the subtest ends with, reopened or not.
	t.Cleanup(func() { closeQuietly(t, f.store) })
	return f
}

// stream names a stream of the subtest.
func (f *fixture) stream(name string) string { return f.prefix + name }

// own is the filter that selects the subtest's events in the global log.
func (f *fixture) own() eventstore.Filter {
	return eventstore.Filter{StreamPrefixes: []string{f.prefix}}
}

// event returns a new event of type typ whose payload names tag.
func event(typ, tag string) eventstore.EventData {
	return eventstore.EventData{
		ID:          uuid.New(),
		Type:        typ,
		ContentType: "application/octet-stream",
		Data:        []byte("data of " + tag),
		Metadata:    []byte("metadata of " + tag),
	}
}

// events returns n new events of type "Tested" tagged tag-0, tag-1, ...
func events(n int, tag string) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for i := range evs {
		evs[i] = event("Tested", fmt.Sprintf("%s-%d", tag, i))
	}
	return evs
}

func (f *fixture) append(stream string, expected eventstore.ExpectedRevision, evs ...eventstore.EventData) eventstore.AppendResult {
	f.t.Helper()
	res, err := f.store.Append(f.ctx, stream, expected, evs...)
	if err != nil {
		f.t.Fatalf("Append(%s, %s, %d events): %v", stream, expected, len(evs), err)
	}
	return res
}

func (f *fixture) readStream(stream string, from uint64, dir eventstore.Direction, limit int) []eventstore.RecordedEvent {
	f.t.Helper()
	got, err := f.store.ReadStream(f.ctx, stream, from, dir, limit)
	if err != nil {
		f.t.Fatalf("ReadStream(%s, from %d, %v, limit %d): %v", stream, from, dir, limit, err)
	}
	return got
}

func (f *fixture) readAll(from eventstore.Position, dir eventstore.Direction, limit int, filter eventstore.Filter) []eventstore.RecordedEvent {
	f.t.Helper()
	got, err := f.store.ReadAll(f.ctx, from, dir, limit, filter)
	if err != nil {
		f.t.Fatalf("ReadAll(from %s, %v, limit %d): %v", from, dir, limit, err)
	}
	return got
}

// wrongRevision asserts that err is a conflict with the given actual state.
func wrongRevision(t *testing.T, err error, exists bool, actual uint64) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
		t.Fatalf("got error %v, want ErrWrongExpectedRevision", err)
	}
	var werr *eventstore.WrongExpectedRevisionError
	if !errors.As(err, &werr) {
		t.Fatalf("error %v is not a *WrongExpectedRevisionError", err)
	}
	if werr.Exists != exists || (exists && werr.Actual != actual) {
		t.Fatalf("conflict says exists=%v actual=%d, want exists=%v actual=%d", werr.Exists, werr.Actual, exists, actual)
	}
}

// sameData asserts that got carries exactly the caller's data of want.
func sameData(t *testing.T, got eventstore.RecordedEvent, want eventstore.EventData) {
	t.Helper()
	switch {
	case got.ID != want.ID:
		t.Fatalf("event at %s/%d has id %s, want %s", got.Stream, got.Revision, got.ID, want.ID)
	case got.Type != want.Type:
		t.Fatalf("event %s has type %q, want %q", got.ID, got.Type, want.Type)
	case got.ContentType != want.ContentType:
		t.Fatalf("event %s has content type %q, want %q", got.ID, got.ContentType, want.ContentType)
	case !bytes.Equal(got.Data, want.Data):
		t.Fatalf("event %s has data %q, want %q", got.ID, clip(got.Data), clip(want.Data))
	case !bytes.Equal(got.Metadata, want.Metadata):
		t.Fatalf("event %s has metadata %q, want %q", got.ID, clip(got.Metadata), clip(want.Metadata))
	}
}

func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// sameEvents asserts that got are want, in order, as ids.
func sameEvents(t *testing.T, got []eventstore.RecordedEvent, want []eventstore.EventData) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events %v, want %d %v", len(got), ids(got), len(want), dataIDs(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			t.Fatalf("event %d is %s, want %s; got %v, want %v", i, got[i].ID, want[i].ID, ids(got), dataIDs(want))
		}
	}
}

// sameRecorded asserts that got are want, in order: same ids, streams,
// revisions and positions.
func sameRecorded(t *testing.T, got, want []eventstore.RecordedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events %v, want %d %v", len(got), ids(got), len(want), ids(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Stream != w.Stream || g.Revision != w.Revision || g.Position != w.Position {
			t.Fatalf("event %d is %s %s/%d at %s, want %s %s/%d at %s", i,
				g.ID, g.Stream, g.Revision, g.Position, w.ID, w.Stream, w.Revision, w.Position)
		}
	}
}

func ids(evs []eventstore.RecordedEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID.String()[:8]
	}
	return out
}

func dataIDs(evs []eventstore.EventData) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID.String()[:8]
	}
	return out
}

func recordedData(evs []eventstore.RecordedEvent) []eventstore.EventData {
	out := make([]eventstore.EventData, len(evs))
	for i, e := range evs {
		out[i] = e.EventData
	}
	return out
}

func reversed[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// increasing asserts that positions strictly increase along evs.
func increasing(t *testing.T, evs []eventstore.RecordedEvent) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		if !evs[i-1].Position.Before(evs[i].Position) {
			t.Fatalf("event %d at %s does not come after event %d at %s", i, evs[i].Position, i-1, evs[i-1].Position)
		}
	}
}

// written is what concurrent writers appended: per stream, the events in
// revision order.
type written struct {
	mu      sync.Mutex
	streams map[string][]eventstore.EventData
}

func (w *written) total() int {
	n := 0
	for _, evs := range w.streams {
		n += len(evs)
	}
	return n
}

// eventsOfAppend is how many events the i-th append of a writer carries:
// a mix of single- and multi-event appends.
func eventsOfAppend(i int) int { return 1 + i%3 }

// appendsTotal is how many events appendConcurrently writes.
func appendsTotal(writers, appends int) int {
	n := 0
	for i := 0; i < appends; i++ {
		n += eventsOfAppend(i)
	}
	return writers * n
}

// appendConcurrently starts writers goroutines that each make appends
// appends of 1 to 3 events to a stream of their own, with exact expected
// revisions. wait returns once they are done, with what they wrote.
func (f *fixture) appendConcurrently(name string, writers, appends int) (wait func() *written) {
	w := &written{streams: make(map[string][]eventstore.EventData)}
	var wg sync.WaitGroup
	for g := range writers {
		stream := f.stream(fmt.Sprintf("%s-%d", name, g))
		wg.Go(func() {
			var mine []eventstore.EventData
			expected := eventstore.NoStream()
			for i := range appends {
				evs := events(eventsOfAppend(i), fmt.Sprintf("%s-%d", stream, i))
				res, err := f.store.Append(f.ctx, stream, expected, evs...)
				if err != nil {
					f.t.Errorf("writer %d, append %d: %v", g, i, err)
					break
				}
				expected = eventstore.Exact(res.NextExpectedRevision)
				mine = append(mine, evs...)
			}
			w.mu.Lock()
			w.streams[stream] = mine
			w.mu.Unlock()
		})
	}
	return func() *written {
		wg.Wait()
		return w
	}
}

// collect takes n events from sub. A subscription that does not deliver
// them within Timeout fails the test through the context of sub.
func collect(t *testing.T, sub eventstore.Subscription, n int) []eventstore.RecordedEvent {
	t.Helper()
	got := make([]eventstore.RecordedEvent, 0, n)
	for len(got) < n {
		e, err := sub.Next()
		if err != nil {
			t.Fatalf("Next after %d of %d events: %v", len(got), n, err)
		}
		got = append(got, e)
	}
	return got
}
