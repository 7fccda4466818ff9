package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"go.uber.org/goleak"
)

// countingStore counts the stream reads that reach the store, to show that
// cached state is not replayed.
type countingStore struct {
	eventstore.Store
	reads     atomic.Int64
	readEvent atomic.Int64
}

func (c *countingStore) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.RecordedEvent, error) {
	c.reads.Add(1)
	evs, err := c.Store.ReadStream(ctx, stream, from, dir, limit)
	c.readEvent.Add(int64(len(evs)))
	return evs, err
}

func openStore(t testing.TB) eventstore.Store {
	t.Helper()
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newService returns a service over st that tb closes when it ends,
// before the store (whose cleanup was registered first).
func newService(tb testing.TB, st eventstore.Store, opts Options) *Service {
	s := New(st, opts)
	tb.Cleanup(s.Close)
	return s
}

var meta = Meta{Actor: "test", CorrelationID: "corr"}

func creditCode(t testing.TB, first17 string) string {
	t.Helper()
	c, ok := domain.CreditCodeCheckCharacter(first17)
	if !ok {
		t.Fatalf("bad credit code body %q", first17)
	}
	return first17 + string(c)
}

// setup opens n accounts ACC0..ACCn-1 and registers a carbon allowance
// "CEA1" of quantity units to ACC0.
func setup(t testing.TB, s *Service, n int, quantity int64) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		_, _, err := s.OpenAccount(ctx, meta, domain.OpenAccount{AccountID: fmt.Sprintf("ACC%d", i), Jurisdiction: "420100", Type: domain.AccountTypeHolding,
			Holder: domain.Holder{Name: fmt.Sprintf("Holder %d", i), Kind: domain.HolderKindEnterprise, CreditCode: creditCode(t, fmt.Sprintf("91420100MA4K%05d", i))}})
		if err != nil {
			t.Fatal(err)
		}
	}
	y := time.Now().UTC().Year()
	_, _, err := s.RegisterRight(ctx, meta, domain.RegisterRight{RightID: "CEA1", Type: domain.RightTypeCarbonAllowance, Jurisdiction: "420000", Vintage: y - 1,
		Quantity: quantity, HolderAccountID: "ACC0",
		Attributes: domain.CarbonAllowance{AllocatingProvince: "420000", Scheme: domain.CEASchemeNational, AllocationMethod: domain.AllocationMethodFree, CompliancePeriod: fmt.Sprintf("%d-%d", y-1, y)}})
	if err != nil {
		t.Fatal(err)
	}
}

// rebuilt reads the right's whole stream from the store and rebuilds it,
// bypassing every cache.
func rebuilt(t testing.TB, st eventstore.Store, s *Service, id string) domain.Right {
	t.Helper()
	fresh := newService(t, st, Options{})
	r, _, err := fresh.Right(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConcurrentTransfersOnOneRightConserveUnits(t *testing.T) {
	st := openStore(t)
	s := newService(t, st, Options{})
	const accounts, goroutines, perGoroutine = 8, 64, 20
	const quantity = 1000
	setup(t, s, accounts, quantity)
	ctx := context.Background()

	// Every goroutine moves units between random accounts; many transfers
	// ask for more than the sender has, and must be refused, not overdrawn.
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				from := fmt.Sprintf("ACC%d", (g+i)%accounts)
				to := fmt.Sprintf("ACC%d", (g+i+1+g%3)%accounts)
				_, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: fmt.Sprintf("T-%d-%d", g, i),
					From: from, To: to, Quantity: int64(1 + (g*7+i*13)%150)})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, domain.CheckInsufficientAvailableUnits):
					refused.Add(1)
				default:
					t.Errorf("transfer %d/%d: %v", g, i, err)
				}
			}
		}(g)
	}
	wg.Wait()
	if ok.Load() == 0 || refused.Load() == 0 {
		t.Fatalf("%d transfers succeeded and %d were refused; the test needs both", ok.Load(), refused.Load())
	}

	for _, r := range []domain.Right{mustRight(t, s, "CEA1"), rebuilt(t, st, s, "CEA1")} {
		if err := r.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, h := range r.Holdings() {
			if h.Available < 0 {
				t.Fatalf("%s overdrawn: %d", h.AccountID, h.Available)
			}
			total += h.Available + h.Retired
		}
		if total != quantity {
			t.Fatalf("units not conserved: %d held, %d issued", total, quantity)
		}
	}
	evs, err := st.ReadStream(ctx, domain.RightStream("CEA1"), 0, eventstore.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := int64(len(evs)); got != 1+ok.Load() {
		t.Fatalf("stream has %d events, want registration + %d transfers", got, ok.Load())
	}
}

func mustRight(t testing.TB, s *Service, id string) domain.Right {
	t.Helper()
	r, _, err := s.Right(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Two services over one store stand for two registry nodes: each must see
// the other's appends through the expected-revision conflict and decide
// again, never overwrite them.
func TestTwoWritersOnOneStoreLoseNoUpdate(t *testing.T) {
	st := openStore(t)
	a := newService(t, st, Options{})
	setup(t, a, 2, 1000)
	b := newService(t, st, Options{})
	ctx := context.Background()
	// Warm both caches, then let them race.
	mustRight(t, a, "CEA1")
	mustRight(t, b, "CEA1")
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i, s := range []*Service{a, b} {
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < 25; k++ {
					cmd := domain.TransferUnits{RightID: "CEA1", TransferID: fmt.Sprintf("N%d-G%d-%d", i, g, k), From: "ACC0", To: "ACC1", Quantity: 1}
					_, err := s.TransferUnits(ctx, meta, cmd)
					// A command that lost every race was not recorded; a
					// client retries it, as the Aborted status tells it to.
					for errors.Is(err, ErrContention) {
						_, err = s.TransferUnits(ctx, meta, cmd)
					}
					if err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r := rebuilt(t, st, a, "CEA1")
	if got := r.Holding("ACC1").Available; got != 200 {
		t.Fatalf("ACC1 holds %d, want 200: an update was lost", got)
	}
	for _, s := range []*Service{a, b} {
		r := mustRight(t, s, "CEA1")
		if got := r.Holding("ACC1").Available; got != 200 {
			t.Fatalf("a node reads %d, want 200", got)
		}
	}
}

func TestCachedRightIsNotReplayed(t *testing.T) {
	st := &countingStore{Store: openStore(t)}
	s := newService(t, st, Options{})
	setup(t, s, 2, 100000)
	ctx := context.Background()
	transfer := func(i int) {
		t.Helper()
		if _, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: fmt.Sprintf("T%d", i), From: "ACC0", To: "ACC1", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
	}
	transfer(0)
	before := st.readEvent.Load()
	for i := 1; i <= 500; i++ {
		transfer(i)
	}
	if n := st.readEvent.Load() - before; n != 0 {
		t.Fatalf("500 transfers on a cached right read %d events back from the store", n)
	}
}

func TestRefusedCommandsAppendNothing(t *testing.T) {
	st := openStore(t)
	s := newService(t, st, Options{})
	setup(t, s, 2, 100)
	ctx := context.Background()
	head := func() uint64 {
		evs, err := st.ReadStream(ctx, domain.RightStream("CEA1"), eventstore.StreamEnd, eventstore.Backwards, 1)
		if err != nil {
			t.Fatal(err)
		}
		return evs[0].Revision
	}
	before := head()
	cases := map[string]domain.TransferUnits{
		"more than available":  {RightID: "CEA1", TransferID: "X1", From: "ACC0", To: "ACC1", Quantity: 101},
		"unknown receiver":     {RightID: "CEA1", TransferID: "X2", From: "ACC0", To: "NOBODY", Quantity: 1},
		"no quantity or range": {RightID: "CEA1", TransferID: "X3", From: "ACC0", To: "ACC1"},
		"malformed right id":   {RightID: "bad id", TransferID: "X4", From: "ACC0", To: "ACC1", Quantity: 1},
	}
	for name, cmd := range cases {
		t.Run(name+" is refused and appends nothing", func(t *testing.T) {
			_, err := s.TransferUnits(ctx, meta, cmd)
			if _, ok := domain.RejectionOf(err); !ok {
				t.Fatalf("err = %v, want a rejection", err)
			}
			if h := head(); h != before {
				t.Fatalf("stream moved from revision %d to %d", before, h)
			}
		})
	}
}

func BenchmarkTransferOnHotRight(b *testing.B) {
	st := openStore(b)
	s := newService(b, st, Options{})
	setup(b, s, 2, domain.MaxQuantity)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: fmt.Sprintf("T%d", i), From: "ACC0", To: "ACC1", Quantity: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
}

// BenchmarkConcurrentTransfersOnHotRight has 64 goroutines transferring
// units of one right: the case that batching of commands on one stream is for.
func BenchmarkConcurrentTransfersOnHotRight(b *testing.B) {
	st := openStore(b)
	s := newService(b, st, Options{})
	setup(b, s, 2, domain.MaxQuantity)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(32) // 64 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: fmt.Sprintf("T%d", i), From: "ACC0", To: "ACC1", Quantity: 1}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
}

func TestHoldingReadsOneHolding(t *testing.T) {
	st := openStore(t)
	s := newService(t, st, Options{})
	setup(t, s, 3, 100)
	ctx := context.Background()
	if _, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: "T1", From: "ACC0", To: "ACC1", Quantity: 30}); err != nil {
		t.Fatal(err)
	}
	t.Run("a holder's units and serial prefix are read from the right's stream", func(t *testing.T) {
		hr, err := s.Holding(ctx, "CEA1", "ACC1")
		if err != nil {
			t.Fatal(err)
		}
		r := mustRight(t, s, "CEA1")
		if hr.Holding.AccountID != "ACC1" || hr.Holding.Available != 30 || hr.Revision != 1 || hr.SerialPrefix != r.SerialPrefix() {
			t.Fatalf("%+v", hr)
		}
	})
	t.Run("an account that holds nothing gets an empty holding", func(t *testing.T) {
		hr, err := s.Holding(ctx, "CEA1", "ACC2")
		if err != nil || hr.Holding.Available != 0 || len(hr.Holding.AvailableBlocks) != 0 {
			t.Fatalf("%+v %v", hr, err)
		}
	})
	t.Run("an unknown right is refused before an unknown account", func(t *testing.T) {
		if _, err := s.Holding(ctx, "NO-RIGHT", "NOBODY"); !errors.Is(err, domain.CheckRightNotFound) {
			t.Fatalf("err = %v", err)
		}
		if _, err := s.Holding(ctx, "CEA1", "NOBODY"); !errors.Is(err, domain.CheckAccountNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

// BenchmarkReadOneHolding compares reading one account's holding of a right
// with 1000 holders through Holding against copying the whole right first,
// which is what GetHolding did before.
func BenchmarkReadOneHolding(b *testing.B) {
	st := openStore(b)
	s := newService(b, st, Options{})
	setup(b, s, 1000, 1_000_000)
	ctx := context.Background()
	for i := 1; i < 1000; i++ {
		if _, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: fmt.Sprintf("T%d", i), From: "ACC0", To: fmt.Sprintf("ACC%d", i), Quantity: 10}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Holding", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Holding(ctx, "CEA1", "ACC500"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Right+Holding", func(b *testing.B) {
		for b.Loop() {
			r, _, err := s.Right(ctx, "CEA1")
			if err != nil {
				b.Fatal(err)
			}
			_ = r.Holding("ACC500")
		}
	})
}

func TestClosingAnAccountAsksWhatItHolds(t *testing.T) {
	st := openStore(t)
	var held []domain.AccountHolding
	var heldErr error
	s := newService(t, st, Options{HeldRights: func(_ context.Context, accountID string) ([]domain.AccountHolding, error) {
		return held, heldErr
	}})
	setup(t, s, 3, 100)
	ctx := context.Background()
	closeIt := func(id string) error {
		_, _, err := s.ChangeAccountStatus(ctx, meta, domain.ChangeAccountStatus{AccountID: id, To: domain.AccountStatusClosed, Reason: "wound up"})
		return err
	}
	status := func(id string) domain.AccountStatus {
		a, _, err := s.Account(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return a.Status()
	}

	held = []domain.AccountHolding{{RightID: "CEA1", Available: 100}}
	if rej, ok := domain.RejectionOf(closeIt("ACC0")); !ok || rej.Check != domain.CheckAccountHoldsUnits {
		t.Fatalf("closing an account that holds units: %v", rej)
	}
	if status("ACC0") != domain.AccountStatusOpen {
		t.Fatal("a refused close changed the account")
	}

	held, heldErr = nil, fmt.Errorf("projections: not caught up: %w", context.DeadlineExceeded)
	if err := closeIt("ACC1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("when the holdings cannot be listed: %v", err)
	}
	if status("ACC1") != domain.AccountStatusOpen {
		t.Fatal("a close whose holdings could not be listed changed the account")
	}

	heldErr = nil
	if err := closeIt("ACC2"); err != nil || status("ACC2") != domain.AccountStatusClosed {
		t.Fatalf("closing an account that holds nothing: %v", err)
	}
}

// Close ends the goroutines that run the batches of commands, so that a
// service can be stopped without leaving them behind, and a command made
// after Close still runs and leaves none.
func TestCloseEndsTheBackgroundGoroutines(t *testing.T) {
	st := openStore(t)
	before := goleak.IgnoreCurrent()
	s := New(st, Options{})
	setup(t, s, 2, 1000)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			if _, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: fmt.Sprintf("T-%d", g), From: "ACC0", To: "ACC1", Quantity: 1}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	s.Close()
	goleak.VerifyNone(t, before)

	if _, err := s.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "CEA1", TransferID: "T-after-close", From: "ACC0", To: "ACC1", Quantity: 1}); err != nil {
		t.Fatalf("a transfer after Close: %v", err)
	}
	goleak.VerifyNone(t, before)
	s.Close()
}
