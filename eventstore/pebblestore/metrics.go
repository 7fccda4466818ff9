package pebblestore

import (
	"context"

	"github.com/cockroachdb/pebble/v2"
)

// Metrics returns Pebble's metrics of the store's database (write-ahead log
// bytes, its fsync latencies, compactions, disk use), for monitoring; nil
// once the store is closed.
func (s *Store) Metrics() *pebble.Metrics {
	if err := s.acquire(context.Background()); err != nil {
		return nil
	}
	defer s.release()
	return s.db.Metrics()
}
