package registry

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ecoregistry/ecoregistry/domain"
)

// TradeCounts counts what became of one exchange's trades since the service
// started.
type TradeCounts struct {
	// Exchange is the exchange id the trades named; OtherExchanges gathers
	// malformed ids and those past the first MaxCountedExchanges.
	Exchange string
	// Settled and Refused count first decisions; Replayed counts
	// resubmissions answered with the outcome recorded before; Failed
	// counts trades the registry could not decide (to be submitted again).
	Settled, Refused, Replayed, Failed uint64
}

// OtherExchanges is the Exchange of the trades counted together.
const OtherExchanges = "other"

// MaxCountedExchanges bounds the exchanges counted apart, so that clients
// naming ever new exchanges cannot grow the counts without end.
const MaxCountedExchanges = 256

// tradeCounter counts trade outcomes by exchange.
type tradeCounter struct {
	byExchange sync.Map // exchange id -> *[4]atomic.Uint64
	exchanges  atomic.Int64
}

// The outcomes a tradeCounter counts, as indexes of its counters.
const (
	tradeSettled = iota
	tradeRefused
	tradeReplayed
	tradeFailed
)

// count counts the outcome of a trade of exchange (or the error that kept
// it from being decided).
func (c *tradeCounter) count(exchange string, out *TradeOutcome, err error) {
	kind := tradeSettled
	switch {
	case err != nil:
		kind = tradeFailed
	case out.Replay:
		kind = tradeReplayed
	case out.Refusal != nil:
		kind = tradeRefused
	}
	c.counters(exchange)[kind].Add(1)
}

func (c *tradeCounter) counters(exchange string) *[4]atomic.Uint64 {
	if v, ok := c.byExchange.Load(exchange); ok {
		return v.(*[4]atomic.Uint64)
	}
	if !domain.ValidID(exchange) || c.exchanges.Load() >= MaxCountedExchanges {
		exchange = OtherExchanges
	}
	v, loaded := c.byExchange.LoadOrStore(exchange, new([4]atomic.Uint64))
	if !loaded {
		c.exchanges.Add(1)
	}
	return v.(*[4]atomic.Uint64)
}

// TradeCounts returns the trades counted so far, by exchange, sorted by
// exchange id.
func (s *Service) TradeCounts() []TradeCounts {
	var out []TradeCounts
	s.tradeCounts.byExchange.Range(func(k, v any) bool {
		c := v.(*[4]atomic.Uint64)
		out = append(out, TradeCounts{Exchange: k.(string), Settled: c[tradeSettled].Load(), Refused: c[tradeRefused].Load(),
			Replayed: c[tradeReplayed].Load(), Failed: c[tradeFailed].Load()})
		return true
	})
	slices.SortFunc(out, func(a, b TradeCounts) int { return strings.Compare(a.Exchange, b.Exchange) })
	return out
}

// CacheStats describes the cache of one kind of stream.
type CacheStats struct {
	// Kind is "account" or "right".
	Kind string
	// Entries is the number of streams cached now; Capacity bounds it.
	Entries, Capacity int
	// Lookups counts the commands and reads that asked for a stream's
	// state; Loads counts those that had to read the stream from the store
	// first (a miss: not cached, or dropped after an unknown outcome).
	Lookups, Loads uint64
}

// CacheStats returns the state of the stream caches.
func (s *Service) CacheStats() []CacheStats {
	return []CacheStats{s.accounts.stats("account"), s.rights.stats("right")}
}

// cacheCounters count the lookups and loads of a streams cache.
type cacheCounters struct{ lookups, loads atomic.Uint64 }

func (c *streams[S, P]) stats(kind string) CacheStats {
	c.mu.RLock()
	n := len(c.entries)
	c.mu.RUnlock()
	return CacheStats{Kind: kind, Entries: n, Capacity: c.maxEntries, Lookups: c.counts.lookups.Load(), Loads: c.counts.loads.Load()}
}
