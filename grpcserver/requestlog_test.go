package grpcserver

import (
	"context"
	"testing"
	"time"

	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func TestACommandsLogLineSaysWhereItWrote(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	conn := startTestServer(t, zap.New(core), SlowRequest(0)).conn
	ctx := metadata.AppendToOutgoingContext(context.Background(), CorrelationHeader, "corr-open", ActorHeader, "office-1")
	resp, err := pb.NewAccountServiceClient(conn).OpenAccount(ctx, openAccountRequest("HB001"))
	if err != nil {
		t.Fatal(err)
	}
	entries := logs.FilterMessage("request").All()
	if len(entries) != 1 || entries[0].Level != zapcore.InfoLevel {
		t.Fatalf("request lines %v, want one at info", entries)
	}
	f := entries[0].ContextMap()
	if f["method"] != "/ecoregistry.v1.AccountService/OpenAccount" || f["code"] != "OK" || f["correlation_id"] != "corr-open" ||
		f["actor"] != "office-1" || f["stream"] != "account-HB001" || f["revision"] != uint64(0) ||
		f["position"] != resp.GetCommit().GetPosition().GetCommit() || resp.GetCommit().GetPosition().GetCommit() == 0 {
		t.Fatalf("log fields %v for commit %v", f, resp.GetCommit())
	}

	// A query writes nothing: no stream, no position.
	if _, err := pb.NewAccountServiceClient(conn).GetAccount(ctx, &pb.GetAccountRequest{AccountId: "HB001"}); err != nil {
		t.Fatal(err)
	}
	f = logs.FilterMessage("request").All()[1].ContextMap()
	if _, ok := f["stream"]; ok || f["method"] != "/ecoregistry.v1.AccountService/GetAccount" {
		t.Fatalf("a query's log fields %v", f)
	}
}

func TestRequestsAboveTheSlowThresholdAreWarnings(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threshold time.Duration
		msg       string
		level     zapcore.Level
	}{
		{"every call is slower than a nanosecond", time.Nanosecond, "slow request", zapcore.WarnLevel},
		{"no call is slower than an hour", time.Hour, "request", zapcore.InfoLevel},
		{"a threshold of 0 turns warnings off", 0, "request", zapcore.InfoLevel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.InfoLevel)
			conn := startTestServer(t, zap.New(core), SlowRequest(tc.threshold)).conn
			_, _ = pb.NewAccountServiceClient(conn).GetAccount(context.Background(), &pb.GetAccountRequest{AccountId: "NOBODY"})
			all := logs.All()
			if len(all) != 1 || all[0].Message != tc.msg || all[0].Level != tc.level {
				t.Fatalf("log lines %v, want one %q at %s", all, tc.msg, tc.level)
			}
			if all[0].ContextMap()["duration"] == nil {
				t.Fatalf("no duration in %v", all[0].ContextMap())
			}
		})
	}
}

func TestSlowRequestDefaultsToOneSecond(t *testing.T) {
	if got := slowRequestIn(nil); got != DefaultSlowRequest || DefaultSlowRequest != time.Second {
		t.Fatalf("default threshold %v", got)
	}
	if got := slowRequestIn([]grpc.ServerOption{SlowRequest(time.Minute), SlowRequest(2 * time.Second)}); got != 2*time.Second {
		t.Fatalf("the last SlowRequest should win, got %v", got)
	}
}

func TestATracedCallsLogLineNamesItsTrace(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	conn := startTestServer(t, zap.New(core), grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tp)))).conn
	ctx := metadata.AppendToOutgoingContext(context.Background(), CorrelationHeader, "corr-t")
	_, _ = pb.NewAccountServiceClient(conn).GetAccount(ctx, &pb.GetAccountRequest{AccountId: "NOBODY"})
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	f := logs.FilterMessage("request").All()[0].ContextMap()
	if f["trace_id"] != spans[0].SpanContext().TraceID().String() {
		t.Fatalf("log fields %v, span trace %s", f, spans[0].SpanContext().TraceID())
	}
	found := false
	for _, kv := range spans[0].Attributes() {
		found = found || (string(kv.Key) == CorrelationIDAttribute && kv.Value.AsString() == "corr-t")
	}
	if !found {
		t.Fatalf("span attributes %v lack the correlation id", spans[0].Attributes())
	}
}
