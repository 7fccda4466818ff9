package pebblestore

import (
	"context"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// streamBounds returns the iterator bounds that cover exactly the index
// entries of the stream with the given prefix.
func streamBounds(prefix []byte) *pebble.IterOptions {
	upper := append(streamKey(prefix, math.MaxUint64), 0)
	return &pebble.IterOptions{LowerBound: prefix, UpperBound: upper}
}

// lastIndexEntry returns the last entry of the stream with the given prefix,
// and whether there is one.
func lastIndexEntry(db *pebble.DB, prefix []byte) (indexEntry, bool, error) {
	it, err := db.NewIter(streamBounds(prefix))
	if err != nil {
		return indexEntry{}, false, err
	}
	defer it.Close()
	if !it.Last() {
		return indexEntry{}, false, it.Error()
	}
	e, err := decodeIndexEntry(len(prefix), it.Key(), it.Value())
	return e, err == nil, err
}

// ReadStream returns up to limit events of stream from revision from in
// direction dir; see eventstore.Store.ReadStream. Only durable events are
// returned. A backwards read from beyond the end of the stream, StreamEnd
// included, starts at its last event.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.RecordedEvent, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	durable := s.durable.Load()
	prefix := streamPrefix(stream)
	idx, err := s.db.NewIter(streamBounds(prefix))
	if err != nil {
		return nil, err
	}
	defer idx.Close()

	// Find the entry that holds from, or the last durable one before it.
	// Entries past the durable position belong to appends still syncing;
	// they are always the stream's last ones.
	ok := false
	if from == math.MaxUint64 {
		ok = idx.Last()
	} else {
		ok = idx.SeekLT(streamKey(prefix, from+1))
	}
	var e indexEntry
	for ; ok; ok = idx.Prev() {
		if e, err = decodeIndexEntry(len(prefix), idx.Key(), idx.Value()); err != nil {
			return nil, err
		}
		if e.pos <= durable {
			break
		}
	}
	if err := idx.Error(); err != nil {
		return nil, err
	}
	if !ok {
		// Revision 0 is at or before any from, so no entry means no stream.
		return nil, &eventstore.StreamNotFoundError{Stream: stream}
	}

	r := logReader{limit: limit}
	defer r.close()
	if r.it, err = s.db.NewIter(&pebble.IterOptions{LowerBound: logLower, UpperBound: logKey(durable + 1)}); err != nil {
		return nil, err
	}
	if dir == eventstore.Backwards {
		rev := min(from, e.last())
		for {
			if err := r.readRun(e.pos+(rev-e.first), rev-e.first+1, eventstore.Backwards); err != nil || r.full() {
				return r.events, err
			}
			if !idx.Prev() {
				return r.events, idx.Error()
			}
			if e, err = decodeIndexEntry(len(prefix), idx.Key(), idx.Value()); err != nil {
				return nil, err
			}
			rev = e.last()
		}
	}
	if from > e.last() {
		return nil, nil
	}
	rev := from
	for {
		if err := r.readRun(e.pos+(rev-e.first), e.last()-rev+1, eventstore.Forwards); err != nil || r.full() {
			return r.events, err
		}
		if !idx.Next() {
			return r.events, idx.Error()
		}
		if e, err = decodeIndexEntry(len(prefix), idx.Key(), idx.Value()); err != nil {
			return nil, err
		}
		if e.pos > durable {
			return r.events, nil
		}
		rev = e.first
	}
}

// ReadAll returns up to limit events of the global log that match filter;
// see eventstore.Store.ReadAll. Only durable events are returned.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, dir eventstore.Direction, limit int, filter eventstore.Filter) ([]eventstore.RecordedEvent, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	durable := s.durable.Load()
	var lo, hi uint64 // inclusive range of positions to scan
	if dir == eventstore.Backwards {
		if from.Commit == 0 {
			return nil, nil
		}
		lo, hi = 1, min(from.Commit-1, durable)
	} else {
		if from.Commit >= durable {
			return nil, nil
		}
		lo, hi = from.Commit+1, durable
	}
	r := logReader{limit: limit, filter: &filter}
	if limit > 0 && limit <= 4096 {
		// Most pages are full: size the result once.
		r.events = make([]eventstore.RecordedEvent, 0, limit)
	}
	defer r.close()
	_, err := r.scan(s.db, lo, hi, dir, 0)
	return r.events, err
}

// logReader reads records of the log into events.
type logReader struct {
	it    *pebble.Iterator
	limit int
	// avail, when positive, bounds the events the read can find; it sizes
	// the arena's chunks for a short read.
	avail  int
	filter *eventstore.Filter
	events []eventstore.RecordedEvent
	arena  arena
	view   recordView
}

func (r *logReader) close() {
	if r.it != nil {
		_ = r.it.Close()
	}
}

func (r *logReader) full() bool { return r.limit > 0 && len(r.events) >= r.limit }

// readRun reads the n consecutive positions of one append, starting at pos
// and going in direction dir; the records must all be there.
func (r *logReader) readRun(pos, n uint64, dir eventstore.Direction) error {
	var key [logKeyLen]byte
	putLogKey(key[:], pos)
	ok := r.it.SeekGE(key[:])
	for i := uint64(0); i < n && !r.full(); i++ {
		want := pos + i
		if dir == eventstore.Backwards {
			want = pos - i
		}
		if !ok {
			if err := r.it.Error(); err != nil {
				return err
			}
			return fmt.Errorf("%w: position %d is in the stream index but not in the log", errCorrupt, want)
		}
		if got, _ := decodeLogKey(r.it.Key()); got != want {
			return fmt.Errorf("%w: position %d is in the stream index but not in the log", errCorrupt, want)
		}
		value, err := r.it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := r.view.decode(value); err != nil {
			return fmt.Errorf("%w at position %d", err, want)
		}
		r.add(want)
		if dir == eventstore.Backwards {
			ok = r.it.Prev()
		} else {
			ok = r.it.Next()
		}
	}
	return nil
}

// scan reads positions lo..hi (inclusive) in direction dir and keeps the
// events that match the filter, until the limit is reached or, when maxScan
// > 0, maxScan records were looked at. Going forwards, it returns the
// position up to which it has looked: hi when it reached the end of the
// range, so that a caller resuming after it skips nothing and repeats
// nothing.
func (r *logReader) scan(db *pebble.DB, lo, hi uint64, dir eventstore.Direction, maxScan int) (uint64, error) {
	if lo > hi {
		return 0, nil
	}
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: logKey(lo), UpperBound: logKey(hi + 1)})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	var ok bool
	if dir == eventstore.Backwards {
		ok = it.Last()
	} else {
		ok = it.First()
	}
	last, scanned := uint64(0), 0
	for ; ok && !r.full() && (maxScan <= 0 || scanned < maxScan); scanned++ {
		pos, valid := decodeLogKey(it.Key())
		if !valid {
			return last, fmt.Errorf("%w: log key %x", errCorrupt, it.Key())
		}
		value, err := it.ValueAndErr()
		if err != nil {
			return last, err
		}
		if err := r.view.decode(value); err != nil {
			return last, fmt.Errorf("%w at position %d", err, pos)
		}
		if r.filter == nil || r.view.matches(r.filter) {
			r.add(pos)
		}
		last = pos
		if dir == eventstore.Backwards {
			ok = it.Prev()
		} else {
			ok = it.Next()
		}
	}
	if !ok && it.Error() == nil {
		last = hi
	}
	return last, it.Error()
}

// add appends the event in r.view, at position pos, to the result. It
// decodes in place: a RecordedEvent is large, and building it on the stack
// to append it would copy it twice.
func (r *logReader) add(pos uint64) {
	more := 0
	if r.limit > 0 {
		more = r.limit - len(r.events) - 1
	}
	if r.avail > 0 {
		more = min(max(more, 0), r.avail-len(r.events)-1)
	}
	// The encoded record bounds what the event's copies take.
	r.arena.reserve(r.view.size, more)
	r.events = append(r.events, eventstore.RecordedEvent{})
	r.view.fill(&r.events[len(r.events)-1], &r.arena, pos)
}
