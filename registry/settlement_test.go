package registry

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// registerAllowance registers another carbon allowance to holder.
func registerAllowance(t testing.TB, s *Service, id, holder string, quantity int64) {
	t.Helper()
	y := time.Now().UTC().Year()
	_, _, err := s.RegisterRight(context.Background(), meta, domain.RegisterRight{RightID: id, Type: domain.RightTypeCarbonAllowance, Jurisdiction: "420000",
		Vintage: y - 1, Quantity: quantity, HolderAccountID: holder,
		Attributes: domain.CarbonAllowance{AllocatingProvince: "420000", Scheme: domain.CEASchemeNational, AllocationMethod: domain.AllocationMethodFree, CompliancePeriod: fmt.Sprintf("%d-%d", y-1, y)}})
	if err != nil {
		t.Fatal(err)
	}
}

func trade(right, id string, quantity int64) domain.SettleTrade {
	return domain.SettleTrade{ExchangeID: "HBEX", TradeID: id, RightID: right, Seller: "ACC0", Buyer: "ACC1", Quantity: quantity,
		Price: &domain.Price{Amount: 5850, Currency: "CNY"}, MatchedAt: time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond)}
}

func mustSettle(t testing.TB, s *Service, cmd domain.SettleTrade) TradeOutcome {
	t.Helper()
	out, err := s.SettleTrade(context.Background(), meta, cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return out
}

// timeoutOnce writes the first append after it is armed and answers it
// with DeadlineExceeded, as a store whose own deadline passed while the
// write went through does.
type timeoutOnce struct {
	eventstore.Store
	armed atomic.Bool
}

func (s *timeoutOnce) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := s.Store.Append(ctx, stream, expected, events...)
	if err == nil && s.armed.CompareAndSwap(true, false) {
		return eventstore.AppendResult{}, context.DeadlineExceeded
	}
	return res, err
}

// storedOutcomes reads the TradeSettled and TradeRefused events of a right's stream.
func storedOutcomes(t testing.TB, st eventstore.Store, right string) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := st.ReadStream(context.Background(), domain.RightStream(right), 0, eventstore.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []eventstore.RecordedEvent
	for _, e := range evs {
		if e.Type == domain.EventTypeTradeSettled || e.Type == domain.EventTypeTradeRefused {
			out = append(out, e)
		}
	}
	return out
}

func TestSettleTradeIdempotency(t *testing.T) {
	t.Run("concurrent identical submissions settle once and all get the same outcome", func(t *testing.T) {
		st := openStore(t)
		s := newService(t, st, Options{})
		setup(t, s, 2, 1000)
		cmd := trade("CEA1", "X-1", 10)
		const n = 64
		outs := make([]TradeOutcome, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[i] = mustSettle(t, s, cmd)
			}()
		}
		wg.Wait()
		if got := len(storedOutcomes(t, st, "CEA1")); got != 1 {
			t.Fatalf("%d outcomes recorded, want 1", got)
		}
		firsts := 0
		for _, o := range outs {
			if o.Settled == nil || !o.Recorded || o.Commit != outs[0].Commit || o.Settled.Quantity != 10 {
				t.Fatalf("outcome %+v, first %+v", o, outs[0])
			}
			if !o.Replay {
				firsts++
			}
		}
		if firsts != 1 {
			t.Fatalf("%d outcomes are not replays, want 1", firsts)
		}
		if r := mustRight(t, s, "CEA1"); r.Holding("ACC1").Available != 10 {
			t.Fatalf("the buyer holds %+v", r.Holding("ACC1"))
		}
	})

	t.Run("the same ids raced on two rights settle on one and are refused on the other", func(t *testing.T) {
		st := openStore(t)
		s := newService(t, st, Options{})
		setup(t, s, 2, 1000)
		registerAllowance(t, s, "CEA2", "ACC0", 1000)
		onOne, onTwo := trade("CEA1", "X-1", 10), trade("CEA2", "X-1", 10)
		var wg sync.WaitGroup
		outs := make([]TradeOutcome, 32)
		for i := range outs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := onOne
				if i%2 == 1 {
					cmd = onTwo
				}
				outs[i] = mustSettle(t, s, cmd)
			}()
		}
		wg.Wait()
		recorded := len(storedOutcomes(t, st, "CEA1")) + len(storedOutcomes(t, st, "CEA2"))
		if recorded != 1 {
			t.Fatalf("%d outcomes recorded, want 1", recorded)
		}
		var winner string
		for _, o := range outs {
			if o.Settled != nil {
				winner = o.Settled.RightID
			}
		}
		for _, o := range outs {
			switch {
			case o.Trade.RightID == winner && o.Settled != nil:
			case o.Trade.RightID != winner && errors.Is(o.Refusal, domain.CheckTradeIDReused) && o.Original != nil && o.Original.Settled != nil &&
				o.Original.Settled.RightID == winner && !o.Recorded:
			default:
				t.Fatalf("outcome %+v (winner %s)", o, winner)
			}
		}
	})

	t.Run("after a restart a retry gets the first outcome and the ids stay taken on other rights", func(t *testing.T) {
		st := openStore(t)
		s := newService(t, st, Options{})
		setup(t, s, 2, 1000)
		registerAllowance(t, s, "CEA2", "ACC0", 1000)
		cmd := trade("CEA1", "X-1", 10)
		first := mustSettle(t, s, cmd)
		big := trade("CEA1", "X-2", 5000)
		refusedFirst := mustSettle(t, s, big)
		if !errors.Is(refusedFirst.Refusal, domain.CheckInsufficientAvailableUnits) || !refusedFirst.Recorded {
			t.Fatalf("refusal %+v", refusedFirst)
		}

		restarted := newService(t, st, Options{})
		if err := restarted.LoadTradeIndex(context.Background()); err != nil {
			t.Fatal(err)
		}
		again := mustSettle(t, restarted, cmd)
		if !again.Replay || again.Commit != first.Commit || again.Settled == nil || again.At != first.At {
			t.Fatalf("retry after restart %+v, first %+v", again, first)
		}
		refusedAgain := mustSettle(t, restarted, big)
		if !refusedAgain.Replay || refusedAgain.Commit != refusedFirst.Commit || !errors.Is(refusedAgain.Refusal, domain.CheckInsufficientAvailableUnits) {
			t.Fatalf("refused retry after restart %+v, first %+v", refusedAgain, refusedFirst)
		}
		elsewhere := mustSettle(t, restarted, trade("CEA2", "X-1", 10))
		if !errors.Is(elsewhere.Refusal, domain.CheckTradeIDReused) || elsewhere.Original == nil || elsewhere.Original.Commit != first.Commit {
			t.Fatalf("the same ids on another right after a restart: %+v", elsewhere)
		}
		if got := len(storedOutcomes(t, st, "CEA1")) + len(storedOutcomes(t, st, "CEA2")); got != 2 {
			t.Fatalf("%d outcomes recorded, want 2", got)
		}
	})

	t.Run("a trade whose append timed out after it was written stays on its right: its ids are refused on another", func(t *testing.T) {
		st := &timeoutOnce{Store: openStore(t)}
		s := newService(t, st, Options{})
		setup(t, s, 2, 1000)
		registerAllowance(t, s, "CEA2", "ACC0", 100)
		st.armed.Store(true)
		if _, err := s.SettleTrade(context.Background(), meta, trade("CEA1", "X-1", 10)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the trade whose append timed out: %v", err)
		}
		elsewhere := mustSettle(t, s, trade("CEA2", "X-1", 10))
		if !errors.Is(elsewhere.Refusal, domain.CheckTradeIDReused) || elsewhere.Recorded {
			t.Fatalf("the same ids on another right after the timeout: %+v", elsewhere)
		}
		if got := len(storedOutcomes(t, st, "CEA1")) + len(storedOutcomes(t, st, "CEA2")); got != 1 {
			t.Fatalf("%d outcomes recorded for one trade, want 1", got)
		}
	})

	t.Run("a trade on a right that does not exist is refused unrecorded and settles once the right exists", func(t *testing.T) {
		st := openStore(t)
		s := newService(t, st, Options{})
		setup(t, s, 2, 1000)
		cmd := trade("CEA9", "X-1", 10)
		out := mustSettle(t, s, cmd)
		if !errors.Is(out.Refusal, domain.CheckRightNotFound) || out.Recorded {
			t.Fatalf("outcome %+v", out)
		}
		registerAllowance(t, s, "CEA9", "ACC0", 100)
		if out := mustSettle(t, s, cmd); out.Settled == nil || out.Replay {
			t.Fatalf("outcome %+v", out)
		}
	})
}

func TestSettleTradesBatch(t *testing.T) {
	// The embedded store tells the positions of an append's events; for
	// other stores (the same store, not saying so, here) the batch reads
	// them back.
	for name, dense := range map[string]bool{"dense positions": true, "positions read back": false} {
		t.Run("each trade of a batch gets its own revision and position, and refusals do not fail the others: "+name, func(t *testing.T) {
			batchPositions(t, &appendCounter{Store: openStore(t), dense: dense})
		})
	}

	t.Run("a retry decided in the batch of a failed original is not answered as settled", func(t *testing.T) {
		st := &gatedStore{Store: openStore(t), entered: make(chan struct{}), gate: make(chan struct{})}
		s := newService(t, st, Options{})
		setup(t, s, 2, 1000)
		st.armed.Store(true)
		blocker := make(chan error, 1)
		go func() {
			_, err := s.SettleTrade(context.Background(), meta, trade("CEA1", "B-1", 1))
			blocker <- err
		}()
		<-st.entered
		cmd := trade("CEA1", "X-1", 10)
		results := make(chan error, 2)
		for range 2 {
			go func() {
				out, err := s.SettleTrade(context.Background(), meta, cmd)
				if err == nil {
					err = fmt.Errorf("answered %+v", out)
				}
				results <- err
			}()
		}
		// Both submissions wait for the blocked append, so they are decided
		// in one batch, whose append fails.
		waitPending(t, s, "CEA1", 2)
		st.failNext.Store(true)
		close(st.gate)
		if err := <-blocker; err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := <-results; !errors.Is(err, errDiskOnFire) {
				t.Fatalf("got %v, want the append's failure", err)
			}
		}
		if got := len(storedOutcomes(t, st, "CEA1")); got != 1 {
			t.Fatalf("%d outcomes recorded, want the blocker's only", got)
		}
		if out := mustSettle(t, s, cmd); out.Settled == nil || out.Replay {
			t.Fatalf("outcome after the failure %+v", out)
		}
	})
}

// batchPositions settles 200 trades at once on one right of st, a quarter
// of them refused, and checks each outcome against the stored events.
func batchPositions(t *testing.T, st *appendCounter) {
	s := newService(t, st, Options{})
	setup(t, s, 2, 1000)
	const n = 200
	cmds := make([]domain.SettleTrade, n)
	for i := range cmds {
		// Every fourth trade asks for more than the seller can have.
		q := int64(1)
		if i%4 == 0 {
			q = 2000
		}
		cmds[i] = trade("CEA1", fmt.Sprintf("X-%d", i), q)
	}
	before := st.appends.Load()
	outs, errs := s.SettleTrades(context.Background(), meta, cmds)
	if appends := st.appends.Load() - before; appends >= n {
		t.Fatalf("%d trades took %d appends; the test needs batches", n, appends)
	}
	stored := storedOutcomes(t, st, "CEA1")
	if len(stored) != n {
		t.Fatalf("%d outcomes recorded, want %d", len(stored), n)
	}
	byRevision := map[uint64]eventstore.RecordedEvent{}
	for _, e := range stored {
		byRevision[e.Revision] = e
	}
	settled := 0
	for i, o := range outs {
		if errs[i] != nil {
			t.Fatalf("trade %d: %v", i, errs[i])
		}
		rec, ok := byRevision[o.Commit.Revision]
		if !ok || rec.Position != o.Commit.Position {
			t.Fatalf("trade %d: commit %+v, stored %+v", i, o.Commit, rec.Position)
		}
		if (i%4 == 0) != (o.Settled == nil) {
			t.Fatalf("trade %d: outcome %+v", i, o)
		}
		if o.Settled != nil {
			settled++
		}
	}
	if r := mustRight(t, s, "CEA1"); r.Holding("ACC1").Available != int64(settled) {
		t.Fatalf("the buyer holds %d units after %d settled trades", r.Holding("ACC1").Available, settled)
	}
}

// appendCounter counts appends, and says it has dense positions when dense
// is set and the store does.
type appendCounter struct {
	eventstore.Store
	dense   bool
	appends atomic.Int64
}

func (a *appendCounter) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	a.appends.Add(1)
	return a.Store.Append(ctx, stream, expected, events...)
}

func (a *appendCounter) DensePositions() bool {
	d, ok := a.Store.(eventstore.DensePositions)
	return a.dense && ok && d.DensePositions()
}

var errDiskOnFire = errors.New("test: the disk is on fire")

// gatedStore holds the first append after armed is set until gate closes,
// and fails the append after failNext is set.
type gatedStore struct {
	eventstore.Store
	armed, failNext atomic.Bool
	once            sync.Once
	entered         chan struct{}
	gate            chan struct{}
}

func (g *gatedStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if g.armed.Load() {
		held := false
		g.once.Do(func() { held = true })
		if held {
			g.entered <- struct{}{}
			<-g.gate
			return g.Store.Append(ctx, stream, expected, events...)
		}
	}
	if g.failNext.CompareAndSwap(true, false) {
		return eventstore.AppendResult{}, errDiskOnFire
	}
	return g.Store.Append(ctx, stream, expected, events...)
}

// waitPending waits until n commands queue for the stream's next batch.
func waitPending(t *testing.T, s *Service, right string, n int) {
	t.Helper()
	for {
		s.rights.qmu.Lock()
		q := s.rights.queues[domain.RightStream(right)]
		pending := 0
		if q != nil {
			pending = len(q.pending)
		}
		s.rights.qmu.Unlock()
		if pending >= n {
			return
		}
		runtime.Gosched()
	}
}

// BenchmarkSettleTradesHotRight has 64 goroutines settling trades of one
// right: every trade is decided in order on the right's state and the
// trades waiting meanwhile are appended together.
func BenchmarkSettleTradesHotRight(b *testing.B) {
	benchmarkSettleTrades(b, 1)
}

// BenchmarkSettleTradesManyRights spreads the trades of 64 goroutines over
// 100 rights: appends to different streams share Pebble's group commit.
func BenchmarkSettleTradesManyRights(b *testing.B) {
	benchmarkSettleTrades(b, 100)
}

func benchmarkSettleTrades(b *testing.B, rights int) {
	st := openStore(b)
	s := newService(b, st, Options{})
	setup(b, s, 2, domain.MaxQuantity)
	for i := 1; i < rights; i++ {
		registerAllowance(b, s, fmt.Sprintf("CEA%d", i+1), "ACC0", domain.MaxQuantity)
	}
	ctx := context.Background()
	var n atomic.Int64
	matched := time.Now().UTC()
	b.SetParallelism(32) // 64 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			cmd := domain.SettleTrade{ExchangeID: "HBEX", TradeID: fmt.Sprintf("X%d", i), RightID: fmt.Sprintf("CEA%d", 1+i%int64(rights)),
				Seller: "ACC0", Buyer: "ACC1", Quantity: 1, Price: &domain.Price{Amount: 5850, Currency: "CNY"}, MatchedAt: matched}
			out, err := s.SettleTrade(ctx, meta, cmd)
			if err != nil || out.Settled == nil {
				b.Errorf("%s: %+v, %v", cmd, out, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "trades/s")
}
