package pebblestore

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Limits of one commit group: enough to amortise an fsync over many appends,
// small enough that a group's batch stays in memory comfortably. A single
// append larger than these is still written, as a group of its own.
const (
	maxGroupEvents = 16 << 10
	maxGroupBytes  = 32 << 20
	// maxCachedHeads bounds the sequencer's cache of stream heads; the cache
	// is dropped when it grows past this and refilled from disk on demand.
	maxCachedHeads = 1 << 20
)

// States of an appendRequest. The sequencer claims a pending request before
// it reads the caller's events; Append abandons a pending one when its
// context ends. Whichever comes first wins, so an abandoned append is never
// written and a claimed one is never left half read.
const (
	reqPending int32 = iota
	reqClaimed
	reqAbandoned
)

type appendRequest struct {
	stream   string
	expected eventstore.ExpectedRevision
	events   []eventstore.EventData
	state    atomic.Int32
	result   eventstore.AppendResult
	done     chan error
}

// commitGroup is one Pebble batch holding the appends of several callers,
// committed but maybe not yet synced.
type commitGroup struct {
	batch   *pebble.Batch
	reqs    []*appendRequest
	lastPos uint64
}

// Append writes events at the end of stream; see eventstore.Store.Append.
// It returns once the events are synced to disk. When ctx ends first, Append
// returns ctx's error; if the append had not been picked up by the writer
// yet, it is then guaranteed not to happen.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := s.acquire(ctx); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := s.failure(); err != nil {
		s.release()
		return eventstore.AppendResult{}, err
	}
	req := &appendRequest{stream: stream, expected: expected, events: events, done: make(chan error, 1)}
	select {
	case s.queue <- req:
	case <-ctx.Done():
		s.release()
		return eventstore.AppendResult{}, ctx.Err()
	}
	s.release()
	select {
	case err := <-req.done:
		return req.result, err
	case <-ctx.Done():
		if !req.state.CompareAndSwap(reqPending, reqAbandoned) {
			// The sequencer is reading the caller's events; returning now
			// would let the caller change them under it. The outcome is at
			// most one fsync away.
			<-req.done
		}
		return eventstore.AppendResult{}, ctx.Err()
	}
}

func (s *Store) failure() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// sequencer is the only writer of the database. Because it alone assigns
// revisions and positions, and commits its batches to Pebble in the order it
// assigned them, positions follow commit order with no gap; an append it
// rejects never takes a position.
type sequencer struct {
	s *Store
	// next is the position the next event will get.
	next uint64
	// heads caches, per stream, the number of events it has (0 for a stream
	// that has none). It reflects committed batches, synced or not.
	heads map[string]uint64
	group []*appendRequest
}

func newSequencer(s *Store, next uint64) *sequencer {
	return &sequencer{s: s, next: next, heads: make(map[string]uint64)}
}

func (q *sequencer) run() {
	defer close(q.s.synced)
	for first := range q.s.queue {
		q.collect(first)
		q.commit()
	}
}

// collect takes first and whatever else is already waiting, within the
// group limits. It never waits for more: the appends that arrive while this
// group syncs form the next one, which is what makes group commit adapt to
// the load by itself.
func (q *sequencer) collect(first *appendRequest) {
	q.group = append(q.group[:0], first)
	events, size := len(first.events), eventsSize(first.events)
	for events < maxGroupEvents && size < maxGroupBytes {
		select {
		case r, ok := <-q.s.queue:
			if !ok {
				return
			}
			q.group = append(q.group, r)
			events += len(r.events)
			size += eventsSize(r.events)
		default:
			return
		}
	}
}

func eventsSize(events []eventstore.EventData) int {
	n := 0
	for i := range events {
		ev := &events[i]
		n += 64 + len(ev.Type) + len(ev.ContentType) + len(ev.Data) + len(ev.Metadata)
	}
	return n
}

// commit decides every append of the group, writes the accepted ones as one
// batch and hands the batch to the syncer.
func (q *sequencer) commit() {
	s := q.s
	start := q.next
	batch := s.db.NewBatch()
	accepted := make([]*appendRequest, 0, len(q.group))
	recorded := time.Now().UnixNano()
	var key [logKeyLen]byte
	for _, req := range q.group {
		if !req.state.CompareAndSwap(reqPending, reqClaimed) {
			continue
		}
		if err := s.failure(); err != nil {
			req.done <- err
			continue
		}
		count, err := q.head(req.stream)
		if err != nil {
			req.done <- err
			continue
		}
		exists := count > 0
		if !req.expected.Check(exists, count-1) {
			werr := &eventstore.WrongExpectedRevisionError{Stream: req.stream, Expected: req.expected, Exists: exists}
			if exists {
				werr.Actual = count - 1
			}
			req.done <- werr
			continue
		}
		pos := q.next
		for i := range req.events {
			ev := &req.events[i]
			rev := count + uint64(i)
			op := batch.SetDeferred(logKeyLen, recordLen(req.stream, rev, ev))
			putLogKey(key[:], pos+uint64(i))
			copy(op.Key, key[:])
			putRecord(op.Value, req.stream, rev, recorded, ev)
			_ = op.Finish() // Finish only fails on indexed batches.
		}
		n := uint64(len(req.events))
		var val [8 + 10]byte
		// Set fails only on indexed batches, which this one is not.
		_ = batch.Set(streamKey(streamPrefix(req.stream), count), appendIndexValue(val[:0], pos, n), nil)
		q.heads[req.stream] = count + n
		q.next += n
		req.result = eventstore.AppendResult{
			NextExpectedRevision: count + n - 1,
			Position:             eventstore.Position{Commit: q.next - 1, Prepare: q.next - 1},
		}
		accepted = append(accepted, req)
	}
	// The caller's events are copied into the batch; drop the references
	// so that the group slice does not keep them alive.
	clear(q.group)
	if len(accepted) == 0 {
		_ = batch.Close()
		return
	}
	if err := s.db.ApplyNoSyncWait(batch, pebble.Sync); err != nil {
		// Nothing of the batch was written: give the positions back and
		// forget the heads it moved, which reload from disk.
		q.next = start
		for _, req := range accepted {
			delete(q.heads, req.stream)
			req.done <- fmt.Errorf("pebblestore: append to %q: %w", req.stream, err)
		}
		_ = batch.Close()
		return
	}
	s.synced <- &commitGroup{batch: batch, reqs: accepted, lastPos: q.next - 1}
}

// head returns the number of events of stream, from the cache or from the
// stream index.
func (q *sequencer) head(stream string) (uint64, error) {
	if n, ok := q.heads[stream]; ok {
		return n, nil
	}
	if len(q.heads) >= maxCachedHeads {
		clear(q.heads)
	}
	// Reading from the database sees every committed batch, synced or not,
	// which is what the sequencer needs: later appends build on earlier ones.
	e, ok, err := lastIndexEntry(q.s.db, streamPrefix(stream), ^uint64(0))
	if err != nil {
		return 0, err
	}
	n := uint64(0)
	if ok {
		n = e.first + e.count
	}
	q.heads[stream] = n
	return n, nil
}

// runSyncer waits, in commit order, for each group's fsync, then makes its
// events visible and acknowledges its appends. Doing this in order is what
// keeps the durable position a prefix of the log.
func (s *Store) runSyncer() {
	for g := range s.synced {
		err := g.batch.SyncWait()
		if err == nil {
			err = s.failure()
		}
		if err != nil {
			err = fmt.Errorf("pebblestore: sync: %w", err)
			s.failed.CompareAndSwap(nil, &err)
		} else {
			s.publish(g.lastPos)
		}
		for _, req := range g.reqs {
			req.done <- err
		}
		_ = g.batch.Close()
	}
}
