package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// fakeClock is a settable clock shared by the services of a test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// manualTicker ticks when the test sends on it.
type manualTicker struct{ c chan time.Time }

func (m manualTicker) C() <-chan time.Time { return m.c }
func (m manualTicker) Stop()               {}

// countEvents counts the events of a type in a stream of the store.
func countEvents(t *testing.T, st eventstore.Store, stream, eventType string) int {
	t.Helper()
	evs, err := st.ReadStream(context.Background(), stream, 0, eventstore.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == eventType {
			n++
		}
	}
	return n
}

// startScheduler starts a scheduler over a new service on the store, as a
// restarted server would.
func startScheduler(t *testing.T, st eventstore.Store, clock *fakeClock) (*Service, *Scheduler) {
	t.Helper()
	s := newService(t, st, Options{Clock: clock.Now})
	sc := NewScheduler(s, SchedulerOptions{Ticker: manualTicker{make(chan time.Time)}})
	if err := sc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, sc
}

func TestReservationExpiresOnceAcrossRestartsAndClockJumps(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	start := time.Now().UTC().Truncate(time.Second)
	clock := &fakeClock{now: start}
	s1, sc1 := startScheduler(t, st, clock)
	setup(t, s1, 3, 1000)
	_, err := s1.ReserveUnits(ctx, meta, domain.ReserveUnits{RightID: "CEA1", ReservationID: "V1", Holder: "ACC0", Exchange: "HBEX",
		OrderReference: "ORD-1", Quantity: 100, Timeout: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := sc1.NextDeadline(); !ok || !at.Equal(start.Add(time.Hour)) {
		t.Fatalf("next deadline %v %v, want the reservation's timeout", at, ok)
	}
	if n, err := sc1.RunDue(ctx); n != 0 || err != nil {
		t.Fatalf("recorded %d expiries before the timeout (%v)", n, err)
	}

	t.Run("a restart after the timeout records the expiry at start", func(t *testing.T) {
		clock.Set(start.Add(2 * time.Hour))
		s2, _ := startScheduler(t, st, clock)
		if got := countEvents(t, st, "right-CEA1", domain.EventTypeReservationExpired); got != 1 {
			t.Fatalf("%d ReservationExpired events, want 1", got)
		}
		r, _, err := s2.Right(ctx, "CEA1")
		if err != nil {
			t.Fatal(err)
		}
		if h := r.Holding("ACC0"); h.Reserved != 0 || h.Available != 1000 {
			t.Fatalf("ACC0 holds %+v", h)
		}
	})

	t.Run("the first process, with its stale index and cache, records nothing twice", func(t *testing.T) {
		if n, err := sc1.RunDue(ctx); n != 0 || err != nil {
			t.Fatalf("recorded %d (%v)", n, err)
		}
		if got := countEvents(t, st, "right-CEA1", domain.EventTypeReservationExpired); got != 1 {
			t.Fatalf("%d ReservationExpired events, want 1", got)
		}
	})

	t.Run("a clock set back neither undoes nor repeats the expiry", func(t *testing.T) {
		clock.Set(start.Add(-time.Hour))
		s3, sc3 := startScheduler(t, st, clock)
		if n, err := sc3.RunDue(ctx); n != 0 || err != nil {
			t.Fatalf("recorded %d (%v)", n, err)
		}
		_, err := s3.SettleReservation(ctx, meta, domain.SettleReservation{RightID: "CEA1", ReservationID: "V1", SettlementID: "S1", Buyer: "ACC1", Quantity: 1})
		if !errors.Is(err, domain.CheckReservationNotOpen) {
			t.Fatalf("settling an expired reservation: %v", err)
		}
		if got := countEvents(t, st, "right-CEA1", domain.EventTypeReservationExpired); got != 1 {
			t.Fatalf("%d ReservationExpired events, want 1", got)
		}
	})

	t.Run("a reservation due after a jump back waits for its time", func(t *testing.T) {
		clock.Set(start)
		s4, sc4 := startScheduler(t, st, clock)
		if _, err := s4.ReserveUnits(ctx, meta, domain.ReserveUnits{RightID: "CEA1", ReservationID: "V2", Holder: "ACC0", Exchange: "HBEX",
			OrderReference: "ORD-2", Quantity: 10, Timeout: start.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		clock.Set(start.Add(-time.Hour))
		if n, _ := sc4.RunDue(ctx); n != 0 {
			t.Fatal("expired before its timeout")
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { sc4.Run(runCtx); close(done) }()
		clock.Set(start.Add(time.Minute))
		tick := sc4.ticker.(manualTicker).c
		tick <- time.Time{}
		// The ticker is unbuffered: the second tick is taken only after the
		// first round has finished.
		tick <- time.Time{}
		cancel()
		<-done
		if got := countEvents(t, st, "right-CEA1", domain.EventTypeReservationExpired); got != 2 {
			t.Fatalf("%d ReservationExpired events, want 2", got)
		}
	})
}

func TestRightExpiresWhenItsValidityEnds(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	start := time.Now().UTC().Truncate(time.Second)
	clock := &fakeClock{now: start}
	s, sc := startScheduler(t, st, clock)
	setup(t, s, 2, 10)
	y := start.Year()
	_, _, err := s.RegisterRight(ctx, meta, domain.RegisterRight{RightID: "WUR1", Type: domain.RightTypeWaterUse, Jurisdiction: "640000", Vintage: y,
		Quantity: 5000, HolderAccountID: "ACC0", ValidFrom: start.Add(-time.Hour), ValidUntil: start.Add(24 * time.Hour),
		Attributes: domain.WaterRight{Class: domain.WaterRightClassRegional, Basin: "Yellow River", Source: domain.WaterSourceSurface,
			Use: domain.WaterUseAgricultural, AnnualVolume: 5000}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PledgeUnits(ctx, meta, domain.PledgeUnits{RightID: "WUR1", PledgeID: "P1", Pledgor: "ACC0", Pledgee: "ACC1", LoanReference: "L-1", Quantity: 100}); err != nil {
		t.Fatal(err)
	}
	clock.Set(start.Add(48 * time.Hour))
	if n, err := sc.RunDue(ctx); n != 1 || err != nil {
		t.Fatalf("recorded %d expiries (%v), want 1", n, err)
	}
	r, _, err := s.Right(ctx, "WUR1")
	if err != nil {
		t.Fatal(err)
	}
	if tot := r.Totals(); tot.Expired != 5000 || tot.Pledged != 0 || r.ExpiredAt() != start.Add(48*time.Hour) {
		t.Fatalf("totals %+v, expired at %v", tot, r.ExpiredAt())
	}
	clock.Set(start)
	_, err = s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "WUR1", TransferID: "T1", From: "ACC0", To: "ACC1", Quantity: 1})
	if !errors.Is(err, domain.CheckRightExpired) {
		t.Fatalf("transfer on an expired right with the clock set back: %v", err)
	}
	_, sc2 := startScheduler(t, st, clock)
	if _, ok := sc2.NextDeadline(); ok {
		t.Fatal("a restarted scheduler waits for an expiry already recorded")
	}
	if got := countEvents(t, st, "right-WUR1", domain.EventTypeRightExpired); got != 1 {
		t.Fatalf("%d RightExpired events, want 1", got)
	}
}

func TestLifecycleThroughTheService(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	s := newService(t, st, Options{})
	setup(t, s, 4, 1000)

	t.Run("a pledge is listed for the pledgor and the pledgee", func(t *testing.T) {
		rec, err := s.PledgeUnits(ctx, meta, domain.PledgeUnits{RightID: "CEA1", PledgeID: "P1", Pledgor: "ACC0", Pledgee: "ACC3", LoanReference: "L-1", Quantity: 100})
		if err != nil {
			t.Fatal(err)
		}
		if e := rec.Event.(domain.UnitsPledged); e.Quantity != 100 || rec.Commit.Stream != "right-CEA1" {
			t.Fatalf("recorded %+v", rec)
		}
		for _, acct := range []string{"ACC0", "ACC3"} {
			ps, _, _, err := s.Pledges(ctx, "CEA1", acct)
			if err != nil || len(ps) != 1 || ps[0].PledgeID != "P1" {
				t.Fatalf("pledges of %s: %+v %v", acct, ps, err)
			}
		}
		if ps, _, _, _ := s.Pledges(ctx, "CEA1", "ACC2"); len(ps) != 0 {
			t.Fatalf("ACC2 has pledges %+v", ps)
		}
	})

	t.Run("a reversal reads the original transfer from the stream", func(t *testing.T) {
		if _, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: "T1", From: "ACC0", To: "ACC1", Quantity: 50}); err != nil {
			t.Fatal(err)
		}
		rec, err := s.ReverseTransaction(ctx, meta, domain.ReverseTransaction{RightID: "CEA1", CorrectionID: "K1", Kind: domain.TransactionKindTransfer,
			OriginalID: "T1", Authority: "MEE", Reason: "entered twice"})
		if err != nil {
			t.Fatal(err)
		}
		if e := rec.Event.(domain.TransactionReversed); e.From != "ACC1" || e.To != "ACC0" || e.Quantity != 50 {
			t.Fatalf("reversal %+v", e)
		}
	})

	t.Run("an account-wide freeze stops transfers in every right until lifted", func(t *testing.T) {
		if _, _, err := s.FreezeAccount(ctx, meta, domain.FreezeAccount{AccountID: "ACC1", OrderNumber: "O-1", Authority: "court"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: "T2", From: "ACC0", To: "ACC1", Quantity: 5}); err != nil {
			t.Fatal(err)
		}
		_, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: "T3", From: "ACC1", To: "ACC0", Quantity: 1})
		if !errors.Is(err, domain.CheckAccountFrozen) {
			t.Fatalf("transfer from a frozen account: %v", err)
		}
		a, _, err := s.UnfreezeAccount(ctx, meta, domain.UnfreezeAccount{AccountID: "ACC1", OrderNumber: "O-1", Authority: "court"})
		if err != nil || a.Frozen() {
			t.Fatalf("unfreeze: %v, frozen %v", err, a.Frozen())
		}
		if _, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: "T3", From: "ACC1", To: "ACC0", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the state rebuilt from the store equals the cached state", func(t *testing.T) {
		cached, _, err := s.Right(ctx, "CEA1")
		if err != nil {
			t.Fatal(err)
		}
		fresh := rebuilt(t, st, s, "CEA1")
		if cached.String() != fresh.String() || cached.Version() != fresh.Version() {
			t.Fatalf("cached %s, rebuilt %s", cached.String(), fresh.String())
		}
		if err := fresh.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
	})
}

// Expiries due at one moment come out of the index in one order, whatever
// order they went in: a restart indexes them from a map, and a replay of a
// run (the simulation's) must record them in the same order.
func TestExpiriesDueAtOneMomentComeInOneOrder(t *testing.T) {
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	ds := []deadline{{at: at, rightID: "R1"}, {at: at, rightID: "R2", reservationID: "V1"}, {at: at, rightID: "R0", reservationID: "V9"}, {at: at, rightID: "R2"}}
	var orders []string
	for _, perm := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}} {
		idx := newDeadlines()
		for _, i := range perm {
			idx.add(ds[i])
		}
		orders = append(orders, fmt.Sprint(idx.due(at)))
	}
	for _, o := range orders[1:] {
		if o != orders[0] {
			t.Fatalf("the same expiries indexed in other orders come out as %v", orders)
		}
	}
}
