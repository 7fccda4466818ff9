package pebblestore

import (
	"context"
	"sync"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Limits of one read of a subscription from disk: small enough that a read
// holds the database briefly, large enough to amortise the iterator.
const (
	subscriptionBatch = 512
	subscriptionScan  = 8192
)

// Subscribe returns a subscription to the events after from that match
// filter; see eventstore.Store.Subscribe. Passing eventstore.End subscribes
// to the events appended after Subscribe returns.
//
// A subscription reads the log from disk, in batches, up to the durable
// position, and then waits for the store to announce a new durable position.
// It keeps no queue that writers fill, so a slow subscriber only falls
// behind and reads from disk again; it never slows appends down.
func (s *Store) Subscribe(ctx context.Context, from eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	cursor := from.Commit
	if from == eventstore.End {
		cursor = s.durable.Load()
	}
	return &subscription{s: s, ctx: ctx, filter: filter, cursor: cursor, closed: make(chan struct{})}, nil
}

type subscription struct {
	s      *Store
	ctx    context.Context
	filter eventstore.Filter
	// cursor is the last position read from disk; buf holds the matching
	// events of that read not yet returned by Next.
	cursor uint64
	buf    []eventstore.RecordedEvent
	next   int
	// arena holds the memory of the events read, from one fill to the next.
	arena arena

	closed    chan struct{}
	closeOnce sync.Once
}

// Next returns the next matching event, waiting for it if needed; see
// eventstore.Subscription.Next.
func (sub *subscription) Next() (eventstore.RecordedEvent, error) {
	for {
		if err := sub.ctx.Err(); err != nil {
			return eventstore.RecordedEvent{}, err
		}
		select {
		case <-sub.closed:
			return eventstore.RecordedEvent{}, eventstore.ErrClosed
		case <-sub.s.done:
			return eventstore.RecordedEvent{}, eventstore.ErrClosed
		default:
		}
		if sub.next < len(sub.buf) {
			e := sub.buf[sub.next]
			// Drop the reference so that the caller alone decides how long
			// the event lives.
			sub.buf[sub.next] = eventstore.RecordedEvent{}
			sub.next++
			return e, nil
		}
		// Load the channel before the position: if the position is then
		// still old, a later advance is sure to close this channel.
		notify := *sub.s.notify.Load()
		if durable := sub.s.durable.Load(); durable > sub.cursor {
			if err := sub.fill(durable); err != nil {
				return eventstore.RecordedEvent{}, err
			}
			continue
		}
		select {
		case <-notify:
		case <-sub.ctx.Done():
		case <-sub.closed:
		case <-sub.s.done:
		}
	}
}

// fill reads the next batch of events after the cursor, up to durable.
func (sub *subscription) fill(durable uint64) error {
	if err := sub.s.acquire(sub.ctx); err != nil {
		return err
	}
	defer sub.s.release()
	// The arena is the subscription's: a live subscription reads a few
	// events at a time, and a chunk per fill, sized for a full batch, cost
	// more than the events it held.
	r := logReader{limit: subscriptionBatch, filter: &sub.filter, events: sub.buf[:0], arena: sub.arena,
		avail: int(min(durable-sub.cursor, uint64(subscriptionBatch)))}
	last, err := r.scan(sub.s.db, sub.cursor+1, durable, eventstore.Forwards, subscriptionScan)
	sub.arena = r.arena
	if err != nil {
		return err
	}
	if last > sub.cursor {
		sub.cursor = last
	}
	sub.buf, sub.next = r.events, 0
	return nil
}

// Close ends the subscription; Next then returns eventstore.ErrClosed. It is
// safe to call more than once and concurrently with Next.
func (sub *subscription) Close() error {
	sub.closeOnce.Do(func() { close(sub.closed) })
	return nil
}
