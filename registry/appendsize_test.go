package registry

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
)

var largeSettlements = flag.Bool("large-settlements", false,
	"settle 22 trades of 5,000 serial blocks each through the EventStoreDB adapter against the fake server's 1 MiB append limit (the setup fragments a holding with 110,000 trades)")

// limitedStore has an append limit: its own, counted as EventStoreDB counts
// (it then refuses an append above it, as EventStoreDB does), or the one of
// the store it wraps, which refuses by itself. It records the size of every
// append it writes. An own limit of 0 lets everything through.
type limitedStore struct {
	eventstore.Store
	limit atomic.Int64

	mu      sync.Mutex
	written []int
}

func (l *limitedStore) MaxAppendSize() int {
	if inner, ok := l.innerLimit(); ok {
		return inner.MaxAppendSize()
	}
	return int(l.limit.Load())
}

func (l *limitedStore) AppendSize(events ...eventstore.EventData) int {
	if inner, ok := l.innerLimit(); ok {
		return inner.AppendSize(events...)
	}
	n := 0
	for _, e := range events {
		n += len(e.Data) + len(e.Metadata) + 2*len(e.Type)
	}
	return n
}

// innerLimit is the wrapped store's limit, under the test's gate.
func (l *limitedStore) innerLimit() (eventstore.AppendLimit, bool) {
	inner, ok := l.Store.(*gatedStore).Store.(eventstore.AppendLimit)
	return inner, ok
}

func (l *limitedStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	size, limit := l.AppendSize(events...), int(l.limit.Load())
	if _, inner := l.innerLimit(); !inner && limit > 0 && size > limit {
		return eventstore.AppendResult{}, fmt.Errorf("test: Maximum Append Size of %d Exceeded (%d bytes)", limit, size)
	}
	res, err := l.Store.Append(ctx, stream, expected, events...)
	if err == nil {
		l.mu.Lock()
		l.written = append(l.written, size)
		l.mu.Unlock()
	}
	return res, err
}

// TestBatchesStayWithinTheAppendLimit settles trades that each move
// hundreds of serial blocks, queued together behind a held append, on a
// store whose append limit their events pass together: the batch must be
// split before it is sent, and every trade settle. The default run scales
// EventStoreDB's case down to 19 trades of 300 blocks against 32 KiB on the
// embedded store; -large-settlements runs 22 trades of 5,000 blocks (19
// come to about 0.94 MB here, under the limit) through the EventStoreDB
// adapter, against the fake server's 1 MiB.
func TestBatchesStayWithinTheAppendLimit(t *testing.T) {
	trades, blocks, limit := 19, 300, 32<<10
	base := openStore(t)
	if *largeSettlements {
		trades, blocks, limit = 22, 5000, esdbstore.DefaultMaxAppendSize
		var err error
		if base, err = esdbstore.Open(t.Context(), esdbfake.Start(t).URL(), esdbstore.Options{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { base.Close() })
	}
	st := &limitedStore{Store: &gatedStore{Store: base, entered: make(chan struct{}), gate: make(chan struct{})}}
	s := newService(t, st, Options{})
	fragment(t, s, trades*blocks)

	gate := st.Store.(*gatedStore)
	gate.armed.Store(true)
	blocker := make(chan error, 1)
	go func() {
		_, err := s.SettleTrade(context.Background(), meta, buy("B-1", 1))
		blocker <- err
	}()
	<-gate.entered
	cmds := make([]domain.SettleTrade, trades)
	for i := range cmds {
		cmds[i] = buy(fmt.Sprintf("L-%d", i), int64(blocks))
	}
	type result struct {
		outs []TradeOutcome
		errs []error
	}
	done := make(chan result, 1)
	go func() {
		outs, errs := s.SettleTrades(context.Background(), meta, cmds)
		done <- result{outs, errs}
	}()
	waitPending(t, s, "CEA1", trades)
	st.limit.Store(int64(limit))
	before := len(st.written)
	close(gate.gate)
	if err := <-blocker; err != nil {
		t.Fatal(err)
	}
	r := <-done
	for i := range cmds {
		if r.errs[i] != nil || r.outs[i].Settled == nil || len(r.outs[i].Settled.Blocks) < blocks-1 {
			t.Fatalf("trade %d: %+v, %v", i, r.outs[i], r.errs[i])
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	after := st.written[before:]
	total := 0
	for _, size := range after {
		if size > limit {
			t.Fatalf("an append of %d bytes passed the limit of %d", size, limit)
		}
		total += size
	}
	if total <= limit || len(after) < 3 {
		t.Fatalf("the trades took %d appends of %d bytes in all; the test needs more than the limit of %d in one batch", len(after), total, limit)
	}
	t.Logf("%d trades of %d blocks: %d bytes in %d appends (the blocker's first), limit %d", trades, blocks, total, len(after), limit)
}

// buy is a trade of quantity units of CEA1 from ACC0 to ACC2.
func buy(id string, quantity int64) domain.SettleTrade {
	cmd := trade("CEA1", id, quantity)
	cmd.Buyer = "ACC2"
	return cmd
}

// fragment registers CEA1 to ACC0 and leaves ACC0 holding n single-unit
// blocks (1, 3, 5, ...) and 100 units after them, by trading every even
// serial to ACC1, so that a trade of k units from ACC0 moves k blocks.
func fragment(t *testing.T, s *Service, n int) {
	t.Helper()
	setup(t, s, 3, int64(2*n+100))
	const page = 5000
	for from := 0; from < n; from += page {
		cmds := make([]domain.SettleTrade, 0, page)
		for k := from + 1; k <= min(from+page, n); k++ {
			cmd := trade("CEA1", fmt.Sprintf("F-%d", k), 0)
			cmd.Range = &domain.Block{Start: int64(2 * k), End: int64(2 * k)}
			cmds = append(cmds, cmd)
		}
		_, errs := s.SettleTrades(context.Background(), meta, cmds)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("fragmenting trade %d: %v", from+i, err)
			}
		}
	}
}
