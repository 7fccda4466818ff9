package projections

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// item is an event read from the log and, once decoded, its payload or the
// error decoding it.
type item struct {
	ev      eventstore.RecordedEvent
	done    bool
	decoded domain.Event
	err     error
}

// decode decodes the item's payload if the projection needs it and it is
// not decoded yet.
func (it *item) decode(decodes map[string]bool) {
	if !it.done && decodes[it.ev.Type] {
		it.decoded, it.err = eventcodec.Decode(it.ev.Type, it.ev.Data)
	}
	it.done = true
}

// feed reads a subscription in a goroutine of its own and hands the events
// to the projection in batches: everything that has arrived since the last
// take. Reading then overlaps with applying, on another core, and the
// projection learns when it has caught up, which the blocking
// Subscription.Next cannot tell it: an empty feed means the events read so
// far are all there are, and it is time to commit.
//
// Decoding payloads is the one step either side can do. The reader decodes
// while events pile up in the feed (the projection is the slower side) and
// leaves them to the projection when the feed runs low (the reader is), so
// the work balances itself over the two goroutines.
type feed struct {
	sub     eventstore.Subscription
	cancel  context.CancelFunc
	done    chan struct{}
	max     int
	decodes map[string]bool

	// queued mirrors len(items) for the reader's decision to decode.
	queued atomic.Int64

	mu    sync.Mutex
	items []item
	err   error
	// ready and space are signalled, without blocking, when items become
	// available and when the consumer has taken them.
	ready chan struct{}
	space chan struct{}
}

// startFeed subscribes to the log after from and starts reading, decoding
// the events whose types are in decodes. At most max events wait in the
// feed; the reader stops until they are taken.
func startFeed(ctx context.Context, store eventstore.Store, from eventstore.Position, max int, decodes map[string]bool) (*feed, error) {
	ctx, cancel := context.WithCancel(ctx)
	sub, err := store.Subscribe(ctx, from, eventstore.Filter{})
	if err != nil {
		cancel()
		return nil, err
	}
	f := &feed{sub: sub, cancel: cancel, done: make(chan struct{}), max: max, decodes: decodes,
		items: make([]item, 0, max), ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
	go f.read(ctx)
	return f, nil
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (f *feed) read(ctx context.Context) {
	defer close(f.done)
	for {
		ev, err := f.sub.Next()
		it := item{ev: ev}
		if err == nil && f.queued.Load() >= int64(f.max/8) {
			it.decode(f.decodes)
		}
		f.mu.Lock()
		if err != nil {
			f.err = err
			f.mu.Unlock()
			signal(f.ready)
			return
		}
		for len(f.items) >= f.max {
			f.mu.Unlock()
			select {
			case <-f.space:
			case <-ctx.Done():
				f.mu.Lock()
				f.err = ctx.Err()
				f.mu.Unlock()
				signal(f.ready)
				return
			}
			f.mu.Lock()
		}
		f.items = append(f.items, it)
		f.queued.Store(int64(len(f.items)))
		first := len(f.items) == 1
		f.mu.Unlock()
		if first {
			signal(f.ready)
		}
	}
}

// take waits for at least one event and returns every event that has
// arrived, reusing buf's array for the reader. It returns the
// subscription's error once the events before it have been taken.
func (f *feed) take(ctx context.Context, buf []item) ([]item, error) {
	for {
		f.mu.Lock()
		if len(f.items) > 0 {
			out := f.items
			// Only buf's own items hold references: the array beyond them
			// was cleared when they were taken. Clearing the whole capacity,
			// grown to a catch-up's size, cost every small live take as much
			// as a big one.
			clear(buf)
			f.items = buf[:0]
			f.queued.Store(0)
			f.mu.Unlock()
			signal(f.space)
			return out, nil
		}
		err := f.err
		f.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-f.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// pending reports whether events are waiting to be taken.
func (f *feed) pending() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.items) > 0
}

// stop ends the subscription and waits for the reader to finish.
func (f *feed) stop() {
	f.cancel()
	f.sub.Close()
	<-f.done
}
