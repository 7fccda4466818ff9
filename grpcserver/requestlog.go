package grpcserver

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// DefaultSlowRequest is the duration above which a unary call is logged at
// warn level when New is not given SlowRequest.
const DefaultSlowRequest = time.Second

// slowRequestOption carries SlowRequest's threshold through New's
// grpc.ServerOption list; grpc itself ignores it.
type slowRequestOption struct {
	grpc.EmptyServerOption
	threshold time.Duration
}

// SlowRequest sets the duration above which New's server logs a unary call
// at warn level ("slow request") rather than at info ("request"); 0 logs
// every call at info. Streams, which last as long as their client keeps
// them open, are never slow.
func SlowRequest(threshold time.Duration) grpc.ServerOption {
	return slowRequestOption{threshold: threshold}
}

// slowRequestIn returns the threshold set by the last SlowRequest in opts,
// or DefaultSlowRequest.
func slowRequestIn(opts []grpc.ServerOption) time.Duration {
	threshold := DefaultSlowRequest
	for _, o := range opts {
		if s, ok := o.(slowRequestOption); ok {
			threshold = s.threshold
		}
	}
	return threshold
}

// requestLine is what a call's log line says beyond the call's facts: its
// message, the duration above which it is a warning (0: never), and the
// response, from which a command's commit is logged.
type requestLine struct {
	msg  string
	slow time.Duration
	resp any
	// ctx is the call's context, which may carry its trace.
	ctx context.Context
}

// committed is implemented by the responses of commands: they say where
// their events were written.
type committed interface{ GetCommit() *pb.Commit }

// commitOf returns where a call's response says its command wrote, or nil
// for a query, a failed call, or a trade refused without a record.
func commitOf(resp any) *pb.Commit {
	switch r := resp.(type) {
	case committed:
		return r.GetCommit()
	case *pb.SubmitTradeResponse:
		if s := r.GetOutcome().GetSettled(); s != nil {
			return s.GetCommit()
		}
		return r.GetOutcome().GetRefused().GetCommit()
	}
	return nil
}

// commitFields are the log fields of where a command wrote: the stream and
// the global position of its last event.
func commitFields(fields []zap.Field, c *pb.Commit) []zap.Field {
	if c == nil || c.GetStream() == "" {
		return fields
	}
	return append(fields, zap.String("stream", c.GetStream()), zap.Uint64("revision", c.GetStreamRevision()),
		zap.Uint64("position", c.GetPosition().GetCommit()))
}

// CorrelationIDAttribute is the attribute of a call's span that holds its
// correlation id, when the server traces calls.
const CorrelationIDAttribute = "ecoregistry.correlation_id"

// tagSpan records the call's correlation id on its span, if it is traced.
func tagSpan(ctx context.Context, ci callInfo) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.String(CorrelationIDAttribute, ci.correlationID))
	}
}

// traceField adds the id of the call's trace, when it is traced, so that a
// log line leads to its trace.
func traceField(ctx context.Context, fields []zap.Field) []zap.Field {
	if ctx == nil {
		return fields
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return append(fields, zap.String("trace_id", sc.TraceID().String()))
	}
	return fields
}
