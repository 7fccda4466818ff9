package grpcserver

import (
	"context"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/access"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// BenchmarkGuard measures what the guard adds to a SubmitTrade call, around
// a handler that does nothing: in development mode (a count of the actor's
// calls in flight) and with a policy (the principal of the connection, the
// count, and the exchange's check of the trade, which reads no state).
// Run it with
//
//	go test ./grpcserver -run '^$' -bench Guard -benchmem
func BenchmarkGuard(b *testing.B) {
	policy, err := access.ParsePolicy([]byte(`bindings: [{organisation: hbex, role: exchange, exchanges: [HBEX], accounts: [SELLER, BUYER]}]`))
	if err != nil {
		b.Fatal(err)
	}
	req := &pb.SubmitTradeRequest{Trade: &pb.MatchedTrade{ExchangeId: "HBEX", TradeId: "X-1", RightId: "R", SellerAccountId: "SELLER", BuyerAccountId: "BUYER"}}
	info := &grpc.UnaryServerInfo{FullMethod: pb.SettlementService_SubmitTrade_FullMethodName}
	handler := func(ctx context.Context, req any) (any, error) { return req, nil }
	tlsPeer := &peer.Peer{AuthInfo: verifiedPeer{TLSInfo: credentials.TLSInfo{}, principal: access.Principal{Organisation: "hbex", Name: "gateway"},
		notAfter: time.Now().Add(time.Hour)}}
	for _, mode := range []struct {
		name string
		a    Access
		ctx  context.Context
	}{
		{"development", Access{}, context.WithValue(context.Background(), callInfoKey{}, callInfo{actor: "hbex-gateway"})},
		{"policy", Access{Authorizer: access.NewAuthorizer(policy, nil)}, peer.NewContext(context.Background(), tlsPeer)},
	} {
		b.Run(mode.name, func(b *testing.B) {
			g := &guard{auth: mode.a.Authorizer, limit: DefaultMaxCallsInFlight, inFlight: map[string]int{}, log: zap.NewNop()}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.unary(mode.ctx, req, info, handler); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
