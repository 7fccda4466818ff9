package esdbstore

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"go.uber.org/zap"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Subscribe implements eventstore.Store. It subscribes to $all on the server
// before it returns, so that Subscribe(ctx, End, ...) delivers every event
// appended after it returns; End is resolved to the position of the last
// event of $all, so that a resubscription resumes from there too.
func (s *Store) Subscribe(ctx context.Context, from eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	if err := s.closedErr(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if from == eventstore.End {
		last, err := s.lastPosition(ctx, s.retry.Budget)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("esdbstore: subscribe: find the end of $all: %w", err)
		}
		from = last
	}
	// The subscription follows the leader, like every other call: a
	// deposed leader would serve it from a copy of the log that may lag.
	subCtx, cancel := context.WithCancel(requireLeader(ctx))
	sub := &subscription{
		store: s, caller: ctx, ctx: subCtx, cancel: cancel,
		filter: filter, server: serverFilter(filter), after: from,
		done: make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		return nil, eventstore.ErrClosed
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	if err := sub.subscribe(); err != nil {
		sub.Close()
		return nil, err
	}
	return sub, nil
}

// serverFilter is the filter the server applies: the stream prefixes when
// there are any (EventStoreDB filters on one dimension only), else the
// event types, else every event but the server's own.
func serverFilter(f eventstore.Filter) *esdb.SubscriptionFilter {
	switch {
	case len(f.StreamPrefixes) > 0:
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: f.StreamPrefixes}
	case len(f.EventTypes) > 0:
		quoted := make([]string, len(f.EventTypes))
		for i, t := range f.EventTypes {
			quoted[i] = regexp.QuoteMeta(t)
		}
		return &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: "^(?:" + strings.Join(quoted, "|") + ")$"}
	}
	return esdb.ExcludeSystemEventsFilter()
}

// subscription follows $all through one server subscription after another.
// Next is meant for one goroutine; Close may be called from any.
type subscription struct {
	store  *Store
	caller context.Context // the caller's context: its end ends the subscription
	ctx    context.Context // caller's context, also cancelled by Close
	cancel context.CancelFunc
	filter eventstore.Filter
	server *esdb.SubscriptionFilter

	// cur is the server subscription in use, nil after a drop; after is
	// the position of the last event the server sent (or the start), after
	// which a new subscription resumes.
	cur   *esdb.Subscription
	after eventstore.Position

	done    chan struct{}
	endOnce sync.Once
	endErr  error
}

// Next implements eventstore.Subscription.
func (sub *subscription) Next() (eventstore.RecordedEvent, error) {
	for {
		if err := sub.stopped(); err != nil {
			return eventstore.RecordedEvent{}, err
		}
		if sub.cur == nil {
			if err := sub.subscribe(); err != nil {
				return eventstore.RecordedEvent{}, err
			}
		}
		ev := sub.cur.Recv()
		switch {
		case ev.EventAppeared != nil && ev.EventAppeared.Event != nil:
			e := fromRecorded(ev.EventAppeared.Event)
			if !sub.after.Before(e.Position) {
				// A server must not send again what a resubscription
				// started after; should one do so, it is not delivered
				// twice.
				continue
			}
			sub.after = e.Position
			if selected(sub.filter, e.Stream, e.Type) {
				return e, nil
			}
		case ev.CheckPointReached != nil:
			// Ignored. A checkpoint claims that every matching event up to
			// it has been sent, but released servers have sent checkpoints
			// at the position of the next event to be written, before
			// sending it, and with a prepare position of 0. Used as a filter
			// or as a resume point, such a checkpoint loses events. The cost
			// of ignoring them: after a drop, the server scans again the
			// events it had filtered out since the last one it sent.
		case ev.SubscriptionDropped != nil:
			sub.cur = nil
			if err := sub.stopped(); err != nil {
				return eventstore.RecordedEvent{}, err
			}
			cause := ev.SubscriptionDropped.Error
			if !transient(cause) {
				return eventstore.RecordedEvent{}, fmt.Errorf("esdbstore: subscription to $all dropped after %s: %w", sub.after, cause)
			}
			sub.store.log.Info("esdbstore: subscription to $all dropped; subscribing again",
				zap.Stringer("after", sub.after), zap.Error(cause))
		}
	}
}

// subscribe starts a server subscription after sub.after, trying again
// while the cluster is changing (see Retry); Close and the caller's context
// cut the attempts short.
func (sub *subscription) subscribe() error {
	cur, err := retry(sub.ctx, sub.store, sub.store.retry.Budget, func(c *client) (*esdb.Subscription, error) {
		// The running subscription does not need the client to stay open:
		// when the client is replaced and closed, the subscription drops
		// and resumes on the new one.
		cur, err := c.c.SubscribeToAll(sub.ctx, esdb.SubscribeToAllOptions{From: toAllPosition(sub.after), Filter: sub.server})
		if err != nil && transient(err) {
			err = again{err}
		}
		return cur, err
	})
	if err != nil {
		if stop := sub.stopped(); stop != nil {
			return stop
		}
		return fmt.Errorf("esdbstore: subscribe to $all after %s: %w", sub.after, err)
	}
	sub.cur = cur
	return nil
}

// stopped returns ErrClosed after Close (of the subscription or the store),
// the caller's context error once it ends, else nil.
func (sub *subscription) stopped() error {
	select {
	case <-sub.done:
		return sub.endErr
	default:
	}
	if err := sub.caller.Err(); err != nil {
		return err
	}
	return nil
}

// end stops the subscription with err.
func (sub *subscription) end(err error) {
	sub.endOnce.Do(func() {
		sub.endErr = err
		close(sub.done)
		sub.cancel()
	})
}

// Close implements eventstore.Subscription.
func (sub *subscription) Close() error {
	sub.end(eventstore.ErrClosed)
	s := sub.store
	s.mu.Lock()
	delete(s.subs, sub)
	s.mu.Unlock()
	return nil
}
