package pebblestore

import (
	"context"

	"github.com/cockroachdb/pebble/v2"
)

// CompactForTest flushes and compacts the whole database, so that a
// benchmark reads a store at rest instead of racing the compactions that
// building it left behind.
func CompactForTest(ctx context.Context, s *Store) error {
	if err := s.db.Flush(); err != nil {
		return err
	}
	return s.db.Compact(ctx, []byte{0}, []byte{0xff}, true)
}

// DBForTest is the store's Pebble database, for benchmarks that measure
// Pebble itself with the store's exact settings.
func DBForTest(s *Store) *pebble.DB { return s.db }
