package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// What the crash test's clients trade: every right of registrations, among
// five accounts, by crashClients clients at once.
var (
	crashAccounts = []string{"SELLER", "BUYER", "OTHER", "HOLDER-4", "HOLDER-5"}
	crashRights   = []string{"CEA-HB-1", "WUR-NX-1", "PDR-ZJ-1", "CSR-YN-1"}
)

const crashClients = 8

// crashLedger is what the crash test's clients were told, and what they
// still wait to learn.
type crashLedger struct {
	mu        sync.Mutex
	trades    map[string]*crashTrade
	transfers map[string]*crashTransfer
	// initial is what each account held of each right after the set-up,
	// by "right/account".
	initial map[string]int64
	// recorded is what the last read of a dead server's log found.
	recorded *crashLog
	// resolved counts the commands whose answer a kill cut off.
	resolved int
}

// crashTrade is one trade a client submitted.
type crashTrade struct {
	req *pb.MatchedTrade
	// out is the outcome the client was told; nil while a kill keeps it
	// from knowing.
	out *pb.TradeOutcome
	// resubmitted tells that a resubmission after a restart was checked.
	resubmitted bool
}

// crashTransfer is one transfer a client asked for.
type crashTransfer struct {
	req *pb.TransferUnitsRequest
	// resp is what the transfer moved, once known to be recorded;
	// refused is the check code of a refusal, which records nothing.
	resp        *pb.TransferUnitsResponse
	refused     string
	resubmitted bool
}

func (x *crashTransfer) known() bool { return x.resp != nil || x.refused != "" }

func newCrashLedger() *crashLedger {
	return &crashLedger{trades: map[string]*crashTrade{}, transfers: map[string]*crashTransfer{}, initial: map[string]int64{}}
}

// setUp opens the accounts, registers the rights to SELLER and notes what
// everyone holds.
func (l *crashLedger) setUp(t *testing.T, c *settlementClient) {
	t.Helper()
	ctx := as(t, "office-hubei")
	openAccounts(t, ctx, c.lifecycleClient, crashAccounts...)
	for _, req := range registrations("SELLER") {
		if _, err := c.rights.RegisterRight(ctx, req); err != nil {
			t.Fatalf("register %s: %v", req.RightId, err)
		}
	}
	for right, held := range holdingsOf(t, ctx, c) {
		for acct, n := range held {
			l.initial[right+"/"+acct] = n
		}
	}
}

// holdingsOf reads, by right, what each account has available, from the
// rights' streams.
func holdingsOf(t *testing.T, ctx context.Context, c *settlementClient) map[string]map[string]int64 {
	t.Helper()
	out := map[string]map[string]int64{}
	for _, right := range crashRights {
		r, err := c.rights.GetRight(ctx, &pb.GetRightRequest{RightId: right})
		if err != nil {
			t.Fatalf("read %s: %v", right, err)
		}
		out[right] = map[string]int64{}
		for _, h := range r.GetRight().GetHoldings() {
			if h.GetAvailable() != 0 {
				out[right][h.GetAccountId()] = h.GetAvailable()
			}
		}
	}
	return out
}

// load runs the clients against the server until it has answered acks
// commands, then kills it.
func (l *crashLedger) load(t *testing.T, c *settlementClient, s *crashServer, round int, seed uint64, acks int) {
	t.Helper()
	ctx, cancel := context.WithCancel(as(t, "hbex-gateway"))
	defer cancel()
	answered := make(chan struct{}, 1<<16)
	errs := make(chan error, crashClients)
	var wg sync.WaitGroup
	for w := range crashClients {
		wg.Go(func() {
			errs <- l.client(ctx, c, fmt.Sprintf("K%d-%d", round, w), rand.New(rand.NewPCG(seed, uint64(w))), answered)
		})
	}
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	deadline := time.After(time.Minute)
	for n := 0; n < acks; n++ {
		select {
		case <-answered:
		case <-stopped:
			t.Fatalf("every client met an error before the kill, the first: %v\n%s", <-errs, s.log())
		case <-deadline:
			t.Fatalf("the server answered %d commands in a minute:\n%s", n, s.log())
		}
	}
	s.kill(t)
	cancel()
	<-stopped
	_ = c.conn.Close()
}

// client submits trades and transfers of a few units between random
// accounts until the server stops answering.
func (l *crashLedger) client(ctx context.Context, c *settlementClient, prefix string, rng *rand.Rand, answered chan<- struct{}) error {
	for i := 0; ctx.Err() == nil; i++ {
		id := fmt.Sprintf("%s-%d", prefix, i)
		right := crashRights[rng.IntN(len(crashRights))]
		from := rng.IntN(len(crashAccounts))
		to := (from + 1 + rng.IntN(len(crashAccounts)-1)) % len(crashAccounts)
		q := int64(1 + rng.IntN(3))
		var err error
		if rng.IntN(2) == 0 {
			err = l.trade(ctx, c, &pb.MatchedTrade{ExchangeId: "HBEX", TradeId: id, RightId: right, SellerAccountId: crashAccounts[from],
				BuyerAccountId: crashAccounts[to], Amount: &pb.MatchedTrade_Quantity{Quantity: q}, Price: &pb.Price{AmountMinor: 5850, Currency: "CNY"},
				MatchedAt: timestamppb.New(time.Now().Add(-time.Second))})
		} else {
			err = l.transfer(ctx, c, &pb.TransferUnitsRequest{RightId: right, TransferId: id, FromAccountId: crashAccounts[from],
				ToAccountId: crashAccounts[to], Amount: &pb.TransferUnitsRequest_Quantity{Quantity: q}})
		}
		if err != nil {
			return err
		}
		select {
		case answered <- struct{}{}:
		default:
		}
	}
	return nil
}

// trade submits a trade; the ledger knows of it before it is sent, and
// learns its outcome only when the client does.
func (l *crashLedger) trade(ctx context.Context, c *settlementClient, tr *pb.MatchedTrade) error {
	x := &crashTrade{req: tr}
	l.mu.Lock()
	l.trades[tr.GetTradeId()] = x
	l.mu.Unlock()
	resp, err := c.settlement.SubmitTrade(ctx, &pb.SubmitTradeRequest{Trade: tr})
	if err != nil {
		return err
	}
	l.mu.Lock()
	x.out = resp.GetOutcome()
	l.mu.Unlock()
	return nil
}

// transfer asks for a transfer, noting it as trade does.
func (l *crashLedger) transfer(ctx context.Context, c *settlementClient, req *pb.TransferUnitsRequest) error {
	x := &crashTransfer{req: req}
	l.mu.Lock()
	l.transfers[req.GetTransferId()] = x
	l.mu.Unlock()
	resp, err := c.transfers.TransferUnits(ctx, req)
	refused := refusalOf(err)
	if err != nil && refused == "" {
		return err
	}
	l.mu.Lock()
	x.resp, x.refused = resp, refused
	l.mu.Unlock()
	return nil
}

// refusalOf returns the check code of a refusal, which records nothing;
// "" for success and for errors that leave the outcome unknown.
func refusalOf(err error) string {
	code, reason, _ := checkOf(err)
	switch code {
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition:
		return reason
	}
	return ""
}

// crashRecord is one event of the log that records a client's command.
type crashRecord struct {
	stream   string
	revision uint64
	position uint64
	quantity int64
	blocks   []domain.Block
	// settled is false for a TradeRefused.
	settled bool
}

// crashLog indexes the events that record transfers and trade outcomes,
// by transfer and trade id.
type crashLog struct {
	transfers, trades map[string][]crashRecord
}

// readCrashLog reads the whole log of st.
func readCrashLog(t *testing.T, st eventstore.Store) *crashLog {
	t.Helper()
	out := &crashLog{transfers: map[string][]crashRecord{}, trades: map[string][]crashRecord{}}
	filter := eventstore.Filter{EventTypes: []string{domain.EventTypeUnitsTransferred, domain.EventTypeTradeSettled, domain.EventTypeTradeRefused}}
	for from := eventstore.Start; ; {
		page, err := st.ReadAll(context.Background(), from, eventstore.Forwards, 10000, filter)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		for _, rec := range page {
			ev, err := eventcodec.Decode(rec.Type, rec.Data)
			if err != nil {
				t.Fatalf("%s revision %d: %v", rec.Stream, rec.Revision, err)
			}
			r := crashRecord{stream: rec.Stream, revision: rec.Revision, position: rec.Position.Commit}
			switch e := ev.(type) {
			case domain.UnitsTransferred:
				r.quantity, r.blocks = e.Quantity, e.Blocks
				out.transfers[e.TransferID] = append(out.transfers[e.TransferID], r)
			case domain.TradeSettled:
				r.quantity, r.blocks, r.settled = e.Quantity, e.Blocks, true
				out.trades[e.TradeID] = append(out.trades[e.TradeID], r)
			case domain.TradeRefused:
				out.trades[e.TradeID] = append(out.trades[e.TradeID], r)
			}
			from = rec.Position
		}
	}
}

// checkLog reads the log of the stopped server in dir directly: every
// chain verifies, every acknowledged command is recorded exactly once where
// its client was told, a refused one not at all, and one whose answer was
// lost at most once.
func (l *crashLedger) checkLog(t *testing.T, dir string) {
	t.Helper()
	st, err := pebblestore.Open(dir, pebblestore.Options{})
	if err != nil {
		t.Fatalf("open the killed server's store: %v", err)
	}
	defer st.Close()
	verifyEveryChain(t, st)
	l.recorded = readCrashLog(t, st)
	for id, recs := range l.recorded.transfers {
		x := l.transfers[id]
		switch {
		case len(recs) > 1:
			t.Fatalf("transfer %s is recorded %d times: %+v", id, len(recs), recs)
		case x == nil:
			t.Fatalf("transfer %s is recorded, but no client asked for it", id)
		case x.refused != "":
			t.Fatalf("transfer %s was refused with %s, but is recorded", id, x.refused)
		case x.resp != nil:
			sameRecord(t, "transfer "+id, recs[0], x.resp.GetCommit(), x.resp.GetQuantity(), x.resp.GetRanges(), false)
		}
	}
	for id, recs := range l.recorded.trades {
		x := l.trades[id]
		switch {
		case len(recs) > 1:
			t.Fatalf("trade %s has %d outcomes recorded: %+v", id, len(recs), recs)
		case x == nil:
			t.Fatalf("trade %s is recorded, but no client submitted it", id)
		case x.out.GetSettled() != nil:
			s := x.out.GetSettled()
			sameRecord(t, "trade "+id, recs[0], s.GetCommit(), s.GetQuantity(), s.GetRanges(), true)
		case x.out.GetRefused() != nil && (x.out.GetRefused().GetCommit() == nil || recs[0].settled ||
			recs[0].revision != x.out.GetRefused().GetCommit().GetStreamRevision()):
			t.Fatalf("trade %s was refused (%v), but the log holds %+v", id, x.out.GetRefused(), recs[0])
		}
	}
	l.checkNothingLost(t)
}

// checkNothingLost checks that every command acknowledged as recorded is in
// the log.
func (l *crashLedger) checkNothingLost(t *testing.T) {
	t.Helper()
	for id, x := range l.transfers {
		if x.resp != nil && len(l.recorded.transfers[id]) == 0 {
			t.Fatalf("transfer %s was acknowledged (%v) but is not in the log", id, x.resp)
		}
	}
	for id, x := range l.trades {
		recorded := x.out.GetSettled() != nil || x.out.GetRefused().GetCommit() != nil
		if recorded && len(l.recorded.trades[id]) == 0 {
			t.Fatalf("trade %s was acknowledged (%v) but is not in the log", id, x.out)
		}
	}
}

// sameRecord fails unless rec is what the client was told: at the revision
// (and for a trade the position) of commit, moving quantity units in ranges.
func sameRecord(t *testing.T, what string, rec crashRecord, commit *pb.Commit, quantity int64, ranges []*pb.SerialRange, settled bool) {
	t.Helper()
	same := rec.stream == commit.GetStream() && rec.revision == commit.GetStreamRevision() && rec.quantity == quantity &&
		rec.settled == settled && len(rec.blocks) == len(ranges)
	if settled && rec.position != commit.GetPosition().GetCommit() {
		same = false
	}
	for i := 0; same && i < len(ranges); i++ {
		same = rec.blocks[i].Start == ranges[i].GetStart() && rec.blocks[i].End == ranges[i].GetEnd()
	}
	if !same {
		t.Fatalf("%s: the client was told %d units %v at %v, the log holds %+v", what, quantity, ranges, commit, rec)
	}
}

// checkServer checks a restarted server: the commands whose answers a kill
// cut off are resubmitted with the same ids and are recorded once (a replay
// when the log had them); resubmitted acknowledged ones replay their first
// answer and record nothing; every balance is what the acknowledged
// commands left; the holdings read model equals a replay of the log.
func (l *crashLedger) checkServer(t *testing.T, c *settlementClient, rng *rand.Rand) {
	t.Helper()
	ctx := as(t, "hbex-gateway")
	l.resolveTrades(t, ctx, c)
	l.resolveTransfers(t, ctx, c)
	l.resubmit(t, ctx, c, rng)
	l.checkBalances(t, ctx, c)
	compareHoldingsWithReplay(t, ctx, c)
}

// resolveTrades submits again each trade whose outcome its client did not
// learn: a replay exactly when the log recorded it before the kill.
func (l *crashLedger) resolveTrades(t *testing.T, ctx context.Context, c *settlementClient) {
	t.Helper()
	for _, id := range sortedKeys(l.trades) {
		x := l.trades[id]
		if x.out != nil {
			continue
		}
		out := submit(t, ctx, c, x.req)
		if wasRecorded := len(l.recorded.trades[id]) > 0; out.GetReplay() != wasRecorded || (out.GetSettled() == nil && out.GetRefused() == nil) {
			t.Fatalf("trade %s, recorded before the kill: %v; submitted again: %v", id, wasRecorded, out)
		}
		x.out = proto.Clone(out).(*pb.TradeOutcome)
		x.out.Replay = false
		l.resolved++
	}
}

// resolveTransfers asks again for each transfer whose answer its client did
// not learn: a replay of what the log holds exactly when the log had it
// before the kill.
func (l *crashLedger) resolveTransfers(t *testing.T, ctx context.Context, c *settlementClient) {
	t.Helper()
	for _, id := range sortedKeys(l.transfers) {
		x := l.transfers[id]
		if x.known() {
			continue
		}
		resp, err := c.transfers.TransferUnits(ctx, x.req)
		recs := l.recorded.transfers[id]
		switch {
		case err == nil && resp.GetReplay() != (len(recs) > 0):
			t.Fatalf("transfer %s, recorded before the kill: %v; asked for again: %v", id, len(recs) > 0, resp)
		case err == nil:
			if len(recs) > 0 {
				sameRecord(t, "the replay of transfer "+id, recs[0], resp.GetCommit(), resp.GetQuantity(), resp.GetRanges(), false)
			}
			x.resp = proto.Clone(resp).(*pb.TransferUnitsResponse)
			x.resp.Replay = false
		case len(recs) == 0 && refusalOf(err) != "":
			x.refused = refusalOf(err)
		default:
			t.Fatalf("transfer %s, recorded before the kill: %v; asked for again: %v", id, len(recs) > 0, err)
		}
		l.resolved++
	}
}

// resubmit sends again the acknowledged trades and transfers not yet sent
// again, and a sample of those that were: each gets its first answer back
// as a replay, and nothing is recorded.
func (l *crashLedger) resubmit(t *testing.T, ctx context.Context, c *settlementClient, rng *rand.Rand) {
	t.Helper()
	for _, id := range sample(sortedKeys(l.trades), func(id string) bool { return l.trades[id].resubmitted }, rng) {
		x := l.trades[id]
		if x.out.GetRefused() != nil && x.out.GetRefused().GetCommit() == nil {
			continue // an unrecorded refusal is decided afresh
		}
		sameOutcome(t, submit(t, ctx, c, x.req), x.out)
		x.resubmitted = true
	}
	for _, id := range sample(sortedKeys(l.transfers), func(id string) bool { return l.transfers[id].resubmitted }, rng) {
		x := l.transfers[id]
		if x.resp == nil {
			continue // a refusal is decided afresh
		}
		again, err := c.transfers.TransferUnits(ctx, x.req)
		if err != nil || !again.GetReplay() {
			t.Fatalf("acknowledged transfer %s sent again: %v %v, want a replay", id, again, err)
		}
		again = proto.Clone(again).(*pb.TransferUnitsResponse)
		again.Replay = false
		if !proto.Equal(again, x.resp) {
			t.Fatalf("acknowledged transfer %s sent again got\n%v\nits first answer was\n%v", id, again, x.resp)
		}
		x.resubmitted = true
	}
}

// sample returns the ids not done yet and up to 20 of those done.
func sample(ids []string, done func(string) bool, rng *rand.Rand) []string {
	var todo, again []string
	for _, id := range ids {
		if done(id) {
			again = append(again, id)
		} else {
			todo = append(todo, id)
		}
	}
	rng.Shuffle(len(again), func(i, j int) { again[i], again[j] = again[j], again[i] })
	return append(todo, again[:min(20, len(again))]...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkBalances checks that every account holds what the set-up and the
// recorded commands left it, not a unit more or less.
func (l *crashLedger) checkBalances(t *testing.T, ctx context.Context, c *settlementClient) {
	t.Helper()
	want := map[string]map[string]int64{}
	for _, right := range crashRights {
		want[right] = map[string]int64{}
	}
	for key, n := range l.initial {
		right, acct, _ := strings.Cut(key, "/")
		want[right][acct] += n
	}
	move := func(right, from, to string, q int64) {
		want[right][from] -= q
		want[right][to] += q
	}
	for _, x := range l.trades {
		if s := x.out.GetSettled(); s != nil {
			move(x.req.GetRightId(), x.req.GetSellerAccountId(), x.req.GetBuyerAccountId(), s.GetQuantity())
		}
	}
	for _, x := range l.transfers {
		if x.resp != nil {
			move(x.req.GetRightId(), x.req.GetFromAccountId(), x.req.GetToAccountId(), x.resp.GetQuantity())
		}
	}
	got := holdingsOf(t, ctx, c)
	for _, right := range crashRights {
		for _, acct := range crashAccounts {
			if got[right][acct] != want[right][acct] {
				t.Fatalf("right %s: account %s holds %d units, the acknowledged commands leave it %d", right, acct, got[right][acct], want[right][acct])
			}
		}
	}
}

// count returns how many trades (or transfers) were answered.
func (l *crashLedger) count(trades bool) int {
	n := 0
	if trades {
		for _, x := range l.trades {
			if x.out != nil {
				n++
			}
		}
		return n
	}
	for _, x := range l.transfers {
		if x.known() {
			n++
		}
	}
	return n
}
