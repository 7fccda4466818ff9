package main

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/ecoregistry/ecoregistry/grpcserver"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// startTracedServer runs ecoregistryd with tracing to tp (or, when tp is
// nil, to cfg.OTLPEndpoint) and returns it with an account client.
func startTracedServer(t *testing.T, cfg Config, tp *sdktrace.TracerProvider) (*Main, pb.AccountServiceClient) {
	t.Helper()
	cfg.Store, cfg.Data, cfg.Listen, cfg.LogLevel, cfg.ShutdownTimeout = StorePebble, t.TempDir(), "127.0.0.1:0", "info", 5*time.Second
	m := NewMain(cfg)
	m.Logger = zap.NewNop()
	if tp != nil {
		m.TracerProvider = tp
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	conn, err := grpc.NewClient(m.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return m, pb.NewAccountServiceClient(conn)
}

func openTracedAccount(t *testing.T, accounts pb.AccountServiceClient) *pb.OpenAccountResponse {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(as(t, "office-hubei"), grpcserver.CorrelationHeader, "corr-traced")
	resp, err := accounts.OpenAccount(ctx, &pb.OpenAccountRequest{AccountId: "TRACED", Jurisdiction: "420100", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
		Holder: &pb.Holder{Name: "Traced Co.", Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: creditCode(t, "91420100MA4K12345")}})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func attr(kvs []attribute.KeyValue, key string) (attribute.Value, bool) {
	for _, kv := range kvs {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func TestCallsAndAppendsAreTracedWithTheCorrelationID(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	_, accounts := startTracedServer(t, Config{}, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	resp := openTracedAccount(t, accounts)

	var rpc, appended sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		switch s.Name() {
		case "ecoregistry.v1.AccountService/OpenAccount":
			rpc = s
		case "eventstore.Append":
			appended = s
		}
	}
	if rpc == nil || appended == nil {
		t.Fatalf("spans %v: want the call's and the append's", rec.Ended())
	}
	for _, s := range []sdktrace.ReadOnlySpan{rpc, appended} {
		t.Logf("span %s trace %s kind %s attributes %v", s.Name(), s.SpanContext().TraceID(), s.SpanKind(), s.Attributes())
	}
	if v, _ := attr(rpc.Attributes(), grpcserver.CorrelationIDAttribute); v.AsString() != "corr-traced" {
		t.Errorf("the call's span has correlation id %q", v.AsString())
	}
	ids, _ := attr(appended.Attributes(), "ecoregistry.correlation_ids")
	stream, _ := attr(appended.Attributes(), "ecoregistry.stream")
	pos, _ := attr(appended.Attributes(), "ecoregistry.position")
	if !slices.Contains(ids.AsStringSlice(), "corr-traced") || stream.AsString() != "account-TRACED" || uint64(pos.AsInt64()) != resp.GetCommit().GetPosition().GetCommit() {
		t.Errorf("the append's span has %v", appended.Attributes())
	}
}

// collector is an OTLP/gRPC trace collector that keeps the names of the
// spans it receives.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	names []string
}

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.names = append(c.names, s.GetName())
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func TestOTLPEndpointReceivesTheSpans(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, c)
	go srv.Serve(lis) //nolint:errcheck // Serve returns when Stop is called.
	t.Cleanup(srv.Stop)

	m, accounts := startTracedServer(t, Config{OTLPEndpoint: lis.Addr().String()}, nil)
	openTracedAccount(t, accounts)
	// Closing flushes the batch of spans to the collector.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.names, "ecoregistry.v1.AccountService/OpenAccount") || !slices.Contains(c.names, "eventstore.Append") {
		t.Fatalf("the collector received %v", c.names)
	}
}

func TestTracingIsOffByDefault(t *testing.T) {
	m, _ := startServer(t, t.TempDir())
	if m.TracerProvider != nil {
		t.Fatal("a tracer provider without --otlp-endpoint")
	}
}
