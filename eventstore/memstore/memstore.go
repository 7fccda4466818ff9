// Package memstore is an event store held in memory, for tests and
// simulations: it keeps the whole contract of eventstore.Store (it passes
// storetest) with none of a disk's cost, and its positions, like the
// embedded store's, are dense from 1.
//
// The events live in a Log, which outlives the Stores opened over it: a
// test that closes a Store and opens another over the same Log sees a
// process restart that lost nothing acknowledged. Every Append is durable
// the moment it returns, and nothing else is written, so a Log cannot show
// a torn write; tests of torn writes belong to the disk stores.
package memstore

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Log is the events of a store, kept across the Stores opened over it.
type Log struct {
	clock func() time.Time

	mu     sync.Mutex
	events []eventstore.RecordedEvent
	// streams holds, for each stream, the index in events of each revision.
	streams map[string][]int
	// appended is closed, and replaced, after every append.
	appended chan struct{}
}

// NewLog returns an empty log whose events are recorded at clock's time;
// a nil clock is time.Now.
func NewLog(clock func() time.Time) *Log {
	if clock == nil {
		clock = time.Now
	}
	return &Log{clock: clock, streams: map[string][]int{}, appended: make(chan struct{})}
}

// Open returns a store over the log.
func (l *Log) Open() *Store { return &Store{log: l, done: make(chan struct{})} }

// New returns a store over a new, empty log.
func New() *Store { return NewLog(nil).Open() }

// Len returns the number of events in the log.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// Store is a handle on a Log; it implements eventstore.Store.
type Store struct {
	log       *Log
	closeOnce sync.Once
	done      chan struct{}
}

var (
	_ eventstore.Store          = (*Store)(nil)
	_ eventstore.DensePositions = (*Store)(nil)
)

// DensePositions reports true: an append of n events takes the next n
// positions.
func (s *Store) DensePositions() bool { return true }

// check returns the error a call gets on a closed store or with an ended
// context.
func (s *Store) check(ctx context.Context) error {
	select {
	case <-s.done:
		return eventstore.ErrClosed
	default:
	}
	return ctx.Err()
}

// Append writes events at the end of stream; see eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := s.check(ctx); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	l := s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	revs := l.streams[stream]
	if !expected.Check(len(revs) > 0, uint64(len(revs))-1) {
		werr := &eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected, Exists: len(revs) > 0}
		if werr.Exists {
			werr.Actual = uint64(len(revs)) - 1
		}
		return eventstore.AppendResult{}, werr
	}
	at := l.clock()
	for _, ev := range events {
		pos := uint64(len(l.events)) + 1
		revs = append(revs, len(l.events))
		l.events = append(l.events, eventstore.RecordedEvent{EventData: cloneData(ev), Stream: stream,
			Revision: uint64(len(revs)) - 1, Position: eventstore.Position{Commit: pos, Prepare: pos}, Recorded: at})
	}
	l.streams[stream] = revs
	close(l.appended)
	l.appended = make(chan struct{})
	last := l.events[len(l.events)-1]
	return eventstore.AppendResult{NextExpectedRevision: last.Revision, Position: last.Position}, nil
}

// ReadStream reads events of one stream; see eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.RecordedEvent, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	l := s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	revs := l.streams[stream]
	if len(revs) == 0 {
		return nil, &eventstore.StreamNotFoundError{Stream: stream}
	}
	var out []eventstore.RecordedEvent
	if dir == eventstore.Forwards {
		for r := from; r < uint64(len(revs)) && (limit <= 0 || len(out) < limit); r++ {
			out = append(out, cloneRecorded(l.events[revs[r]]))
		}
		return out, nil
	}
	r := min(from, uint64(len(revs))-1)
	for ; limit <= 0 || len(out) < limit; r-- {
		out = append(out, cloneRecorded(l.events[revs[r]]))
		if r == 0 {
			break
		}
	}
	return out, nil
}

// ReadAll reads the global log; see eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, dir eventstore.Direction, limit int, filter eventstore.Filter) ([]eventstore.RecordedEvent, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	l := s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []eventstore.RecordedEvent
	take := func(i int) bool {
		if e := l.events[i]; filter.Matches(e.Stream, e.Type) {
			out = append(out, cloneRecorded(e))
		}
		return limit <= 0 || len(out) < limit
	}
	if dir == eventstore.Forwards {
		// Position p is at index p-1: the events after from begin at index from.
		for i := int(min(from.Commit, uint64(len(l.events)))); i < len(l.events) && take(i); i++ {
		}
		return out, nil
	}
	for i := int(min(from.Commit, uint64(len(l.events)+1))) - 2; i >= 0 && take(i); i-- {
	}
	return out, nil
}

// Subscribe follows the log from a position; see eventstore.Store.
func (s *Store) Subscribe(ctx context.Context, from eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	cursor := from.Commit
	if from == eventstore.End {
		cursor = uint64(s.log.Len())
	}
	return &subscription{s: s, ctx: ctx, filter: filter, cursor: cursor, closed: make(chan struct{})}, nil
}

// Close ends the store and its subscriptions; the log stays.
func (s *Store) Close() error {
	closed := false
	s.closeOnce.Do(func() { close(s.done); closed = true })
	if !closed {
		return eventstore.ErrClosed
	}
	return nil
}

type subscription struct {
	s      *Store
	ctx    context.Context
	filter eventstore.Filter
	// cursor is the position of the last event looked at.
	cursor    uint64
	closed    chan struct{}
	closeOnce sync.Once
}

// Next returns the next matching event, waiting for it; see
// eventstore.Subscription.
func (sub *subscription) Next() (eventstore.RecordedEvent, error) {
	for {
		if err := sub.s.check(sub.ctx); err != nil {
			return eventstore.RecordedEvent{}, err
		}
		select {
		case <-sub.closed:
			return eventstore.RecordedEvent{}, eventstore.ErrClosed
		default:
		}
		e, found, wait := sub.scan()
		if found {
			return e, nil
		}
		select {
		case <-wait:
		case <-sub.ctx.Done():
		case <-sub.closed:
		case <-sub.s.done:
		}
	}
}

// scan looks for the next matching event after the cursor; when there is
// none, it returns the channel that the next append closes.
func (sub *subscription) scan() (eventstore.RecordedEvent, bool, <-chan struct{}) {
	l := sub.s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	for sub.cursor < uint64(len(l.events)) {
		e := l.events[sub.cursor]
		sub.cursor++
		if sub.filter.Matches(e.Stream, e.Type) {
			return cloneRecorded(e), true, nil
		}
	}
	return eventstore.RecordedEvent{}, false, l.appended
}

// Close ends the subscription; see eventstore.Subscription.
func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() { close(sub.closed) })
	return nil
}

// cloneData copies an event's bytes, so that neither the caller nor the log
// sees the other's changes.
func cloneData(e eventstore.EventData) eventstore.EventData {
	e.Data, e.Metadata = bytes.Clone(e.Data), bytes.Clone(e.Metadata)
	return e
}

func cloneRecorded(e eventstore.RecordedEvent) eventstore.RecordedEvent {
	e.EventData = cloneData(e.EventData)
	return e
}
