package grpcserver

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/google/uuid"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Request metadata keys the registry reads.
const (
	// ActorHeader names who makes a request in development mode (no TLS):
	// the registry records the actor the client states here on every event
	// it writes, and refuses commands without it. With mutual TLS the actor
	// is the principal of the client certificate and this header is ignored.
	ActorHeader = "x-ecoregistry-actor"
	// CorrelationHeader carries the client's correlation id. When absent the
	// registry makes one; either way it is recorded on the events and sent
	// back in the response header of the same name.
	CorrelationHeader = "x-correlation-id"
)

type callInfoKey struct{}

// callInfo is what the interceptor learned about a call from its metadata.
type callInfo struct {
	actor         string
	correlationID string
	// request is a unary call's request, whose field paths refusals use.
	request proto.Message
}

func infoFrom(ctx context.Context) callInfo {
	ci, _ := ctx.Value(callInfoKey{}).(callInfo)
	return ci
}

// unaryInterceptor attaches the call's actor and correlation id to the
// context, sends the correlation id back, and logs one line per request, at
// warn level when it took longer than slow (when slow > 0).
func unaryInterceptor(log *zap.Logger, slow time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		ci, headerErr := incomingCallInfo(ctx)
		tagSpan(ctx, ci)
		// A header send can only fail when the client is gone; the call's own
		// outcome will say so.
		_ = grpc.SetHeader(ctx, metadata.MD{CorrelationHeader: {ci.correlationID}})
		var (
			resp any
			err  error
		)
		ci.request, _ = req.(proto.Message)
		ctx = context.WithValue(ctx, callInfoKey{}, ci)
		switch {
		case headerErr != nil:
			err = rejectionStatus(ctx, headerErr, domain.ViolationsOf(headerErr))
		case ci.request != nil && !isTradeRequest(ci.request):
			if terr := checkTimestamps(ci.request); terr != nil {
				err = rejectionStatus(ctx, terr, domain.ViolationsOf(terr))
				break
			}
			fallthrough
		default:
			resp, err = handler(ctx, req)
		}
		logRequest(log, requestLine{msg: "request", slow: slow, resp: resp, ctx: ctx}, info.FullMethod, start, ci, err, nil)
		return resp, err
	}
}

// incomingCallInfo reads the actor and correlation id of a call, making a
// correlation id when the client sent none. It reads the two headers alone
// rather than a copy of all the call's metadata. When a header is not valid
// (see validateCallHeaders) it returns the refusal, and a call info fit for
// the log and the response header: a fresh correlation id in place of a bad
// one and a clipped actor.
func incomingCallInfo(ctx context.Context) (callInfo, error) {
	ci := callInfo{actor: firstValue(metadata.ValueFromIncomingContext(ctx, ActorHeader)),
		correlationID: firstValue(metadata.ValueFromIncomingContext(ctx, CorrelationHeader))}
	// With mutual TLS the actor is the authenticated principal, whatever
	// the client declares (see guard.go); it is checked like a declared one.
	if p, ok := peerPrincipal(ctx); ok {
		ci.actor = p.String()
	}
	err := validateCallHeaders(ci.actor, ci.correlationID)
	if err != nil {
		if headerProblem(ci.correlationID) != "" {
			ci.correlationID = ""
		}
		ci.actor = clip(ci.actor)
	}
	if ci.correlationID == "" {
		ci.correlationID = uuid.NewString()
	}
	return ci, err
}

func firstValue(vs []string) string {
	if len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// logRequest writes a call's log line. The line's fields are only built
// when the logger will write it: ecoregistryd's logger samples, and under
// load drops most request lines.
func logRequest(log *zap.Logger, line requestLine, method string, start time.Time, ci callInfo, err error, items *streamStats) {
	took := time.Since(start)
	level, msg := zap.InfoLevel, line.msg
	if line.slow > 0 && took > line.slow {
		level, msg = zap.WarnLevel, "slow "+line.msg
	}
	ce := log.Check(level, msg)
	if ce == nil {
		return
	}
	st, _ := status.FromError(err)
	fields := make([]zap.Field, 0, 10)
	fields = append(fields,
		zap.String("method", method),
		zap.String("code", st.Code().String()),
		zap.Duration("duration", took),
		zap.String("correlation_id", ci.correlationID),
	)
	// Under mutual TLS the actor is the authenticated principal, which the
	// line then names as such; in development mode it is who the client
	// says it is.
	if ci.actor != "" {
		fields = append(fields, zap.String("actor", ci.actor))
	}
	if line.ctx != nil {
		if p, ok := peerPrincipal(line.ctx); ok {
			fields = append(fields, zap.String("principal", p.String()))
		}
	}
	fields = commitFields(fields, commitOf(line.resp))
	fields = traceField(line.ctx, fields)
	if items != nil {
		fields = append(fields, zap.Int64("items", items.items.Load()))
	}
	if err != nil {
		fields = append(fields, zap.String("error", st.Message()))
	}
	ce.Write(fields...)
}

type streamStatsKey struct{}

// streamStats counts what a stream carried, for its log line.
type streamStats struct{ items atomic.Int64 }

// countStreamItems adds n to the items the stream of ctx carried (trades,
// for SubmitTrades); it does nothing outside a logged stream.
func countStreamItems(ctx context.Context, n int) {
	if s, ok := ctx.Value(streamStatsKey{}).(*streamStats); ok {
		s.items.Add(int64(n))
	}
}

// contextStream is a server stream with a context the interceptor extended.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

// streamInterceptor does for streams what unaryInterceptor does for unary
// calls: the actor and correlation id go into the context, the correlation
// id goes back in the response header, and each stream is logged in one
// line when it ends, with how many items (trades) it carried.
func streamInterceptor(log *zap.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		ctx := ss.Context()
		ci, headerErr := incomingCallInfo(ctx)
		tagSpan(ctx, ci)
		// As for unary calls, a failed header send shows in the stream's own outcome.
		_ = ss.SetHeader(metadata.MD{CorrelationHeader: {ci.correlationID}})
		stats := &streamStats{}
		var err error
		if headerErr != nil {
			err = rejectionStatus(ctx, headerErr, domain.ViolationsOf(headerErr))
		} else {
			ctx = context.WithValue(context.WithValue(ctx, callInfoKey{}, ci), streamStatsKey{}, stats)
			err = handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
		}
		logRequest(log, requestLine{msg: "stream", ctx: ctx}, info.FullMethod, start, ci, err, stats)
		return err
	}
}
