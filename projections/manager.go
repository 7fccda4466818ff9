package projections

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"go.uber.org/zap"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Projection is one read model built from the global log.
type Projection interface {
	// Name is the projection's stable name: its key prefix in the read
	// store, and the NAME of "ecoctl projections rebuild NAME". It is 1 to
	// 32 characters of a-z, 0-9 and '-', starting with a letter.
	Name() string
	// SchemaVersion is the version of the projection's stored layout and
	// meaning. Bump it whenever either changes, including when the
	// projection starts handling another event type: a generation built by
	// another version is built again from the log, and dropped at once
	// unless the projection is an OlderVersionReader that reads it.
	SchemaVersion() uint32
	// Decodes lists the event types whose payloads the builder needs. The
	// runner decodes them ahead of Apply, in the goroutine that reads the
	// log, so that decoding overlaps with applying.
	Decodes() []string
	// NewBuilder returns a builder of the state stored in state. The runner
	// makes a new builder each time it (re)starts following the log, so a
	// builder never sees a state other than the one it committed.
	NewBuilder(state Keyspace) Builder
}

// OlderVersionReader is implemented by a projection whose queries can still
// read the state that an earlier schema version stored (when a version
// changes what is built, not how it is laid out: a new event type handled,
// a figure counted differently). After such an upgrade the old state keeps
// answering, frozen at the position it had reached, while the new version
// is built from the log in a new generation, which takes over once it has
// caught up with it, as in a rebuild. A state the projection cannot read is
// dropped at once, and the new generation answers as it catches up.
type OlderVersionReader interface {
	// ReadsSchemaVersion reports whether the queries read the state of
	// schema version v.
	ReadsSchemaVersion(v uint32) bool
}

// CommitDelayer is implemented by a projection whose readers can wait
// longer for live events than the manager's CommitDelay: it commits less
// often, and each commit (a batch written to the read store) costs the
// same whatever it holds.
type CommitDelayer interface {
	// CommitDelay is how long the runner waits for more live events
	// before it commits; it only ever lengthens Options.CommitDelay.
	CommitDelay() time.Duration
}

// Builder applies events to a projection's state, keeping changes in memory
// until Flush.
type Builder interface {
	// Apply applies one event. e is the decoded payload when the event's
	// type is one of the projection's Decodes, else nil. It returns false,
	// and changes nothing, for an event type the projection does not
	// handle; types it knows but ignores return true. An error means the
	// event does not fit the state, and stops the projection.
	Apply(ev *eventstore.RecordedEvent, e domain.Event) (handled bool, err error)
	// Flush writes every change since the last Flush to w. The runner
	// commits w together with the checkpoint, atomically.
	Flush(w *Writer) error
}

// Options tune a Manager. The zero value is usable.
type Options struct {
	// Logger receives the runners' logs; nil means none.
	Logger *zap.Logger
	// BatchEvents is the number of events after which a runner commits
	// even though more are waiting; 0 means 65536. A runner always commits
	// when it has applied every event read so far, so the value matters
	// only during catch-up, where larger batches write each busy record
	// once for many events.
	BatchEvents int
	// CommitDelay is how long a runner that has applied every event read
	// so far waits for more before it commits, counted from its previous
	// commit; 0 means 1ms, and a negative value commits at once. Live
	// appends come a few at a time, and a commit per few events (a batch
	// into the read store, with the checkpoint) costs more than applying
	// them; the delay adds at most itself to a read-your-writes wait.
	CommitDelay time.Duration
	// MaxWait bounds how long a query waits for its minimum position when
	// its context has no deadline; 0 means 30 seconds.
	MaxWait time.Duration
	// Committed, when set, is called after every commit of any generation,
	// from the runner's goroutine; it must not block.
	Committed func(name string, generation uint64, c *Checkpoint)
	// CacheSize is the size of the read store's block cache in bytes; 0
	// means 64 MiB.
	CacheSize int64
}

// feedMax bounds the events read ahead of the projection.
const feedMax = 8192

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// ErrUnknownProjection reports a projection name the manager does not run.
var ErrUnknownProjection = errors.New("projections: unknown projection")

// Manager runs a set of projections over one event store and one read
// store. Open it, Start it, and Close it before closing the event store.
type Manager struct {
	db      *pebble.DB
	cache   *pebble.Cache
	events  eventstore.Store
	opts    Options
	log     *zap.Logger
	runners []*Runner

	mu      sync.Mutex
	ctx     context.Context // set by Start
	cancel  context.CancelFunc
	started bool
	closed  bool
}

// Open opens (creating when needed) the read store in dir and prepares the
// projections: a generation built by another schema version is dropped and
// replaced by an empty one. Nothing runs until Start.
func Open(dir string, events eventstore.Store, projs []Projection, opts Options) (*Manager, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.BatchEvents <= 0 {
		opts.BatchEvents = 65536
	}
	if opts.CommitDelay == 0 {
		opts.CommitDelay = time.Millisecond
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 30 * time.Second
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 64 << 20
	}
	seen := map[string]bool{}
	for _, p := range projs {
		if !nameRE.MatchString(p.Name()) || seen[p.Name()] {
			return nil, fmt.Errorf("projections: projection name %q is malformed or repeated", p.Name())
		}
		seen[p.Name()] = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("projections: open %s: %w", dir, err)
	}
	cache := pebble.NewCache(opts.CacheSize)
	popts := &pebble.Options{
		Cache:              cache,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             zapPebbleLogger{opts.Logger.Sugar()},
		// A catch-up writes far faster than a live registry: big memtables
		// and a patient L0 keep compactions from taking the CPU the
		// projection needs, and never stall its writes.
		MemTableSize:          64 << 20,
		L0CompactionThreshold: 8,
		L0StopWritesThreshold: 64,
		LBaseMaxBytes:         256 << 20,
	}
	for i := range popts.Levels {
		// Builders look up many keys that do not exist yet (a new day's
		// bar, a new holding); Bloom filters answer those without reading
		// blocks.
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, popts)
	if err != nil {
		cache.Unref()
		return nil, fmt.Errorf("projections: open %s: %w", dir, err)
	}
	m := &Manager{db: db, cache: cache, events: events, opts: opts, log: opts.Logger}
	if err := m.init(projs); err != nil {
		db.Close()
		cache.Unref()
		return nil, fmt.Errorf("projections: open %s: %w", dir, err)
	}
	return m, nil
}

// init checks the format marker and loads or creates each projection's
// generations.
func (m *Manager) init(projs []Projection) error {
	v, found, err := getCopy(m.db, formatKey)
	switch {
	case err != nil:
		return err
	case !found:
		it, err := m.db.NewIter(nil)
		if err != nil {
			return err
		}
		empty := !it.First()
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return err
		}
		if !empty {
			return errors.New("the directory holds a Pebble database that is not a projection read store")
		}
		if err := m.db.Set(formatKey, formatValue, pebble.Sync); err != nil {
			return err
		}
	case string(v) != string(formatValue):
		return fmt.Errorf("unknown read store format %q (want %q)", v, formatValue)
	}
	for _, p := range projs {
		r, err := m.load(p)
		if err != nil {
			return fmt.Errorf("projection %s: %w", p.Name(), err)
		}
		m.runners = append(m.runners, r)
	}
	return nil
}

// load reads a projection's meta and checkpoints, dropping generations of
// another schema version, and returns its runner.
func (m *Manager) load(p Projection) (*Runner, error) {
	name, version := p.Name(), p.SchemaVersion()
	r := &Runner{m: m, proj: p, name: name}
	switched := make(chan struct{})
	r.switched.Store(&switched)
	b, found, err := getCopy(m.db, metaKey(name))
	if err != nil {
		return nil, err
	}
	var md meta
	if found {
		if md, err = decodeMeta(b); err != nil {
			return nil, err
		}
	} else {
		md = meta{next: 1}
	}
	batch := m.db.NewBatch()
	defer batch.Close()
	// open returns the generation id if it exists with this schema
	// version; otherwise it deletes whatever it holds and returns nil.
	open := func(id uint64, role string) (*generation, error) {
		if id == 0 {
			return nil, nil
		}
		g := newGeneration(name, id)
		cb, ok, err := getCopy(m.db, checkpointKey(g.prefix))
		if err != nil {
			return nil, err
		}
		if ok {
			ck, err := decodeCheckpoint(cb)
			if err != nil {
				return nil, err
			}
			if ck.SchemaVersion == version {
				g.ck.Store(ck)
				return g, nil
			}
			if old, ok := p.(OlderVersionReader); ok && role == "active" && ck.SchemaVersion < version && old.ReadsSchemaVersion(ck.SchemaVersion) {
				m.log.Warn("a projection generation was built by an earlier schema version; it answers, frozen, while the new version is built from the log",
					zap.String("projection", name), zap.Uint64("generation", id),
					zap.Uint32("stored_version", ck.SchemaVersion), zap.Uint32("version", version))
				g.ck.Store(ck)
				g.frozen = true
				return g, nil
			}
			m.log.Warn("dropping a projection generation built by another schema version; it is built again from the log",
				zap.String("projection", name), zap.String("role", role), zap.Uint64("generation", id),
				zap.Uint32("stored_version", ck.SchemaVersion), zap.Uint32("version", version))
		}
		if err := batch.DeleteRange(g.prefix, PrefixEnd(g.prefix), nil); err != nil {
			return nil, err
		}
		return nil, nil
	}
	active, err := open(md.active, "active")
	if err != nil {
		return nil, err
	}
	building, err := open(md.building, "building")
	if err != nil {
		return nil, err
	}
	// fresh starts a new, empty generation of this version.
	fresh := func() (*generation, error) {
		g := newGeneration(name, md.next)
		md.next++
		ck := &Checkpoint{SchemaVersion: version}
		g.ck.Store(ck)
		return g, batch.Set(checkpointKey(g.prefix), ck.encode(), nil)
	}
	switch {
	case active == nil && building != nil:
		// The old state cannot be read; the rebuild under way is as good
		// a start as any, and answers queries from now on.
		active, building = building, nil
	case active == nil:
		if active, err = fresh(); err != nil {
			return nil, err
		}
	case active.frozen && building == nil:
		// The old version's state answers; the new version starts.
		if building, err = fresh(); err != nil {
			return nil, err
		}
	}
	md.active = active.id
	md.building = 0
	if building != nil {
		md.building = building.id
		building.building.Store(true)
	}
	if err := batch.Set(metaKey(name), md.encode(), nil); err != nil {
		return nil, err
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return nil, err
	}
	r.meta = md
	r.active.Store(active)
	r.building = building
	return r, nil
}

// Start runs every projection in the background until Close.
func (m *Manager) Start() {
	m.mu.Lock()
	if m.started || m.closed {
		m.mu.Unlock()
		return
	}
	m.started = true
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.mu.Unlock()
	for _, r := range m.runners {
		r.mu.Lock()
		r.start(r.active.Load())
		if r.building != nil {
			r.start(r.building)
		}
		r.mu.Unlock()
	}
}

// Close stops every projection, waits for them, and closes the read store.
// What was committed stays; the next Open resumes from it.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	if m.cancel != nil {
		m.cancel()
	}
	m.mu.Unlock()
	for _, r := range m.runners {
		r.stopAll()
	}
	err := m.db.Close()
	m.cache.Unref()
	return err
}

// Runner returns the runner of the named projection.
func (m *Manager) Runner(name string) (*Runner, bool) {
	for _, r := range m.runners {
		if r.name == name {
			return r, true
		}
	}
	return nil, false
}

// Events returns the event store the projections follow.
func (m *Manager) Events() eventstore.Store { return m.events }

// LoggedBytes returns the bytes the read store has written to its
// write-ahead log since it opened: what the projections' commits cost in
// writes, which benchmarks report per event.
func (m *Manager) LoggedBytes() uint64 { return m.db.Metrics().WAL.BytesIn }

// Names returns the names of the projections, in the order given to Open.
func (m *Manager) Names() []string {
	out := make([]string, len(m.runners))
	for i, r := range m.runners {
		out[i] = r.name
	}
	return out
}

// Rebuild starts building the named projection again from the start of the
// log, beside the active generation, which keeps answering queries until
// the new one has caught up with it. A rebuild already under way is left
// alone. It returns the projection's status, or an error wrapping
// ErrUnknownProjection.
func (m *Manager) Rebuild(name string) (Status, error) {
	r, ok := m.Runner(name)
	if !ok {
		return Status{}, fmt.Errorf("%w %q", ErrUnknownProjection, name)
	}
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return Status{}, eventstore.ErrClosed
	}
	if err := r.rebuild(); err != nil {
		return Status{}, err
	}
	return r.Status(), nil
}

// Report is the status of every projection against the head of the log.
type Report struct {
	// Head is the position of the last event in the log; eventstore.Start
	// when it is empty.
	Head eventstore.Position
	// Projections are the projections' statuses, in the order given to Open.
	Projections []Status
}

// Status reports where each projection stands.
func (m *Manager) Status(ctx context.Context) (Report, error) {
	head, err := Head(ctx, m.events)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Head: head}
	for _, r := range m.runners {
		rep.Projections = append(rep.Projections, r.Status())
	}
	return rep, nil
}

// Head returns the position of the last event of the log, or
// eventstore.Start when it is empty.
func Head(ctx context.Context, events eventstore.Store) (eventstore.Position, error) {
	last, err := events.ReadAll(ctx, eventstore.End, eventstore.Backwards, 1, eventstore.Filter{})
	if err != nil {
		return eventstore.Position{}, err
	}
	if len(last) == 0 {
		return eventstore.Start, nil
	}
	return last[0].Position, nil
}

// Lag returns how many positions p is behind head: for the embedded store,
// whose positions are gapless, the number of events not yet applied.
func Lag(p, head eventstore.Position) uint64 {
	if head.Commit <= p.Commit {
		return 0
	}
	return head.Commit - p.Commit
}

// zapPebbleLogger sends Pebble's messages to zap.
type zapPebbleLogger struct{ l *zap.SugaredLogger }

func (z zapPebbleLogger) Infof(format string, args ...any) {
	z.l.Debugf("pebble (projections): "+format, args...)
}

func (z zapPebbleLogger) Errorf(format string, args ...any) {
	z.l.Errorf("pebble (projections): "+format, args...)
}

func (z zapPebbleLogger) Fatalf(format string, args ...any) {
	z.l.Errorf("pebble (projections): "+format, args...)
	// Pebble calls Fatalf when it cannot go on safely.
	os.Exit(1)
}
