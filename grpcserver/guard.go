package grpcserver

import (
	"context"
	"sync"
	"time"

	"github.com/ecoregistry/ecoregistry/access"
	"github.com/ecoregistry/ecoregistry/domain"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"
)

// Access says how the server knows and limits its callers.
type Access struct {
	// Authorizer decides every call by the policy, for principals
	// authenticated by their client certificates (serve with MutualTLS).
	// Nil is development mode: each caller is the actor it declares in
	// ActorHeader, with every role.
	Authorizer *access.Authorizer
	// MaxCallsInFlight bounds the calls one principal (in development
	// mode, one declared actor) may have in flight at once; past it a call
	// is refused with RESOURCE_EXHAUSTED (E8004). A stream counts as one
	// call. 0 means DefaultMaxCallsInFlight.
	MaxCallsInFlight int
}

// DefaultMaxCallsInFlight is the default bound on one principal's calls in
// flight: far above what one client needs (ecobench drives the registry
// to saturation with 64), low enough that one exchange cannot take every
// handler goroutine of the server.
const DefaultMaxCallsInFlight = 256

// Guarded returns the server options that identify, limit and authorize
// every call by a: pass them to New. The guard runs inside the request log,
// so a refused call is logged like any other.
func Guarded(a Access, log *zap.Logger) []grpc.ServerOption {
	if a.MaxCallsInFlight <= 0 {
		a.MaxCallsInFlight = DefaultMaxCallsInFlight
	}
	g := &guard{auth: a.Authorizer, limit: a.MaxCallsInFlight, inFlight: map[string]int{}, log: log}
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(g.unary), grpc.ChainStreamInterceptor(g.stream)}
}

type guard struct {
	auth  *access.Authorizer
	limit int
	log   *zap.Logger

	mu       sync.Mutex
	inFlight map[string]int
}

type callerKey struct{}

// caller is who makes a call, once the guard has let it through.
type caller struct {
	// principal is the authenticated principal; zero in development mode.
	principal access.Principal
	// grant is the policy's decision; zero in development mode.
	grant access.Grant
	// auth decides the messages of a stream; nil in development mode.
	auth *access.Authorizer
}

func callerFrom(ctx context.Context) (caller, bool) {
	c, ok := ctx.Value(callerKey{}).(caller)
	return c, ok
}

func (g *guard) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	c, release, err := g.admit(ctx, info.FullMethod, req)
	if err != nil {
		return nil, err
	}
	defer release()
	ctx = context.WithValue(ctx, callerKey{}, c)
	resp, err := handler(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := c.grant.FilterAnswer(ctx, resp); err != nil {
		return nil, toStatus(ctx, g.log, info.FullMethod, err)
	}
	return resp, nil
}

func (g *guard) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx := ss.Context()
	c, release, err := g.admit(ctx, info.FullMethod, nil)
	if err != nil {
		return err
	}
	defer release()
	return handler(srv, &contextStream{ServerStream: ss, ctx: context.WithValue(ctx, callerKey{}, c)})
}

// admit identifies the caller, takes one of its calls in flight and, with
// a policy, decides the call (only its role, for a stream). The caller must
// call release when the call ends.
func (g *guard) admit(ctx context.Context, method string, req any) (caller, func(), error) {
	c := caller{auth: g.auth}
	key := infoFrom(ctx).actor
	if g.auth != nil {
		p, err := authenticated(ctx, time.Now())
		if err != nil {
			return caller{}, nil, toStatus(ctx, g.log, method, err)
		}
		c.principal, key = p, p.String()
	}
	release, err := g.take(key)
	if err != nil {
		return caller{}, nil, toStatus(ctx, g.log, method, err)
	}
	if g.auth != nil {
		if c.grant, err = g.auth.Authorize(ctx, c.principal, method, req); err != nil {
			release()
			return caller{}, nil, toStatus(ctx, g.log, method, err)
		}
	}
	return c, release, nil
}

// take counts a call of key in flight, or refuses it past the limit.
func (g *guard) take(key string) (func(), error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inFlight[key] >= g.limit {
		return nil, domain.DenyCallsInFlight(key, g.limit)
	}
	g.inFlight[key]++
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		// Entries go when their calls do, so that declared actors cannot
		// grow the map without bound.
		if g.inFlight[key]--; g.inFlight[key] <= 0 {
			delete(g.inFlight, key)
		}
	}, nil
}

// authorizeItem decides one message of a stream, such as one trade of
// SubmitTrades, for the stream's caller. It lets everything through in
// development mode.
func authorizeItem(ctx context.Context, method string, item any) error {
	c, ok := callerFrom(ctx)
	if !ok || c.auth == nil {
		return nil
	}
	_, err := c.auth.Authorize(ctx, c.principal, method, item)
	return err
}

// peerPrincipal returns the principal a connection's client certificate
// named, when the connection was made through MutualTLS and verified.
func peerPrincipal(ctx context.Context) (access.Principal, bool) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return access.Principal{}, false
	}
	id, ok := p.AuthInfo.(verifiedPeer)
	if !ok || id.err != nil {
		return access.Principal{}, false
	}
	return id.principal, true
}
