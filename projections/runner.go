package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"go.uber.org/zap"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// generation is one build of a projection: a keyspace, its committed
// checkpoint, and the goroutine that follows the log into it.
type generation struct {
	id     uint64
	prefix []byte
	// building is true until the generation becomes the active one.
	building atomic.Bool
	// frozen marks an active generation of an earlier schema version that
	// answers queries but is not followed: the current builder cannot
	// write its layout. A rebuild replaces it.
	frozen bool

	// ck is the last committed checkpoint; notify is closed and replaced
	// after each commit, waking whoever waits for a position.
	ck     atomic.Pointer[Checkpoint]
	notify atomic.Pointer[chan struct{}]

	// cancel and done stop and await the goroutine; nil when not running.
	cancel context.CancelFunc
	done   chan struct{}

	errMu sync.Mutex
	err   error
}

func newGeneration(name string, id uint64) *generation {
	g := &generation{id: id, prefix: generationPrefix(name, id)}
	ch := make(chan struct{})
	g.notify.Store(&ch)
	return g
}

func (g *generation) position() eventstore.Position { return g.ck.Load().Position }

// publish makes ck the committed checkpoint and wakes the waiters.
func (g *generation) publish(ck *Checkpoint) {
	g.ck.Store(ck)
	g.wake()
}

func (g *generation) wake() {
	next := make(chan struct{})
	close(*g.notify.Swap(&next))
}

func (g *generation) setErr(err error) {
	g.errMu.Lock()
	g.err = err
	g.errMu.Unlock()
}

func (g *generation) lastErr() error {
	g.errMu.Lock()
	defer g.errMu.Unlock()
	return g.err
}

// Runner runs one projection: its active generation, which answers
// queries, and the generation being rebuilt, if any.
type Runner struct {
	m    *Manager
	proj Projection
	name string

	active atomic.Pointer[generation]
	// switched is closed and replaced when a rebuilt generation becomes
	// the active one.
	switched atomic.Pointer[chan struct{}]

	// mu guards meta, building and the starting of goroutines.
	mu       sync.Mutex
	meta     meta
	building *generation
}

// Name returns the projection's name.
func (r *Runner) Name() string { return r.name }

// Projection returns the projection the runner runs.
func (r *Runner) Projection() Projection { return r.proj }

// Position returns the position of the last event the active generation
// has committed.
func (r *Runner) Position() eventstore.Position { return r.active.Load().position() }

// start runs g's goroutine, once the manager has started. The caller holds
// r.mu.
func (r *Runner) start(g *generation) {
	r.m.mu.Lock()
	ctx, started := r.m.ctx, r.m.started && !r.m.closed
	r.m.mu.Unlock()
	if !started || g.done != nil || g.frozen {
		return
	}
	ctx, g.cancel = context.WithCancel(ctx)
	g.done = make(chan struct{})
	go r.run(ctx, g)
}

// stop stops g's goroutine and waits for it. The caller must not hold r.mu
// when g's goroutine may take it; only a builder takes it, and only the
// builder itself stops the active generation.
func (g *generation) stop() {
	if g.cancel == nil {
		return
	}
	g.cancel()
	<-g.done
}

func (r *Runner) stopAll() {
	r.mu.Lock()
	// A generation replaced by a rebuild was stopped before the switch.
	gens := []*generation{r.active.Load(), r.building}
	r.mu.Unlock()
	for _, g := range gens {
		if g != nil {
			g.stop()
		}
	}
}

// run follows the log into g until ctx ends, starting over from the last
// commit after an error, with a growing pause.
func (r *Runner) run(ctx context.Context, g *generation) {
	defer close(g.done)
	pause := 500 * time.Millisecond
	for {
		err := r.follow(ctx, g)
		if ctx.Err() != nil {
			return
		}
		g.setErr(err)
		r.m.log.Error("projection stopped; it starts again from its last checkpoint", zap.String("projection", r.name),
			zap.Uint64("generation", g.id), zap.Stringer("position", g.position()), zap.Duration("retry_in", pause), zap.Error(err))
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pause = min(2*pause, 30*time.Second)
	}
}

// follow subscribes after g's checkpoint and applies events, committing
// when it has applied everything read so far or BatchEvents events. It
// returns only with an error; the builder's uncommitted changes are then
// dropped with it.
func (r *Runner) follow(ctx context.Context, g *generation) error {
	ck := g.ck.Load().clone()
	if ck.Skipped == nil {
		ck.Skipped = map[string]uint64{}
	}
	b := r.proj.NewBuilder(Keyspace{db: r.m.db, prefix: g.prefix})
	decodes := map[string]bool{}
	for _, t := range r.proj.Decodes() {
		decodes[t] = true
	}
	f, err := startFeed(ctx, r.m.events, ck.Position, feedMax, decodes)
	if err != nil {
		return fmt.Errorf("subscribe after %s: %w", ck.Position, err)
	}
	defer f.stop()
	if g.building.Load() {
		if err := r.promoteIfCaughtUp(g, false); err != nil {
			return err
		}
	}
	// One batch serves every commit: its buffer, grown to the size of a
	// catch-up commit, is kept rather than grown again each time.
	batch := r.m.db.NewBatch(pebble.WithMaxRetainedSizeBytes(64 << 20))
	defer batch.Close()
	var buf []item
	uncommitted := 0
	lastCommit := time.Now()
	delay := time.NewTimer(time.Hour)
	delay.Stop()
	defer delay.Stop()
	for {
		items, err := f.take(ctx, buf)
		if err != nil {
			return err
		}
		for i := range items {
			items[i].decode(decodes)
			ev := &items[i].ev
			if err := items[i].err; err != nil {
				return fmt.Errorf("event %s at %s (%s revision %d): %w", ev.Type, ev.Position, ev.Stream, ev.Revision, err)
			}
			handled, err := b.Apply(ev, items[i].decoded)
			if err != nil {
				return fmt.Errorf("event %s at %s (%s revision %d): %w", ev.Type, ev.Position, ev.Stream, ev.Revision, err)
			}
			if !handled {
				if ck.Skipped[ev.Type] == 0 {
					r.m.log.Warn("projection skips an event type it does not handle; its answers leave such events out",
						zap.String("projection", r.name), zap.String("type", ev.Type), zap.Stringer("position", ev.Position))
				}
				ck.Skipped[ev.Type]++
			}
			ck.Applied++
			ck.Position = ev.Position
		}
		uncommitted += len(items)
		buf = items
		more := f.pending()
		if more && uncommitted < r.m.opts.BatchEvents {
			continue
		}
		if !more && uncommitted < r.m.opts.BatchEvents {
			if wait := r.commitDelay() - time.Since(lastCommit); wait > 0 {
				// Let a few more live events join this commit.
				delay.Reset(wait)
				select {
				case <-f.ready:
					// take finds the events the signal announced; a stale
					// signal (its events taken already) finds none and
					// commits now.
					if f.pending() {
						delay.Stop()
						continue
					}
				case <-delay.C:
				case <-ctx.Done():
				}
				delay.Stop()
			}
		}
		if err := r.commit(g, b, ck, batch); err != nil {
			return err
		}
		uncommitted = 0
		lastCommit = time.Now()
		g.setErr(nil)
		if g.building.Load() {
			if err := r.promoteIfCaughtUp(g, !more); err != nil {
				return err
			}
		}
	}
}

// commitDelay is how long the runner waits for more live events before it
// commits: the manager's CommitDelay, or the projection's own when it is a
// CommitDelayer that asks for longer.
func (r *Runner) commitDelay() time.Duration {
	d := r.m.opts.CommitDelay
	if cd, ok := r.proj.(CommitDelayer); ok && cd.CommitDelay() > d {
		return cd.CommitDelay()
	}
	return d
}

// commit writes the builder's changes and the checkpoint in one batch and
// publishes the checkpoint. The write is not synced: the state can always
// be rebuilt from the log, and Pebble's write-ahead log keeps batches whole
// and in order, so a crash loses at most the latest batches, never half of
// one.
func (r *Runner) commit(g *generation, b Builder, ck *Checkpoint, batch *pebble.Batch) error {
	defer batch.Reset()
	if err := b.Flush(&Writer{batch: batch, prefix: g.prefix}); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	ck.Committed = time.Now().UTC()
	if err := batch.Set(checkpointKey(g.prefix), ck.encode(), nil); err != nil {
		return err
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	pub := ck.clone()
	g.publish(pub)
	if hook := r.m.opts.Committed; hook != nil {
		hook(r.name, g.id, pub)
	}
	return nil
}

// promoteIfCaughtUp makes the building generation g the active one once it
// has reached the active generation's position. When g has read everything
// there is (idle), or has passed the active one, the active generation is
// stopped first, so that its position is final and the switch never moves
// a reader's position backwards; queries keep reading its state meanwhile.
func (r *Runner) promoteIfCaughtUp(g *generation, idle bool) error {
	old := r.active.Load()
	if old == g {
		return nil
	}
	if !idle && g.position().Before(old.position()) {
		return nil
	}
	old.stop()
	if g.position().Before(old.position()) {
		// The old generation got ahead while stopping: catch up with it.
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	md := meta{active: g.id, next: r.meta.next}
	batch := r.m.db.NewBatch()
	defer batch.Close()
	if err := batch.Set(metaKey(r.name), md.encode(), nil); err != nil {
		return err
	}
	if err := batch.DeleteRange(old.prefix, PrefixEnd(old.prefix), nil); err != nil {
		return err
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("switch to generation %d: %w", g.id, err)
	}
	r.meta = md
	r.building = nil
	g.building.Store(false)
	r.active.Store(g)
	// Waiters on the old generation look again and find the new one.
	old.wake()
	next := make(chan struct{})
	close(*r.switched.Swap(&next))
	r.m.log.Info("projection rebuilt; the new generation answers queries", zap.String("projection", r.name),
		zap.Uint64("generation", g.id), zap.Uint64("old_generation", old.id), zap.Stringer("position", g.position()))
	return nil
}

// rebuild starts a new generation from the start of the log, unless one is
// being built.
func (r *Runner) rebuild() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.building != nil {
		return nil
	}
	g := newGeneration(r.name, r.meta.next)
	ck := &Checkpoint{SchemaVersion: r.proj.SchemaVersion()}
	md := meta{active: r.meta.active, building: g.id, next: r.meta.next + 1}
	batch := r.m.db.NewBatch()
	defer batch.Close()
	if err := batch.Set(metaKey(r.name), md.encode(), nil); err != nil {
		return err
	}
	if err := batch.Set(checkpointKey(g.prefix), ck.encode(), nil); err != nil {
		return err
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("projections: start rebuilding %s: %w", r.name, err)
	}
	g.ck.Store(ck)
	g.building.Store(true)
	r.meta = md
	r.building = g
	r.start(g)
	r.m.log.Info("projection rebuild started", zap.String("projection", r.name), zap.Uint64("generation", g.id))
	return nil
}

// WaitRebuilt blocks until no rebuild of the projection is under way: at
// once when none is, else when the rebuilt generation answers queries. It
// returns ctx's error when ctx ends first.
func (r *Runner) WaitRebuilt(ctx context.Context) error {
	for {
		switched := *r.switched.Load()
		r.mu.Lock()
		building := r.building
		r.mu.Unlock()
		if building == nil {
			return nil
		}
		select {
		case <-switched:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// GenerationStatus describes one generation of a projection.
type GenerationStatus struct {
	// Generation numbers the builds of the projection.
	Generation uint64
	// Checkpoint is the generation's last commit.
	Checkpoint Checkpoint
	// Err is the error that last stopped the generation, if it has not
	// committed since.
	Err error
}

// Status describes a projection.
type Status struct {
	// Name is the projection's name.
	Name string
	// SchemaVersion is the projection's schema version.
	SchemaVersion uint32
	// Active is the generation that answers queries.
	Active GenerationStatus
	// Rebuild is the generation being rebuilt; nil when none is.
	Rebuild *GenerationStatus
}

// Status reports the projection's generations.
func (r *Runner) Status() Status {
	r.mu.Lock()
	building := r.building
	r.mu.Unlock()
	gs := func(g *generation) GenerationStatus {
		return GenerationStatus{Generation: g.id, Checkpoint: *g.ck.Load().clone(), Err: g.lastErr()}
	}
	st := Status{Name: r.name, SchemaVersion: r.proj.SchemaVersion(), Active: gs(r.active.Load())}
	if building != nil {
		b := gs(building)
		st.Rebuild = &b
	}
	return st
}

// ErrPositionNotReached reports a query whose minimum position the
// projection did not reach before the query's deadline. The error is a
// *PositionNotReachedError.
var ErrPositionNotReached = errors.New("projections: position not reached")

// PositionNotReachedError tells which position a query waited for and
// where the projection stood when it gave up.
type PositionNotReachedError struct {
	// Projection is the projection's name.
	Projection string
	// Wanted is the minimum position the query asked for.
	Wanted eventstore.Position
	// Reached is the position the projection had applied when the query
	// gave up.
	Reached eventstore.Position
	// Cause is the context's error.
	Cause error
}

// Error says which position was wanted and which was reached.
func (e *PositionNotReachedError) Error() string {
	return fmt.Sprintf("projections: projection %s reached position %s, not the requested minimum %s, before the deadline (%v)",
		e.Projection, e.Reached, e.Wanted, e.Cause)
}

// Is makes errors.Is(err, ErrPositionNotReached) hold.
func (e *PositionNotReachedError) Is(target error) bool { return target == ErrPositionNotReached }

// Unwrap returns the context's error.
func (e *PositionNotReachedError) Unwrap() error { return e.Cause }

// Wait blocks until the active generation has committed position p or a
// later one. When ctx has no deadline, it waits at most Options.MaxWait. It
// returns a *PositionNotReachedError when it gives up.
func (r *Runner) Wait(ctx context.Context, p eventstore.Position) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.m.opts.MaxWait)
		defer cancel()
	}
	for {
		g := r.active.Load()
		// Load the channel before the position: a commit after the check
		// closes this very channel.
		notify := *g.notify.Load()
		if !g.position().Before(p) {
			return nil
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return &PositionNotReachedError{Projection: r.name, Wanted: p, Reached: r.Position(), Cause: ctx.Err()}
		}
	}
}

// View waits until the projection has reached min (when not nil) and
// returns a consistent view of its active state, which says the position it
// reflects. The caller must close it.
func (r *Runner) View(ctx context.Context, min *eventstore.Position) (*View, error) {
	if min != nil {
		if err := r.Wait(ctx, *min); err != nil {
			return nil, err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g := r.active.Load()
		snap := r.m.db.NewSnapshot()
		b, ok, err := getCopy(snap, checkpointKey(g.prefix))
		if err != nil {
			snap.Close()
			return nil, err
		}
		if !ok {
			snap.Close()
			if r.active.Load() != g {
				// A rebuild replaced g between the two loads: look again.
				continue
			}
			return nil, fmt.Errorf("projections: the checkpoint of %s generation %d is missing from the read store", r.name, g.id)
		}
		ck, err := decodeCheckpoint(b)
		if err != nil {
			snap.Close()
			return nil, err
		}
		return &View{snap: snap, prefix: g.prefix, Position: ck.Position}, nil
	}
}
