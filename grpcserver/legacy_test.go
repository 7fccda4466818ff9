package grpcserver

import (
	"context"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// asActor is a context whose calls name actor and correlation id.
func asActor(actor, correlationID string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), ActorHeader, actor, CorrelationHeader, correlationID)
}

// setUpRight opens SELLER and BUYER and registers a carbon allowance of
// 1000 units to SELLER.
func setUpRight(t *testing.T, ts *testServer, right string) {
	t.Helper()
	ctx := asActor("office", "setup")
	for _, id := range []string{"SELLER", "BUYER"} {
		if _, err := pb.NewAccountServiceClient(ts.conn).OpenAccount(ctx, openAccountRequest(id)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := pb.NewRightServiceClient(ts.conn).RegisterRight(ctx, &pb.RegisterRightRequest{RightId: right, Type: pb.RightType_RIGHT_TYPE_CARBON_ALLOWANCE,
		Jurisdiction: "420000", Vintage: 2025, Quantity: 1000, HolderAccountId: "SELLER",
		Attributes: &pb.RegisterRightRequest_CarbonAllowance{CarbonAllowance: &pb.CarbonAllowanceAttributes{AllocatingProvince: "420000",
			Scheme: pb.CarbonScheme_CARBON_SCHEME_NATIONAL, AllocationMethod: pb.AllocationMethod_ALLOCATION_METHOD_FREE, CompliancePeriod: "2025"}}})
	if err != nil {
		t.Fatal(err)
	}
}

func trade(right, id string, quantity int64, matchedAt time.Time) *pb.MatchedTrade {
	return &pb.MatchedTrade{ExchangeId: "HBEX", TradeId: id, RightId: right, SellerAccountId: "SELLER", BuyerAccountId: "BUYER",
		Amount: &pb.MatchedTrade_Quantity{Quantity: quantity}, Price: &pb.Price{AmountMinor: 5850, Currency: "CNY"}, MatchedAt: timestamppb.New(matchedAt)}
}

// withLegacyCorrelationID rewrites stored metadata as versions before the
// header checks could write it: with a correlation id that is not UTF-8.
func withLegacyCorrelationID(t *testing.T, md []byte) []byte {
	t.Helper()
	env, err := eventcodec.DecodeMetadata(md)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, env.Actor)
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendString(b, "corr-\xff\xfe")
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	return protowire.AppendBytes(b, env.PreviousHash[:])
}

// A stream that holds an event whose envelope is not valid UTF-8, as an
// older version could write, is read, decided on and served: the right,
// a replay of the trade it records, and a new transfer, none of them
// Internal.
func TestAStreamWithAnEnvelopeThatIsNotUTF8IsServed(t *testing.T) {
	const right = "CEA-LEGACY"
	old, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	before := serveStore(t, old, zap.NewNop())
	setUpRight(t, before, right)
	matchedAt := time.Now().Add(-time.Second).UTC()
	first, err := pb.NewSettlementServiceClient(before.conn).SubmitTrade(asActor("hbex", "t-1"), &pb.SubmitTradeRequest{Trade: trade(right, "X-1", 100, matchedAt)})
	if err != nil || first.GetOutcome().GetSettled() == nil {
		t.Fatalf("the trade: %v %v", first, err)
	}

	// The same log, with the trade's envelope as an older version wrote it.
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	all, err := old.ReadAll(ctx, eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range all {
		data := ev.EventData
		if data.Type == domain.EventTypeTradeSettled {
			data.Metadata = withLegacyCorrelationID(t, data.Metadata)
		}
		if _, err := st.Append(ctx, ev.Stream, eventstore.Any(), data); err != nil {
			t.Fatal(err)
		}
	}

	ts := serveStore(t, st, zap.NewNop())
	rights := pb.NewRightServiceClient(ts.conn)
	got, err := rights.GetRight(ctx, &pb.GetRightRequest{RightId: right})
	if err != nil {
		t.Fatalf("GetRight: %v", err)
	}
	if _, err := protojson.Marshal(got); err != nil {
		t.Fatalf("GetRight's answer cannot be written as JSON: %v", err)
	}
	replay, err := pb.NewSettlementServiceClient(ts.conn).SubmitTrade(asActor("hbex", "t-1-again"), &pb.SubmitTradeRequest{Trade: trade(right, "X-1", 100, matchedAt)})
	if err != nil {
		t.Fatalf("the trade's replay: %v", err)
	}
	if o := replay.GetOutcome(); !o.GetReplay() || o.GetSettled().GetQuantity() != 100 || o.GetSettled().GetCommit().GetCorrelationId() != "corr-\uFFFD" {
		t.Fatalf("the replay: %v", o)
	}
	if _, err := protojson.Marshal(replay); err != nil {
		t.Fatalf("the replay cannot be written as JSON: %v", err)
	}
	_, err = pb.NewTransferServiceClient(ts.conn).TransferUnits(asActor("office", "t-2"), &pb.TransferUnitsRequest{RightId: right, TransferId: "T-2",
		FromAccountId: "SELLER", ToAccountId: "BUYER", Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 5}})
	if err != nil {
		t.Fatalf("a transfer after the legacy event: %v", err)
	}
	stream, err := st.ReadStream(ctx, domain.RightStream(right), 0, eventstore.Forwards, 0)
	if err != nil {
		t.Fatal(err)
	}
	chain := make([]eventcodec.StoredEvent, len(stream))
	for i, ev := range stream {
		chain[i] = eventcodec.StoredEvent{Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata}
	}
	if _, err := eventcodec.VerifyChain(chain); err != nil {
		t.Fatal(err)
	}
	if h, err := pb.NewRightServiceClient(ts.conn).GetHolding(ctx, &pb.GetHoldingRequest{RightId: right, AccountId: "BUYER"}); err != nil || h.GetHolding().GetAvailable() != 105 {
		t.Fatalf("the buyer's holding: %v %v", h, err)
	}
}
