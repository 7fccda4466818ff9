package esdbstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/cenkalti/backoff/v5"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Retry says how long the adapter keeps sending a call again while the
// cluster is changing (a node stops, a leader is being elected, a reply is
// lost): after a pause that starts at First and doubles up to Max, each
// drawn at random within half of it either way so that many clients do not
// come back in step, for as long as the caller's context allows and Budget
// at most. The zero value means 50 ms, 2 s and 30 s: EventStoreDB elects a
// leader in seconds.
type Retry struct {
	First, Max, Budget time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.First <= 0 {
		r.First = 50 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 2 * time.Second
	}
	if r.Budget <= 0 {
		r.Budget = 30 * time.Second
	}
	return r
}

// again marks an error after which a call may be sent again, beyond those
// that retryable recognises.
type again struct{ error }

func (e again) Unwrap() error { return e.error }

// retry runs attempt on the store's current client until it succeeds, fails
// for a reason that sending it again cannot cure, ctx ends or budget is
// spent; a budget of 0 makes one attempt. It returns ctx's error once ctx
// has ended, ErrClosed once the store is closed, and otherwise the last
// attempt's error, saying that it gave up when it was worth another try.
func retry[T any](ctx context.Context, s *Store, budget time.Duration, attempt func(*client) (T, error)) (T, error) {
	var zero T
	tries, start, exhausted := 0, time.Now(), false
	b := &backoff.ExponentialBackOff{InitialInterval: s.retry.First, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: s.retry.Max}
	out, err := backoff.Retry(ctx, func() (T, error) {
		tries++
		c, err := s.clients.acquire()
		if err != nil {
			return zero, backoff.Permanent(err)
		}
		v, err := attempt(c)
		s.clients.release(c)
		switch {
		case err == nil:
			return v, nil
		case ctx.Err() != nil || s.closedErr() != nil || !s.retryable(c, err):
			return zero, backoff.Permanent(err)
		}
		exhausted = true
		return zero, err
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(budget), backoff.WithMaxTries(maxTries(budget)),
		backoff.WithNotify(func(err error, wait time.Duration) {
			s.log.Warn("esdbstore: a call to the server failed; sending it again", zap.Int("attempt", tries), zap.Duration("in", wait), zap.Error(err))
		}))
	switch {
	case err == nil:
		return out, nil
	case ctx.Err() != nil:
		return zero, ctx.Err()
	case s.closedErr() != nil:
		return zero, s.closedErr()
	case exhausted && tries > 1:
		return zero, fmt.Errorf("gave up after %d attempts in %s: %w", tries, time.Since(start).Round(time.Millisecond), err)
	}
	return zero, err
}

// maxTries is 1 for a budget of 0, else unbounded (the budget bounds it).
func maxTries(budget time.Duration) uint {
	if budget <= 0 {
		return 1
	}
	return 0
}

// retryable reports whether a call that failed with err may be sent again
// (with the same event ids, for an append: EventStoreDB treats the repeat
// of an append it already wrote as idempotent): the node went away before
// or during the call, was not the leader or not ready (an election), the
// client gave up waiting for the reply, or the client closed itself. When
// the client did not notice that its node went away, it is replaced, so
// that the next attempt discovers the cluster anew.
func (s *Store) retryable(c *client, err error) bool {
	var a again
	if errors.As(err, &a) {
		return true
	}
	var e *esdb.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case esdb.ErrorCodeConnectionClosed:
			s.renewed(c)
			return true
		case esdb.ErrorUnavailable, esdb.ErrorCodeNotLeader, esdb.ErrorCodeDeadlineExceeded:
			// The client reconnects by itself on the first two. The third
			// is the client's own deadline (10 s unless the connection
			// string's defaultDeadline says otherwise), the caller's
			// context having been checked before: the outcome of the call
			// is unknown, and a repeat tells it.
			return true
		}
	}
	// A connection that breaks while a request is sent surfaces as an
	// unclassified io.EOF, and a read that cannot start as a bare gRPC
	// Unavailable: the client keeps its broken connection on both.
	st, ok := status.FromError(err)
	if errors.Is(err, io.EOF) || (ok && st.Code() == codes.Unavailable) {
		s.renewed(c)
		return true
	}
	// The client closes its connection when it moves to the leader a
	// follower named, which cancels the calls still on it (the caller's
	// own context is checked before this).
	return ok && (st.Code() == codes.Canceled || st.Code() == codes.DeadlineExceeded)
}

// transient reports whether a subscription that failed with err may be
// started again: the server or the connection went away or gave up on it.
// Refusals (access, arguments, unsupported) are not.
func transient(err error) bool {
	if errors.Is(err, io.EOF) {
		return true
	}
	st, ok := status.FromError(err)
	if !ok {
		var e *esdb.Error
		return errors.As(err, &e) && (e.Code() == esdb.ErrorUnavailable || e.Code() == esdb.ErrorCodeNotLeader)
	}
	switch st.Code() {
	case codes.Unavailable, codes.Unknown, codes.Aborted, codes.Internal, codes.ResourceExhausted, codes.DeadlineExceeded, codes.Canceled:
		return true
	}
	return false
}
