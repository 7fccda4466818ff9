// Package storetest is the contract suite of the eventstore port: the
// behaviour every adapter of eventstore.Store must show. An adapter's test
// calls Run with a function that opens a store:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (eventstore.Store, func() eventstore.Store) {
//			dir := t.TempDir()
//			open := func() eventstore.Store { s, err := mystore.Open(dir); ...; return s }
//			return open(), open
//		})
//	}
//
// The suite may run against a shared server that holds other data: every
// subtest writes to streams named with a fresh, unique prefix and reads the
// global log through a filter on that prefix. It assumes nothing of positions
// but that they increase in commit order: they need not start at 1 nor be
// gapless.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// NewStore opens a store for one subtest. reopen, when not nil, opens the
// same data again: the suite calls it after it has closed store, to check
// that data survives a restart. Adapters that keep nothing across Close
// return a nil reopen, and that check is skipped.
//
// The suite closes every store it is given, including the ones reopen
// returns, and ignores the eventstore.ErrClosed of a second Close.
type NewStore func(t *testing.T) (store eventstore.Store, reopen func() eventstore.Store)

// Timeout bounds every wait of the suite: a subscription that has not
// delivered the events the suite waits for by then fails the test. It is
// never used to let time pass.
var Timeout = 60 * time.Second

// Run runs the contract suite against the stores that newStore opens, each
// behaviour as a subtest.
func Run(t *testing.T, newStore NewStore) {
	t.Run("expected revision", func(t *testing.T) { testExpectedRevision(t, newStore) })
	t.Run("appending", func(t *testing.T) { testAppending(t, newStore) })
	t.Run("invalid appends", func(t *testing.T) { testInvalidAppends(t, newStore) })
	t.Run("reading a stream", func(t *testing.T) { testReadStream(t, newStore) })
	t.Run("global order", func(t *testing.T) { testGlobalOrder(t, newStore) })
	t.Run("reading the global log", func(t *testing.T) { testReadAll(t, newStore) })
	t.Run("filters", func(t *testing.T) { testFilters(t, newStore) })
	t.Run("subscriptions", func(t *testing.T) { testSubscriptions(t, newStore) })
	t.Run("concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
	t.Run("context", func(t *testing.T) { testContext(t, newStore) })
	t.Run("round trip", func(t *testing.T) { testRoundTrip(t, newStore) })
	t.Run("closing", func(t *testing.T) { testClosing(t, newStore) })
}

// closeQuietly closes s, tolerating a store that is already closed.
func closeQuietly(t *testing.T, s eventstore.Store) {
	t.Helper()
	if err := s.Close(); err != nil && !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("Close: %v", err)
	}
}
