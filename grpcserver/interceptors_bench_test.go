package grpcserver

import (
	"context"
	"io"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// headerStream is the part of a server transport stream the interceptor
// uses: the response header it sets.
type headerStream struct{ header metadata.MD }

func (s *headerStream) Method() string                  { return "/ecoregistry.v1.SettlementService/SubmitTrade" }
func (s *headerStream) SetHeader(md metadata.MD) error  { s.header = md; return nil }
func (s *headerStream) SendHeader(md metadata.MD) error { return nil }
func (s *headerStream) SetTrailer(md metadata.MD) error { return nil }

// BenchmarkUnaryInterceptor measures what the interceptor adds to every
// unary call, around a handler that does nothing: reading the actor and
// correlation id, sending the id back, and the request log, with the
// logger ecoregistryd builds (JSON, sampled: the first 100 lines a second
// of each message, then every 100th), writing to nothing. Run it with
//
//	go test ./grpcserver -run '^$' -bench UnaryInterceptor -benchmem
func BenchmarkUnaryInterceptor(b *testing.B) {
	core := zapcore.NewSamplerWithOptions(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.InfoLevel),
		time.Second, 100, 100)
	intercept := unaryInterceptor(zap.New(core), DefaultSlowRequest)
	info := &grpc.UnaryServerInfo{FullMethod: "/ecoregistry.v1.SettlementService/SubmitTrade"}
	handler := func(ctx context.Context, req any) (any, error) { return req, nil }
	// What a grpc-go client sends, with the registry's two headers.
	md := metadata.Pairs(":authority", "127.0.0.1:50051", "content-type", "application/grpc", "user-agent", "grpc-go/1.77.0",
		ActorHeader, "hbex-gateway", CorrelationHeader, "c0ffee-0001")
	for _, with := range []struct {
		name string
		md   metadata.MD
	}{{"with-correlation-id", md}, {"without-correlation-id", metadata.Join(metadata.Pairs(ActorHeader, "hbex-gateway"))}} {
		b.Run(with.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s := &headerStream{}
				ctx := grpc.NewContextWithServerTransportStream(metadata.NewIncomingContext(context.Background(), with.md), s)
				if _, err := intercept(ctx, "req", info, handler); err != nil {
					b.Fatal(err)
				}
				if len(s.header.Get(CorrelationHeader)) != 1 {
					b.Fatal("no correlation id sent back")
				}
			}
		})
	}
}
