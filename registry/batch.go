package registry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// maxBatch bounds the commands decided and appended together, so that one
// append stays a modest write and the first command's latency bounded. A
// store with an append limit (eventstore.AppendLimit) also bounds the bytes
// of one append: a batch that would pass it is appended in parts.
const maxBatch = 512

// request is one command waiting for its stream's batch.
type request[S any] struct {
	ctx    context.Context
	meta   Meta
	decide decideFunc[S]
	// exactPosition asks for the global position of the command's own last
	// event in its Commit, rather than the batch's last (which costs a read
	// of the batch's events when the command's are not last).
	exactPosition bool
	// finished, when set, is called once with the request's events and
	// error as soon as its outcome is known, in the batch's goroutine and
	// before the caller hears of it, also when the caller gave up waiting.
	finished func(events []domain.Event, err error)

	// Set by the batch before done is closed.
	events []domain.Event
	commit Commit
	err    error
	done   chan struct{}
}

func (r *request[S]) finish(evs []domain.Event, commit Commit, err error) {
	r.events, r.commit, r.err = evs, commit, err
	if r.finished != nil {
		r.finished(evs, err)
	}
	close(r.done)
}

// queue holds the commands waiting for one stream.
type queue[S any] struct {
	pending []*request[S]
	// running tells whether a goroutine is draining the queue.
	running bool
}

// enqueue adds req to its stream's queue. When nobody drains that queue,
// it returns the queue, and the caller must start draining it.
func (c *streams[S, P]) enqueue(stream string, req *request[S]) *queue[S] {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.queues == nil {
		c.queues = make(map[string]*queue[S])
	}
	q := c.queues[stream]
	if q == nil {
		q = &queue[S]{}
		c.queues[stream] = q
	}
	q.pending = append(q.pending, req)
	if q.running {
		return nil
	}
	q.running = true
	return q
}

// drain runs batches of the stream's queue until it is empty.
func (c *streams[S, P]) drain(stream string, q *queue[S], clock func() time.Time) {
	for {
		c.qmu.Lock()
		n := min(len(q.pending), maxBatch)
		if n == 0 {
			q.running = false
			delete(c.queues, stream)
			c.qmu.Unlock()
			return
		}
		batch := make([]*request[S], n)
		copy(batch, q.pending)
		q.pending = append(q.pending[:0], q.pending[n:]...)
		c.qmu.Unlock()
		c.runBatch(stream, batch, clock)
	}
}

// runBatch decides and appends one batch, retrying on conflicts, and
// finishes every request in it.
func (c *streams[S, P]) runBatch(stream string, batch []*request[S], clock func() time.Time) {
	e := c.get(stream)
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() {
		// A panic in a decision must not leave the queue without a drainer
		// and its callers waiting forever: fail what is unfinished (the
		// gRPC layer logs it as an internal error) and forget the
		// half-changed state.
		if p := recover(); p != nil {
			e.loaded = false
			failUnfinished(batch, fmt.Errorf("registry: panic while deciding on %s: %v", stream, p))
		}
	}()
	// The append outlives any one caller: a client that gives up must not
	// abort the durable write of the others' commands.
	ctx := context.Background()
	for attempt := 0; len(batch) > 0; attempt++ {
		// n is how many of the batch's commands the attempt took: fewer
		// than all when the rest would pass the store's append limit.
		n, conflict, err := c.tryBatch(ctx, stream, e, batch, clock())
		switch {
		case err != nil:
			failUnfinished(batch[:n], err)
			batch, attempt = batch[n:], -1
			continue
		case conflict == nil:
			batch, attempt = batch[n:], -1
			continue
		case attempt >= c.maxRetries:
			failUnfinished(batch, fmt.Errorf("%w: %s after %d attempts: %v", ErrContention, stream, attempt+1, conflict))
			return
		}
		// Writers that keep colliding would collide again in lockstep; a
		// short random pause lets one of them through.
		time.Sleep(time.Duration(rand.Int64N(int64(50*time.Microsecond) << min(attempt, 8))))
	}
}

// appendFailed is the error of an append that failed in a way that does
// not say whether it was written: a timeout of the store's own, an I/O
// error, storage that stopped taking writes.
type appendFailed struct {
	stream string
	err    error
}

func (e *appendFailed) Error() string {
	return fmt.Sprintf("registry: append to %s: %v", e.stream, e.err)
}
func (e *appendFailed) Unwrap() error { return e.err }

// failUnfinished finishes with err every request of reqs still waiting.
func failUnfinished[S any](reqs []*request[S], err error) {
	for _, r := range reqs {
		if !isDone(r.done) {
			r.finish(nil, Commit{}, err)
		}
	}
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// tryBatch makes one attempt at the first n requests of a batch: all of
// them, unless the events of the rest would pass the store's append limit.
// It finishes the requests whose outcome is known (refused, or written) and
// returns the conflict error when the append lost a race, in which case the
// unfinished requests are to be decided again. A non-nil error fails the
// unfinished requests among the n.
func (c *streams[S, P]) tryBatch(ctx context.Context, stream string, e *entry[S], batch []*request[S], now time.Time) (n int, conflict error, err error) {
	n = len(batch)
	if !e.loaded {
		if err := c.catchUp(ctx, stream, e); err != nil {
			return n, nil, err
		}
	}
	budget := newAppendBudget(c.store)
	type accepted struct {
		req    *request[S]
		events []domain.Event
		// first and last index of its events in data
		first, last int
	}
	// Most commands record one event.
	var (
		acc  = make([]accepted, 0, len(batch))
		data = make([]eventstore.EventData, 0, len(batch))
		head = e.head
		// traced are the contexts of the commands appended, for a tracer.
		traced []context.Context
	)
	// Each command is decided on the state its predecessors in the batch
	// left, so the state is changed as the batch goes; if the append then
	// fails, the cached state is dropped and read again from the store.
	dirty := false
	for i, r := range batch {
		if isDone(r.done) {
			continue
		}
		if err := r.ctx.Err(); err != nil {
			r.finish(nil, Commit{}, err)
			continue
		}
		evs, derr := c.decide(stream, r, &e.state, e.exists || dirty, now)
		if derr == nil && len(evs) == 0 && dirty {
			// Nothing to record, but the answer may rest on commands of
			// this batch that are not durable yet (a retry of one of them):
			// it is given once they are, and decided again if they are not.
			acc = append(acc, accepted{req: r, first: -1, last: -1})
			continue
		}
		if derr != nil || len(evs) == 0 {
			r.finish(nil, Commit{}, derr)
			continue
		}
		stored, h, eerr := encode(evs, r.meta, now, head)
		if eerr != nil {
			r.finish(nil, Commit{}, eerr)
			continue
		}
		if !budget.take(stored, len(data) == 0) {
			n = i
			break
		}
		for _, ev := range evs {
			if aerr := P(&e.state).Apply(ev); aerr != nil {
				e.loaded = false
				return n, nil, fmt.Errorf("registry: apply %s to %s: %w", ev.EventType(), stream, aerr)
			}
		}
		dirty = true
		head = h
		acc = append(acc, accepted{req: r, events: evs, first: len(data), last: len(data) + len(stored) - 1})
		if c.tracer != nil {
			traced = append(traced, r.ctx)
		}
		data = append(data, stored...)
	}
	if len(data) == 0 {
		return n, nil, nil
	}
	expected := eventstore.NoStream()
	if e.exists {
		expected = eventstore.Exact(e.rev)
	}
	res, aerr := c.store.Append(c.appendContext(ctx, traced), stream, expected, data...)
	if errors.Is(aerr, eventstore.ErrWrongExpectedRevision) {
		// Another writer got there first. The speculative state is wrong:
		// reload it, including what the other writer appended, so that the
		// next attempt decides on the state it left.
		e.loaded = false
		if cerr := c.awaitRevision(ctx, stream, e, aerr); cerr != nil {
			return n, nil, cerr
		}
		return n, aerr, nil
	}
	if aerr != nil {
		// The append may or may not have happened (an I/O error, a closing
		// store): forget the cached state and read it again next time.
		e.loaded = false
		return n, nil, &appendFailed{stream: stream, err: aerr}
	}
	first := res.NextExpectedRevision + 1 - uint64(len(data))
	e.exists, e.rev, e.head = true, res.NextExpectedRevision, head
	var positions []eventstore.Position
	for _, a := range acc {
		if a.first < 0 {
			a.req.finish(nil, Commit{}, nil)
			continue
		}
		// Revisions are dense, so each command's own last revision is
		// known; the position is the batch's unless the request asks for
		// its own (the batch's is at or after it, so waiting for it is
		// safe).
		commit := Commit{Stream: stream, Revision: first + uint64(a.last), Position: res.Position, CorrelationID: a.req.meta.CorrelationID}
		if a.req.exactPosition && a.last != len(data)-1 {
			// A store with dense positions tells them all; others
			// (EventStoreDB's positions are log offsets) are read back,
			// once per batch. Should the read fail, the position stays
			// zero and the caller reads it itself.
			if positions == nil {
				var ok bool
				if positions, ok = eventstore.AppendedPositions(c.store, res, len(data)); !ok {
					positions = c.readPositions(ctx, stream, first, len(data))
				}
			}
			commit.Position = positions[a.last]
		}
		a.req.finish(a.events, commit, nil)
	}
	return n, nil, nil
}

// appendBudget counts the bytes of one append against the store's append
// limit, if it has one.
type appendBudget struct {
	limit eventstore.AppendLimit
	used  int
}

func newAppendBudget(store eventstore.Store) appendBudget {
	limit, ok := store.(eventstore.AppendLimit)
	if !ok || limit.MaxAppendSize() <= 0 {
		return appendBudget{}
	}
	return appendBudget{limit: limit}
}

// take reports whether events may join the append, and counts them if so.
// The first events of an append always may: a command whose events pass
// the limit alone is sent alone, for the store to refuse.
func (b *appendBudget) take(events []eventstore.EventData, first bool) bool {
	if b.limit == nil {
		return true
	}
	size := b.limit.AppendSize(events...)
	if !first && b.used+size > b.limit.MaxAppendSize() {
		return false
	}
	b.used += size
	return true
}

// readPositions returns the global positions of the n events of stream
// from revision first, or n zero positions when it cannot read them all.
func (c *streams[S, P]) readPositions(ctx context.Context, stream string, first uint64, n int) []eventstore.Position {
	out := make([]eventstore.Position, n)
	recs, err := c.store.ReadStream(ctx, stream, first, eventstore.Forwards, n)
	if err != nil || len(recs) != n {
		return out
	}
	for i := range recs {
		out[i] = recs[i].Position
	}
	return out
}
