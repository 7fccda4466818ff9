package grpcserver

import (
	"context"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Request metadata keys the registry reads.
const (
	// ActorHeader names who makes a request. Until authentication exists the
	// registry records the actor the client states here on every event it
	// writes; commands without it are refused.
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
}

func infoFrom(ctx context.Context) callInfo {
	ci, _ := ctx.Value(callInfoKey{}).(callInfo)
	return ci
}

// maxHeaderLen bounds the actor and correlation id so that a client cannot
// make every event it causes arbitrarily large.
const maxHeaderLen = 256

func firstHeader(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// unaryInterceptor attaches the call's actor and correlation id to the
// context, sends the correlation id back, and logs one line per request.
func unaryInterceptor(log *zap.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		md, _ := metadata.FromIncomingContext(ctx)
		ci := callInfo{actor: firstHeader(md, ActorHeader), correlationID: firstHeader(md, CorrelationHeader)}
		if ci.correlationID == "" {
			ci.correlationID = uuid.NewString()
		}
		// A header send can only fail when the client is gone; the call's own
		// outcome will say so.
		_ = grpc.SetHeader(ctx, metadata.Pairs(CorrelationHeader, ci.correlationID))
		var (
			resp any
			err  error
		)
		if len(ci.actor) > maxHeaderLen || len(ci.correlationID) > maxHeaderLen {
			err = invalidHeaderError()
		} else {
			resp, err = handler(context.WithValue(ctx, callInfoKey{}, ci), req)
		}
		st, _ := status.FromError(err)
		fields := []zap.Field{
			zap.String("method", info.FullMethod),
			zap.String("code", st.Code().String()),
			zap.Duration("duration", time.Since(start)),
			zap.String("correlation_id", ci.correlationID),
		}
		if ci.actor != "" {
			fields = append(fields, zap.String("actor", ci.actor))
		}
		if err != nil {
			fields = append(fields, zap.String("error", st.Message()))
		}
		log.Info("request", fields...)
		return resp, err
	}
}
