package simulation

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// fault is what the store does to one append.
type fault int

const (
	noFault fault = iota
	// failBefore fails the append and writes nothing, as an I/O error does.
	failBefore
	// timeoutAfter writes the append and answers DeadlineExceeded: the
	// caller cannot tell whether it happened.
	timeoutAfter
	// crashAfter writes the append and crashes the process before anyone
	// hears of it.
	crashAfter
	// stopWrites fails the append as a failed fsync does: it may or may not
	// be written, and the store takes no more writes until a restart.
	stopWrites
	numFaults
)

var faultNames = [numFaults]string{"none", "append failed", "timeout after append", "crash after append", "writes stopped"}

func (f fault) String() string { return faultNames[f] }

// Errors the faulty store answers with.
var (
	errInjected = errors.New("simulation: injected I/O error")
	errCrashed  = errors.New("simulation: the process crashed")
)

// faults decides, from the seed, what happens to each append. The world
// calls the store from one goroutine at a time, so the decisions come in
// the same order on every run of a seed.
type faults struct {
	rng *rand.Rand
	// perMille is the chance of each fault on one append.
	perMille [numFaults]int
	on       bool
	// crashed is set by a crashAfter until the world restarts the process;
	// stopped by a stopWrites.
	crashed, stopped bool
	injected         [numFaults]int
	note             func(string)
}

func (f *faults) next() fault {
	if !f.on {
		return noFault
	}
	roll := f.rng.IntN(1000)
	for k := failBefore; k < numFaults; k++ {
		if roll < f.perMille[k] {
			f.injected[k]++
			return k
		}
		roll -= f.perMille[k]
	}
	return noFault
}

// faultyStore is the store the simulated process sees: appends meet the
// faults, and once the process crashed every call fails until the world
// starts a new process with a new faultyStore.
type faultyStore struct {
	eventstore.Decorated
	f *faults
}

// Append writes events unless a fault says otherwise; see faults.
func (s *faultyStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	switch {
	case s.f.crashed:
		return eventstore.AppendResult{}, errCrashed
	case s.f.stopped:
		return eventstore.AppendResult{}, fmt.Errorf("%w: %w", eventstore.ErrWritesStopped, errInjected)
	}
	k := s.f.next()
	if k == failBefore || (k == stopWrites && s.f.rng.IntN(2) == 0) {
		s.f.note(fmt.Sprintf("fault: %s on %s, not written", k, stream))
		return s.fail(k)
	}
	res, err := s.Store.Append(ctx, stream, expected, events...)
	if err != nil || k == noFault {
		return res, err
	}
	s.f.note(fmt.Sprintf("fault: %s on %s at %d, written", k, stream, res.Position.Commit))
	return s.fail(k)
}

func (s *faultyStore) fail(k fault) (eventstore.AppendResult, error) {
	switch k {
	case timeoutAfter:
		return eventstore.AppendResult{}, context.DeadlineExceeded
	case crashAfter:
		s.f.crashed = true
		return eventstore.AppendResult{}, errCrashed
	case stopWrites:
		s.f.stopped = true
		return eventstore.AppendResult{}, fmt.Errorf("%w: %w", eventstore.ErrWritesStopped, errInjected)
	}
	return eventstore.AppendResult{}, errInjected
}

// ReadStream reads unless the process crashed.
func (s *faultyStore) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.RecordedEvent, error) {
	if s.f.crashed {
		return nil, errCrashed
	}
	return s.Store.ReadStream(ctx, stream, from, dir, limit)
}

// ReadAll reads unless the process crashed.
func (s *faultyStore) ReadAll(ctx context.Context, from eventstore.Position, dir eventstore.Direction, limit int, filter eventstore.Filter) ([]eventstore.RecordedEvent, error) {
	if s.f.crashed {
		return nil, errCrashed
	}
	return s.Store.ReadAll(ctx, from, dir, limit, filter)
}

// slowStore is the store the read models follow: its subscriptions now and
// then fall behind. It is a store of its own, because the read models read
// from their own goroutines, while the faults of faultyStore belong to the
// world's one sequence of commands.
type slowStore struct {
	eventstore.Decorated
	slow *slowness
}

// Subscribe returns a subscription that now and then falls behind.
func (s slowStore) Subscribe(ctx context.Context, from eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	sub, err := s.Store.Subscribe(ctx, from, filter)
	if err != nil {
		return nil, err
	}
	return slowSubscription{Subscription: sub, slow: s.slow}, nil
}

// slowness makes subscribers fall behind: before an event is delivered it
// may pause for up to a few milliseconds. Subscribers run in their own
// goroutines, so the pauses come from a generator of their own: they change
// when the read models catch up, never what the registry decides.
type slowness struct {
	mu     sync.Mutex
	rng    *rand.Rand
	paused int
}

func (s *slowness) pause() {
	s.mu.Lock()
	var d time.Duration
	switch roll := s.rng.IntN(100); {
	case roll < 1:
		d = time.Duration(2+s.rng.IntN(4)) * time.Millisecond
	case roll < 10:
		d = time.Duration(50+s.rng.IntN(450)) * time.Microsecond
	}
	if d > 0 {
		s.paused++
	}
	s.mu.Unlock()
	if d > 0 {
		time.Sleep(d) // a subscriber falling behind, not a wait for state
	}
}

func (s *slowness) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

type slowSubscription struct {
	eventstore.Subscription
	slow *slowness
}

func (s slowSubscription) Next() (eventstore.RecordedEvent, error) {
	s.slow.pause()
	return s.Subscription.Next()
}
