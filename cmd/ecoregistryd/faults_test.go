package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// The disk-fault tests run ecoregistryd over Pebble's fault-injecting file
// system (errorfs), settle trades, break the disk in one way, check what
// clients see, then restart the server on a healthy disk and check that no
// acknowledged trade is lost and nothing is corrupt.

// diskFault injects err into the operations on the event store's files
// that match, once switched on, and counts the operations it saw.
type diskFault struct {
	mu      sync.Mutex
	on      bool
	matches func(op errorfs.Op) bool
	err     func(op errorfs.Op) error
	// injected counts the operations it failed; attemptsAfter counts the
	// matching operations tried after the first failure.
	injected, attemptsAfter int
}

func (f *diskFault) set(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.on = on
}

func (f *diskFault) counts() (injected, attemptsAfter int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected, f.attemptsAfter
}

// MaybeError implements errorfs.Injector.
func (f *diskFault) MaybeError(op errorfs.Op) error {
	if !f.matches(op) {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.injected > 0 {
		f.attemptsAfter++
	}
	if !f.on {
		return nil
	}
	f.injected++
	return f.err(op)
}

func (f *diskFault) String() string { return "diskFault" }

// isWAL reports whether op is on a write-ahead log file of the event store.
func isWAL(op errorfs.Op) bool { return strings.HasSuffix(op.Path, ".log") }

// faultServer runs ecoregistryd over dir with the fault f on its event store.
func faultServer(t *testing.T, dir string, f *diskFault, cacheSize int64) (*Main, *settlementClient) {
	t.Helper()
	m, c := startServerOn(t, Config{Store: StorePebble, Data: dir}, pebblestore.Options{FS: errorfs.Wrap(vfs.Default, f), CacheSize: cacheSize})
	return m, &settlementClient{lifecycleClient: withLifecycle(c), settlement: pb.NewSettlementServiceClient(c.conn)}
}

// ledger is what clients were told: the trades acknowledged as settled.
type ledger struct {
	acked []*pb.MatchedTrade
}

// settleSome submits n trades of 10 units of CEA-HB-1 and records those
// acknowledged; every one must be.
func (l *ledger) settleSome(t *testing.T, ctx context.Context, c *settlementClient, prefix string, n int) {
	t.Helper()
	for i := range n {
		tr := matched("CEA-HB-1", fmt.Sprintf("%s-%d", prefix, i), 10)
		if o := submit(t, ctx, c, tr); o.GetSettled() == nil {
			t.Fatalf("trade %s: %v", tr.GetTradeId(), o)
		}
		l.acked = append(l.acked, tr)
	}
}

func health(t *testing.T, c *settlementClient) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := healthpb.NewHealthClient(c.conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetStatus()
}

// checkIntact restarts ecoregistryd over dir on a healthy disk and checks
// that every acknowledged trade is recorded exactly once, that the trade
// that failed is there at most once, that every stream's chain verifies, and
// that the holdings read model equals a replay of the streams.
func checkIntact(t *testing.T, dir string, l *ledger, failed *pb.MatchedTrade) {
	t.Helper()
	m, c := startExchangeServer(t, dir, false)
	ctx := as(t, "exchange")
	for _, tr := range l.acked {
		if o := submit(t, ctx, c, tr); !o.GetReplay() || o.GetSettled() == nil {
			t.Fatalf("acknowledged trade %s is not recorded: %v", tr.GetTradeId(), o)
		}
	}
	// The failed trade may or may not have been recorded; submitting it
	// again settles it once either way.
	if o := submit(t, ctx, c, failed); o.GetSettled() == nil {
		t.Fatalf("the failed trade %s: %v", failed.GetTradeId(), o)
	}
	want := int64(10 * (len(l.acked) + 1))
	if got := available(t, ctx, c, "CEA-HB-1", "BUYER"); got != want {
		t.Fatalf("BUYER holds %d units, want %d: a trade was lost or settled twice", got, want)
	}
	compareHoldingsWithReplay(t, ctx, c)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := pebblestore.Open(dir, pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	verifyEveryChain(t, st)
}

// compareHoldingsWithReplay checks that the holdings read model, caught up
// with the log, holds what a replay of each right's stream holds.
func compareHoldingsWithReplay(t *testing.T, ctx context.Context, c *settlementClient) {
	t.Helper()
	q := queriesOf(c.client)
	for _, right := range []string{"CEA-HB-1", "WUR-NX-1", "PDR-ZJ-1", "CSR-YN-1"} {
		r, err := c.rights.GetRight(ctx, &pb.GetRightRequest{RightId: right})
		if err != nil {
			t.Fatal(err)
		}
		status, err := q.admin.GetProjectionStatus(ctx, &pb.GetProjectionStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		rh, err := q.holdings.ListRightHolders(ctx, &pb.ListRightHoldersRequest{RightId: right, MinPosition: status.GetHead(), PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		projected := map[string][5]int64{}
		for _, h := range rh.GetHolders() {
			projected[h.GetAccountId()] = [5]int64{h.GetAvailable(), h.GetPledged(), h.GetFrozen(), h.GetReserved(), h.GetRetired()}
		}
		replayed := map[string][5]int64{}
		for _, h := range r.GetRight().GetHoldings() {
			replayed[h.GetAccountId()] = [5]int64{h.GetAvailable(), h.GetPledged(), h.GetFrozen(), h.GetReserved(), h.GetRetired()}
		}
		if fmt.Sprint(projected) != fmt.Sprint(replayed) {
			t.Fatalf("right %s: the read model holds %v, a replay %v", right, projected, replayed)
		}
	}
}

// verifyEveryChain checks the hash chain of every stream of st.
func verifyEveryChain(t *testing.T, st eventstore.Store) {
	t.Helper()
	all, err := st.ReadAll(context.Background(), eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	byStream := map[string][]eventcodec.StoredEvent{}
	for _, e := range all {
		byStream[e.Stream] = append(byStream[e.Stream], eventcodec.StoredEvent{Type: e.Type, Data: e.Data, Metadata: e.Metadata})
	}
	for s, evs := range byStream {
		if _, err := eventcodec.VerifyChain(evs); err != nil {
			t.Errorf("stream %s: %v", s, err)
		}
	}
}

// A failed fsync of the log stops the store's writes for good: the command
// gets Unavailable, health turns NOT_SERVING, later commands are refused
// without the sync being tried again, reads go on; after a restart no
// acknowledged trade is lost and nothing is corrupt.
func TestAFailedFsyncStopsWritesUntilARestart(t *testing.T) {
	dir := t.TempDir()
	fault := &diskFault{
		matches: func(op errorfs.Op) bool {
			return isWAL(op) && (op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo)
		},
		err: func(errorfs.Op) error { return errorfs.ErrInjected },
	}
	m, c := faultServer(t, dir, fault, 0)
	ctx := as(t, "office-hubei")
	openAccounts(t, ctx, c.lifecycleClient, "SELLER", "BUYER", "OTHER")
	for _, req := range registrations("SELLER") {
		if _, err := c.rights.RegisterRight(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	var l ledger
	l.settleSome(t, ctx, c, "F", 20)

	fault.set(true)
	failed := matched("CEA-HB-1", "F-FAILED", 10)
	_, err := c.settlement.SubmitTrade(ctx, &pb.SubmitTradeRequest{Trade: failed})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("a trade whose sync failed: %v, want Unavailable", err)
	}
	if got := health(t, c); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health %v after a failed sync", got)
	}
	// The disk works again, but the store does not trust it before a restart.
	fault.set(false)
	for i := range 3 {
		_, err := c.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: "CEA-HB-1", TransferId: fmt.Sprintf("T-%d", i),
			FromAccountId: "SELLER", ToAccountId: "OTHER", Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 1}})
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("a command after the failed sync: %v, want Unavailable", err)
		}
	}
	if _, after := fault.counts(); after != 0 {
		t.Fatalf("the log was synced %d more times after its sync failed", after)
	}
	if got := available(t, ctx, c, "CEA-HB-1", "BUYER"); got != int64(10*len(l.acked)) {
		t.Fatalf("a read after the failure: BUYER holds %d", got)
	}
	_ = m.Close() // the store's close may report the failed log; it must not crash
	checkIntact(t, dir, &l, failed)
}

// ticker is a scheduler ticker the test drives: a send is a round.
type ticker chan time.Time

func (t ticker) C() <-chan time.Time { return t }
func (ticker) Stop()                 {}

// When the expiry scheduler is the first writer to meet a failed fsync,
// health turns NOT_SERVING at once, without waiting for a call to meet the
// failure too.
func TestHealthTurnsNotServingWhenTheSchedulerMeetsTheFailure(t *testing.T) {
	fault := &diskFault{
		matches: func(op errorfs.Op) bool {
			return isWAL(op) && (op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo)
		},
		err: func(errorfs.Op) error { return errorfs.ErrInjected },
	}
	clock, rounds := &testClock{now: time.Now().UTC()}, make(ticker)
	m := NewMain(Config{Store: StorePebble, Data: t.TempDir(), Listen: "127.0.0.1:0", LogLevel: "info", ShutdownTimeout: 5 * time.Second})
	m.Logger, m.Clock, m.Ticker = zap.NewNop(), clock.Now, rounds
	m.StoreOptions = pebblestore.Options{FS: errorfs.Wrap(vfs.Default, fault)}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	conn, err := grpc.NewClient(m.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := withLifecycle(&client{conn: conn, accounts: pb.NewAccountServiceClient(conn), rights: pb.NewRightServiceClient(conn)})
	ctx := as(t, "office-hubei")
	openAccounts(t, ctx, c, "SELLER")
	for _, req := range registrations("SELLER") {
		if _, err := c.rights.RegisterRight(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	watchCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	watch, err := healthpb.NewHealthClient(conn).Watch(watchCtx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := watch.Recv(); err != nil || st.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health before the fault: %v %v", st, err)
	}

	// The water right's validity ends in five years: move past it, and
	// let the scheduler record its expiry on a disk whose syncs fail.
	fault.set(true)
	clock.Set(jan1(time.Now().UTC().Year() + 6).AsTime())
	rounds <- clock.Now()
	st, err := watch.Recv()
	if err != nil || st.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health after the scheduler met a failed sync: %v %v, want NOT_SERVING", st, err)
	}
	if injected, _ := fault.counts(); injected == 0 {
		t.Fatal("no sync failed; the test tests nothing")
	}
}

// A full disk refuses writes with ResourceExhausted and a message that says
// so, reads keep working, and writes resume after a restart once space is
// freed (not before: see the README).
func TestAFullDiskRefusesWritesAndKeepsReads(t *testing.T) {
	dir := t.TempDir()
	fault := &diskFault{
		matches: func(op errorfs.Op) bool {
			return isWAL(op) && (op.Kind == errorfs.OpFileWrite || op.Kind == errorfs.OpFileWriteAt || op.Kind == errorfs.OpFilePreallocate)
		},
		err: func(op errorfs.Op) error { return &fs.PathError{Op: "write", Path: op.Path, Err: syscall.ENOSPC} },
	}
	m, c := faultServer(t, dir, fault, 0)
	ctx := as(t, "office-hubei")
	openAccounts(t, ctx, c.lifecycleClient, "SELLER", "BUYER", "OTHER")
	for _, req := range registrations("SELLER") {
		if _, err := c.rights.RegisterRight(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	var l ledger
	l.settleSome(t, ctx, c, "N", 20)

	fault.set(true)
	failed := matched("CEA-HB-1", "N-FAILED", 10)
	_, err := c.settlement.SubmitTrade(ctx, &pb.SubmitTradeRequest{Trade: failed})
	if st, _ := status.FromError(err); st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "disk is full") {
		t.Fatalf("a trade on a full disk: %v, want ResourceExhausted saying the disk is full", err)
	}
	if got := available(t, ctx, c, "CEA-HB-1", "BUYER"); got != int64(10*len(l.acked)) {
		t.Fatalf("a read on a full disk: BUYER holds %d", got)
	}
	q := queriesOf(c.client)
	if _, err := q.market.ListTrades(ctx, &pb.ListTradesRequest{}); err != nil {
		t.Fatalf("a query on a full disk: %v", err)
	}
	// Space is freed; the store still refuses until it is restarted.
	fault.set(false)
	_, err = c.settlement.SubmitTrade(ctx, &pb.SubmitTradeRequest{Trade: failed})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("a trade after space was freed, before a restart: %v", err)
	}
	_ = m.Close()
	checkIntact(t, dir, &l, failed)
}

// An error reading the store's files answers Internal, never a crash, and
// once the disk reads again everything is there.
func TestReadErrorsAnswerInternal(t *testing.T) {
	dir := t.TempDir()
	m, c := startExchangeServer(t, dir, true)
	ctx := as(t, "office-hubei")
	var l ledger
	l.settleSome(t, ctx, c, "R", 20)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	flushToTables(t, dir)

	fault := &diskFault{
		matches: func(op errorfs.Op) bool {
			return strings.HasSuffix(op.Path, ".sst") && (op.Kind == errorfs.OpFileReadAt || op.Kind == errorfs.OpFileRead)
		},
		err: func(errorfs.Op) error { return errorfs.ErrInjected },
	}
	// A cache too small to keep a block makes every read reach the disk.
	m, c = faultServer(t, dir, fault, 1)
	fault.set(true)
	for name, read := range map[string]func() error{
		"GetRight": func() error {
			_, err := c.rights.GetRight(ctx, &pb.GetRightRequest{RightId: "CEA-HB-1"})
			return err
		},
		"GetHolding": func() error {
			_, err := c.rights.GetHolding(ctx, &pb.GetHoldingRequest{RightId: "CEA-HB-1", AccountId: "BUYER"})
			return err
		},
	} {
		if st, _ := status.FromError(read()); st.Code() != codes.Internal || strings.Contains(st.Message(), "injected") {
			t.Fatalf("%s with a failing disk: %v, want Internal without the details", name, st)
		}
	}
	if injected, _ := fault.counts(); injected == 0 {
		t.Fatal("no read reached the disk; the test tests nothing")
	}
	fault.set(false)
	if got := available(t, ctx, c, "CEA-HB-1", "BUYER"); got != int64(10*len(l.acked)) {
		t.Fatalf("after the disk reads again BUYER holds %d", got)
	}
	_ = m.Close()
	checkIntact(t, dir, &l, matched("CEA-HB-1", "R-LAST", 10))
}

// flushToTables moves what the event store in dir holds from its log into
// Pebble's table files, which the read fault targets.
func flushToTables(t *testing.T, dir string) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{FormatMajorVersion: pebble.FormatNewest, Logger: quietPebble{t}})
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(db.Flush(), db.Close()); err != nil {
		t.Fatal(err)
	}
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(tables) == 0 {
		t.Fatal("no table file after the flush")
	}
}

// quietPebble drops Pebble's messages, which a test's output need not show.
type quietPebble struct{ t *testing.T }

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (q quietPebble) Fatalf(format string, args ...any) {
	q.t.Fatalf(format, args...)
}
