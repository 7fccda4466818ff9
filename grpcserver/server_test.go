package grpcserver

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
	"github.com/ecoregistry/ecoregistry/projections/market"
	"github.com/ecoregistry/ecoregistry/projections/statistics"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// testServer is a registry over a fresh embedded store, served by New on
// 127.0.0.1:0, and a client connection to it; both end with the test.
type testServer struct {
	svc  *registry.Service
	srv  *grpc.Server
	conn *grpc.ClientConn
	addr string
}

func startTestServer(t *testing.T, log *zap.Logger, opts ...grpc.ServerOption) *testServer {
	t.Helper()
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return serveStore(t, st, log, opts...)
}

// serveStore is startTestServer over the store st, which the caller closes.
func serveStore(t *testing.T, st eventstore.Store, log *zap.Logger, opts ...grpc.ServerOption) *testServer {
	t.Helper()
	ts := &testServer{svc: registry.New(st, registry.Options{})}
	t.Cleanup(ts.svc.Close)
	if err := ts.svc.LoadTradeIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.srv = New(ts.svc, log, opts...)
	m, err := projections.Open(t.TempDir(), st, []projections.Projection{holdings.New(), market.New(), statistics.New()}, projections.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	t.Cleanup(func() { m.Close() })
	if err := RegisterQueryServices(ts.srv, m, log); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = lis.Addr().String()
	go ts.srv.Serve(lis)
	t.Cleanup(ts.srv.Stop)
	if ts.conn, err = grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.conn.Close() })
	return ts
}

func TestEachRequestIsLoggedOnceWithItsCorrelationID(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	conn := startTestServer(t, zap.New(core)).conn

	ctx := metadata.AppendToOutgoingContext(context.Background(), CorrelationHeader, "corr-7", ActorHeader, "office-1")
	var header metadata.MD
	_, err := pb.NewAccountServiceClient(conn).GetAccount(ctx, &pb.GetAccountRequest{AccountId: "NOBODY"}, grpc.Header(&header))
	if err == nil {
		t.Fatal("an unknown account was found")
	}
	if got := header.Get(CorrelationHeader); len(got) != 1 || got[0] != "corr-7" {
		t.Fatalf("correlation header %v, want the client's", got)
	}
	entries := logs.FilterMessage("request").All()
	if len(entries) != 1 {
		t.Fatalf("%d request log lines, want 1", len(entries))
	}
	f := entries[0].ContextMap()
	if f["method"] != "/ecoregistry.v1.AccountService/GetAccount" || f["code"] != "NotFound" || f["correlation_id"] != "corr-7" || f["actor"] != "office-1" || f["duration"] == nil {
		t.Fatalf("log fields %v", f)
	}

	// Without a correlation id the server makes one and sends it back.
	header = nil
	_, _ = pb.NewAccountServiceClient(conn).GetAccount(context.Background(), &pb.GetAccountRequest{AccountId: "NOBODY"}, grpc.Header(&header))
	if got := header.Get(CorrelationHeader); len(got) != 1 || len(got[0]) != 36 {
		t.Fatalf("generated correlation id %v", got)
	}
}

func TestEachStreamIsLoggedOnceWithTheTradesItCarried(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	ts := startTestServer(t, zap.New(core))
	srv, conn := ts.srv, ts.conn

	ctx := metadata.AppendToOutgoingContext(context.Background(), CorrelationHeader, "corr-9", ActorHeader, "hbex-gateway")
	stream, err := pb.NewSettlementServiceClient(conn).SubmitTrades(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Trades on a right that does not exist: each is answered, refused.
	trades := []*pb.MatchedTrade{{ExchangeId: "HBEX", TradeId: "S-1", RightId: "NOPE"}, {ExchangeId: "HBEX", TradeId: "S-2", RightId: "NOPE"}}
	if err := stream.Send(&pb.SubmitTradesRequest{Trades: trades}); err != nil {
		t.Fatal(err)
	}
	for got := 0; got < len(trades); {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		got += len(resp.GetOutcomes())
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("the stream ended with %v", err)
	}
	srv.GracefulStop()
	entries := logs.FilterMessage("stream").All()
	if len(entries) != 1 {
		t.Fatalf("%d stream log lines, want 1", len(entries))
	}
	f := entries[0].ContextMap()
	if f["method"] != "/ecoregistry.v1.SettlementService/SubmitTrades" || f["code"] != "OK" || f["correlation_id"] != "corr-9" ||
		f["actor"] != "hbex-gateway" || f["items"] != int64(2) {
		t.Fatalf("log fields %v", f)
	}
}

func TestAccountPledgesNeedTheHoldingsReadModel(t *testing.T) {
	ts := startTestServer(t, zap.NewNop())
	svc := ts.svc
	body := "91420100MA4K12345"
	c, _ := domain.CreditCodeCheckCharacter(body)
	if _, _, err := svc.OpenAccount(context.Background(), registry.Meta{Actor: "test"}, domain.OpenAccount{AccountID: "HB001", Jurisdiction: "420100",
		Type: domain.AccountTypeHolding, Holder: domain.Holder{Name: "HB001", Kind: domain.HolderKindEnterprise, CreditCode: body + string(c)}}); err != nil {
		t.Fatal(err)
	}
	_, err := pb.NewPledgeServiceClient(ts.conn).ListPledges(context.Background(), &pb.ListPledgesRequest{AccountId: "HB001"})
	if st, _ := status.FromError(err); st.Code() != codes.Unimplemented || !strings.Contains(st.Message(), "give right_id") {
		t.Fatalf("a registry without the holdings read model: %v", err)
	}
}
