// Package eventstore is the storage port of ecoregistry: an append-only log of
// immutable events, grouped in streams and totally ordered in one global log.
//
// The semantics follow EventStoreDB / KurrentDB so that its adapter is a thin
// mapping: appends name the revision they expect the stream to be at
// (optimistic concurrency), every event gets a dense per-stream revision
// (0, 1, 2, ...) and a global position, and readers can read one stream, read
// the global log, or subscribe to it and follow new appends live.
//
// Positions are exclusive wherever they start a read of the global log: a
// forward read or subscription "from P" returns the events after P, and a
// backward read "from P" returns the events before P. Start and End are the
// sentinels before the first and after the last event. Stream revisions, which
// are dense, are inclusive: ReadStream "from 3" begins with revision 3.
//
// Every adapter must pass the contract suite in package storetest.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Store is an append-only event log. Implementations are safe for concurrent
// use by many goroutines.
type Store interface {
	// Append writes events at the end of stream, atomically and contiguously:
	// either all of them become visible, at consecutive revisions and in the
	// given order, or none does. It returns once the events are durable.
	//
	// expected states what the caller believes about the stream. When the
	// stream does not match, Append writes nothing and returns an error for
	// which errors.Is(err, ErrWrongExpectedRevision) holds; errors.As to
	// *WrongExpectedRevisionError tells the actual revision.
	//
	// Append returns ErrInvalidEvent (wrapped, with the reason) when the stream
	// name is empty, no event is given, or an event lacks an id or a type; it
	// returns the context's error when ctx ends before the append is durable
	// (the append may or may not have happened), and ErrClosed after Close.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error)

	// ReadStream returns up to limit events of one stream, starting at
	// revision from (inclusive) and going in direction dir. Backwards reads
	// may pass StreamEnd to start at the last event. A limit <= 0 means no
	// limit. It returns ErrStreamNotFound (wrapped) when the stream has no
	// event; a from beyond the stream's end gives an empty result.
	ReadStream(ctx context.Context, stream string, from uint64, dir Direction, limit int) ([]RecordedEvent, error)

	// ReadAll returns up to limit events of the global log that match filter,
	// in global order (Forwards) or its reverse (Backwards). Forwards it
	// returns events after from (pass Start for the beginning); backwards it
	// returns events before from (pass End for the most recent). A limit <= 0
	// means no limit.
	ReadAll(ctx context.Context, from Position, dir Direction, limit int, filter Filter) ([]RecordedEvent, error)

	// Subscribe delivers, in global order, every event after from that
	// matches filter: first those already stored (catch-up), then new ones as
	// they are appended (live), with no gap and no duplicate across the
	// switch. An event is never delivered before its append is durable.
	// The subscription ends when ctx ends or it is closed.
	Subscribe(ctx context.Context, from Position, filter Filter) (Subscription, error)

	// Close releases the store. Appends that were acknowledged stay durable.
	// Calls after Close return ErrClosed.
	Close() error
}

// Subscription is a live, ordered feed of events from Store.Subscribe.
type Subscription interface {
	// Next blocks until the next matching event is available and returns it.
	// It returns the subscription context's error once that context ends,
	// ErrClosed after Close, or an adapter error when the feed broke (the
	// caller may subscribe again from the last position it processed).
	Next() (RecordedEvent, error)
	// Close ends the subscription and releases its resources. It is safe to
	// call more than once and concurrently with Next.
	Close() error
}

// EventData is an event as the caller hands it to Append.
type EventData struct {
	// ID identifies the event; it must not be uuid.Nil.
	ID uuid.UUID
	// Type names what happened, in the past tense ("UnitsTransferred").
	Type string
	// ContentType describes Data, for example "application/protobuf".
	ContentType string
	// Data is the event's payload.
	Data []byte
	// Metadata is the event's envelope (actor, time, correlation, hash chain).
	Metadata []byte
}

// RecordedEvent is an event as the store returns it: the caller's EventData
// plus what the store assigned when it was written.
type RecordedEvent struct {
	EventData
	// Stream is the stream the event belongs to.
	Stream string
	// Revision is the event's dense, zero-based place in its stream.
	Revision uint64
	// Position is the event's place in the global log.
	Position Position
	// Recorded is when the store wrote the event.
	Recorded time.Time
}

// AppendResult tells where an Append put its events.
type AppendResult struct {
	// NextExpectedRevision is the stream revision of the last event written:
	// pass Exact(NextExpectedRevision) to append after it.
	NextExpectedRevision uint64
	// Position is the global position of the last event written.
	Position Position
}

// Position is a place in the global log. Positions compare in the order of
// the log. In the embedded store Commit and Prepare are equal and gapless
// (1, 2, 3, ...); in EventStoreDB they are the $all commit and prepare
// positions, which leave gaps.
type Position struct {
	Commit  uint64
	Prepare uint64
}

var (
	// Start is the position before the first event of the global log.
	Start = Position{}
	// End is the position after the last event of the global log.
	End = Position{Commit: math.MaxUint64, Prepare: math.MaxUint64}
)

// Compare returns -1, 0 or +1 when p is before, at or after q.
func (p Position) Compare(q Position) int {
	switch {
	case p.Commit < q.Commit:
		return -1
	case p.Commit > q.Commit:
		return 1
	case p.Prepare < q.Prepare:
		return -1
	case p.Prepare > q.Prepare:
		return 1
	}
	return 0
}

// Before reports whether p comes before q in the global log.
func (p Position) Before(q Position) bool { return p.Compare(q) < 0 }

// String formats p as "commit/prepare".
func (p Position) String() string { return fmt.Sprintf("%d/%d", p.Commit, p.Prepare) }

// ParsePosition reads the form written by Position.String.
func ParsePosition(s string) (Position, error) {
	var p Position
	c, r, ok := strings.Cut(s, "/")
	if !ok {
		return p, fmt.Errorf("eventstore: position %q: want commit/prepare", s)
	}
	if _, err := fmt.Sscanf(c+" "+r, "%d %d", &p.Commit, &p.Prepare); err != nil {
		return Position{}, fmt.Errorf("eventstore: position %q: %v", s, err)
	}
	return p, nil
}

// StreamEnd, passed as from to a backwards ReadStream, starts at the last
// event of the stream.
const StreamEnd = math.MaxUint64

// Direction is the order of a read.
type Direction int

const (
	// Forwards reads in increasing revision or position.
	Forwards Direction = iota
	// Backwards reads in decreasing revision or position.
	Backwards
)

// Filter selects events of the global log. An event matches when its stream
// starts with one of StreamPrefixes (or StreamPrefixes is empty) and its type
// is one of EventTypes (or EventTypes is empty). The zero Filter matches every
// event.
type Filter struct {
	StreamPrefixes []string
	EventTypes     []string
}

// Matches reports whether e is selected by f.
func (f Filter) Matches(stream, eventType string) bool {
	if len(f.StreamPrefixes) > 0 {
		ok := false
		for _, p := range f.StreamPrefixes {
			if strings.HasPrefix(stream, p) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.EventTypes) > 0 {
		for _, t := range f.EventTypes {
			if t == eventType {
				return true
			}
		}
		return false
	}
	return true
}

// ExpectedRevision is what an Append requires of its stream.
type ExpectedRevision struct {
	kind     ExpectedKind
	revision uint64
}

// ExpectedKind distinguishes the four kinds of ExpectedRevision.
type ExpectedKind int

const (
	// ExpectAny accepts the stream in any state.
	ExpectAny ExpectedKind = iota
	// ExpectNoStream requires that the stream has no event yet.
	ExpectNoStream
	// ExpectStreamExists requires that the stream has at least one event.
	ExpectStreamExists
	// ExpectExact requires that the stream's last revision is exactly Revision.
	ExpectExact
)

// Any accepts the stream in any state.
func Any() ExpectedRevision { return ExpectedRevision{kind: ExpectAny} }

// NoStream requires that the stream has no event yet.
func NoStream() ExpectedRevision { return ExpectedRevision{kind: ExpectNoStream} }

// StreamExists requires that the stream has at least one event.
func StreamExists() ExpectedRevision { return ExpectedRevision{kind: ExpectStreamExists} }

// Exact requires that the stream's last event is at revision rev.
func Exact(rev uint64) ExpectedRevision { return ExpectedRevision{kind: ExpectExact, revision: rev} }

// Kind tells which of the four kinds e is.
func (e ExpectedRevision) Kind() ExpectedKind { return e.kind }

// Revision is the required revision of an Exact expectation, else 0.
func (e ExpectedRevision) Revision() uint64 { return e.revision }

// String describes e for error messages.
func (e ExpectedRevision) String() string {
	switch e.kind {
	case ExpectNoStream:
		return "no stream"
	case ExpectStreamExists:
		return "stream exists"
	case ExpectExact:
		return fmt.Sprintf("revision %d", e.revision)
	}
	return "any"
}

// Check reports whether a stream whose state is (exists, last) satisfies e,
// where last is the revision of its last event. Adapters that decide
// expectations themselves use it so that all of them agree.
func (e ExpectedRevision) Check(exists bool, last uint64) bool {
	switch e.kind {
	case ExpectNoStream:
		return !exists
	case ExpectStreamExists:
		return exists
	case ExpectExact:
		return exists && last == e.revision
	}
	return true
}

var (
	// ErrWrongExpectedRevision reports that a stream was not at the revision
	// an Append expected. The error is a *WrongExpectedRevisionError.
	ErrWrongExpectedRevision = errors.New("eventstore: wrong expected revision")
	// ErrStreamNotFound reports a read of a stream that has no event.
	ErrStreamNotFound = errors.New("eventstore: stream not found")
	// ErrInvalidEvent reports an Append the store refuses to write as given.
	ErrInvalidEvent = errors.New("eventstore: invalid append")
	// ErrClosed reports a call on a closed store or subscription.
	ErrClosed = errors.New("eventstore: closed")
	// ErrWritesStopped reports a store that met a storage failure it cannot
	// recover from while it runs (its log could not be written or synced)
	// and accepts no more appends; reads go on. Restarting it recovers every
	// acknowledged event. An append that failed this way may or may not
	// have been recorded.
	ErrWritesStopped = errors.New("eventstore: writes stopped after a storage failure; restart the store")
	// ErrStorageFull reports an append refused because the store's disk is
	// full. It comes wrapped together with ErrWritesStopped when the store
	// cannot take appends again before a restart.
	ErrStorageFull = errors.New("eventstore: storage full")
)

// WrongExpectedRevisionError is the error Append returns on a concurrency
// conflict. errors.Is(err, ErrWrongExpectedRevision) holds for it.
type WrongExpectedRevisionError struct {
	Stream   string
	Expected ExpectedRevision
	// Exists tells whether the stream had any event; Actual is the revision
	// of its last event when it did.
	Exists bool
	Actual uint64
}

func (e *WrongExpectedRevisionError) Error() string {
	actual := "no stream"
	if e.Exists {
		actual = fmt.Sprintf("revision %d", e.Actual)
	}
	return fmt.Sprintf("eventstore: wrong expected revision on stream %q: expected %s, actual %s", e.Stream, e.Expected, actual)
}

// Is makes errors.Is(err, ErrWrongExpectedRevision) hold.
func (e *WrongExpectedRevisionError) Is(target error) bool { return target == ErrWrongExpectedRevision }

// StreamNotFoundError reports which stream a read did not find.
// errors.Is(err, ErrStreamNotFound) holds for it.
type StreamNotFoundError struct{ Stream string }

func (e *StreamNotFoundError) Error() string {
	return fmt.Sprintf("eventstore: stream %q not found", e.Stream)
}

// Is makes errors.Is(err, ErrStreamNotFound) hold.
func (e *StreamNotFoundError) Is(target error) bool { return target == ErrStreamNotFound }

// ValidateAppend checks the arguments of an Append the same way for every
// adapter and returns an error wrapping ErrInvalidEvent, or nil.
func ValidateAppend(stream string, events []EventData) error {
	if stream == "" {
		return fmt.Errorf("%w: empty stream name", ErrInvalidEvent)
	}
	if len(events) == 0 {
		return fmt.Errorf("%w: no events to append to stream %q", ErrInvalidEvent, stream)
	}
	for i, ev := range events {
		if ev.ID == uuid.Nil {
			return fmt.Errorf("%w: event %d of stream %q has no id", ErrInvalidEvent, i, stream)
		}
		if ev.Type == "" {
			return fmt.Errorf("%w: event %d of stream %q has no type", ErrInvalidEvent, i, stream)
		}
	}
	return nil
}
