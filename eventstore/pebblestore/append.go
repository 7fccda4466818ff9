package pebblestore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// maxCachedHeads bounds the sequencer's cache of stream heads; the cache is
// dropped when it grows past this and refilled from disk on demand.
const maxCachedHeads = 1 << 20

// Append writes events at the end of stream; see eventstore.Store.Append.
// It returns once the events are synced to disk. A context that has ended
// when Append is called stops it before it writes anything; one that ends
// while the append waits for its fsync does not cut the wait short (it lasts
// one fsync at most), but Append then returns the context's error, as the
// port says, although the events are durable.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := s.acquire(ctx); err != nil {
		return eventstore.AppendResult{}, err
	}
	defer s.release()
	if err := s.failure(); err != nil {
		return eventstore.AppendResult{}, err
	}
	batch, res, err := s.seq.commit(s.db, stream, expected, events, s.failure)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	// The batch is in the WAL and waits for its fsync. Pebble syncs every
	// batch that is waiting with one fsync, so concurrent appends share it:
	// this is the group commit.
	err = batch.SyncWait()
	_ = batch.Close()
	if err != nil {
		return eventstore.AppendResult{}, s.stopWrites(err)
	}
	s.publish(res.Position.Commit)
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	return res, nil
}

func (s *Store) failure() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// stopWrites records a failed write or sync of the log, cause, and returns
// the error every append gets from then on, which wraps
// eventstore.ErrWritesStopped (and eventstore.ErrStorageFull when the disk
// is full).
//
// The store never tries the sync again, nor any further append: after a
// failed fsync the kernel may have dropped the dirty pages and marked them
// clean, so a later fsync that succeeds proves nothing (PostgreSQL's
// "fsyncgate"), and Pebble's log writer keeps its first error and would
// fail, or end the process, on the next write. Reads go on, up to the last
// event synced. On restart, Pebble replays what is on disk: every
// acknowledged append was synced, so none is lost, and the append that
// failed may or may not be there, as a client that got an error must
// expect.
func (s *Store) stopWrites(cause error) error {
	var err error
	if errors.Is(cause, syscall.ENOSPC) {
		err = fmt.Errorf("pebblestore: the disk is full, and the log could not be written: %w: %w; %w", eventstore.ErrStorageFull, cause, eventstore.ErrWritesStopped)
	} else {
		err = fmt.Errorf("pebblestore: the log could not be written or synced: %w; %w", cause, eventstore.ErrWritesStopped)
	}
	if !s.failed.CompareAndSwap(nil, &err) {
		return *s.failed.Load()
	}
	s.watchMu.Lock()
	watchers := s.watchers
	s.watchers = nil
	s.watchMu.Unlock()
	for _, f := range watchers {
		f(err)
	}
	return err
}

// NotifyWritesStopped has f called once when the store stops taking
// appends after a failed write or sync of its log (see stopWrites), with
// the error appends get from then on; at once when it has stopped already.
func (s *Store) NotifyWritesStopped(f func(error)) {
	s.watchMu.Lock()
	if p := s.failed.Load(); p != nil {
		s.watchMu.Unlock()
		f(*p)
		return
	}
	s.watchers = append(s.watchers, f)
	s.watchMu.Unlock()
}

// sequencer decides appends and assigns their revisions and positions. Its
// lock is held from the check of the expected revision until the batch is
// in Pebble's commit pipeline, so positions follow Pebble's commit order,
// which is the WAL's order: there is no gap in the log, whatever prefix of
// the WAL survives a crash, and an append it refuses takes no position.
type sequencer struct {
	mu sync.Mutex
	// next is the position the next event will get.
	next uint64
	// heads caches, per stream, the number of events it has (0 for a stream
	// that has none). It counts committed appends, synced or not.
	heads map[string]uint64
}

// commit checks expected against the stream, and when it holds, commits the
// events to Pebble without waiting for their sync. The caller waits with
// SyncWait and then closes the batch.
func (q *sequencer) commit(db *pebble.DB, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData, failure func() error) (*pebble.Batch, eventstore.AppendResult, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	// Checked again under the lock, so that no append that waited for it
	// behind a failed one reaches Pebble's broken log.
	if err := failure(); err != nil {
		return nil, eventstore.AppendResult{}, err
	}
	count, err := q.head(db, stream)
	if err != nil {
		return nil, eventstore.AppendResult{}, err
	}
	exists := count > 0
	if !expected.Check(exists, count-1) {
		werr := &eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected, Exists: exists}
		if exists {
			werr.Actual = count - 1
		}
		return nil, eventstore.AppendResult{}, werr
	}
	batch := db.NewBatch()
	recorded := time.Now().UnixNano()
	pos := q.next
	var key [logKeyLen]byte
	for i := range events {
		ev := &events[i]
		rev := count + uint64(i)
		op := batch.SetDeferred(logKeyLen, recordLen(stream, rev, ev))
		putLogKey(key[:], pos+uint64(i))
		copy(op.Key, key[:])
		putRecord(op.Value, stream, rev, recorded, ev)
		_ = op.Finish() // Finish only fails on indexed batches.
	}
	n := uint64(len(events))
	// The index entry goes after the log records: Pebble inserts a batch
	// into its memtable in order, each insert starting from where the
	// previous one ended, so consecutive log keys are a short step each.
	var val [8 + binary.MaxVarintLen64]byte
	_ = batch.Set(streamKey(streamPrefix(stream), count), appendIndexValue(val[:0], pos, n), nil)
	if err := db.ApplyNoSyncWait(batch, pebble.Sync); err != nil {
		_ = batch.Close()
		// Nothing was written: the position and the head stay as they were.
		return nil, eventstore.AppendResult{}, fmt.Errorf("pebblestore: append to %q: %w", stream, err)
	}
	q.heads[stream] = count + n
	q.next += n
	return batch, eventstore.AppendResult{
		NextExpectedRevision: count + n - 1,
		Position:             eventstore.Position{Commit: q.next - 1, Prepare: q.next - 1},
	}, nil
}

// head returns the number of events of stream, from the cache or from the
// stream index.
func (q *sequencer) head(db *pebble.DB, stream string) (uint64, error) {
	if n, ok := q.heads[stream]; ok {
		return n, nil
	}
	if len(q.heads) >= maxCachedHeads {
		clear(q.heads)
	}
	// Reading from the database sees every committed batch, synced or not,
	// which is what the sequencer needs: later appends build on earlier ones.
	e, ok, err := lastIndexEntry(db, streamPrefix(stream))
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
