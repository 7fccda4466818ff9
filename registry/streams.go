package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/google/uuid"
)

// aggregate is a pointer to domain state that changes only by Apply.
type aggregate[S any] interface {
	*S
	Apply(domain.Event) error
}

// entry is the cached state of one stream. Its mutex serialises the
// commands of this process on the stream, so that they decide on fresh state
// and rarely conflict; other writers (another node on a shared store) are
// caught by the expected revision of every append.
type entry[S any] struct {
	mu sync.Mutex
	// loaded is false until the state was read from the store, and again
	// after an append whose outcome is unknown.
	loaded bool
	exists bool
	// rev is the revision of the last event applied, when exists.
	rev   uint64
	head  eventcodec.Hash
	state S
}

// streams caches the state of the streams of one aggregate type and runs
// commands on them.
type streams[S any, P aggregate[S]] struct {
	store      eventstore.Store
	maxRetries int
	maxEntries int

	mu      sync.RWMutex
	entries map[string]*entry[S]

	// qmu guards queues, the commands waiting for each stream's batch.
	qmu    sync.Mutex
	queues map[string]*queue[S]
	// drainers run the batches.
	drainers *drainers
	// counts feed CacheStats.
	counts cacheCounters
	// tracer, when set, is told of decisions and appends.
	tracer Tracer
}

func newStreams[S any, P aggregate[S]](store eventstore.Store, maxEntries, maxRetries int) *streams[S, P] {
	return &streams[S, P]{store: store, maxEntries: maxEntries, maxRetries: maxRetries, entries: make(map[string]*entry[S]), drainers: newDrainers()}
}

// get returns the cache entry of a stream, making it when needed. When the
// cache is full it drops an entry nobody is using; a dropped entry only
// costs a reload.
func (c *streams[S, P]) get(stream string) *entry[S] {
	c.counts.lookups.Add(1)
	// Most lookups find the entry; they share the lock.
	c.mu.RLock()
	e, ok := c.entries[stream]
	c.mu.RUnlock()
	if ok {
		return e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[stream]; ok {
		return e
	}
	if len(c.entries) >= c.maxEntries {
		for k, e := range c.entries {
			if e.mu.TryLock() {
				delete(c.entries, k)
				e.mu.Unlock()
				break
			}
		}
	}
	e = &entry[S]{}
	c.entries[stream] = e
	return e
}

// readPage bounds the events read at once when loading a stream.
const readPage = 4096

// catchUp applies to e the events of the stream that it has not seen: all
// of them when e is not loaded. The caller holds e.mu.
func (c *streams[S, P]) catchUp(ctx context.Context, stream string, e *entry[S]) error {
	if !e.loaded {
		c.counts.loads.Add(1)
		var zero S
		e.state, e.exists, e.rev, e.head = zero, false, 0, eventcodec.GenesisHash
	}
	from := uint64(0)
	if e.exists {
		from = e.rev + 1
	}
	for {
		evs, err := c.store.ReadStream(ctx, stream, from, eventstore.Forwards, readPage)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			e.loaded = true
			return nil
		}
		if err != nil {
			e.loaded = false
			return fmt.Errorf("registry: read %s: %w", stream, err)
		}
		for _, rec := range evs {
			ev, err := eventcodec.Decode(rec.Type, rec.Data)
			if err != nil {
				e.loaded = false
				return fmt.Errorf("registry: %s revision %d: %w", stream, rec.Revision, err)
			}
			if err := P(&e.state).Apply(ev); err != nil {
				e.loaded = false
				return fmt.Errorf("registry: %s revision %d: %w", stream, rec.Revision, err)
			}
			e.exists, e.rev = true, rec.Revision
			e.head = eventcodec.ChainHash(rec.Type, rec.Data, rec.Metadata)
		}
		e.loaded = true
		if len(evs) < readPage {
			return nil
		}
		from = e.rev + 1
	}
}

// read runs view on the state of the stream brought up to date with the
// store, so that it sees every event appended before read was called.
func (c *streams[S, P]) read(ctx context.Context, stream string, view func(state *S, exists bool, rev uint64)) error {
	e := c.get(stream)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := c.catchUp(ctx, stream, e); err != nil {
		return err
	}
	view(&e.state, e.exists, e.rev)
	return nil
}

// cached runs view on the cached state of the stream, loading it when it is
// not cached. It does not look for events appended by other processes.
func (c *streams[S, P]) cached(ctx context.Context, stream string, view func(state *S, exists bool)) error {
	e := c.get(stream)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.loaded {
		if err := c.catchUp(ctx, stream, e); err != nil {
			return err
		}
	}
	view(&e.state, e.exists)
	return nil
}

// awaitRevision catches e up with the revision that a conflicting append
// reported. A store may report a revision whose append is still being made
// durable, and readers see it only then; deciding again before that would
// only conflict again, so it waits, briefly and with backoff, for the
// revision to become readable. The caller holds e.mu.
func (c *streams[S, P]) awaitRevision(ctx context.Context, stream string, e *entry[S], conflict error) error {
	var wrong *eventstore.WrongExpectedRevisionError
	target, known := uint64(0), errors.As(conflict, &wrong) && wrong.Exists
	if known {
		target = wrong.Actual
	}
	wait := 50 * time.Microsecond
	for i := 0; ; i++ {
		if err := c.catchUp(ctx, stream, e); err != nil {
			return err
		}
		if !known || (e.exists && e.rev >= target) || i >= 20 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 10*time.Millisecond)
	}
}

// decideFunc decides a command on the current state of a stream. It must
// not modify the state.
type decideFunc[S any] func(state *S, exists bool, now time.Time) ([]domain.Event, error)

// execute decides a command on the stream's state and appends its events
// at the expected revision, and returns the events written and where.
//
// Concurrent commands on one stream are batched: while one batch is being
// appended, newer commands queue up, and the next batch decides each of them
// in order against the state the previous ones left, then writes all their
// events in one append, so a busy stream costs one disk sync per batch, not
// per command. A refused command does not fail the others. On a conflict
// with another writer the batch catches up with what that writer appended
// and is decided again, up to maxRetries times, then refused with
// ErrContention.
//
// The Commit tells the position of the command's own last event, so that a
// replay of the command, which reads that event back, tells the same.
func (c *streams[S, P]) execute(ctx context.Context, stream string, meta Meta, clock func() time.Time, decide decideFunc[S]) ([]domain.Event, Commit, error) {
	evs, commit, err := c.run(ctx, stream, &request[S]{ctx: ctx, meta: meta, decide: decide, exactPosition: true}, clock)
	if err == nil && len(evs) > 0 && commit.Position == (eventstore.Position{}) {
		// The batch could not read its positions back; read this one. Should
		// that fail too, the command is recorded but its answer unknown: a
		// retry gets it as a replay.
		if commit.Position = c.readPositions(ctx, stream, commit.Revision, 1)[0]; commit.Position == (eventstore.Position{}) {
			return nil, Commit{}, fmt.Errorf("registry: read the position of %s revision %d", stream, commit.Revision)
		}
	}
	return evs, commit, err
}

// run is execute for a request the caller built, with its options. It
// calls req.finished, when set, on every path.
func (c *streams[S, P]) run(ctx context.Context, stream string, req *request[S], clock func() time.Time) ([]domain.Event, Commit, error) {
	c.start(ctx, stream, req, clock)
	return c.wait(ctx, req)
}

// start queues req for its stream's next batch, and starts draining the
// queue when nobody does.
func (c *streams[S, P]) start(ctx context.Context, stream string, req *request[S], clock func() time.Time) {
	req.done = make(chan struct{})
	if err := ctx.Err(); err != nil {
		req.finish(nil, Commit{}, err)
		return
	}
	if q := c.enqueue(stream, req); q != nil {
		c.drainers.run(func() { c.drain(stream, q, clock) })
	}
}

// wait returns the outcome of a started request, or ctx's error when ctx
// ends first.
func (c *streams[S, P]) wait(ctx context.Context, req *request[S]) ([]domain.Event, Commit, error) {
	select {
	case <-req.done:
		return req.events, req.commit, req.err
	case <-ctx.Done():
		// The command may still be recorded by the batch it is in; as for
		// any timeout, the client learns the outcome by reading or by
		// retrying with the same id.
		return nil, Commit{}, ctx.Err()
	}
}

// encode turns decided events into stored events whose envelopes continue
// the stream's hash chain from head.
func encode(evs []domain.Event, meta Meta, at time.Time, head eventcodec.Hash) ([]eventstore.EventData, eventcodec.Hash, error) {
	out := make([]eventstore.EventData, len(evs))
	for i, ev := range evs {
		typ, payload, err := eventcodec.Encode(ev)
		if err != nil {
			return nil, head, err
		}
		md, err := eventcodec.EncodeMetadata(eventcodec.Envelope{
			Actor:         meta.Actor,
			OccurredAt:    at,
			CorrelationID: meta.CorrelationID,
			CommandID:     meta.CommandID,
			PreviousHash:  head,
			Organisation:  meta.Organisation,
			Role:          meta.Role,
		})
		if err != nil {
			return nil, head, err
		}
		out[i] = eventstore.EventData{ID: uuid.New(), Type: typ, ContentType: eventcodec.ContentType, Data: payload, Metadata: md}
		head = eventcodec.ChainHash(typ, payload, md)
	}
	return out, head, nil
}
