// Package grpcserver is the gRPC edge of ecoregistry: it turns API requests
// into domain commands for package registry, turns results back into API
// responses, and maps every error to a gRPC status through one table
// (errors.go). Rejections carry their check code as the google.rpc.ErrorInfo
// reason; unexpected errors become Internal and are logged, never shown.
package grpcserver

import (
	"context"
	"errors"
	"sync"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/protobuf/proto"
)

// New returns a gRPC server with the registry's services, the standard
// health service (reporting SERVING) and server reflection, so that grpcurl
// works without the .proto files. Every call is logged; SlowRequest among
// opts sets when a unary call's line is a warning, and WatchStore which
// store turns health NOT_SERVING when it stops taking writes.
func New(svc *registry.Service, log *zap.Logger, opts ...grpc.ServerOption) *grpc.Server {
	opts = append([]grpc.ServerOption{grpc.ChainUnaryInterceptor(unaryInterceptor(log, slowRequestIn(opts))), grpc.ChainStreamInterceptor(streamInterceptor(log))}, opts...)
	s := grpc.NewServer(opts...)
	h := &handlers{svc: svc, log: log}
	pb.RegisterAccountServiceServer(s, h)
	pb.RegisterRightServiceServer(s, h)
	pb.RegisterTransferServiceServer(s, h)
	pb.RegisterRetirementServiceServer(s, h)
	registerLifecycle(s, h)
	registerSettlement(s, h)
	hs := health.NewServer()
	h.health = hs
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	for _, name := range append([]string{pb.AccountService_ServiceDesc.ServiceName, pb.RightService_ServiceDesc.ServiceName, pb.TransferService_ServiceDesc.ServiceName, pb.RetirementService_ServiceDesc.ServiceName}, append(lifecycleServices, settlementServices...)...) {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	healthpb.RegisterHealthServer(s, hs)
	reflection.Register(s)
	for _, o := range opts {
		if w, ok := o.(watchStoreOption); ok {
			eventstore.NotifyWritesStopped(w.store, h.noteStoreFailure)
		}
	}
	return s
}

// watchStoreOption carries WatchStore's store through New's
// grpc.ServerOption list; grpc itself ignores it.
type watchStoreOption struct {
	grpc.EmptyServerOption
	store eventstore.Store
}

// WatchStore has New's health service turn NOT_SERVING as soon as store
// stops taking writes (eventstore.WritesStoppedNotifier), whichever writer
// met the failure first: a call, the expiry scheduler or another. Without
// it, only a call that meets the failure turns health NOT_SERVING.
func WatchStore(store eventstore.Store) grpc.ServerOption {
	return watchStoreOption{store: store}
}

type handlers struct {
	pb.UnimplementedAccountServiceServer
	pb.UnimplementedRightServiceServer
	pb.UnimplementedTransferServiceServer
	pb.UnimplementedRetirementServiceServer
	svc *registry.Service
	log *zap.Logger
	// health is the server's health service; it turns NOT_SERVING for good
	// once the store stops taking writes.
	health   *health.Server
	stopOnce sync.Once
}

// meta builds the envelope facts of a command from the call's metadata. A
// command without an actor is refused: every event must say who made it.
func (h *handlers) meta(ctx context.Context) (registry.Meta, error) {
	ci := infoFrom(ctx)
	if err := domain.ValidateActor(ActorHeader, ci.actor); err != nil {
		return registry.Meta{}, err
	}
	m := registry.Meta{Actor: ci.actor, CorrelationID: ci.correlationID}
	if c, ok := callerFrom(ctx); ok && c.principal.Organisation != "" {
		m.Organisation, m.Role = c.principal.Organisation, string(c.grant.Role())
	}
	return m, nil
}

func (h *handlers) fail(ctx context.Context, method string, err error) error {
	h.noteStoreFailure(err)
	return toStatus(ctx, h.log, method, err)
}

// noteStoreFailure turns every service NOT_SERVING, for good, when err says
// that the store stopped taking writes (eventstore.ErrWritesStopped): the
// server cannot take a command again before it is restarted, and a load
// balancer should send commands elsewhere.
func (h *handlers) noteStoreFailure(err error) {
	if err == nil || !errors.Is(err, eventstore.ErrWritesStopped) {
		return
	}
	h.stopOnce.Do(func() {
		h.log.Error("the event store stopped taking writes; health is NOT_SERVING until a restart", zap.Error(err))
		h.health.Shutdown()
	})
}

func (h *handlers) OpenAccount(ctx context.Context, req *pb.OpenAccountRequest) (*pb.OpenAccountResponse, error) {
	const method = "OpenAccount"
	meta, err := h.meta(ctx)
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	a, commit, err := h.svc.OpenAccount(ctx, meta, openAccountFromProto(req))
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	return &pb.OpenAccountResponse{Account: accountToProto(a, commit.Revision, ""), Commit: commitToProto(commit)}, nil
}

func (h *handlers) ChangeAccountStatus(ctx context.Context, req *pb.ChangeAccountStatusRequest) (*pb.ChangeAccountStatusResponse, error) {
	const method = "ChangeAccountStatus"
	meta, err := h.meta(ctx)
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	cmd := domain.ChangeAccountStatus{AccountID: req.GetAccountId(), To: domain.AccountStatus(req.GetStatus()), Reason: req.GetReason()}
	a, commit, err := h.svc.ChangeAccountStatus(ctx, meta, cmd)
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	return &pb.ChangeAccountStatusResponse{Account: accountToProto(a, commit.Revision, a.StatusReason()), Commit: commitToProto(commit)}, nil
}

func (h *handlers) GetAccount(ctx context.Context, req *pb.GetAccountRequest) (*pb.GetAccountResponse, error) {
	a, rev, err := h.svc.Account(ctx, req.GetAccountId())
	if err != nil {
		return nil, h.fail(ctx, "GetAccount", err)
	}
	return &pb.GetAccountResponse{Account: accountToProto(a, rev, a.StatusReason())}, nil
}

func (h *handlers) RegisterRight(ctx context.Context, req *pb.RegisterRightRequest) (*pb.RegisterRightResponse, error) {
	const method = "RegisterRight"
	meta, err := h.meta(ctx)
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	r, commit, err := h.svc.RegisterRight(ctx, meta, registerRightFromProto(req))
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	return &pb.RegisterRightResponse{Right: rightToProto(&r, commit.Revision), Commit: commitToProto(commit)}, nil
}

func (h *handlers) GetRight(ctx context.Context, req *pb.GetRightRequest) (*pb.GetRightResponse, error) {
	r, rev, err := h.svc.Right(ctx, req.GetRightId())
	if err != nil {
		return nil, h.fail(ctx, "GetRight", err)
	}
	return &pb.GetRightResponse{Right: rightToProto(&r, rev)}, nil
}

func (h *handlers) GetHolding(ctx context.Context, req *pb.GetHoldingRequest) (*pb.GetHoldingResponse, error) {
	hr, err := h.svc.Holding(ctx, req.GetRightId(), req.GetAccountId())
	if err != nil {
		return nil, h.fail(ctx, "GetHolding", err)
	}
	return &pb.GetHoldingResponse{Holding: holdingToProto(req.GetRightId(), hr.SerialPrefix, hr.Holding), Revision: hr.Revision}, nil
}

func (h *handlers) TransferUnits(ctx context.Context, req *pb.TransferUnitsRequest) (*pb.TransferUnitsResponse, error) {
	const method = "TransferUnits"
	meta, err := h.meta(ctx)
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	t, err := h.svc.TransferUnits(ctx, meta, transferFromProto(req))
	if err != nil {
		return nil, h.failReused(ctx, method, err, func(o registry.Recorded) (proto.Message, bool) {
			e, ok := o.Event.(domain.UnitsTransferred)
			return transferResponse(registry.Transferred{Event: e, SerialPrefix: o.SerialPrefix, Commit: o.Commit}), ok
		})
	}
	return transferResponse(t), nil
}

func transferResponse(t registry.Transferred) *pb.TransferUnitsResponse {
	return &pb.TransferUnitsResponse{TransferId: t.Event.TransferID, Quantity: t.Event.Quantity, Ranges: prefixedRanges(t.SerialPrefix, t.Event.Blocks),
		Commit: commitToProto(t.Commit), Replay: t.Commit.Replay}
}

func (h *handlers) RetireUnits(ctx context.Context, req *pb.RetireUnitsRequest) (*pb.RetireUnitsResponse, error) {
	const method = "RetireUnits"
	meta, err := h.meta(ctx)
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	r, err := h.svc.RetireUnits(ctx, meta, retireFromProto(req))
	if err != nil {
		return nil, h.failReused(ctx, method, err, func(o registry.Recorded) (proto.Message, bool) {
			e, ok := o.Event.(domain.UnitsRetired)
			return retireResponse(registry.Retired{Event: e, SerialPrefix: o.SerialPrefix, Commit: o.Commit}), ok
		})
	}
	return retireResponse(r), nil
}

func retireResponse(r registry.Retired) *pb.RetireUnitsResponse {
	return &pb.RetireUnitsResponse{RetirementId: r.Event.RetirementID, Quantity: r.Event.Quantity, Ranges: prefixedRanges(r.SerialPrefix, r.Event.Blocks),
		Commit: commitToProto(r.Commit), Replay: r.Commit.Replay}
}
