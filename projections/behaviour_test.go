package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
	"github.com/ecoregistry/ecoregistry/projections/market"
	"github.com/ecoregistry/ecoregistry/projections/statistics"
)

func TestRebuildKeepsAnsweringFromTheOldState(t *testing.T) {
	dir := t.TempDir()
	store := openEventStore(t, dir+"/events")
	h := newHistory(t, store, 11, 6, 6)
	h.operate(t, 11, 120)
	o := replay(t, store, eventstore.End)

	// The hook holds the rebuilt generation after its first commit, so that
	// the test can look at the projection in the middle of the rebuild.
	var oldGen uint64
	blocked, release := make(chan struct{}), make(chan struct{})
	held := false
	p := openProjections(t, dir+"/projections", store, projections.Options{BatchEvents: 20,
		Committed: func(name string, gen uint64, c *projections.Checkpoint) {
			if name == holdings.Name && oldGen != 0 && gen != oldGen && !held {
				held = true
				close(blocked)
				<-release
			}
		}})
	p.waitAll(t, o.position)
	r, _ := p.m.Runner(holdings.Name)
	oldGen = r.Status().Active.Generation
	if _, err := p.m.Rebuild(holdings.Name); err != nil {
		t.Fatal(err)
	}
	<-blocked
	// The old generation follows new events while the new one is held.
	h.operate(t, 12, 40)
	o = replay(t, store, eventstore.End)
	p.waitAll(t, o.position)

	t.Run("queries answer from the old generation while the new one builds", func(t *testing.T) {
		st := r.Status()
		if st.Active.Generation != oldGen || st.Rebuild == nil || !st.Rebuild.Checkpoint.Position.Before(o.position) {
			t.Fatalf("status %+v, want generation %d active and a rebuild behind %s", st, oldGen, o.position)
		}
		compareProjection(t, p, o, holdings.Name)
	})
	t.Run("asking for a rebuild again leaves the one under way", func(t *testing.T) {
		st, err := p.m.Rebuild(holdings.Name)
		if err != nil || st.Rebuild == nil || st.Rebuild.Generation != r.Status().Rebuild.Generation {
			t.Fatalf("second rebuild: %+v, %v", st, err)
		}
	})
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.WaitRebuilt(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("the rebuilt generation answers once it has caught up", func(t *testing.T) {
		if st := r.Status(); st.Active.Generation == oldGen || st.Rebuild != nil {
			t.Fatalf("status %+v after the rebuild", st)
		}
		compareProjection(t, p, o, holdings.Name)
	})
	t.Run("an unknown projection cannot be rebuilt", func(t *testing.T) {
		if _, err := p.m.Rebuild("nonsense"); !errors.Is(err, projections.ErrUnknownProjection) {
			t.Fatalf("got %v", err)
		}
	})
}

// openUnstarted opens the projections in dir over store without starting
// them, and an env over them; Close is the caller's.
func openUnstarted(t *testing.T, dir string, store eventstore.Store, projs ...projections.Projection) *env {
	t.Helper()
	m, err := projections.Open(dir, store, projs, projections.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{m: m}
	for _, name := range m.Names() {
		r, _ := m.Runner(name)
		e.attach(name, r)
	}
	return e
}

// builtThenClosed writes a history (of the seed), lets the three
// projections catch up with it in dir/projections and closes them, as
// before an upgrade; it returns the statistics projection's generation.
func builtThenClosed(t *testing.T, seed uint64) (string, eventstore.Store, *history, *oracle, uint64) {
	t.Helper()
	dir := t.TempDir()
	store := openEventStore(t, dir+"/events")
	h := newHistory(t, store, seed, 5, 5)
	h.operate(t, seed, 60)
	o := replay(t, store, eventstore.End)
	p := openProjections(t, dir+"/projections", store, projections.Options{})
	p.waitAll(t, o.position)
	r, _ := p.m.Runner(statistics.Name)
	gen := r.Status().Active.Generation
	p.m.Close()
	return dir, store, h, o, gen
}

// bumped is a projection whose schema version is one more than the
// wrapped one's, as after an upgrade that changes its layout.
type bumped struct{ projections.Projection }

func (b bumped) SchemaVersion() uint32 { return b.Projection.SchemaVersion() + 1 }

func TestANewSchemaVersionRebuildsFromTheLog(t *testing.T) {
	dir, store, _, o, oldGen := builtThenClosed(t, 12)
	p2 := openUnstarted(t, dir+"/projections", store, holdings.New(), market.New(), bumped{statistics.New()})
	m := p2.m
	defer m.Close()
	r, _ := m.Runner(statistics.Name)
	st := r.Status()
	if st.Active.Generation == oldGen || st.Active.Checkpoint.Position != eventstore.Start || st.SchemaVersion != statistics.SchemaVersion+1 {
		t.Fatalf("after the version change: %+v; want a new generation at the start of the log", st)
	}
	kept, _ := m.Runner(holdings.Name)
	if kept.Status().Active.Checkpoint.Position != o.position {
		t.Fatal("a projection whose version did not change was rebuilt")
	}
	m.Start()
	p2.waitAll(t, o.position)
	compareProjection(t, p2, o, statistics.Name)
}

func TestQueriesWaitForTheirMinimumPosition(t *testing.T) {
	dir := t.TempDir()
	store := openEventStore(t, dir+"/events")
	h := newHistory(t, store, 13, 4, 4)
	p := openProjections(t, dir+"/projections", store, projections.Options{})
	ctx := context.Background()

	t.Run("a query after a command sees the command", func(t *testing.T) {
		tr, err := h.svc.TransferUnits(ctx, meta, domain.TransferUnits{RightID: h.rights[0], TransferID: "RYW-1", From: "ACC-00", To: "ACC-02", Quantity: 7})
		if err != nil {
			t.Fatal(err)
		}
		at := tr.Commit.Position
		pg, err := p.holdings.AccountHoldings(ctx, holdings.AccountHoldingsQuery{AccountID: "ACC-02", PageRequest: projections.PageRequest{MinPosition: &at}})
		if err != nil {
			t.Fatal(err)
		}
		if pg.Position.Before(at) || len(pg.Items) == 0 || pg.Items[0].Count(holdings.Available) < 7 {
			t.Fatalf("at %s after a transfer committed at %s: %+v", pg.Position, at, pg.Items)
		}
	})
	t.Run("a position not reached before the deadline is an error that says so", func(t *testing.T) {
		head, err := projections.Head(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		future := eventstore.Position{Commit: head.Commit + 1000, Prepare: head.Commit + 1000}
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err = p.stats.Rows(short, statistics.Query{Level: statistics.National, Granularity: statistics.Yearly, PageRequest: projections.PageRequest{MinPosition: &future}})
		var nr *projections.PositionNotReachedError
		if !errors.As(err, &nr) || !errors.Is(err, context.DeadlineExceeded) || nr.Wanted != future || nr.Reached.Before(head) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a page token of another query is refused", func(t *testing.T) {
		pg, err := p.holdings.AccountHoldings(ctx, holdings.AccountHoldingsQuery{AccountID: "ACC-00", PageRequest: projections.PageRequest{PageSize: 1}})
		if err != nil || pg.NextPageToken == "" {
			t.Fatalf("first page: %+v, %v", pg, err)
		}
		_, err = p.holdings.AccountHoldings(ctx, holdings.AccountHoldingsQuery{AccountID: "ACC-01", PageRequest: projections.PageRequest{PageToken: pg.NextPageToken}})
		if !errors.Is(err, domain.CheckInvalidPageToken) {
			t.Fatalf("got %v, want %s", err, domain.CheckInvalidPageToken.Code)
		}
	})
	t.Run("malformed filters are refused with the registry's checks", func(t *testing.T) {
		for _, c := range []struct {
			name string
			err  error
			want domain.Check
		}{
			{"a malformed account id", func() error {
				_, err := p.holdings.AccountHoldings(ctx, holdings.AccountHoldingsQuery{AccountID: "no spaces"})
				return err
			}(), domain.CheckInvalidAccountID},
			{"a negative page size", func() error {
				_, err := p.holdings.Totals(ctx, holdings.TotalsQuery{PageRequest: projections.PageRequest{PageSize: -1}})
				return err
			}(), domain.CheckInvalidPageSize},
			{"a jurisdiction that is no division code", func() error {
				_, err := p.holdings.Totals(ctx, holdings.TotalsQuery{Jurisdiction: "99"})
				return err
			}(), domain.CheckInvalidDivisionCode},
			{"a time range that ends before it starts", func() error {
				_, err := p.market.Trades(ctx, market.TradesQuery{From: time.Unix(2000, 0), To: time.Unix(1000, 0)})
				return err
			}(), domain.CheckInvalidQueryRange},
			{"an unknown right type name", func() error {
				k := "GOLD"
				_, err := p.market.Stats(ctx, market.StatsQuery{Dimension: market.ByRightType, Key: &k})
				return err
			}(), domain.CheckInvalidEnumValue},
			{"a period that does not match the granularity", func() error {
				_, err := p.stats.Rows(ctx, statistics.Query{Level: statistics.Province, Granularity: statistics.Yearly, From: "2026-01"})
				return err
			}(), domain.CheckInvalidQueryRange},
			{"days in the wrong order", func() error {
				_, err := p.market.Bars(ctx, market.BarsQuery{Dimension: market.ByExchange, FromDay: "2026-02-01", ToDay: "2026-01-01"})
				return err
			}(), domain.CheckInvalidQueryRange},
		} {
			t.Run(c.name, func(t *testing.T) {
				if !errors.Is(c.err, c.want) {
					t.Fatalf("got %v, want %s", c.err, c.want.Code)
				}
			})
		}
	})
}

// readableBump is a new schema version whose queries still read the state
// of the version before it.
type readableBump struct{ bumped }

func (b readableBump) ReadsSchemaVersion(v uint32) bool { return v == b.Projection.SchemaVersion() }

func TestAReadableOlderSchemaVersionAnswersWhileTheNewOneBuilds(t *testing.T) {
	dir, store, h, o, oldGen := builtThenClosed(t, 13)
	var r *projections.Runner

	upgraded := func() *env {
		return openUnstarted(t, dir+"/projections", store, holdings.New(), market.New(), readableBump{bumped{statistics.New()}})
	}
	p2 := upgraded()
	m := p2.m
	defer func() { m.Close() }()
	r, _ = m.Runner(statistics.Name)
	t.Run("before the new version has caught up, the old state answers at its position", func(t *testing.T) {
		st := r.Status()
		if st.Active.Generation != oldGen || st.Active.Checkpoint.Position != o.position || st.Rebuild == nil || st.Rebuild.Checkpoint.Position != eventstore.Start {
			t.Fatalf("after the upgrade: %+v; want generation %d at %s answering and a new generation at the start", st, oldGen, o.position)
		}
		compareProjection(t, p2, o, statistics.Name)
	})
	t.Run("a restart during the upgrade keeps the old state answering and the new generation", func(t *testing.T) {
		building := r.Status().Rebuild.Generation
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		p2 = upgraded()
		m = p2.m
		r, _ = m.Runner(statistics.Name)
		if st := r.Status(); st.Active.Generation != oldGen || st.Rebuild == nil || st.Rebuild.Generation != building {
			t.Fatalf("after a restart: %+v; want generation %d answering and %d building", st, oldGen, building)
		}
	})
	m.Start()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.WaitRebuilt(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("the new version takes over once it has caught up, and follows the log", func(t *testing.T) {
		st := r.Status()
		if st.Active.Generation == oldGen || st.Rebuild != nil || st.Active.Checkpoint.SchemaVersion != statistics.SchemaVersion+1 {
			t.Fatalf("status after the switch: %+v", st)
		}
		h.operate(t, 14, 20)
		o := replay(t, store, eventstore.End)
		p2.waitAll(t, o.position)
		compareProjection(t, p2, o, statistics.Name)
	})
}
