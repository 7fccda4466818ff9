package grpcserver

import (
	"context"
	"errors"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
	"go.uber.org/zap"
	"google.golang.org/grpc"
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

// record runs a lifecycle command with the call's metadata and returns the
// event it recorded as type E.
func record[E domain.Event](ctx context.Context, h *lifecycleHandlers, method string, run func(registry.Meta) (registry.Recorded, error)) (E, registry.Recorded, error) {
	var zero E
	meta, err := h.meta(ctx)
	if err != nil {
		return zero, registry.Recorded{}, h.fail(ctx, method, err)
	}
	rec, err := run(meta)
	if err != nil {
		return zero, registry.Recorded{}, h.fail(ctx, method, err)
	}
	e, ok := rec.Event.(E)
	if !ok {
		h.log.Error("unexpected event", zap.String("method", method), zap.String("type", rec.Event.EventType()))
		return zero, registry.Recorded{}, h.fail(ctx, method, errUnexpectedEvent)
	}
	return e, rec, nil
}

func (h *lifecycleHandlers) PledgeUnits(ctx context.Context, req *pb.PledgeUnitsRequest) (*pb.PledgeUnitsResponse, error) {
	e, rec, err := record[domain.UnitsPledged](ctx, h, "PledgeUnits", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.PledgeUnits(ctx, m, pledgeFromProto(req))
	})
	if err != nil {
		return nil, err
	}
	p := domain.PledgeView{PledgeID: e.PledgeID, Pledgor: e.Pledgor, Pledgee: e.Pledgee, LoanReference: e.LoanReference,
		Maturity: e.Maturity, PledgedAt: e.PledgedAt, Blocks: e.Blocks, Quantity: e.Quantity}
	return &pb.PledgeUnitsResponse{Pledge: pledgeToProto(e.RightID, rec.SerialPrefix, p), Commit: commitToProto(rec.Commit)}, nil
}

func (h *lifecycleHandlers) ReleasePledge(ctx context.Context, req *pb.ReleasePledgeRequest) (*pb.ReleasePledgeResponse, error) {
	e, rec, err := record[domain.PledgeReleased](ctx, h, "ReleasePledge", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.ReleasePledge(ctx, m, domain.ReleasePledge{RightID: req.GetRightId(), PledgeID: req.GetPledgeId(),
			ReleasedBy: domain.PledgeReleaser(req.GetReleasedBy()), OfficeReference: req.GetOfficeReference(), Reason: req.GetReason()})
	})
	if err != nil {
		return nil, err
	}
	return &pb.ReleasePledgeResponse{PledgeId: e.PledgeID, PledgorAccountId: e.Pledgor, Quantity: e.Quantity,
		Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}, nil
}

func (h *lifecycleHandlers) EnforcePledge(ctx context.Context, req *pb.EnforcePledgeRequest) (*pb.EnforcePledgeResponse, error) {
	e, rec, err := record[domain.PledgeEnforced](ctx, h, "EnforcePledge", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.EnforcePledge(ctx, m, domain.EnforcePledge{RightID: req.GetRightId(), PledgeID: req.GetPledgeId(),
			To: req.GetToAccountId(), DefaultReference: req.GetDefaultReference(), Reason: req.GetReason()})
	})
	if err != nil {
		return nil, err
	}
	return &pb.EnforcePledgeResponse{PledgeId: e.PledgeID, ToAccountId: e.To, Quantity: e.Quantity,
		Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}, nil
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
	e, rec, err := record[domain.UnitsFrozen](ctx, h, "FreezeUnits", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.FreezeUnits(ctx, m, freezeFromProto(req))
	})
	if err != nil {
		return nil, err
	}
	return &pb.FreezeUnitsResponse{OrderNumber: e.OrderNumber, Quantity: e.Quantity,
		Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}, nil
}

func (h *lifecycleHandlers) UnfreezeUnits(ctx context.Context, req *pb.UnfreezeUnitsRequest) (*pb.UnfreezeUnitsResponse, error) {
	e, rec, err := record[domain.UnitsUnfrozen](ctx, h, "UnfreezeUnits", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.UnfreezeUnits(ctx, m, domain.UnfreezeUnits{RightID: req.GetRightId(), OrderNumber: req.GetOrderNumber(),
			Authority: req.GetAuthority(), Reason: req.GetReason()})
	})
	if err != nil {
		return nil, err
	}
	return &pb.UnfreezeUnitsResponse{OrderNumber: e.OrderNumber, HolderAccountId: e.Holder, Quantity: e.Quantity,
		Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}, nil
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
		return nil, h.fail(ctx, method, err)
	}
	return &pb.FreezeAccountResponse{Account: accountToProto(a, commit.Revision, a.StatusReason()), Commit: commitToProto(commit)}, nil
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
	e, rec, err := record[domain.UnitsReserved](ctx, h, "ReserveUnits", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.ReserveUnits(ctx, m, reserveFromProto(req))
	})
	if err != nil {
		return nil, err
	}
	return &pb.ReserveUnitsResponse{ReservationId: e.ReservationID, Quantity: e.Quantity, Timeout: ts(e.Timeout),
		Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}, nil
}

func (h *lifecycleHandlers) SettleReservation(ctx context.Context, req *pb.SettleReservationRequest) (*pb.SettleReservationResponse, error) {
	e, rec, err := record[domain.ReservationSettled](ctx, h, "SettleReservation", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.SettleReservation(ctx, m, settleFromProto(req))
	})
	if err != nil {
		return nil, err
	}
	return &pb.SettleReservationResponse{SettlementId: e.SettlementID, Quantity: e.Quantity, Remaining: e.Remaining,
		Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}, nil
}

func (h *lifecycleHandlers) VoidReservation(ctx context.Context, req *pb.VoidReservationRequest) (*pb.VoidReservationResponse, error) {
	e, rec, err := record[domain.ReservationVoided](ctx, h, "VoidReservation", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.VoidReservation(ctx, m, domain.VoidReservation{RightID: req.GetRightId(), ReservationID: req.GetReservationId(), Reason: req.GetReason()})
	})
	if err != nil {
		return nil, err
	}
	return &pb.VoidReservationResponse{ReservationId: e.ReservationID, Quantity: e.Quantity,
		Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}, nil
}

func (h *lifecycleHandlers) CancelUnits(ctx context.Context, req *pb.CancelUnitsRequest) (*pb.CancelUnitsResponse, error) {
	e, rec, err := record[domain.UnitsCancelled](ctx, h, "CancelUnits", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.CancelUnits(ctx, m, cancelFromProto(req))
	})
	if err != nil {
		return nil, err
	}
	return &pb.CancelUnitsResponse{CancellationId: e.CancellationID, Quantity: e.Quantity,
		Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}, nil
}

func (h *lifecycleHandlers) ReverseTransaction(ctx context.Context, req *pb.ReverseTransactionRequest) (*pb.ReverseTransactionResponse, error) {
	e, rec, err := record[domain.TransactionReversed](ctx, h, "ReverseTransaction", func(m registry.Meta) (registry.Recorded, error) {
		return h.svc.ReverseTransaction(ctx, m, domain.ReverseTransaction{RightID: req.GetRightId(), CorrectionID: req.GetCorrectionId(),
			Kind: domain.TransactionKind(req.GetKind()), OriginalID: req.GetOriginalId(), ExchangeID: req.GetExchangeId(),
			Authority: req.GetAuthority(), Reason: req.GetReason()})
	})
	if err != nil {
		return nil, err
	}
	return &pb.ReverseTransactionResponse{CorrectionId: e.CorrectionID, FromAccountId: e.From, ToAccountId: e.To, Quantity: e.Quantity,
		Ranges: prefixedRanges(rec.SerialPrefix, e.Blocks), Commit: commitToProto(rec.Commit)}, nil
}
