package esdbfake

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// record is one event in the log: what a prepare record of EventStoreDB
// holds for an event written by an ordinary append.
type record struct {
	// pos is the log position where the record starts. EventStoreDB reports
	// it as both the commit and the prepare position of an event written by
	// an append (an implicit transaction); next is where the record ends.
	pos, next uint64
	stream    string
	revision  uint64
	id        uuid.UUID
	typ       string
	json      bool
	data      []byte
	metadata  []byte
	created   time.Time
}

// position is a place in $all as EventStoreDB compares it: commit, then
// prepare.
type position struct{ commit, prepare uint64 }

func (p position) less(q position) bool {
	return p.commit < q.commit || (p.commit == q.commit && p.prepare < q.prepare)
}

func (r *record) position() position { return position{r.pos, r.pos} }

// proposed is an event of an append request.
type proposed struct {
	id       uuid.UUID
	typ      string
	json     bool
	data     []byte
	metadata []byte
}

// expectation is the expected stream revision of an append, as the wire
// protocol states it.
type expectation struct {
	kind     int // one of expectAny, expectNoStream, expectStreamExists, expectRevision
	revision uint64
}

const (
	expectAny = iota
	expectNoStream
	expectStreamExists
	expectRevision
)

// appendOutcome is what an append did: either it succeeded (possibly as an
// idempotent repeat of an earlier append) or the stream was not where the
// request expected it.
type appendOutcome struct {
	ok bool
	// exists tells whether the stream has an event (after the append, on
	// success); current is then the revision of its last event.
	exists  bool
	current uint64
	// lastPos is the position of the last event written, unless
	// noPosition (an append of no event, or a repeat of an earlier one).
	lastPos    uint64
	noPosition bool
}

// eventLog is the single log that every node of a fake cluster serves, as a
// replicated EventStoreDB log does once a quorum has acknowledged a write.
type eventLog struct {
	mu      sync.Mutex
	records []*record
	streams map[string][]*record
	end     uint64
	// changed is closed and replaced after every append, to wake the
	// subscriptions that wait for new records.
	changed chan struct{}
	now     func() time.Time
}

// recordOverhead approximates the fixed part of a prepare record, so that log
// positions are byte offsets with gaps as in EventStoreDB.
const recordOverhead = 98

func newEventLog() *eventLog {
	return &eventLog{streams: map[string][]*record{}, changed: make(chan struct{}), now: time.Now}
}

// appendEvents writes events to stream if the stream satisfies exp. Like
// EventStoreDB it treats a repeat of an append whose event ids are already
// at the expected place in the stream as idempotent: it writes nothing and
// reports the earlier result.
func (l *eventLog) appendEvents(stream string, exp expectation, events []proposed) appendOutcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	existing := l.streams[stream]
	exists := len(existing) > 0
	var current uint64
	if exists {
		current = existing[len(existing)-1].revision
	}
	if out, ok := idempotent(existing, exp, events); ok {
		return out
	}
	satisfied := false
	switch exp.kind {
	case expectAny:
		satisfied = true
	case expectNoStream:
		satisfied = !exists
	case expectStreamExists:
		satisfied = exists
	case expectRevision:
		satisfied = exists && current == exp.revision
	}
	if !satisfied {
		return appendOutcome{exists: exists, current: current}
	}
	if len(events) == 0 {
		// An empty append changes nothing and, as in EventStoreDB, reports
		// the stream as it is.
		return appendOutcome{ok: true, exists: exists, current: current, noPosition: true}
	}
	next := uint64(0)
	if exists {
		next = current + 1
	}
	created := l.now().UTC()
	for i, e := range events {
		r := &record{
			pos: l.end, stream: stream, revision: next + uint64(i), id: e.id, typ: e.typ, json: e.json,
			data: slices.Clone(e.data), metadata: slices.Clone(e.metadata), created: created,
		}
		r.next = r.pos + recordOverhead + uint64(len(stream)+len(e.typ)+len(e.data)+len(e.metadata))
		l.end = r.next
		l.records = append(l.records, r)
		l.streams[stream] = append(l.streams[stream], r)
	}
	last := l.records[len(l.records)-1]
	close(l.changed)
	l.changed = make(chan struct{})
	return appendOutcome{ok: true, exists: true, current: last.revision, lastPos: last.pos}
}

// idempotent reports whether events repeat, id for id, the events already
// in the stream right after the expected revision (or, for Any, after the
// event that carries the first id).
func idempotent(existing []*record, exp expectation, events []proposed) (appendOutcome, bool) {
	if len(events) == 0 || len(existing) == 0 {
		return appendOutcome{}, false
	}
	start := -1
	switch exp.kind {
	case expectNoStream:
		start = 0
	case expectRevision:
		start = int(exp.revision) + 1
	case expectAny:
		for i, r := range existing {
			if r.id == events[0].id {
				start = i
				break
			}
		}
	}
	if start < 0 || start+len(events) > len(existing) {
		return appendOutcome{}, false
	}
	for i, e := range events {
		if existing[start+i].id != e.id {
			return appendOutcome{}, false
		}
	}
	// EventStoreDB answers an append it had already written with the
	// revision of its last event but without a log position.
	last := existing[start+len(events)-1]
	return appendOutcome{ok: true, exists: true, current: last.revision, noPosition: true}, true
}

// endPosition is where the next record will start.
func (l *eventLog) endPosition() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.end
}

// poke wakes every subscription waiting for new records, so that it looks
// at the log again.
func (l *eventLog) poke() {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.changed)
	l.changed = make(chan struct{})
}

// stream returns the records of one stream and whether it exists.
func (l *eventLog) stream(name string) []*record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.streams[name]
}

// snapshot returns the records written so far and a channel that is closed
// when more are written.
func (l *eventLog) snapshot() ([]*record, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.records, l.changed
}

// firstAtOrAfter is the index of the first record whose position is at or
// after p.
func firstAtOrAfter(records []*record, p position) int {
	return sort.Search(len(records), func(i int) bool { return !records[i].position().less(p) })
}

// firstAfter is the index of the first record whose position is after p.
func firstAfter(records []*record, p position) int {
	return sort.Search(len(records), func(i int) bool { return p.less(records[i].position()) })
}

// isSystem reports whether a stream or event type is EventStoreDB's own:
// their names start with '$'.
func isSystem(name string) bool { return strings.HasPrefix(name, "$") }
