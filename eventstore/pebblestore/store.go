// Package pebblestore is the embedded, durable implementation of the
// eventstore port: one directory on disk, managed by the Pebble key-value
// engine, used by one process at a time.
//
// Every Append is synced to disk before it returns. Under one lock, the
// store checks the append's expected revision, assigns stream revisions and
// gapless global positions (Commit == Prepare = 1, 2, 3, ...) and hands the
// append to Pebble's commit pipeline, so positions follow the order of the
// write-ahead log. The append then waits for the log's fsync outside the
// lock; Pebble covers every append waiting at that moment with one fsync, so
// concurrent appends share it (group commit) and throughput grows with the
// number of writers. Readers and subscribers only ever see events up to the
// durable position, which advances after each fsync, so a reader that has
// seen position N has seen every event before N, and no reader sees an
// event that a crash could take back.
//
// The keyspace, the record encoding and the reasons behind them are
// described in record.go.
package pebblestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Options tunes a Store. The zero value is ready to use.
type Options struct {
	// Logger receives Pebble's messages: informational ones at debug level,
	// errors at error level. Nil sends errors to slog.Default and drops the
	// rest.
	Logger *slog.Logger
	// MemTableSize is the size of Pebble's memtable in bytes; 0 means 64 MiB.
	// Larger memtables absorb bursts of appends before they are flushed.
	MemTableSize uint64
	// CacheSize is the size of Pebble's block cache in bytes; 0 means 128 MiB.
	CacheSize int64
	// WALMinSyncInterval is the least time between two syncs of the
	// write-ahead log: an append that asks for a sync sooner after the last
	// one waits for it, so that under load one sync covers more appends
	// (Pebble suggests 500µs). 0 syncs as soon as an append asks. Either
	// way Append returns only once its events are synced.
	WALMinSyncInterval time.Duration
	// FS is the file system the store's files live on; nil means the
	// operating system's. Tests pass Pebble's fault-injecting errorfs.
	FS vfs.FS
}

// ErrDirectoryInUse reports that another process, or another Store of this
// process, has the directory open. Open's error says which.
var ErrDirectoryInUse = errors.New("pebblestore: directory is in use")

// dirInUseError is Open's error for a locked directory.
type dirInUseError struct {
	dir, by string
	err     error // the lock's own error, if any
}

func (e *dirInUseError) Error() string {
	return fmt.Sprintf("pebblestore: directory %s is in use by %s", e.dir, e.by)
}

// Is makes errors.Is(err, ErrDirectoryInUse) hold.
func (e *dirInUseError) Is(target error) bool { return target == ErrDirectoryInUse }

func (e *dirInUseError) Unwrap() error { return e.err }

// Store is an eventstore.Store kept in one directory on disk. It is safe for
// concurrent use by many goroutines. Open creates it; Close releases it.
type Store struct {
	db    *pebble.DB
	cache interface{ Unref() }
	lock  *pebble.Lock

	// seq assigns revisions and positions and commits appends.
	seq sequencer

	// durable is the position of the last event known to be on disk; notify
	// is closed and replaced each time durable advances, which wakes every
	// waiting subscriber at once.
	durable atomic.Uint64
	notify  atomic.Pointer[chan struct{}]

	// mu guards closed: readers and appenders hold it shared while they use
	// the database, so that Close (exclusive) waits for them and nothing
	// touches Pebble after it is closed.
	mu     sync.RWMutex
	closed bool
	// done is closed when Close starts, to wake subscribers.
	done      chan struct{}
	closeOnce sync.Once

	// failed holds the error of a failed write or sync of the log. After
	// one, no append is acknowledged again, and none is handed to Pebble:
	// see stopWrites.
	failed atomic.Pointer[error]
	// watchers are told when writes stop (NotifyWritesStopped); watchMu
	// orders their registration with stopWrites.
	watchMu  sync.Mutex
	watchers []func(error)
}

var (
	_ eventstore.Store                 = (*Store)(nil)
	_ eventstore.WritesStoppedNotifier = (*Store)(nil)
)

// Open opens the store in dir, creating the directory and an empty store when
// they do not exist. Only one Store, in one process, may have a directory
// open at a time: Open returns an error wrapping ErrDirectoryInUse when
// another has it.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
	}
	// Take Pebble's lock ourselves, before Open, so that a held lock can be
	// told apart from every other failure and reported as such.
	if opts.FS == nil {
		opts.FS = vfs.Default
	}
	lock, err := pebble.LockDirectory(dir, opts.FS)
	if err != nil {
		// fcntl reports a lock held by another process as EAGAIN or EACCES;
		// Pebble refuses a second lock within the process itself.
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) {
			return nil, &dirInUseError{dir: dir, by: "another process", err: err}
		}
		if err.Error() == "lock held by current process" {
			return nil, &dirInUseError{dir: dir, by: "another Store of this process", err: err}
		}
		return nil, fmt.Errorf("pebblestore: lock %s: %w", dir, err)
	}
	if opts.MemTableSize == 0 {
		opts.MemTableSize = 64 << 20
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = 128 << 20
	}
	cache := pebble.NewCache(opts.CacheSize)
	popts := &pebble.Options{
		Cache:                       cache,
		FS:                          opts.FS,
		Lock:                        lock,
		MemTableSize:                opts.MemTableSize,
		MemTableStopWritesThreshold: 4,
		FormatMajorVersion:          pebble.FormatNewest,
		Logger:                      pebbleLogger{opts.Logger},
	}
	// Readers mostly scan the log from a position on; 32 KiB blocks (the
	// default is 4 KiB) cut the per-block work of a scan (read, decompress,
	// cache) by eight and doubled ReadAll's throughput in the benchmark.
	// Other levels inherit the size from level 0.
	popts.Levels[0].BlockSize = 32 << 10
	if d := opts.WALMinSyncInterval; d > 0 {
		popts.WALMinSyncInterval = func() time.Duration { return d }
	}
	db, err := pebble.Open(dir, popts)
	if err != nil {
		cache.Unref()
		_ = lock.Close()
		return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
	}
	s := &Store{
		db:    db,
		cache: cache,
		lock:  lock,
		done:  make(chan struct{}),
	}
	ch := make(chan struct{})
	s.notify.Store(&ch)
	last, err := s.init()
	if err != nil {
		_ = db.Close()
		cache.Unref()
		_ = lock.Close()
		return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
	}
	// Everything Pebble recovered is on disk now, so it is all durable.
	s.durable.Store(last)
	s.seq.next = last + 1
	s.seq.heads = make(map[string]uint64)
	return s, nil
}

// init checks the format marker, writing it into a new store, and returns
// the last position of the log.
func (s *Store) init() (uint64, error) {
	v, closer, err := s.db.Get(formatKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		it, err := s.db.NewIter(nil)
		if err != nil {
			return 0, err
		}
		empty := !it.First()
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return 0, err
		}
		if !empty {
			return 0, errors.New("directory holds a Pebble database that is not an event store")
		}
		if err := s.db.Set(formatKey, formatValue, pebble.Sync); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, err
	default:
		ok := string(v) == string(formatValue)
		got := string(v)
		_ = closer.Close()
		if !ok {
			return 0, fmt.Errorf("unknown store format %q (want %q)", got, formatValue)
		}
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: logLower, UpperBound: logUpper})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, it.Error()
	}
	last, ok := decodeLogKey(it.Key())
	if !ok {
		return 0, fmt.Errorf("%w: log key %x", errCorrupt, it.Key())
	}
	return last, nil
}

// Close stops the store: appends in flight finish, subscriptions end with
// eventstore.ErrClosed, and the database is closed. Calls after Close, Close included, return eventstore.ErrClosed.
func (s *Store) Close() error {
	err := eventstore.ErrClosed
	s.closeOnce.Do(func() {
		close(s.done)
		// Wait for readers and for appends in flight, then refuse any new
		// ones.
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		err = s.db.Close()
		s.cache.Unref()
		err = errors.Join(err, s.lock.Close())
		if err != nil {
			err = fmt.Errorf("pebblestore: close: %w", err)
		}
	})
	return err
}

// acquire makes sure the store is open and stays open until release; ctx is
// checked first so that a cancelled call does nothing.
func (s *Store) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return eventstore.ErrClosed
	}
	return nil
}

func (s *Store) release() { s.mu.RUnlock() }

// publish advances the durable position to pos, if it is not past it
// already, and wakes the subscribers waiting for it.
//
// Appends finish their sync in any order, but the WAL is one sequential
// file and an fsync covers everything written before it, so once the events
// at pos are synced, so are all those before: the durable position can jump
// to pos. durable is stored before the channel is swapped, so a subscriber
// that loads the new channel is sure to see the new position.
func (s *Store) publish(pos uint64) {
	for {
		cur := s.durable.Load()
		if pos <= cur {
			return
		}
		if s.durable.CompareAndSwap(cur, pos) {
			break
		}
	}
	next := make(chan struct{})
	close(*s.notify.Swap(&next))
}

// pebbleLogger adapts slog to Pebble's logger.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l != nil {
		p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	l := p.l
	if l == nil {
		l = slog.Default()
	}
	l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.Errorf(format, args...)
	// Pebble calls Fatalf when it cannot go on safely; carrying on could
	// acknowledge writes that are not on disk.
	os.Exit(1)
}
