package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// settlementClient is the generated API a test exchange uses.
type settlementClient struct {
	*lifecycleClient
	settlement pb.SettlementServiceClient
}

// startExchangeServer runs ecoregistryd over dir and sets up what the
// settlement tests trade: accounts SELLER, BUYER and OTHER, and the
// registrations of every right type to SELLER.
func startExchangeServer(t *testing.T, dir string, setUp bool) (*Main, *settlementClient) {
	t.Helper()
	return startExchangeServerWith(t, Config{Store: StorePebble, Data: dir}, setUp)
}

// startExchangeServerWith is startExchangeServer with the configuration cfg.
func startExchangeServerWith(t *testing.T, cfg Config, setUp bool) (*Main, *settlementClient) {
	t.Helper()
	m, c := startServerWith(t, cfg)
	sc := &settlementClient{lifecycleClient: withLifecycle(c), settlement: pb.NewSettlementServiceClient(c.conn)}
	if setUp {
		ctx := as(t, "office-hubei")
		openAccounts(t, ctx, sc.lifecycleClient, "SELLER", "BUYER", "OTHER")
		for _, req := range registrations("SELLER") {
			if _, err := c.rights.RegisterRight(ctx, req); err != nil {
				t.Fatalf("register %s: %v", req.RightId, err)
			}
		}
	}
	return m, sc
}

// matched is a trade of quantity units of right from SELLER to BUYER at
// 58.50 CNY, matched a second ago.
func matched(right, id string, quantity int64) *pb.MatchedTrade {
	return &pb.MatchedTrade{ExchangeId: "HBEX", TradeId: id, RightId: right, SellerAccountId: "SELLER", BuyerAccountId: "BUYER",
		Amount: &pb.MatchedTrade_Quantity{Quantity: quantity}, Price: &pb.Price{AmountMinor: 5850, Currency: "CNY"},
		MatchedAt: timestamppb.New(time.Now().Add(-time.Second))}
}

func submit(t *testing.T, ctx context.Context, c *settlementClient, trade *pb.MatchedTrade) *pb.TradeOutcome {
	t.Helper()
	resp, err := c.settlement.SubmitTrade(ctx, &pb.SubmitTradeRequest{Trade: trade})
	if err != nil {
		t.Fatalf("submit %s: %v", trade.GetTradeId(), err)
	}
	return resp.GetOutcome()
}

func rightRevision(t *testing.T, ctx context.Context, c *settlementClient, right string) uint64 {
	t.Helper()
	resp, err := c.rights.GetRight(ctx, &pb.GetRightRequest{RightId: right})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetRight().GetRevision()
}

func available(t *testing.T, ctx context.Context, c *settlementClient, right, account string) int64 {
	t.Helper()
	resp, err := c.rights.GetHolding(ctx, &pb.GetHoldingRequest{RightId: right, AccountId: account})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetHolding().GetAvailable()
}

// sameOutcome fails unless a replay answers exactly what the first
// submission was told, but for the replay flag.
func sameOutcome(t *testing.T, replay, first *pb.TradeOutcome) {
	t.Helper()
	if !replay.GetReplay() || first.GetReplay() {
		t.Fatalf("replay flags: retry %v, first %v", replay.GetReplay(), first.GetReplay())
	}
	r := proto.Clone(replay).(*pb.TradeOutcome)
	r.Replay = false
	if !proto.Equal(r, first) {
		t.Fatalf("the retry was answered\n%v\nthe first submission\n%v", replay, first)
	}
}

func TestSettlementIdempotency(t *testing.T) {
	_, c := startExchangeServer(t, t.TempDir(), true)
	ctx := as(t, "hbex-gateway")

	t.Run("a retry after success gets the same outcome and records nothing", func(t *testing.T) {
		trade := matched("CEA-HB-1", "R-1", 100)
		first := submit(t, ctx, c, trade)
		if s := first.GetSettled(); s == nil || s.GetQuantity() != 100 || s.GetCommit().GetPosition().GetCommit() == 0 || len(s.GetRanges()) != 1 {
			t.Fatalf("outcome %v", first)
		}
		rev := rightRevision(t, ctx, c, "CEA-HB-1")
		sameOutcome(t, submit(t, ctx, c, trade), first)
		if got := rightRevision(t, ctx, c, "CEA-HB-1"); got != rev {
			t.Fatalf("the retry moved the right from revision %d to %d", rev, got)
		}
		if got := available(t, ctx, c, "CEA-HB-1", "BUYER"); got != 100 {
			t.Fatalf("the buyer has %d units", got)
		}
	})

	t.Run("retries racing the original settle once and all get the same outcome", func(t *testing.T) {
		trade := matched("WUR-NX-1", "R-2", 7)
		rev := rightRevision(t, ctx, c, "WUR-NX-1")
		const n = 32
		outs := make([]*pb.TradeOutcome, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := c.settlement.SubmitTrade(ctx, &pb.SubmitTradeRequest{Trade: trade})
				if err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				outs[i] = resp.GetOutcome()
			}()
		}
		wg.Wait()
		var first *pb.TradeOutcome
		for _, o := range outs {
			if o != nil && !o.GetReplay() {
				if first != nil {
					t.Fatalf("two first outcomes:\n%v\n%v", first, o)
				}
				first = o
			}
		}
		if first == nil || first.GetSettled() == nil {
			t.Fatalf("no first settlement among %v", outs)
		}
		for _, o := range outs {
			if o != first {
				sameOutcome(t, o, first)
			}
		}
		if got := rightRevision(t, ctx, c, "WUR-NX-1"); got != rev+1 {
			t.Fatalf("the right went from revision %d to %d, want one event", rev, got)
		}
		if got := available(t, ctx, c, "WUR-NX-1", "BUYER"); got != 7 {
			t.Fatalf("the buyer has %d units", got)
		}
	})

	t.Run("the same ids with other fields are refused and show the original", func(t *testing.T) {
		first := submit(t, ctx, c, matched("CEA-HB-1", "R-3", 10))
		rev := rightRevision(t, ctx, c, "CEA-HB-1")
		for name, other := range map[string]*pb.MatchedTrade{
			"another quantity":      matched("CEA-HB-1", "R-3", 11),
			"another right":         matched("PDR-ZJ-1", "R-3", 10),
			"another buyer account": func() *pb.MatchedTrade { m := matched("CEA-HB-1", "R-3", 10); m.BuyerAccountId = "OTHER"; return m }(),
		} {
			t.Run(name, func(t *testing.T) {
				o := submit(t, ctx, c, other)
				r := o.GetRefused()
				if r.GetCheckCode() != domain.CheckTradeIDReused.Code || r.GetCheckName() != "TRADE_ID_REUSED" || r.GetField() != "trade_id" || r.GetCommit() != nil {
					t.Fatalf("outcome %v", o)
				}
				orig := o.GetOriginal()
				if orig.GetSettled() == nil || !proto.Equal(orig.GetSettled(), first.GetSettled()) || orig.GetTrade().GetQuantity() != 10 ||
					orig.GetTrade().GetRightId() != "CEA-HB-1" || orig.GetTrade().GetBuyerAccountId() != "BUYER" {
					t.Fatalf("original %v, first %v", orig, first)
				}
			})
		}
		if got := rightRevision(t, ctx, c, "CEA-HB-1"); got != rev {
			t.Fatalf("refusing re-used ids moved the right from revision %d to %d", rev, got)
		}
	})

	t.Run("a refused trade's retry gets the same refusal after the seller got more units", func(t *testing.T) {
		move := func(id, from, to string, q int64) {
			t.Helper()
			if _, err := c.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: "PDR-ZJ-1", TransferId: id, FromAccountId: from, ToAccountId: to,
				Amount: &pb.TransferUnitsRequest_Quantity{Quantity: q}}); err != nil {
				t.Fatal(err)
			}
		}
		move("T-out", "SELLER", "OTHER", 10)
		trade := matched("PDR-ZJ-1", "R-4", available(t, ctx, c, "PDR-ZJ-1", "SELLER")+1)
		first := submit(t, ctx, c, trade)
		r := first.GetRefused()
		if r.GetCheckCode() != domain.CheckInsufficientAvailableUnits.Code || r.GetField() != "quantity" || r.GetCommit().GetPosition().GetCommit() == 0 || r.GetRefusedAt() == nil {
			t.Fatalf("outcome %v", first)
		}
		move("T-back", "OTHER", "SELLER", 10)
		rev := rightRevision(t, ctx, c, "PDR-ZJ-1")
		sameOutcome(t, submit(t, ctx, c, trade), first)
		if got := rightRevision(t, ctx, c, "PDR-ZJ-1"); got != rev {
			t.Fatalf("the retry moved the right from revision %d to %d", rev, got)
		}
	})

	t.Run("a trade on a right that does not exist is refused unrecorded", func(t *testing.T) {
		o := submit(t, ctx, c, matched("CEA-NONE", "R-5", 1))
		if r := o.GetRefused(); r.GetCheckCode() != domain.CheckRightNotFound.Code || r.GetCommit() != nil || o.GetReplay() {
			t.Fatalf("outcome %v", o)
		}
	})

	t.Run("a malformed trade is refused with every field named", func(t *testing.T) {
		bad := matched("CEA-HB-1", "R 6", 1)
		bad.Price = nil
		o := submit(t, ctx, c, bad)
		r := o.GetRefused()
		if r.GetCheckCode() != domain.CheckInvalidTradeID.Code || r.GetField() != "trade_id" || r.GetCommit() != nil {
			t.Fatalf("outcome %v", o)
		}
		if want := "(and 1 more violation)"; !strings.Contains(r.GetMessage(), want) {
			t.Fatalf("message %q does not say %q", r.GetMessage(), want)
		}
		if _, err := c.settlement.SubmitTrade(context.Background(), &pb.SubmitTradeRequest{Trade: matched("CEA-HB-1", "R-7", 1)}); err == nil {
			t.Fatal("a trade without an actor was accepted")
		}
	})
}

func TestSettlementAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	m, c := startExchangeServer(t, dir, true)
	ctx := as(t, "hbex-gateway")
	settleTrade, refuseTrade := matched("CEA-HB-1", "S-1", 10), matched("CEA-HB-1", "S-2", 1_000_000)
	settled, refused := submit(t, ctx, c, settleTrade), submit(t, ctx, c, refuseTrade)
	if settled.GetSettled() == nil || refused.GetRefused().GetCommit() == nil {
		t.Fatalf("outcomes %v %v", settled, refused)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	_, c = startExchangeServer(t, dir, false)
	ctx = as(t, "hbex-gateway-2")
	rev := rightRevision(t, ctx, c, "CEA-HB-1")
	t.Run("a retry after a restart gets the first outcome, with its position", func(t *testing.T) {
		sameOutcome(t, submit(t, ctx, c, settleTrade), settled)
		sameOutcome(t, submit(t, ctx, c, refuseTrade), refused)
	})
	t.Run("after a restart the ids stay taken on every other right", func(t *testing.T) {
		elsewhere := proto.Clone(settleTrade).(*pb.MatchedTrade)
		elsewhere.RightId = "WUR-NX-1"
		o := submit(t, ctx, c, elsewhere)
		if o.GetRefused().GetCheckCode() != domain.CheckTradeIDReused.Code || !proto.Equal(o.GetOriginal().GetSettled(), settled.GetSettled()) {
			t.Fatalf("outcome %v", o)
		}
	})
	if got := rightRevision(t, ctx, c, "CEA-HB-1"); got != rev {
		t.Fatalf("the retries moved the right from revision %d to %d", rev, got)
	}
}

func TestSettlementStream(t *testing.T) {
	_, c := startExchangeServer(t, t.TempDir(), true)
	ctx := as(t, "hbex-gateway")

	t.Run("trades are answered by their ids, and a malformed one in the middle is refused without breaking the stream", func(t *testing.T) {
		stream, err := c.settlement.SubmitTrades(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rights := []string{"CEA-HB-1", "WUR-NX-1", "PDR-ZJ-1", "CSR-YN-1"}
		want := map[string]string{}
		var sent []*pb.MatchedTrade
		for i := range 200 {
			tr := matched(rights[i%len(rights)], fmt.Sprintf("ST-%d", i), 1)
			want[tr.GetTradeId()] = "settled"
			switch i {
			case 77:
				tr.Price = &pb.Price{AmountMinor: 1, Currency: "yuan"}
				want[tr.GetTradeId()] = domain.CheckInvalidPrice.Code
			case 78:
				tr.Amount = &pb.MatchedTrade_Quantity{Quantity: 1 << 40}
				want[tr.GetTradeId()] = domain.CheckInsufficientAvailableUnits.Code
			}
			sent = append(sent, tr)
		}
		// The last trade retries the second, racing it in the same stream.
		sent = append(sent, sent[1])
		for i := 0; i < len(sent); i += 16 {
			if err := stream.Send(&pb.SubmitTradesRequest{Trades: sent[i:min(i+16, len(sent))]}); err != nil {
				t.Fatal(err)
			}
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		got := map[string][]*pb.TradeOutcome{}
		for {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range resp.GetOutcomes() {
				got[o.GetTradeId()] = append(got[o.GetTradeId()], o)
			}
		}
		for id, w := range want {
			outs := got[id]
			n := 1
			if id == sent[1].GetTradeId() {
				n = 2
			}
			if len(outs) != n {
				t.Fatalf("trade %s answered %d times, want %d", id, len(outs), n)
			}
			o := outs[0]
			switch {
			case w == "settled" && o.GetSettled() != nil:
			case w != "settled" && o.GetRefused().GetCheckCode() == w:
			default:
				t.Fatalf("trade %s: %v, want %s", id, o, w)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d trades answered, %d sent", len(got), len(want))
		}
		pair := got[sent[1].GetTradeId()]
		if pair[0].GetReplay() == pair[1].GetReplay() || !proto.Equal(pair[0].GetSettled(), pair[1].GetSettled()) {
			t.Fatalf("a trade and its retry in one stream: %v", pair)
		}
		// A retry over the unary call gets the stream's outcome.
		o := submit(t, ctx, c, sent[0])
		if !o.GetReplay() || !proto.Equal(o.GetSettled(), got[sent[0].GetTradeId()][0].GetSettled()) {
			t.Fatalf("unary retry %v", o)
		}

		// The market ledger lists each settled trade once, at its position,
		// and none of the refused ones.
		var last *pb.Position
		settled := map[string]*pb.TradeOutcome{}
		for id, outs := range got {
			for _, o := range outs {
				if s := o.GetSettled(); s != nil && !o.GetReplay() {
					settled[id] = o
					if p := s.GetCommit().GetPosition(); last == nil || p.GetCommit() > last.GetCommit() {
						last = p
					}
				}
			}
		}
		ex := "HBEX"
		listed := map[string]*pb.Trade{}
		for token := ""; ; {
			page, err := queriesOf(c.client).market.ListTrades(ctx, &pb.ListTradesRequest{Exchange: &ex, MinPosition: last, PageSize: 64, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range page.GetTrades() {
				if strings.HasPrefix(tr.GetTradeId(), "ST-") {
					if listed[tr.GetTradeId()] != nil {
						t.Fatalf("trade %s listed twice", tr.GetTradeId())
					}
					listed[tr.GetTradeId()] = tr
				}
			}
			if token = page.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(listed) != len(settled) {
			t.Fatalf("the ledger lists %d of the stream's trades, %d settled", len(listed), len(settled))
		}
		for id, o := range settled {
			tr := listed[id]
			if tr == nil || tr.GetQuantity() != o.GetSettled().GetQuantity() || tr.GetPrice().GetAmountMinor() != 5850 ||
				!proto.Equal(tr.GetPosition(), o.GetSettled().GetCommit().GetPosition()) || tr.GetBuyerAccountId() != "BUYER" {
				t.Fatalf("trade %s: ledger %v, outcome %v", id, tr, o)
			}
		}
	})

	t.Run("a stream without an actor is refused", func(t *testing.T) {
		stream, err := c.settlement.SubmitTrades(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); err == nil {
			t.Fatal("a stream without an actor was served")
		}
	})
}

func TestWALMinSyncIntervalConfig(t *testing.T) {
	none := func(string) string { return "" }
	t.Run("the log's syncs are spaced by 500µs unless told otherwise", func(t *testing.T) {
		cfg, err := ParseConfig(nil, none, io.Discard)
		if err != nil || cfg.WALMinSyncInterval != 500*time.Microsecond {
			t.Fatalf("%+v %v", cfg, err)
		}
		cfg, err = ParseConfig([]string{"--wal-min-sync-interval", "0"}, none, io.Discard)
		if err != nil || cfg.WALMinSyncInterval != 0 {
			t.Fatalf("%+v %v", cfg, err)
		}
		cfg, err = ParseConfig(nil, func(k string) string { return map[string]string{"ECOREGISTRY_WAL_MIN_SYNC_INTERVAL": "1ms"}[k] }, io.Discard)
		if err != nil || cfg.WALMinSyncInterval != time.Millisecond {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	for _, v := range []string{"soon", "-1ms", "2s"} {
		t.Run("--wal-min-sync-interval "+v+" is refused", func(t *testing.T) {
			if _, err := ParseConfig([]string{"--wal-min-sync-interval", v}, none, io.Discard); err == nil || !strings.Contains(err.Error(), "--wal-min-sync-interval") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestTradeCorrection reverses a settled trade through CorrectionService, as
// a regulator does for a trade matched in error: the units go back from the
// buyer to the seller, in the right's state and in the holdings read model;
// the trade stays decided, so a retry of it settles nothing; and a trade
// that was refused has nothing to reverse.
func TestTradeCorrection(t *testing.T) {
	_, c := startExchangeServer(t, t.TempDir(), true)
	ctx := as(t, "hbex-gateway")
	regulator := as(t, "mee-regulator")
	trade := matched("CEA-HB-1", "X-K1", 700)
	settled := submit(t, ctx, c, trade)
	if settled.GetSettled() == nil {
		t.Fatalf("the trade did not settle: %v", settled)
	}
	seller, buyer := available(t, ctx, c, "CEA-HB-1", "SELLER"), available(t, ctx, c, "CEA-HB-1", "BUYER")

	reverse := func(id, exchange, original string) (*pb.ReverseTransactionResponse, error) {
		return c.corrections.ReverseTransaction(regulator, &pb.ReverseTransactionRequest{RightId: "CEA-HB-1", CorrectionId: id,
			Kind: pb.TransactionKind_TRANSACTION_KIND_TRADE, ExchangeId: exchange, OriginalId: original, Authority: "MEE", Reason: "matched in error"})
	}
	resp, err := reverse("K-1", "HBEX", "X-K1")
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetFromAccountId() != "BUYER" || resp.GetToAccountId() != "SELLER" || resp.GetQuantity() != 700 ||
		!proto.Equal(resp.GetRanges()[0], settled.GetSettled().GetRanges()[0]) {
		t.Fatalf("reversal %v of %v", resp, settled.GetSettled())
	}
	if s, b := available(t, ctx, c, "CEA-HB-1", "SELLER"), available(t, ctx, c, "CEA-HB-1", "BUYER"); s != seller+700 || b != buyer-700 {
		t.Fatalf("after the reversal SELLER has %d (was %d), BUYER %d (was %d)", s, seller, b, buyer)
	}
	h, err := queriesOf(c.client).holdings.ListAccountHoldings(ctx, &pb.ListAccountHoldingsRequest{AccountId: "BUYER", MinPosition: resp.GetCommit().GetPosition()})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range h.GetHoldings() {
		if x.GetRightId() == "CEA-HB-1" && x.GetAvailable() != buyer-700 {
			t.Fatalf("the holdings read model shows BUYER with %d, want %d", x.GetAvailable(), buyer-700)
		}
	}

	again := submit(t, ctx, c, trade)
	if !again.GetReplay() || again.GetSettled() == nil {
		t.Fatalf("a retry of the reversed trade: %v", again)
	}
	if b := available(t, ctx, c, "CEA-HB-1", "BUYER"); b != buyer-700 {
		t.Fatalf("a retry of the reversed trade moved units: BUYER has %d", b)
	}
	_, err = reverse("K-2", "HBEX", "X-K1")
	wantCheck(t, err, codes.FailedPrecondition, domain.CheckTransactionAlreadyReversed)
	_, err = reverse("K-3", "CEEX", "X-K1")
	wantCheck(t, err, codes.NotFound, domain.CheckTransactionNotFound)
	_, err = reverse("K-4", "", "X-K1")
	wantCheck(t, err, codes.InvalidArgument, domain.CheckRequiredFieldMissing)

	refused := submit(t, ctx, c, matched("CEA-HB-1", "X-K2", 1<<40))
	if refused.GetRefused() == nil {
		t.Fatalf("an oversized trade was not refused: %v", refused)
	}
	_, err = reverse("K-5", "HBEX", "X-K2")
	wantCheck(t, err, codes.NotFound, domain.CheckTransactionNotFound)
}
