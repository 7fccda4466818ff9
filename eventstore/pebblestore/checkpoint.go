package pebblestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Checkpoint writes a copy of the store into dir, which must not exist, while
// appends go on, and returns the position of the last event in the copy.
// The copy holds every event up to that position and none after it: every
// append acknowledged before Checkpoint was called, and perhaps some made
// while it ran. Opening dir with Open gives a store that continues from
// there.
//
// It is Pebble's checkpoint: the tables are hard-linked when dir is on the
// same file system as the store (so a copy costs little space until the
// store compacts them away) and the write-ahead log is copied. Because
// positions follow the log's order, the copy of the log ends on a whole
// append, and the copy is a prefix of the store's log.
func (s *Store) Checkpoint(ctx context.Context, dir string) (eventstore.Position, error) {
	if err := s.acquire(ctx); err != nil {
		return eventstore.Position{}, err
	}
	defer s.release()
	// Flushing the log first makes every append acknowledged so far part of
	// the copy.
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return eventstore.Position{}, fmt.Errorf("pebblestore: checkpoint into %s: %w", dir, err)
	}
	last, err := lastPositionIn(dir)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("pebblestore: checkpoint into %s: %w", dir, err)
	}
	return eventstore.Position{Commit: last, Prepare: last}, nil
}

// lastPositionIn opens the store copied into dir read-only, as Open would
// recover it, and returns the position of its last event (0 when it has
// none). The copy's log may go on past what was flushed; only a read of
// the recovered copy tells where it ends.
func lastPositionIn(dir string) (uint64, error) {
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true, Logger: pebbleLogger{}})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: logLower, UpperBound: logUpper})
	if err != nil {
		return 0, err
	}
	if !it.Last() {
		return 0, errors.Join(it.Error(), it.Close())
	}
	key := append([]byte(nil), it.Key()...)
	if err := it.Close(); err != nil {
		return 0, err
	}
	last, ok := decodeLogKey(key)
	if !ok {
		return 0, fmt.Errorf("%w: log key %x", errCorrupt, key)
	}
	return last, nil
}
