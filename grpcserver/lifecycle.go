package grpcserver

import (
	"context"
	"errors"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
)

// lifecycleServices names the services registerLifecycle adds, for health.
var lifecycleServices = []string{
	pb.PledgeService_ServiceDesc.ServiceName, pb.FreezeService_ServiceDesc.ServiceName,
	pb.ReservationService_ServiceDesc.ServiceName, pb.CancellationService_ServiceDesc.ServiceName,
	pb.CorrectionService_ServiceDesc.ServiceName,
}

// registerLifecycle adds the pledge, freeze, reservation, cancellation and
// correction services to s.
func registerLifecycle(s *grpc.Server, h *handlers) {
	lh := &lifecycleHandlers{handlers: h}
	pb.RegisterPledgeServiceServer(s, lh)
	pb.RegisterFreezeServiceServer(s, lh)
	pb.RegisterReservationServiceServer(s, lh)
	pb.RegisterCancellationServiceServer(s, lh)
	pb.RegisterCorrectionServiceServer(s, lh)
}

// lifecycleHandlers serves the lifecycle services with the common handlers'
// metadata and error mapping.
type lifecycleHandlers struct {
	pb.UnimplementedPledgeServiceServer
	pb.UnimplementedFreezeServiceServer
	pb.UnimplementedReservationServiceServer
	pb.UnimplementedCancellationServiceServer
	pb.UnimplementedCorrectionServiceServer
	*handlers
}

// errUnexpectedEvent reports a registry result of the wrong event type: a
// programming error, answered as Internal.
var errUnexpectedEvent = errors.New("grpcserver: the registry recorded an unexpected event")

// record runs a lifecycle command with the call's metadata and answers
// with respond's response to the event it recorded, of type E. The refusal
// of a re-used id carries, as a detail, respond's response to the original.
func record[E domain.Event, R proto.Message](ctx context.Context, h *lifecycleHandlers, method string,
	run func(registry.Meta) (registry.Recorded, error), respond func(E, registry.Recorded) R) (R, error) {
	var zero R
	meta, err := h.meta(ctx)
	if err != nil {
		return zero, h.fail(ctx, method, err)
	}
	rec, err := run(meta)
	if err != nil {
		return zero, h.failReused(ctx, method, err, func(o registry.Recorded) (proto.Message, bool) {
			e, ok := o.Event.(E)
			if !ok {
				return nil, false
			}
			return respond(e, o), true
		})
	}
	e, ok := rec.Event.(E)
	if !ok {
		h.log.Error("unexpected event", zap.String("method", method), zap.String("type", rec.Event.EventType()))
		return zero, h.fail(ctx, method, errUnexpectedEvent)
	}
	return respond(e, rec), nil
}

func (h *lifecycleHandlers) PledgeUnits(ctx context.Context, req *pb.PledgeUnitsRequest) (*pb.PledgeUnitsResponse, error) {
	return record(ctx, h, "PledgeUnits", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.PledgeUnits(ctx, m, pledgeFromProto(req))
	}, func(e domain.UnitsPledged, rec registry.Recorded) *pb.PledgeUnitsResponse {
		p := domain.PledgeView{PledgeID: e.PledgeID, Pledgor: e.Pledgor, Pledgee: e.Pledgee, LoanReference: e.LoanReference,
			Maturity: e.Maturity, PledgedAt: e.PledgedAt, Blocks: e.Blocks, Quantity: e.Quantity}
		return &pb.PledgeUnitsResponse{Pledge: pledgeToProto(e.RightID, rec.SerialPrefix, p), Commit: commitToProto(rec.Commit), Replay: rec.Commit.Replay}
	})
}

func (h *lifecycleHandlers) ReleasePledge(ctx context.Context, req *pb.ReleasePledgeRequest) (*pb.ReleasePledgeResponse, error) {
	return record(ctx, h, "ReleasePledge", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.ReleasePledge(ctx, m, domain.ReleasePledge{RightID: req.GetRightId(), PledgeID: req.GetPledgeId(),
			ReleasedBy: domain.PledgeReleaser(req.GetReleasedBy()), OfficeReference: req.GetOfficeReference(), Reason: req.GetReason()})
	}, func(e domain.PledgeReleased, rec registry.Recorded) *pb.ReleasePledgeResponse {
		return &pb.ReleasePledgeResponse{PledgeId: e.PledgeID, PledgorAccountId: e.Pledgor, Quantity: e.Quantity,
			Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}
	})
}

func (h *lifecycleHandlers) EnforcePledge(ctx context.Context, req *pb.EnforcePledgeRequest) (*pb.EnforcePledgeResponse, error) {
	return record(ctx, h, "EnforcePledge", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.EnforcePledge(ctx, m, domain.EnforcePledge{RightID: req.GetRightId(), PledgeID: req.GetPledgeId(),
			To: req.GetToAccountId(), DefaultReference: req.GetDefaultReference(), Reason: req.GetReason()})
	}, func(e domain.PledgeEnforced, rec registry.Recorded) *pb.EnforcePledgeResponse {
		return &pb.EnforcePledgeResponse{PledgeId: e.PledgeID, ToAccountId: e.To, Quantity: e.Quantity,
			Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}
	})
}

func (h *lifecycleHandlers) ListPledges(ctx context.Context, req *pb.ListPledgesRequest) (*pb.ListPledgesResponse, error) {
	if req.GetRightId() == "" && req.GetAccountId() != "" {
		return h.listAccountPledges(ctx, req.GetAccountId())
	}
	ps, prefix, rev, err := h.svc.Pledges(ctx, req.GetRightId(), req.GetAccountId())
	if err != nil {
		return nil, h.fail(ctx, "ListPledges", err)
	}
	out := &pb.ListPledgesResponse{Revision: rev}
	for _, p := range ps {
		out.Pledges = append(out.Pledges, pledgeToProto(req.GetRightId(), prefix, p))
	}
	return out, nil
}

// listAccountPledges answers ListPledges for an account across rights.
func (h *lifecycleHandlers) listAccountPledges(ctx context.Context, accountID string) (*pb.ListPledgesResponse, error) {
	rps, err := h.svc.AccountPledges(ctx, accountID)
	if err != nil {
		return nil, h.fail(ctx, "ListPledges", err)
	}
	out := &pb.ListPledgesResponse{}
	for _, rp := range rps {
		for _, p := range rp.Pledges {
			out.Pledges = append(out.Pledges, pledgeToProto(rp.RightID, rp.SerialPrefix, p))
		}
	}
	return out, nil
}

func (h *lifecycleHandlers) FreezeUnits(ctx context.Context, req *pb.FreezeUnitsRequest) (*pb.FreezeUnitsResponse, error) {
	return record(ctx, h, "FreezeUnits", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.FreezeUnits(ctx, m, freezeFromProto(req))
	}, func(e domain.UnitsFrozen, rec registry.Recorded) *pb.FreezeUnitsResponse {
		return &pb.FreezeUnitsResponse{OrderNumber: e.OrderNumber, Quantity: e.Quantity,
			Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit), Replay: rec.Commit.Replay}
	})
}

func (h *lifecycleHandlers) UnfreezeUnits(ctx context.Context, req *pb.UnfreezeUnitsRequest) (*pb.UnfreezeUnitsResponse, error) {
	return record(ctx, h, "UnfreezeUnits", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.UnfreezeUnits(ctx, m, domain.UnfreezeUnits{RightID: req.GetRightId(), OrderNumber: req.GetOrderNumber(),
			Authority: req.GetAuthority(), Reason: req.GetReason()})
	}, func(e domain.UnitsUnfrozen, rec registry.Recorded) *pb.UnfreezeUnitsResponse {
		return &pb.UnfreezeUnitsResponse{OrderNumber: e.OrderNumber, HolderAccountId: e.Holder, Quantity: e.Quantity,
			Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}
	})
}

func (h *lifecycleHandlers) FreezeAccount(ctx context.Context, req *pb.FreezeAccountRequest) (*pb.FreezeAccountResponse, error) {
	const method = "FreezeAccount"
	meta, err := h.meta(ctx)
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	a, commit, err := h.svc.FreezeAccount(ctx, meta, domain.FreezeAccount{AccountID: req.GetAccountId(), OrderNumber: req.GetOrderNumber(),
		Authority: req.GetAuthority(), Reason: req.GetReason()})
	if err != nil {
		// The original of a re-used order number is shown with the account
		// as it is now.
		return nil, h.failReused(ctx, method, err, func(o registry.Recorded) (proto.Message, bool) {
			now, rev, rerr := h.svc.Account(ctx, req.GetAccountId())
			if rerr != nil {
				return nil, false
			}
			return &pb.FreezeAccountResponse{Account: accountToProto(now, rev, now.StatusReason()), Commit: commitToProto(o.Commit)}, true
		})
	}
	return &pb.FreezeAccountResponse{Account: accountToProto(a, commit.Revision, a.StatusReason()), Commit: commitToProto(commit), Replay: commit.Replay}, nil
}

func (h *lifecycleHandlers) UnfreezeAccount(ctx context.Context, req *pb.UnfreezeAccountRequest) (*pb.UnfreezeAccountResponse, error) {
	const method = "UnfreezeAccount"
	meta, err := h.meta(ctx)
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	a, commit, err := h.svc.UnfreezeAccount(ctx, meta, domain.UnfreezeAccount{AccountID: req.GetAccountId(), OrderNumber: req.GetOrderNumber(),
		Authority: req.GetAuthority(), Reason: req.GetReason()})
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	return &pb.UnfreezeAccountResponse{Account: accountToProto(a, commit.Revision, a.StatusReason()), Commit: commitToProto(commit)}, nil
}

func (h *lifecycleHandlers) ReserveUnits(ctx context.Context, req *pb.ReserveUnitsRequest) (*pb.ReserveUnitsResponse, error) {
	return record(ctx, h, "ReserveUnits", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.ReserveUnits(ctx, m, reserveFromProto(req))
	}, func(e domain.UnitsReserved, rec registry.Recorded) *pb.ReserveUnitsResponse {
		return &pb.ReserveUnitsResponse{ReservationId: e.ReservationID, Quantity: e.Quantity, Timeout: ts(e.Timeout),
			Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit), Replay: rec.Commit.Replay}
	})
}

func (h *lifecycleHandlers) SettleReservation(ctx context.Context, req *pb.SettleReservationRequest) (*pb.SettleReservationResponse, error) {
	return record(ctx, h, "SettleReservation", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.SettleReservation(ctx, m, settleFromProto(req))
	}, func(e domain.ReservationSettled, rec registry.Recorded) *pb.SettleReservationResponse {
		return &pb.SettleReservationResponse{SettlementId: e.SettlementID, Quantity: e.Quantity, Remaining: e.Remaining,
			Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit), Replay: rec.Commit.Replay}
	})
}

func (h *lifecycleHandlers) VoidReservation(ctx context.Context, req *pb.VoidReservationRequest) (*pb.VoidReservationResponse, error) {
	return record(ctx, h, "VoidReservation", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.VoidReservation(ctx, m, domain.VoidReservation{RightID: req.GetRightId(), ReservationID: req.GetReservationId(), Reason: req.GetReason()})
	}, func(e domain.ReservationVoided, rec registry.Recorded) *pb.VoidReservationResponse {
		return &pb.VoidReservationResponse{ReservationId: e.ReservationID, Quantity: e.Quantity,
			Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}
	})
}

func (h *lifecycleHandlers) CancelUnits(ctx context.Context, req *pb.CancelUnitsRequest) (*pb.CancelUnitsResponse, error) {
	return record(ctx, h, "CancelUnits", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.CancelUnits(ctx, m, cancelFromProto(req))
	}, func(e domain.UnitsCancelled, rec registry.Recorded) *pb.CancelUnitsResponse {
		return &pb.CancelUnitsResponse{CancellationId: e.CancellationID, Quantity: e.Quantity,
			Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit), Replay: rec.Commit.Replay}
	})
}

func (h *lifecycleHandlers) ReverseTransaction(ctx context.Context, req *pb.ReverseTransactionRequest) (*pb.ReverseTransactionResponse, error) {
	return record(ctx, h, "ReverseTransaction", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.ReverseTransaction(ctx, m, domain.ReverseTransaction{RightID: req.GetRightId(), CorrectionID: req.GetCorrectionId(),
			Kind: domain.TransactionKind(req.GetKind()), OriginalID: req.GetOriginalId(), ExchangeID: req.GetExchangeId(),
			Authority: req.GetAuthority(), Reason: req.GetReason()})
	}, func(e domain.TransactionReversed, rec registry.Recorded) *pb.ReverseTransactionResponse {
		return &pb.ReverseTransactionResponse{CorrectionId: e.CorrectionID, FromAccountId: e.From, ToAccountId: e.To, Quantity: e.Quantity,
			Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit), Replay: rec.Commit.Replay}
	})
}

// failReused is fail for a command with an id of its own: the refusal of
// a re-used id carries, as a detail, the response to the original that
// original builds (when it can).
func (h *handlers) failReused(ctx context.Context, method string, err error, original func(registry.Recorded) (proto.Message, bool)) error {
	failed := h.fail(ctx, method, err)
	var reused *registry.IDReusedError
	if !errors.As(err, &reused) {
		return failed
	}
	msg, ok := original(reused.Original)
	if !ok {
		return failed
	}
	if st, derr := status.Convert(failed).WithDetails(protoadapt.MessageV1Of(msg)); derr == nil {
		return st.Err()
	}
	return failed
}
