package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
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

	"github.com/ecoregistry/ecoregistry/eventstore"
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

// A call is traced from its span to its decision (a child), to the append
// that wrote its command (a root span linking the call) and to the commits
// of the read models that applied it (linking the append), each with the
// correlation id or the positions that tie them together.
func TestACallIsTracedFromItsDecisionToTheReadModels(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	m, accounts := startTracedServer(t, Config{}, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	resp := openTracedAccount(t, accounts)
	pos := eventstore.Position{Commit: resp.GetCommit().GetPosition().GetCommit(), Prepare: resp.GetCommit().GetPosition().GetPrepare()}
	for _, name := range m.projections.Names() {
		r, _ := m.projections.Runner(name)
		if err := r.Wait(t.Context(), pos); err != nil {
			t.Fatal(err)
		}
	}
	// The read models have committed the account; once they have stopped,
	// the spans of their commits have ended.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	var rpc, decided, appended sdktrace.ReadOnlySpan
	var applied []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		switch s.Name() {
		case "ecoregistry.v1.AccountService/OpenAccount":
			rpc = s
		case "registry.Decide":
			decided = s
		case "eventstore.Append":
			appended = s
		case "projections.Apply":
			applied = append(applied, s)
		}
	}
	if rpc == nil || decided == nil || appended == nil || len(applied) != len(m.projections.Names()) {
		t.Fatalf("spans %v: want the call's, its decision's, the append's and one commit of each read model", rec.Ended())
	}
	for _, s := range append([]sdktrace.ReadOnlySpan{rpc, decided, appended}, applied...) {
		t.Log(describeSpan(s))
	}
	if v, _ := attr(rpc.Attributes(), grpcserver.CorrelationIDAttribute); v.AsString() != "corr-traced" {
		t.Errorf("the call's span has correlation id %q", v.AsString())
	}
	if v, _ := attr(decided.Attributes(), "ecoregistry.correlation_id"); v.AsString() != "corr-traced" || decided.Parent().SpanID() != rpc.SpanContext().SpanID() {
		t.Errorf("the decision's span: parent %s, attributes %v", decided.Parent().SpanID(), decided.Attributes())
	}
	ids, _ := attr(appended.Attributes(), "ecoregistry.correlation_ids")
	stream, _ := attr(appended.Attributes(), "ecoregistry.stream")
	at, _ := attr(appended.Attributes(), "ecoregistry.position")
	if !slices.Contains(ids.AsStringSlice(), "corr-traced") || stream.AsString() != "account-TRACED" || uint64(at.AsInt64()) != pos.Commit ||
		len(appended.Links()) != 1 || appended.Links()[0].SpanContext.SpanID() != rpc.SpanContext().SpanID() {
		t.Errorf("the append's span: attributes %v, links %v", appended.Attributes(), appended.Links())
	}
	for _, s := range applied {
		first, _ := attr(s.Attributes(), "ecoregistry.position.first")
		last, _ := attr(s.Attributes(), "ecoregistry.position.last")
		if uint64(first.AsInt64()) > pos.Commit || uint64(last.AsInt64()) < pos.Commit || len(s.Links()) != 1 ||
			s.Links()[0].SpanContext.SpanID() != appended.SpanContext().SpanID() {
			t.Errorf("a read model's commit: attributes %v, links %v", s.Attributes(), s.Links())
		}
	}
}

// describeSpan is a span as the README shows it: name, trace and span ids,
// parent, links and attributes.
func describeSpan(s sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s trace=%s span=%s", s.Name(), s.SpanContext().TraceID(), s.SpanContext().SpanID())
	if s.Parent().IsValid() {
		fmt.Fprintf(&b, " parent=%s", s.Parent().SpanID())
	}
	for _, l := range s.Links() {
		kind, _ := attr(l.Attributes, "ecoregistry.link")
		fmt.Fprintf(&b, " link(%s)=%s/%s", kind.AsString(), l.SpanContext.TraceID(), l.SpanContext.SpanID())
	}
	for _, kv := range s.Attributes() {
		if strings.HasPrefix(string(kv.Key), "ecoregistry.") {
			fmt.Fprintf(&b, " %s=%s", kv.Key, kv.Value.Emit())
		}
	}
	return b.String()
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
	if !slices.Contains(c.names, "ecoregistry.v1.AccountService/OpenAccount") || !slices.Contains(c.names, "registry.Decide") || !slices.Contains(c.names, "eventstore.Append") {
		t.Fatalf("the collector received %v", c.names)
	}
}

func TestTracingIsOffByDefault(t *testing.T) {
	m, _ := startServer(t, t.TempDir())
	if m.TracerProvider != nil {
		t.Fatal("a tracer provider without --otlp-endpoint")
	}
}
