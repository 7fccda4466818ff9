package registry

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"go.uber.org/zap"
)

// deadline is a moment at which the server must record an expiry: of a
// reservation (reservationID set) or of a right.
type deadline struct {
	at            time.Time
	rightID       string
	reservationID string
}

func (d deadline) key() string { return d.rightID + "\x00" + d.reservationID }

// deadlines is the service's index of pending expiries, a min-heap by time.
// It holds candidates only: the decision made when one is due tells whether
// anything is left to expire, so a stale entry costs one look at the right.
type deadlines struct {
	mu    sync.Mutex
	heap  deadlineHeap
	known map[string]bool
}

func newDeadlines() *deadlines { return &deadlines{known: make(map[string]bool)} }

// add indexes d unless the same expiry is indexed already.
func (ds *deadlines) add(d deadline) {
	if d.at.IsZero() {
		return
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.known[d.key()] {
		return
	}
	ds.known[d.key()] = true
	heap.Push(&ds.heap, d)
}

// noteEvents indexes the deadlines that recorded events create.
func (ds *deadlines) noteEvents(evs []domain.Event) {
	for _, ev := range evs {
		switch e := ev.(type) {
		case domain.RightRegistered:
			ds.add(deadline{at: e.ValidUntil, rightID: e.RightID})
		case domain.UnitsReserved:
			ds.add(deadline{at: e.Timeout, rightID: e.RightID, reservationID: e.ReservationID})
		}
	}
}

// due removes and returns the deadlines at or before now, earliest first.
func (ds *deadlines) due(now time.Time) []deadline {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	var out []deadline
	for ds.heap.Len() > 0 && !ds.heap[0].at.After(now) {
		d := heap.Pop(&ds.heap).(deadline)
		delete(ds.known, d.key())
		out = append(out, d)
	}
	return out
}

// next returns the earliest pending deadline, and false when there is none.
func (ds *deadlines) next() (time.Time, bool) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.heap.Len() == 0 {
		return time.Time{}, false
	}
	return ds.heap[0].at, true
}

type deadlineHeap []deadline

func (h deadlineHeap) Len() int { return len(h) }
func (h deadlineHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	// Expiries due at one moment come in one order, whatever order they
	// were indexed in (a restart indexes them from a map), so that a run
	// replays exactly.
	return h[i].key() < h[j].key()
}
func (h deadlineHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)   { *h = append(*h, x.(deadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	*h = old[:len(old)-1]
	return d
}

// Ticker is what the scheduler waits on between rounds; *time.Ticker
// adapted by NewTimeTicker is the real one, tests drive their own.
type Ticker interface {
	// C delivers a value whenever a round is due.
	C() <-chan time.Time
	// Stop releases the ticker.
	Stop()
}

type timeTicker struct{ t *time.Ticker }

func (t timeTicker) C() <-chan time.Time { return t.t.C }
func (t timeTicker) Stop()               { t.t.Stop() }

// NewTimeTicker returns a Ticker that ticks every interval of real time.
func NewTimeTicker(interval time.Duration) Ticker { return timeTicker{time.NewTicker(interval)} }

// Scheduler records, inside the server, the expiries nobody asks for:
// reservations that reach their timeout and time-bounded rights that reach
// their ValidUntil. Each expiry goes through the ordinary decide-and-append
// path, so it is recorded once: the decision yields nothing when the expiry
// (or a settlement or void) is recorded already, and the append at the
// expected revision stops two processes from both recording it.
//
// Time comes from the service's clock, so a clock that jumps forward
// records every expiry passed at the next round, and one that jumps back
// records nothing early; an expiry once recorded is never undone.
type Scheduler struct {
	svc    *Service
	log    *zap.Logger
	ticker Ticker
}

// SchedulerOptions tune a Scheduler.
type SchedulerOptions struct {
	// Ticker paces the rounds; nil means a real ticker every second.
	Ticker Ticker
	// Logger receives failures to record an expiry (they are retried next
	// round); nil means the service's logger.
	Logger *zap.Logger
}

// NewScheduler returns a scheduler for the service. Start it with Start.
func NewScheduler(svc *Service, opts SchedulerOptions) *Scheduler {
	if opts.Ticker == nil {
		opts.Ticker = NewTimeTicker(time.Second)
	}
	if opts.Logger == nil {
		opts.Logger = svc.log
	}
	return &Scheduler{svc: svc, log: opts.Logger, ticker: opts.Ticker}
}

// scanPage bounds the events read at once while indexing at start.
const scanPage = 4096

// Start indexes the pending expiries recorded in the store before this
// process started (a scan of the log for registrations with a validity end
// and for reservations, then a look at each such right's current state),
// and records those already due. Commands of this service index their own
// deadlines as they commit; events appended by other processes are theirs
// to schedule. Call it before Run.
func (s *Scheduler) Start(ctx context.Context) error {
	candidates := map[string]bool{}
	from := eventstore.Start
	filter := eventstore.Filter{StreamPrefixes: []string{domain.RightStreamPrefix},
		EventTypes: []string{domain.EventTypeRightRegistered, domain.EventTypeUnitsReserved}}
	for {
		evs, err := s.svc.store.ReadAll(ctx, from, eventstore.Forwards, scanPage, filter)
		if err != nil {
			return fmt.Errorf("registry: scan for expiries: %w", err)
		}
		for _, rec := range evs {
			ev, err := eventcodec.Decode(rec.Type, rec.Data)
			if err != nil {
				return fmt.Errorf("registry: scan for expiries: %s revision %d: %w", rec.Stream, rec.Revision, err)
			}
			switch e := ev.(type) {
			case domain.RightRegistered:
				if !e.ValidUntil.IsZero() {
					candidates[e.RightID] = true
				}
			case domain.UnitsReserved:
				candidates[e.RightID] = true
			}
			from = rec.Position
		}
		if len(evs) < scanPage {
			break
		}
	}
	for id := range candidates {
		if err := s.reindex(ctx, id); err != nil {
			return err
		}
	}
	_, err := s.RunDue(ctx)
	return err
}

// reindex indexes the expiries a right still waits for.
func (s *Scheduler) reindex(ctx context.Context, rightID string) error {
	r, _, err := s.svc.Right(ctx, rightID)
	if err != nil {
		return fmt.Errorf("registry: index the expiries of %s: %w", rightID, err)
	}
	if r.ExpiredAt().IsZero() {
		s.svc.deadlines.add(deadline{at: r.ValidUntil(), rightID: rightID})
	}
	for _, v := range r.Reservations() {
		s.svc.deadlines.add(deadline{at: v.Timeout, rightID: rightID, reservationID: v.ReservationID})
	}
	return nil
}

// Run records due expiries at every tick until ctx ends; a round that fails
// is logged and its expiries are tried again at the next tick. It stops the
// ticker when it returns.
func (s *Scheduler) Run(ctx context.Context) {
	defer s.ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.ticker.C():
			if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("recording expiries failed; retrying at the next tick", zap.Error(err))
			}
		}
	}
}

// RunDue records every expiry due at the service's current time and
// returns how many it recorded. Expiries it could not record stay indexed.
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	recorded := 0
	var errs []error
	for _, d := range s.svc.deadlines.due(s.svc.clock()) {
		var (
			done bool
			err  error
		)
		if d.reservationID != "" {
			done, err = s.svc.ExpireReservation(ctx, d.rightID, d.reservationID)
		} else {
			done, err = s.svc.ExpireRight(ctx, d.rightID)
		}
		if err != nil {
			s.svc.deadlines.add(d)
			errs = append(errs, fmt.Errorf("expire %s %s: %w", d.rightID, d.reservationID, err))
			continue
		}
		if done {
			recorded++
			continue
		}
		// Nothing was due after all (the clock went back between the look at
		// the index and the decision) or nothing is left to expire: index
		// again whatever the right still waits for.
		if err := s.reindex(ctx, d.rightID); err != nil {
			s.svc.deadlines.add(d)
			errs = append(errs, err)
		}
	}
	return recorded, errors.Join(errs...)
}

// NextDeadline returns the earliest expiry the scheduler is waiting for, and
// false when it waits for none.
func (s *Scheduler) NextDeadline() (time.Time, bool) { return s.svc.deadlines.next() }
