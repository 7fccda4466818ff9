package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// queryClient is the generated API of the read models.
type queryClient struct {
	holdings pb.HoldingsQueryServiceClient
	market   pb.MarketQueryServiceClient
	stats    pb.StatisticsQueryServiceClient
	admin    pb.ProjectionAdminServiceClient
}

func queriesOf(c *client) *queryClient {
	return &queryClient{holdings: pb.NewHoldingsQueryServiceClient(c.conn), market: pb.NewMarketQueryServiceClient(c.conn),
		stats: pb.NewStatisticsQueryServiceClient(c.conn), admin: pb.NewProjectionAdminServiceClient(c.conn)}
}

// TestReadYourWrites checks through the gRPC API that a query given the
// position a command's response carries sees that command, across the
// three read models, a restart and a rebuild.
func TestReadYourWrites(t *testing.T) {
	dir := t.TempDir()
	m, c := startServer(t, dir)
	q := queriesOf(c)
	ctx := as(t, "office-hubei")

	for _, id := range []string{"HB-STEEL", "HB-POWER"} {
		_, err := c.accounts.OpenAccount(ctx, &pb.OpenAccountRequest{AccountId: id, Jurisdiction: "420100", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
			Holder: &pb.Holder{Name: id + " Co.", Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: creditCode(t, "91420100MA4K"+map[string]string{"HB-STEEL": "12345", "HB-POWER": "54321"}[id])}})
		if err != nil {
			t.Fatal(err)
		}
	}
	reg := registrations("HB-STEEL")[0]
	rr, err := c.rights.RegisterRight(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("holdings see a registration at its position", func(t *testing.T) {
		resp, err := q.holdings.ListAccountHoldings(ctx, &pb.ListAccountHoldingsRequest{AccountId: "HB-STEEL", MinPosition: rr.GetCommit().GetPosition()})
		if err != nil {
			t.Fatal(err)
		}
		if positionBefore(resp.GetPosition(), rr.GetCommit().GetPosition()) || len(resp.GetHoldings()) != 1 || resp.GetHoldings()[0].GetAvailable() != reg.GetQuantity() {
			t.Fatalf("%v", resp)
		}
	})

	tr, err := c.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: reg.GetRightId(), TransferId: "T-1", FromAccountId: "HB-STEEL", ToAccountId: "HB-POWER",
		Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 500}, Reference: "CEEX:20261105-000123", Price: &pb.Price{AmountMinor: 5825, Currency: "CNY"}})
	if err != nil {
		t.Fatal(err)
	}
	at := tr.GetCommit().GetPosition()

	t.Run("every read model sees a trade at its position", func(t *testing.T) {
		h, err := q.holdings.ListAccountHoldings(ctx, &pb.ListAccountHoldingsRequest{AccountId: "HB-POWER", MinPosition: at})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.GetHoldings()) != 1 || h.GetHoldings()[0].GetAvailable() != 500 || h.GetHoldings()[0].GetAvailableRanges()[0].GetSerial() == "" {
			t.Fatalf("holdings: %v", h)
		}
		trades, err := q.market.ListTrades(ctx, &pb.ListTradesRequest{MinPosition: at})
		if err != nil {
			t.Fatal(err)
		}
		want := &pb.Trade{Exchange: "CEEX", TradeId: "20261105-000123", Reference: "CEEX:20261105-000123", RightId: reg.GetRightId(),
			RightType: reg.GetType(), TransferId: "T-1", BuyerAccountId: "HB-POWER", SellerAccountId: "HB-STEEL", Quantity: 500,
			Price: &pb.Price{AmountMinor: 5825, Currency: "CNY"}, Position: at}
		if len(trades.GetTrades()) != 1 || trades.GetTrades()[0].GetSettledAt() == nil {
			t.Fatalf("trades: %v", trades)
		}
		got := proto.Clone(trades.GetTrades()[0]).(*pb.Trade)
		got.SettledAt = nil
		if !proto.Equal(got, want) {
			t.Fatalf("trade:\ngot  %v\nwant %v", got, want)
		}
		ms, err := q.market.ListMarketStats(ctx, &pb.ListMarketStatsRequest{Dimension: pb.MarketDimension_MARKET_DIMENSION_EXCHANGE, MinPosition: at})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms.GetStats()) != 1 || ms.GetStats()[0].GetTurnoverMinor() != "2912500" || ms.GetStats()[0].GetVwapMinor() != 5825 || ms.GetStats()[0].GetVolume() != 500 {
			t.Fatalf("market statistics: %v", ms)
		}
		st, err := q.stats.ListStatistics(ctx, &pb.ListStatisticsRequest{Level: pb.AdministrativeLevel_ADMINISTRATIVE_LEVEL_PROVINCE,
			Granularity: pb.StatisticsGranularity_STATISTICS_GRANULARITY_YEAR, MinPosition: at})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.GetRows()) != 1 || st.GetRows()[0].GetJurisdiction() != "420000" || st.GetRows()[0].GetIssued() != reg.GetQuantity() ||
			st.GetRows()[0].GetTransferred() != 500 || st.GetRows()[0].GetTransfers() != 1 {
			t.Fatalf("statistics: %v", st)
		}
	})

	t.Run("the ledger and the holdings see a trade settled by an exchange", func(t *testing.T) {
		matched := timestamppb.New(time.Now().Add(-time.Minute))
		out, err := pb.NewSettlementServiceClient(c.conn).SubmitTrade(ctx, &pb.SubmitTradeRequest{Trade: &pb.MatchedTrade{ExchangeId: "HBEX", TradeId: "X-1",
			RightId: reg.GetRightId(), SellerAccountId: "HB-STEEL", BuyerAccountId: "HB-POWER", Amount: &pb.MatchedTrade_Quantity{Quantity: 40},
			Price: &pb.Price{AmountMinor: 6000, Currency: "CNY"}, MatchedAt: matched}})
		if err != nil || out.GetOutcome().GetSettled() == nil {
			t.Fatalf("submit: %v, %v", out, err)
		}
		settledAt := out.GetOutcome().GetSettled().GetCommit().GetPosition()
		ex := "HBEX"
		trades, err := q.market.ListTrades(ctx, &pb.ListTradesRequest{Exchange: &ex, MinPosition: settledAt})
		if err != nil {
			t.Fatal(err)
		}
		if len(trades.GetTrades()) != 1 || trades.GetTrades()[0].GetTradeId() != "X-1" || trades.GetTrades()[0].GetQuantity() != 40 ||
			!proto.Equal(trades.GetTrades()[0].GetMatchedAt(), matched) || !proto.Equal(trades.GetTrades()[0].GetPosition(), settledAt) {
			t.Fatalf("trades of HBEX: %v", trades)
		}
		h, err := q.holdings.ListAccountHoldings(ctx, &pb.ListAccountHoldingsRequest{AccountId: "HB-POWER", MinPosition: settledAt})
		if err != nil || len(h.GetHoldings()) != 1 || h.GetHoldings()[0].GetAvailable() != 540 {
			t.Fatalf("holdings after the trade: %v, %v", h, err)
		}
		at = settledAt
	})

	t.Run("a minimum position not reached before the deadline is DEADLINE_EXCEEDED", func(t *testing.T) {
		// One second leaves the server a 250ms margin to answer before the
		// client's own deadline fires, even on a loaded CI machine.
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := q.holdings.ListAccountHoldings(short, &pb.ListAccountHoldingsRequest{AccountId: "HB-STEEL",
			MinPosition: &pb.Position{Commit: at.GetCommit() + 1000, Prepare: at.GetPrepare() + 1000}})
		if st, _ := status.FromError(err); st.Code() != codes.DeadlineExceeded || !strings.Contains(st.Message(), "min_position") {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("a page token of other filters is INVALID_ARGUMENT with E1030", func(t *testing.T) {
		first, err := q.market.ListTrades(ctx, &pb.ListTradesRequest{PageSize: 1, MinPosition: at})
		if err != nil {
			t.Fatal(err)
		}
		if first.GetNextPageToken() == "" {
			t.Fatalf("two trades, yet no next page: %v", first)
		}
		second, err := q.market.ListTrades(ctx, &pb.ListTradesRequest{PageSize: 1, PageToken: first.GetNextPageToken()})
		if err != nil || len(second.GetTrades()) != 1 || second.GetNextPageToken() != "" || second.GetTrades()[0].GetTradeId() != "X-1" {
			t.Fatalf("second page: %v, %v", second, err)
		}
		_, err = q.market.ListTrades(ctx, &pb.ListTradesRequest{PageSize: 1, RightId: reg.GetRightId(), PageToken: first.GetNextPageToken()})
		wantCheck(t, err, codes.InvalidArgument, domain.CheckInvalidPageToken)
	})

	t.Run("the status shows each projection at the head", func(t *testing.T) {
		for _, name := range []string{"holdings", "market", "statistics"} {
			// A query with the position makes sure each has caught up.
			if _, err := q.stats.ListStatistics(ctx, &pb.ListStatisticsRequest{Level: pb.AdministrativeLevel_ADMINISTRATIVE_LEVEL_NATIONAL,
				Granularity: pb.StatisticsGranularity_STATISTICS_GRANULARITY_YEAR, MinPosition: at}); err != nil {
				t.Fatal(name, err)
			}
		}
		waitProjections(t, q, at)
		st, err := q.admin.GetProjectionStatus(ctx, &pb.GetProjectionStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		// holdings, market, statistics and the Merkle tree.
		if len(st.GetProjections()) != 4 || !proto.Equal(st.GetHead(), at) {
			t.Fatalf("status: %v", st)
		}
		for _, p := range st.GetProjections() {
			if !proto.Equal(p.GetActive().GetPosition(), at) || p.GetActive().GetLag() != 0 || p.GetActive().GetLagUnit() != pb.LagUnit_LAG_UNIT_EVENTS ||
				p.GetActive().GetEventsApplied() != at.GetCommit() {
				t.Fatalf("status of %s: %v", p.GetName(), p)
			}
		}
	})

	t.Run("a rebuild that waits answers from the new generation", func(t *testing.T) {
		before, err := q.admin.GetProjectionStatus(ctx, &pb.GetProjectionStatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := q.admin.RebuildProjection(ctx, &pb.RebuildProjectionRequest{Name: "market", Wait: true})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetStatus().GetRebuild() != nil || resp.GetStatus().GetActive().GetGeneration() == before.GetProjections()[1].GetActive().GetGeneration() {
			t.Fatalf("after the rebuild: %v", resp)
		}
		trades, err := q.market.ListTrades(ctx, &pb.ListTradesRequest{MinPosition: at})
		if err != nil || len(trades.GetTrades()) != 2 {
			t.Fatalf("trades after the rebuild: %v, %v", trades, err)
		}
		_, err = q.admin.RebuildProjection(ctx, &pb.RebuildProjectionRequest{Name: "ledger"})
		wantCheck(t, err, codes.InvalidArgument, domain.CheckInvalidEnumValue)
	})

	t.Run("after a restart the read models answer as before", func(t *testing.T) {
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		_, c2 := startServer(t, dir)
		q2 := queriesOf(c2)
		h, err := q2.holdings.ListRightHolders(ctx, &pb.ListRightHoldersRequest{RightId: reg.GetRightId(), MinPosition: at})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.GetHolders()) != 2 || h.GetRight().GetAvailable() != reg.GetQuantity() || h.GetRight().GetHolders() != 2 || !proto.Equal(h.GetPosition(), at) {
			t.Fatalf("holders after the restart: %v", h)
		}
	})
}

func positionBefore(a, b *pb.Position) bool {
	return a.GetCommit() < b.GetCommit() || (a.GetCommit() == b.GetCommit() && a.GetPrepare() < b.GetPrepare())
}

// waitProjections waits, through queries with a minimum position, until
// every projection has applied at.
func waitProjections(t *testing.T, q *queryClient, at *pb.Position) {
	t.Helper()
	ctx := as(t, "test")
	if _, err := q.holdings.ListHoldingTotals(ctx, &pb.ListHoldingTotalsRequest{MinPosition: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.market.ListTrades(ctx, &pb.ListTradesRequest{MinPosition: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.stats.ListStatistics(ctx, &pb.ListStatisticsRequest{Level: pb.AdministrativeLevel_ADMINISTRATIVE_LEVEL_NATIONAL,
		Granularity: pb.StatisticsGranularity_STATISTICS_GRANULARITY_YEAR, MinPosition: at}); err != nil {
		t.Fatal(err)
	}
}
