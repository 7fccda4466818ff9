package registry

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// tradeShards splits the trade index so that concurrent trades rarely wait
// for one another's lock.
const tradeShards = 64

// tradeIndex tells, for every trade whose outcome is recorded, on which
// right's stream it is, so that a trade submitted again on another right
// is recognised: a right's own state only knows its own trades. It also
// holds a claim on each trade being decided, so that two submissions of one
// trade on different rights cannot both settle.
//
// It is built at start by a scan of the log for TradeSettled and
// TradeRefused events, and kept up to date by the trades this process
// decides. It costs about 30 bytes per recorded trade (a 16-byte key and a
// 4-byte right number in a map) plus each right's id once. It is the index
// of one process: trades recorded by another process on a shared store
// after this one started are only seen when their right's stream is read,
// so the same ids submitted to two processes on two different rights at
// once could both settle. One writer per store, as the embedded store
// enforces with its lock, rules that out.
type tradeIndex struct {
	// lmu serialises loading; loaded is set once the scan succeeded.
	lmu    sync.Mutex
	loaded atomic.Bool

	shards [tradeShards]tradeShard

	// rmu guards the numbering of rights; it is taken inside a shard's
	// lock, never the other way round.
	rmu       sync.RWMutex
	rightIDs  []string
	rightNums map[string]uint32
}

type tradeShard struct {
	mu sync.Mutex
	// recorded maps a trade to the number of the right that recorded it.
	recorded map[domain.TradeKey]uint32
	// claims are the trades being decided.
	claims map[domain.TradeKey]*tradeClaim
}

// tradeClaim is a trade being decided on one right by one or more callers.
type tradeClaim struct {
	right   string
	holders int
	// released is closed when the last holder lets go; made by the first
	// caller that waits for it.
	released chan struct{}
}

func newTradeIndex() *tradeIndex {
	idx := &tradeIndex{rightNums: make(map[string]uint32)}
	for i := range idx.shards {
		idx.shards[i].recorded = make(map[domain.TradeKey]uint32)
		idx.shards[i].claims = make(map[domain.TradeKey]*tradeClaim)
	}
	return idx
}

func (idx *tradeIndex) shard(key domain.TradeKey) *tradeShard {
	// Keys are digests, so any byte spreads them evenly.
	return &idx.shards[key[0]%tradeShards]
}

// number returns the number of a right id, giving it one when it has none.
func (idx *tradeIndex) number(rightID string) uint32 {
	idx.rmu.RLock()
	n, ok := idx.rightNums[rightID]
	idx.rmu.RUnlock()
	if ok {
		return n
	}
	idx.rmu.Lock()
	defer idx.rmu.Unlock()
	n, ok = idx.rightNums[rightID]
	if !ok {
		n = uint32(len(idx.rightIDs))
		idx.rightIDs = append(idx.rightIDs, rightID)
		idx.rightNums[rightID] = n
	}
	return n
}

func (idx *tradeIndex) rightID(n uint32) string {
	idx.rmu.RLock()
	defer idx.rmu.RUnlock()
	return idx.rightIDs[n]
}

// load scans the store's log for the recorded trades, once. A failed scan
// is tried again by the next call.
func (idx *tradeIndex) load(ctx context.Context, store eventstore.Store) error {
	if idx.loaded.Load() {
		return nil
	}
	idx.lmu.Lock()
	defer idx.lmu.Unlock()
	if idx.loaded.Load() {
		return nil
	}
	from := eventstore.Start
	filter := eventstore.Filter{StreamPrefixes: []string{domain.RightStreamPrefix},
		EventTypes: []string{domain.EventTypeTradeSettled, domain.EventTypeTradeRefused}}
	for {
		evs, err := store.ReadAll(ctx, from, eventstore.Forwards, scanPage, filter)
		if err != nil {
			return fmt.Errorf("registry: scan for recorded trades: %w", err)
		}
		for _, rec := range evs {
			ev, err := eventcodec.Decode(rec.Type, rec.Data)
			if err != nil {
				return fmt.Errorf("registry: scan for recorded trades: %s revision %d: %w", rec.Stream, rec.Revision, err)
			}
			var right, exchange, trade string
			switch e := ev.(type) {
			case domain.TradeSettled:
				right, exchange, trade = e.RightID, e.ExchangeID, e.TradeID
			case domain.TradeRefused:
				right, exchange, trade = e.RightID, e.ExchangeID, e.TradeID
			default:
				continue
			}
			key := domain.TradeKeyOf(exchange, trade)
			s := idx.shard(key)
			s.mu.Lock()
			if _, ok := s.recorded[key]; !ok {
				s.recorded[key] = idx.number(right)
			}
			s.mu.Unlock()
			from = rec.Position
		}
		if len(evs) < scanPage {
			break
		}
	}
	idx.loaded.Store(true)
	return nil
}

// claim prepares the decision of trade key on right. When the trade is
// recorded on another right, it returns that right's id. Otherwise it
// returns "", and claimed tells whether the caller holds a claim it must
// give back with release; a trade recorded on this very right needs none,
// since the right's own state answers it. While another right holds a
// claim on the trade, claim waits for the outcome there, or for ctx.
func (idx *tradeIndex) claim(ctx context.Context, key domain.TradeKey, right string) (other string, claimed bool, err error) {
	s := idx.shard(key)
	for {
		s.mu.Lock()
		if n, ok := s.recorded[key]; ok {
			s.mu.Unlock()
			if id := idx.rightID(n); id != right {
				return id, false, nil
			}
			return "", false, nil
		}
		c := s.claims[key]
		if c == nil {
			s.claims[key] = &tradeClaim{right: right, holders: 1}
			s.mu.Unlock()
			return "", true, nil
		}
		if c.right == right {
			// The right's stream decides the submissions one after the
			// other: the first records the outcome, the others see it.
			c.holders++
			s.mu.Unlock()
			return "", true, nil
		}
		if c.released == nil {
			c.released = make(chan struct{})
		}
		wait := c.released
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
}

// recordedOn returns the right on which trade key is recorded, and false
// when it is recorded on none.
func (x *tradeIndex) recordedOn(key domain.TradeKey) (string, bool) {
	s := x.shard(key)
	s.mu.Lock()
	n, ok := s.recorded[key]
	s.mu.Unlock()
	if !ok {
		return "", false
	}
	return x.rightID(n), true
}

// release gives back a claim on trade key on right; recorded tells whether
// the decision recorded the trade's outcome there (or found it recorded).
func (idx *tradeIndex) release(key domain.TradeKey, right string, recorded bool) {
	s := idx.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if recorded {
		if _, ok := s.recorded[key]; !ok {
			s.recorded[key] = idx.number(right)
		}
	}
	c := s.claims[key]
	if c == nil {
		return
	}
	c.holders--
	if c.holders == 0 {
		delete(s.claims, key)
		if c.released != nil {
			close(c.released)
		}
	}
}
