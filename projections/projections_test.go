package projections_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
	"github.com/ecoregistry/ecoregistry/projections/internal/projtest"
	"github.com/ecoregistry/ecoregistry/projections/market"
	"github.com/ecoregistry/ecoregistry/projections/statistics"
	"github.com/ecoregistry/ecoregistry/registry"
)

// env is a running set of the three projections over one event store.
type env struct {
	m        *projections.Manager
	holdings *holdings.Queries
	market   *market.Queries
	stats    *statistics.Queries
}

func all() []projections.Projection {
	return []projections.Projection{holdings.New(), market.New(), statistics.New()}
}

// openProjections opens and starts the projections in dir; Close is up to
// the caller (a test of restarts closes them itself) and registered as a
// cleanup too.
func openProjections(t testing.TB, dir string, store eventstore.Store, opts projections.Options) *env {
	t.Helper()
	m, err := projections.Open(dir, store, all(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	m.Start()
	e := &env{m: m}
	for _, name := range m.Names() {
		r, _ := m.Runner(name)
		e.attach(name, r)
	}
	return e
}

// attach makes the queries of the named projection.
func (e *env) attach(name string, r *projections.Runner) {
	switch name {
	case holdings.Name:
		e.holdings = holdings.NewQueries(r)
	case market.Name:
		e.market = market.NewQueries(r)
	case statistics.Name:
		e.stats = statistics.NewQueries(r)
	}
}

func openEventStore(t testing.TB, dir string) eventstore.Store {
	t.Helper()
	s, err := pebblestore.Open(dir, pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitAll waits until every projection has applied position p.
func (e *env) waitAll(t testing.TB, p eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range e.m.Names() {
		r, _ := e.m.Runner(name)
		if err := r.Wait(ctx, p); err != nil {
			t.Fatalf("%s: %v (status %+v)", name, err, r.Status())
		}
	}
}

// clock is the registry's clock in tests: every reading moves on by a
// random 1 to 40 hours, so that a few hundred commands span many days and
// months.
type clock struct {
	mu  sync.Mutex
	now time.Time
	rng *rand.Rand
}

// Advance moves the time on by d.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Peek tells the time without moving it.
func (c *clock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Hour + time.Duration(c.rng.Int64N(int64(39*time.Hour))))
	return c.now
}

// history drives the registry service with random but valid commands.
type history struct {
	svc      *registry.Service
	clock    *clock
	accounts []string
	rights   []string
	ops      atomic.Int64
	// lifecycle adds pledges, freezes, reservations, cancellations,
	// settled exchange trades and corrections to transfers and
	// retirements.
	lifecycle bool

	mu sync.Mutex
	// open lists the pledges, freezes and reservations that may be ended,
	// and the transfers that may be reversed.
	open map[string][]openOp
}

// openOp is a pledge, freeze, reservation or transfer recorded on a right.
type openOp struct{ right, id, holder string }

func (h *history) remember(kind string, op openOp) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.open[kind] = append(h.open[kind], op)
}

// takeOpen removes and returns a random open operation of the kind.
func (h *history) takeOpen(rng *rand.Rand, kind string) (openOp, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ops := h.open[kind]
	if len(ops) == 0 {
		return openOp{}, false
	}
	i := rng.IntN(len(ops))
	op := ops[i]
	h.open[kind] = append(ops[:i], ops[i+1:]...)
	return op, true
}

var meta = registry.Meta{Actor: "projections-test", CorrelationID: "test"}

func newHistory(t *testing.T, store eventstore.Store, seed uint64, accounts, rights int) *history {
	t.Helper()
	c := &clock{now: time.Date(2025, 12, 28, 0, 0, 0, 0, time.UTC), rng: rand.New(rand.NewPCG(seed, 1))}
	h := &history{svc: registry.New(store, registry.Options{Clock: c.Now}), clock: c, open: map[string][]openOp{}}
	t.Cleanup(h.svc.Close)
	ctx := context.Background()
	for i := range accounts {
		id := fmt.Sprintf("ACC-%02d", i)
		cmd := projtest.OpenAccount(id, projtest.Jurisdictions[i%len(projtest.Jurisdictions)], i)
		if _, _, err := h.svc.OpenAccount(ctx, meta, cmd); err != nil {
			t.Fatal(err)
		}
		h.accounts = append(h.accounts, id)
	}
	if _, _, err := h.svc.ChangeAccountStatus(ctx, meta, domain.ChangeAccountStatus{AccountID: h.accounts[1], To: domain.AccountStatusRestricted, Reason: "review"}); err != nil {
		t.Fatal(err)
	}
	types := []domain.RightType{domain.RightTypeCarbonAllowance, domain.RightTypeWaterUse, domain.RightTypePollutantDischarge, domain.RightTypeCarbonSink}
	for i := range rights {
		id := fmt.Sprintf("R-%02d", i)
		// Registrations decide their validity from the current year.
		cmd := projtest.Registration(id, types[i%len(types)], projtest.Jurisdictions[(i*5)%len(projtest.Jurisdictions)], h.accounts[i%len(h.accounts)], int64(1000+i*997), c.Now())
		if cmd.HolderAccountID == h.accounts[1] {
			cmd.HolderAccountID = h.accounts[0]
		}
		if _, _, err := h.svc.RegisterRight(ctx, meta, cmd); err != nil {
			t.Fatalf("register %s: %v", id, err)
		}
		h.rights = append(h.rights, id)
	}
	return h
}

// registerExpiring registers a carbon-sink right valid for the given number of
// days from now, to be expired by expire.
func (h *history) registerExpiring(t *testing.T, id string, days int) {
	t.Helper()
	now := h.clock.Peek()
	// A carbon sink, so that its buffer pool expires too.
	cmd := projtest.Registration(id, domain.RightTypeCarbonSink, "640100", h.accounts[0], 5000, now)
	cmd.ValidUntil = now.Add(time.Duration(days) * 24 * time.Hour)
	if _, _, err := h.svc.RegisterRight(context.Background(), meta, cmd); err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	h.rights = append(h.rights, id)
}

// expire records the expiry of a right whose validity has ended, and
// freezes and unfreezes an account, so that the log holds those events.
func (h *history) expire(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	if done, err := h.svc.ExpireRight(ctx, id); err != nil || !done {
		t.Fatalf("expire %s: %v, %v (clock at %s)", id, done, err, h.clock.Peek())
	}
	// A reservation that reaches its timeout.
	r, _, err := h.svc.Right(ctx, h.rights[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, hv := range r.Holdings() {
		if hv.Available == 0 || hv.AccountID == h.accounts[1] {
			continue
		}
		if _, err := h.svc.ReserveUnits(ctx, meta, domain.ReserveUnits{RightID: r.ID(), ReservationID: "TIMES-OUT", Holder: hv.AccountID,
			Exchange: "CEEX", OrderReference: "ORDER-T", Quantity: 1, Timeout: h.clock.Peek().Add(48 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(72 * time.Hour)
		if done, err := h.svc.ExpireReservation(ctx, r.ID(), "TIMES-OUT"); err != nil || !done {
			t.Fatalf("expire the reservation: %v, %v", done, err)
		}
		break
	}
	acct := h.accounts[2]
	if _, _, err := h.svc.FreezeAccount(ctx, meta, domain.FreezeAccount{AccountID: acct, OrderNumber: "ORDER-1", Authority: "Court"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.UnfreezeAccount(ctx, meta, domain.UnfreezeAccount{AccountID: acct, OrderNumber: "ORDER-1", Authority: "Court"}); err != nil {
		t.Fatal(err)
	}
}

// operate runs n commands from several goroutines.
func (h *history) operate(t *testing.T, seed uint64, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			for range n / 4 {
				if err := h.step(rng); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func (h *history) step(rng *rand.Rand) error {
	ctx := context.Background()
	id := h.rights[rng.IntN(len(h.rights))]
	r, _, err := h.svc.Right(ctx, id)
	if err != nil {
		return err
	}
	var holders []domain.HoldingView
	for _, hv := range r.Holdings() {
		if hv.Available > 0 && hv.AccountID != h.accounts[1] {
			holders = append(holders, hv)
		}
	}
	k := h.ops.Add(1)
	kind := 0
	if h.lifecycle {
		kind = rng.IntN(100)
	}
	if kind >= 50 {
		return h.lifecycleStep(ctx, rng, r, holders, k, kind)
	}
	if len(holders) == 0 {
		return nil
	}
	from := holders[rng.IntN(len(holders))]
	q := 1 + rng.Int64N(max(1, from.Available/3))
	if rng.IntN(8) == 0 {
		_, err := h.svc.RetireUnits(ctx, meta, domain.RetireUnits{RightID: id, RetirementID: fmt.Sprintf("RET-%d", k), Holder: from.AccountID,
			Quantity: q, Purpose: domain.RetirementPurposeVoluntary, Beneficiary: "Test beneficiary"})
		if err == nil {
			h.remember("retirement", openOp{id, fmt.Sprintf("RET-%d", k), from.AccountID})
		}
		return ignoreRefusal(err)
	}
	to := h.accounts[rng.IntN(len(h.accounts))]
	if to == from.AccountID {
		return nil
	}
	cmd := domain.TransferUnits{RightID: id, TransferID: fmt.Sprintf("T-%d", k), From: from.AccountID, To: to, Quantity: q}
	switch c := rng.IntN(10); {
	case c < 6:
		cur := "CNY"
		if c == 0 {
			cur = "USD"
		}
		cmd.Price = &domain.Price{Amount: 100 + rng.Int64N(9000), Currency: cur}
		if ex := projtest.Exchanges[rng.IntN(len(projtest.Exchanges))]; ex != "" {
			cmd.Reference = fmt.Sprintf("%s:%d", ex, k)
		} else {
			cmd.Reference = fmt.Sprintf("OTC-%d", k)
		}
	case c == 6:
		cmd.Price = &domain.Price{Amount: 500, Currency: "CNY"}
	case c == 7:
		cmd.Reference = fmt.Sprintf("CONTRACT-%d", k)
	}
	_, err = h.svc.TransferUnits(ctx, meta, cmd)
	if err == nil {
		h.remember("transfer", openOp{id, cmd.TransferID, to})
	}
	return ignoreRefusal(err)
}

// lifecycleStep runs one command of the lifecycle or of exchange
// settlement on right r, chosen by kind (50 to 99).
func (h *history) lifecycleStep(ctx context.Context, rng *rand.Rand, r domain.Right, holders []domain.HoldingView, k int64, kind int) error {
	id := r.ID()
	other := func(not string) string {
		for {
			if a := h.accounts[rng.IntN(len(h.accounts))]; a != not && a != h.accounts[1] {
				return a
			}
		}
	}
	opID := fmt.Sprintf("OP-%d", k)
	var holder domain.HoldingView
	if len(holders) > 0 {
		holder = holders[rng.IntN(len(holders))]
	}
	q := 1 + rng.Int64N(max(1, holder.Available/4))
	var err error
	switch {
	case kind < 60 && holder.Available > 0:
		// An exchange trade, from available units or from a reservation.
		cmd := domain.SettleTrade{ExchangeID: projtest.Exchanges[rng.IntN(3)], TradeID: opID, RightID: id, Seller: holder.AccountID,
			Buyer: other(holder.AccountID), Quantity: q, Price: &domain.Price{Amount: 100 + rng.Int64N(9000), Currency: "CNY"},
			MatchedAt: h.clock.Peek().Add(-time.Minute)}
		if rng.IntN(3) == 0 {
			if v, ok := h.takeOpen(rng, "reservation"); ok && v.right == id {
				for _, x := range r.Reservations() {
					if x.ReservationID == v.id {
						cmd.Seller, cmd.ReservationID, cmd.Quantity = v.holder, v.id, 1+rng.Int64N(x.Quantity)
						if cmd.Buyer == v.holder {
							cmd.Buyer = other(v.holder)
						}
						if cmd.Quantity < x.Quantity {
							h.remember("reservation", v)
						}
					}
				}
			}
		}
		var out registry.TradeOutcome
		out, err = h.svc.SettleTrade(ctx, meta, cmd)
		if err == nil && out.Settled != nil && cmd.ReservationID == "" {
			h.remember("settlement", openOp{id, opID, cmd.Buyer})
		}
	case kind < 66 && holder.Available > 0:
		_, err = h.svc.PledgeUnits(ctx, meta, domain.PledgeUnits{RightID: id, PledgeID: opID, Pledgor: holder.AccountID, Pledgee: other(holder.AccountID),
			LoanReference: "LOAN-" + opID, Quantity: q})
		if err == nil {
			h.remember("pledge", openOp{id, opID, holder.AccountID})
		}
	case kind < 70:
		if p, ok := h.takeOpen(rng, "pledge"); ok {
			if rng.IntN(2) == 0 {
				_, err = h.svc.ReleasePledge(ctx, meta, domain.ReleasePledge{RightID: p.right, PledgeID: p.id, ReleasedBy: domain.PledgeReleaserPledgee})
			} else {
				_, err = h.svc.EnforcePledge(ctx, meta, domain.EnforcePledge{RightID: p.right, PledgeID: p.id, To: other(p.holder), DefaultReference: "DEFAULT-" + p.id})
			}
		}
	case kind < 75 && holder.Available > 0:
		_, err = h.svc.FreezeUnits(ctx, meta, domain.FreezeUnits{RightID: id, OrderNumber: opID, Authority: "Court", Holder: holder.AccountID, Quantity: q})
		if err == nil {
			h.remember("freeze", openOp{id, opID, holder.AccountID})
		}
	case kind < 79:
		if f, ok := h.takeOpen(rng, "freeze"); ok {
			if rng.IntN(2) == 0 {
				_, err = h.svc.UnfreezeUnits(ctx, meta, domain.UnfreezeUnits{RightID: f.right, OrderNumber: f.id, Authority: "Court"})
			} else {
				fr, _, rerr := h.svc.Right(ctx, f.right)
				if rerr != nil {
					return rerr
				}
				if n := fr.Holding(f.holder).Frozen; n > 0 {
					_, err = h.svc.CancelUnits(ctx, meta, domain.CancelUnits{RightID: f.right, CancellationID: opID, Holder: f.holder, OrderNumber: f.id,
						Authority: "Court", Reason: "confiscation", Quantity: 1})
					if err == nil && n > 1 {
						h.remember("freeze", f)
					}
				}
			}
		}
	case kind < 85 && holder.Available > 0:
		_, err = h.svc.ReserveUnits(ctx, meta, domain.ReserveUnits{RightID: id, ReservationID: opID, Holder: holder.AccountID,
			Exchange: projtest.Exchanges[rng.IntN(3)], OrderReference: "ORDER-" + opID, Quantity: q, Timeout: h.clock.Peek().Add(200 * 24 * time.Hour)})
		if err == nil {
			h.remember("reservation", openOp{id, opID, holder.AccountID})
		}
	case kind < 90:
		if v, ok := h.takeOpen(rng, "reservation"); ok {
			vr, _, rerr := h.svc.Right(ctx, v.right)
			if rerr != nil {
				return rerr
			}
			for _, x := range vr.Reservations() {
				if x.ReservationID != v.id {
					continue
				}
				if rng.IntN(3) == 0 {
					_, err = h.svc.VoidReservation(ctx, meta, domain.VoidReservation{RightID: v.right, ReservationID: v.id, Reason: "order cancelled"})
					break
				}
				cmd := domain.SettleReservation{RightID: v.right, ReservationID: v.id, SettlementID: opID, Buyer: other(v.holder), Quantity: 1 + rng.Int64N(x.Quantity)}
				if rng.IntN(4) > 0 {
					cmd.Price = &domain.Price{Amount: 100 + rng.Int64N(9000), Currency: "CNY"}
				}
				_, err = h.svc.SettleReservation(ctx, meta, cmd)
				if err == nil && cmd.Quantity < x.Quantity {
					h.remember("reservation", v)
				}
			}
		}
	case kind < 93 && holder.Available > 0:
		_, err = h.svc.CancelUnits(ctx, meta, domain.CancelUnits{RightID: id, CancellationID: opID, Holder: holder.AccountID, Authority: "MEE",
			Reason: "fraud", Quantity: q})
	case kind < 95 && !r.Buffer().IsZero():
		_, err = h.svc.CancelUnits(ctx, meta, domain.CancelUnits{RightID: id, CancellationID: opID, Authority: "NFGA", Reason: "reversal", Quantity: 1})
	case kind < 100:
		kinds := []string{"transfer", "settlement", "retirement"}
		what := kinds[rng.IntN(len(kinds))]
		if t, ok := h.takeOpen(rng, what); ok {
			tk := map[string]domain.TransactionKind{"transfer": domain.TransactionKindTransfer, "settlement": domain.TransactionKindSettlement,
				"retirement": domain.TransactionKindRetirement}[what]
			_, err = h.svc.ReverseTransaction(ctx, meta, domain.ReverseTransaction{RightID: t.right, CorrectionID: opID, Kind: tk, OriginalID: t.id,
				Authority: "MEE", Reason: "correction"})
		}
	}
	return ignoreRefusal(err)
}

// ignoreRefusal accepts the registry refusing a command that raced with
// another goroutine's (units gone meanwhile): the history stays valid.
func ignoreRefusal(err error) error {
	if _, ok := domain.RejectionOf(err); ok {
		return nil
	}
	return err
}

// appendUnknown writes an event of a type no projection knows, as a newer
// registry might.
func appendUnknown(t *testing.T, store eventstore.Store, stream string) eventstore.Position {
	t.Helper()
	res, err := store.Append(context.Background(), stream, eventstore.Any(),
		eventstore.EventData{ID: uuid.New(), Type: "SomethingInvented", ContentType: "application/octet-stream", Data: []byte{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

func TestProjectionsAnswerAsTheOracleDoes(t *testing.T) {
	dir := t.TempDir()
	store := openEventStore(t, dir+"/events")
	h := newHistory(t, store, 1, 9, 12)
	h.lifecycle = true
	h.registerExpiring(t, "R-EXP", 30)
	h.operate(t, 1, 400)
	appendUnknown(t, store, "future-1")
	h.operate(t, 2, 200)
	h.expire(t, "R-EXP")

	p := openProjections(t, dir+"/projections", store, projections.Options{BatchEvents: 50})
	o := replay(t, store, eventstore.End)
	p.waitAll(t, o.position)
	t.Run("after catching up", func(t *testing.T) { compareAll(t, p, o) })

	h.operate(t, 3, 200)
	o = replay(t, store, eventstore.End)
	t.Run("while following new events", func(t *testing.T) { compareAll(t, p, o) })
	t.Run("the history holds every kind of event", func(t *testing.T) {
		counts := map[string]int{}
		evs, err := store.ReadAll(context.Background(), eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			counts[ev.Type]++
		}
		for typ := range known {
			if counts[typ] == 0 {
				t.Errorf("no %s in the history; the test does not exercise it", typ)
			}
		}
		t.Logf("events by type: %v", counts)
	})

	if err := p.m.Close(); err != nil {
		t.Fatal(err)
	}
	p = openProjections(t, dir+"/projections", store, projections.Options{})
	t.Run("after a restart, from where they stopped", func(t *testing.T) {
		for _, name := range p.m.Names() {
			r, _ := p.m.Runner(name)
			st := r.Status()
			if st.Active.Checkpoint.Position != o.position || st.Active.Checkpoint.Applied != uint64(o.events) {
				t.Errorf("%s restarted at %s after %d events, want %s after %d", name, st.Active.Checkpoint.Position, st.Active.Checkpoint.Applied, o.position, o.events)
			}
		}
		compareAll(t, p, o)
	})

	h.operate(t, 4, 80)
	o = replay(t, store, eventstore.End)
	t.Run("after a restart and new events", func(t *testing.T) { compareAll(t, p, o) })

	t.Run("after a rebuild of each", func(t *testing.T) {
		for _, name := range p.m.Names() {
			r, _ := p.m.Runner(name)
			before := r.Status().Active.Generation
			if _, err := p.m.Rebuild(name); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := r.WaitRebuilt(ctx); err != nil {
				t.Fatal(err)
			}
			cancel()
			if after := r.Status().Active.Generation; after == before {
				t.Fatalf("%s still answers from generation %d", name, after)
			}
		}
		compareAll(t, p, o)
	})
}

// comparisons lists, per projection, the comparisons of its queries with
// the oracle.
var comparisons = map[string][]struct {
	name string
	fn   func(t *testing.T, p *env, o *oracle, req func(int32) projections.PageRequest)
}{
	holdings.Name: {
		{"holdings of each account", compareAccountHoldings},
		{"holders of each right", compareRightHolders},
		{"totals per type and jurisdiction", compareTotals},
	},
	market.Name: {
		{"trades", compareTrades},
		{"market statistics and daily bars", compareMarket},
	},
	statistics.Name: {
		{"regulators' statistics", compareStatistics},
	},
}

// compareAll compares every query's answers with the oracle's.
func compareAll(t *testing.T, p *env, o *oracle) {
	t.Helper()
	for _, name := range p.m.Names() {
		compareProjection(t, p, o, name)
	}
}

// compareProjection compares the queries and the status of one projection
// with the oracle's answers.
func compareProjection(t *testing.T, p *env, o *oracle, name string) {
	t.Helper()
	min := o.position
	req := func(size int32) projections.PageRequest {
		return projections.PageRequest{MinPosition: &min, PageSize: size}
	}
	for _, c := range comparisons[name] {
		t.Run(c.name, func(t *testing.T) { c.fn(t, p, o, req) })
	}
	t.Run(name+" status counts the events applied and skipped", func(t *testing.T) {
		r, _ := p.m.Runner(name)
		ck := r.Status().Active.Checkpoint
		if ck.Position != o.position || ck.Applied != uint64(o.events) || !maps.Equal(ck.Skipped, o.skipped) {
			t.Errorf("%s: at %s after %d events, skipped %v; want %s, %d, %v", name, ck.Position, ck.Applied, ck.Skipped, o.position, o.events, o.skipped)
		}
	})
}

// pages reads every page of a query and checks that each reflects the
// oracle's position.
func pages[T any](t *testing.T, o *oracle, fetch func(token string) (projections.Page[T], error)) []T {
	t.Helper()
	var out []T
	token := ""
	for i := 0; ; i++ {
		pg, err := fetch(token)
		if err != nil {
			t.Fatal(err)
		}
		if pg.Position != o.position {
			t.Fatalf("page %d reflects position %s, want %s", i, pg.Position, o.position)
		}
		out = append(out, pg.Items...)
		if pg.NextPageToken == "" {
			return out
		}
		if len(pg.Items) == 0 {
			t.Fatal("an empty page has a next page token")
		}
		token = pg.NextPageToken
	}
}

func compareAccountHoldings(t *testing.T, p *env, o *oracle, req func(int32) projections.PageRequest) {
	want := map[string][]holdingWant{}
	for _, h := range o.holdings() {
		want[h.account] = append(want[h.account], h)
	}
	ctx := context.Background()
	for _, acct := range accountsOf(o) {
		got := pages(t, o, func(token string) (projections.Page[holdings.Holding], error) {
			r := req(3)
			r.PageToken = token
			return p.holdings.AccountHoldings(ctx, holdings.AccountHoldingsQuery{AccountID: acct, PageRequest: r})
		})
		checkHoldings(t, "account "+acct, got, want[acct], o)
		// The type filter keeps the holdings of rights of that type.
		var wantCEA []holdingWant
		for _, h := range want[acct] {
			if o.regs[h.right].Type == domain.RightTypeCarbonAllowance {
				wantCEA = append(wantCEA, h)
			}
		}
		gotCEA := pages(t, o, func(token string) (projections.Page[holdings.Holding], error) {
			r := req(2)
			r.PageToken = token
			return p.holdings.AccountHoldings(ctx, holdings.AccountHoldingsQuery{AccountID: acct, RightType: domain.RightTypeCarbonAllowance, PageRequest: r})
		})
		checkHoldings(t, "carbon allowances of "+acct, gotCEA, wantCEA, o)
	}
}

func accountsOf(o *oracle) []string {
	seen := map[string]bool{"ACC-NONE": true}
	for _, h := range o.holdings() {
		seen[h.account] = true
	}
	var out []string
	for a := range seen {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

func checkHoldings(t *testing.T, what string, got []holdings.Holding, want []holdingWant, o *oracle) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d holdings, want %d", what, len(got), len(want))
	}
	for i, g := range got {
		w := want[i]
		reg := o.regs[w.right]
		ok := g.Right.RightID == w.right && g.AccountID == w.account && g.Right.Type == reg.Type && g.Right.SerialPrefix == reg.SerialPrefix
		for s := range w.counts {
			ok = ok && g.Counts[s] == w.counts[s] && slices.Equal(g.Blocks[s], w.blocks[s])
		}
		if !ok {
			t.Fatalf("%s, holding %d:\ngot  %s/%s %v %v\nwant %s/%s %v %v", what, i, g.Right.RightID, g.AccountID, g.Counts, g.Blocks, w.right, w.account, w.counts, w.blocks)
		}
	}
}

func compareRightHolders(t *testing.T, p *env, o *oracle, req func(int32) projections.PageRequest) {
	ctx := context.Background()
	want := map[string][]holdingWant{}
	for _, h := range o.holdings() {
		want[h.right] = append(want[h.right], h)
	}
	for id, r := range o.rights {
		var info holdings.RightInfo
		got := pages(t, o, func(token string) (projections.Page[holdings.Holding], error) {
			rq := req(4)
			rq.PageToken = token
			rh, err := p.holdings.RightHolders(ctx, holdings.RightHoldersQuery{RightID: id, PageRequest: rq})
			info = rh.Right
			return rh.Page, err
		})
		checkHoldings(t, "right "+id, got, want[id], o)
		tot := r.Totals()
		if info.Issued != tot.Issued || info.Total(holdings.Available) != tot.Available || info.Total(holdings.Retired) != tot.Retired ||
			info.Total(holdings.Pledged) != tot.Pledged || info.Total(holdings.Frozen) != tot.Frozen || info.Total(holdings.Reserved) != tot.Reserved ||
			info.Cancelled != tot.Cancelled || info.Expired != tot.Expired || info.Buffer != r.Buffer() ||
			info.Buffer.Size()*btoi(!info.Buffer.IsZero()) != tot.Buffer || info.Holders != int64(len(r.Holdings())) || info.Jurisdiction != r.Jurisdiction() {
			t.Fatalf("right %s: %+v, want totals %+v and %d holders", id, info, tot, len(r.Holdings()))
		}
	}
	_, err := p.holdings.RightHolders(ctx, holdings.RightHoldersQuery{RightID: "NO-SUCH-RIGHT", PageRequest: req(0)})
	if !errors.Is(err, domain.CheckRightNotFound) {
		t.Fatalf("holders of an unknown right: %v, want %s", err, domain.CheckRightNotFound.Code)
	}
}

func btoi(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func compareTotals(t *testing.T, p *env, o *oracle, req func(int32) projections.PageRequest) {
	type key struct {
		typ domain.RightType
		j   string
	}
	want := map[key]*holdings.Totals{}
	for id, r := range o.rights {
		k := key{r.Type(), r.Jurisdiction()}
		w := want[k]
		if w == nil {
			w = &holdings.Totals{Type: k.typ, Jurisdiction: k.j}
			want[k] = w
		}
		tot := r.Totals()
		w.Rights++
		w.Issued += tot.Issued
		w.Buffer += tot.Buffer
		w.Totals[holdings.Available] += tot.Available
		w.Totals[holdings.Pledged] += tot.Pledged
		w.Totals[holdings.Frozen] += tot.Frozen
		w.Totals[holdings.Reserved] += tot.Reserved
		w.Totals[holdings.Retired] += tot.Retired
		w.Cancelled += tot.Cancelled
		w.Expired += tot.Expired
		_ = id
	}
	ctx := context.Background()
	for _, f := range []struct {
		name string
		typ  domain.RightType
		j    string
	}{{"all", 0, ""}, {"one type", domain.RightTypeWaterUse, ""}, {"one province", 0, "420000"}, {"one prefecture", 0, "330100"}, {"one county and type", domain.RightTypeCarbonSink, "420102"}} {
		got := pages(t, o, func(token string) (projections.Page[holdings.Totals], error) {
			r := req(2)
			r.PageToken = token
			return p.holdings.Totals(ctx, holdings.TotalsQuery{RightType: f.typ, Jurisdiction: f.j, PageRequest: r})
		})
		var exp []holdings.Totals
		for k, w := range want {
			if (f.typ == 0 || k.typ == f.typ) && (f.j == "" || hasPrefix(k.j, projections.DivisionPrefix(f.j))) {
				exp = append(exp, *w)
			}
		}
		slices.SortFunc(exp, func(a, b holdings.Totals) int {
			if a.Type != b.Type {
				return int(a.Type) - int(b.Type)
			}
			return cmpString(a.Jurisdiction, b.Jurisdiction)
		})
		if !reflect.DeepEqual(got, exp) && !(len(got) == 0 && len(exp) == 0) {
			t.Fatalf("totals (%s):\ngot  %+v\nwant %+v", f.name, got, exp)
		}
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareTrades(t *testing.T, p *env, o *oracle, req func(int32) projections.PageRequest) {
	ctx := context.Background()
	sorted := slices.Clone(o.trades)
	slices.SortStableFunc(sorted, func(a, b oracleTrade) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.position.Compare(b.position)
	})
	if len(sorted) < 20 {
		t.Fatalf("the history has only %d trades", len(sorted))
	}
	mid1, mid2 := sorted[len(sorted)/4].at, sorted[len(sorted)*3/4].at
	cea, hbex := "R-00", "HBEX"
	none := ""
	for _, f := range []struct {
		name     string
		q        market.TradesQuery
		matching func(oracleTrade) bool
	}{
		{"all", market.TradesQuery{}, func(oracleTrade) bool { return true }},
		{"a time range", market.TradesQuery{From: mid1, To: mid2}, func(tr oracleTrade) bool { return !tr.at.Before(mid1) && tr.at.Before(mid2) }},
		{"one right", market.TradesQuery{RightID: cea}, func(tr oracleTrade) bool { return tr.rightID == cea }},
		{"one right in a time range", market.TradesQuery{RightID: cea, From: mid1}, func(tr oracleTrade) bool { return tr.rightID == cea && !tr.at.Before(mid1) }},
		{"one exchange", market.TradesQuery{Exchange: &hbex}, func(tr oracleTrade) bool { return tr.exchange == hbex }},
		{"no named exchange", market.TradesQuery{Exchange: &none, To: mid2}, func(tr oracleTrade) bool { return tr.exchange == "" && tr.at.Before(mid2) }},
		{"one type", market.TradesQuery{RightType: domain.RightTypeWaterUse}, func(tr oracleTrade) bool { return tr.rightType == domain.RightTypeWaterUse }},
	} {
		got := pages(t, o, func(token string) (projections.Page[market.Trade], error) {
			q := f.q
			q.PageRequest = req(9)
			q.PageToken = token
			return p.market.Trades(ctx, q)
		})
		var want []oracleTrade
		for _, tr := range sorted {
			if f.matching(tr) {
				want = append(want, tr)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("trades (%s): %d, want %d", f.name, len(got), len(want))
		}
		for i, g := range got {
			w := want[i]
			if g.Exchange != w.exchange || g.TradeID != w.tradeID || g.Reference != w.reference || g.RightID != w.rightID || g.RightType != w.rightType ||
				g.TransferID != w.transferID || g.Buyer != w.buyer || g.Seller != w.seller || g.Quantity != w.quantity || g.Price != w.price ||
				g.Currency != w.currency || !g.Time.Equal(w.at) || !g.MatchedAt.Equal(w.matchedAt) || g.Position != w.position {
				t.Fatalf("trades (%s), %d:\ngot  %+v\nwant %+v", f.name, i, g, w)
			}
		}
	}
}

func compareMarket(t *testing.T, p *env, o *oracle, req func(int32) projections.PageRequest) {
	ctx := context.Background()
	aggs, bars := o.market()
	for _, dim := range []market.Dimension{market.ByRight, market.ByRightType, market.ByExchange} {
		got := pages(t, o, func(token string) (projections.Page[market.Stats], error) {
			r := req(5)
			r.PageToken = token
			return p.market.Stats(ctx, market.StatsQuery{Dimension: dim, PageRequest: r})
		})
		n := 0
		for k := range aggs {
			if k.dim == int(dim) {
				n++
			}
		}
		if len(got) != n {
			t.Fatalf("%s statistics: %d rows, want %d", dim, len(got), n)
		}
		for i := range got {
			g := &got[i]
			if i > 0 && (got[i-1].Key > g.Key || (got[i-1].Key == g.Key && got[i-1].Currency >= g.Currency)) {
				t.Fatalf("%s statistics out of order at %d", dim, i)
			}
			w := aggs[marketKey{int(dim), g.Key, g.Currency}]
			if w == nil || g.Trades != w.trades || g.Volume != w.volume || g.Turnover.Cmp(&w.turnover) != 0 || g.LastPrice != w.last ||
				g.LastPosition != w.lastPos || g.VWAP() != roundedVWAP(&w.turnover, w.volume) {
				t.Fatalf("%s statistics of %q in %s: %+v (vwap %d), want %+v", dim, g.Key, g.Currency, g, g.VWAP(), w)
			}
			// Every day of the key, then a range of days.
			wantBars := bars[marketKey{int(dim), g.Key, g.Currency}]
			days := slices.Sorted(mapsKeys(wantBars))
			for _, rng := range [][2]string{{"", ""}, {days[len(days)/3], days[len(days)*2/3]}} {
				gotBars := pages(t, o, func(token string) (projections.Page[market.Bar], error) {
					r := req(4)
					r.PageToken = token
					return p.market.Bars(ctx, market.BarsQuery{Dimension: dim, Key: g.Key, Currency: g.Currency, FromDay: rng[0], ToDay: rng[1], PageRequest: r})
				})
				var wantDays []string
				for _, d := range days {
					if (rng[0] == "" || d >= rng[0]) && (rng[1] == "" || d <= rng[1]) {
						wantDays = append(wantDays, d)
					}
				}
				if len(gotBars) != len(wantDays) {
					t.Fatalf("%s bars of %q in %s from %q to %q: %d, want %d", dim, g.Key, g.Currency, rng[0], rng[1], len(gotBars), len(wantDays))
				}
				for j, b := range gotBars {
					wb := wantBars[wantDays[j]]
					if b.Day != wantDays[j] || b.Open != wb.open || b.High != wb.high || b.Low != wb.low || b.Close != wb.close ||
						b.Trades != wb.trades || b.Volume != wb.volume || b.Turnover.Cmp(&wb.turnover) != 0 || b.VWAP() != roundedVWAP(&wb.turnover, wb.volume) {
						t.Fatalf("%s bar of %q in %s: %+v, want %s %+v", dim, g.Key, g.Currency, b, wantDays[j], wb)
					}
				}
			}
		}
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func compareStatistics(t *testing.T, p *env, o *oracle, req func(int32) projections.PageRequest) {
	ctx := context.Background()
	// Filters that select part of what the history holds, whatever its size.
	var months, years []string
	for k := range o.stats {
		if len(k.period) == 7 {
			months = append(months, k.period)
		} else {
			years = append(years, k.period)
		}
	}
	slices.Sort(months)
	slices.Sort(years)
	months, years = slices.Compact(months), slices.Compact(years)
	if len(months) == 0 {
		t.Fatal("the oracle has no statistics; the test history is too small")
	}
	var someRight domain.RightRegistered
	for _, r := range o.regs {
		if someRight.RightID == "" || r.RightID < someRight.RightID {
			someRight = r
		}
	}
	for _, f := range []struct {
		name string
		q    statistics.Query
	}{
		{"national, by month", statistics.Query{Level: statistics.National, Granularity: statistics.Monthly}},
		{"provinces, by year", statistics.Query{Level: statistics.Province, Granularity: statistics.Yearly}},
		{"prefectures, by month, from a month", statistics.Query{Level: statistics.Prefecture, Granularity: statistics.Monthly, From: months[len(months)/2]}},
		{"divisions, by year", statistics.Query{Level: statistics.Division, Granularity: statistics.Yearly}},
		{"one province's rights of one type, by month, in a range", statistics.Query{Level: statistics.Province, Jurisdiction: someRight.Jurisdiction,
			RightType: someRight.Type, Granularity: statistics.Monthly, From: months[len(months)/3], To: months[len(months)*2/3]}},
		{"one division, by year, up to a year", statistics.Query{Level: statistics.Division, Jurisdiction: someRight.Jurisdiction, Granularity: statistics.Yearly, To: years[0]}},
	} {
		got := pages(t, o, func(token string) (projections.Page[statistics.Row], error) {
			q := f.q
			q.PageRequest = req(6)
			q.PageToken = token
			return p.stats.Rows(ctx, q)
		})
		var want []statistics.Row
		for k, v := range o.stats {
			yearly := len(k.period) == 4
			if k.level != int(f.q.Level) || yearly != (f.q.Granularity == statistics.Yearly) ||
				(f.q.Jurisdiction != "" && k.code != statistics.CodeAt(f.q.Level, f.q.Jurisdiction)) ||
				(f.q.RightType != 0 && k.typ != f.q.RightType) || (f.q.From != "" && k.period < f.q.From) || (f.q.To != "" && k.period > f.q.To) {
				continue
			}
			per, err := domain.ParsePeriod("period", k.period)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, statistics.Row{Level: f.q.Level, Jurisdiction: k.code, RightType: k.typ, Period: per, Values: *v})
		}
		slices.SortFunc(want, func(a, b statistics.Row) int {
			if c := cmpString(a.Jurisdiction, b.Jurisdiction); c != 0 {
				return c
			}
			if a.RightType != b.RightType {
				return int(a.RightType) - int(b.RightType)
			}
			return a.Period.Compare(b.Period)
		})
		if len(want) == 0 {
			t.Fatalf("statistics (%s): the oracle has no rows; the test history is too small", f.name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("statistics (%s):\ngot  %+v\nwant %+v", f.name, got, want)
		}
	}
}
