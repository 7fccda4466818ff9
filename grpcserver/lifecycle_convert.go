package grpcserver

import (
	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// The lifecycle enums share their numbers with package domain's, like the
// others (the conversion tests pin it).

func pledgeToProto(rightID, prefix string, p domain.PledgeView) *pb.Pledge {
	return &pb.Pledge{PledgeId: p.PledgeID, RightId: rightID, PledgorAccountId: p.Pledgor, PledgeeAccountId: p.Pledgee,
		LoanReference: p.LoanReference, Maturity: ts(p.Maturity), PledgedAt: ts(p.PledgedAt), Quantity: p.Quantity,
		Ranges: prefixedRanges(prefix, p.Blocks)}
}

func pledgeFromProto(r *pb.PledgeUnitsRequest) domain.PledgeUnits {
	cmd := domain.PledgeUnits{RightID: r.GetRightId(), PledgeID: r.GetPledgeId(), Pledgor: r.GetPledgorAccountId(),
		Pledgee: r.GetPledgeeAccountId(), LoanReference: r.GetLoanReference(), Maturity: tm(r.GetMaturity())}
	switch a := r.GetAmount().(type) {
	case *pb.PledgeUnitsRequest_Quantity:
		cmd.Quantity = a.Quantity
	case *pb.PledgeUnitsRequest_Range:
		cmd.Range = rangeFromProto(a.Range)
	}
	return cmd
}

func freezeFromProto(r *pb.FreezeUnitsRequest) domain.FreezeUnits {
	cmd := domain.FreezeUnits{RightID: r.GetRightId(), OrderNumber: r.GetOrderNumber(), Authority: r.GetAuthority(),
		Holder: r.GetHolderAccountId(), Reason: r.GetReason()}
	switch a := r.GetAmount().(type) {
	case *pb.FreezeUnitsRequest_Quantity:
		cmd.Quantity = a.Quantity
	case *pb.FreezeUnitsRequest_Range:
		cmd.Range = rangeFromProto(a.Range)
	}
	return cmd
}

func reserveFromProto(r *pb.ReserveUnitsRequest) domain.ReserveUnits {
	cmd := domain.ReserveUnits{RightID: r.GetRightId(), ReservationID: r.GetReservationId(), Holder: r.GetHolderAccountId(),
		Exchange: r.GetExchange(), OrderReference: r.GetOrderReference(), Timeout: tm(r.GetTimeout())}
	switch a := r.GetAmount().(type) {
	case *pb.ReserveUnitsRequest_Quantity:
		cmd.Quantity = a.Quantity
	case *pb.ReserveUnitsRequest_Range:
		cmd.Range = rangeFromProto(a.Range)
	}
	return cmd
}

func settleFromProto(r *pb.SettleReservationRequest) domain.SettleReservation {
	cmd := domain.SettleReservation{RightID: r.GetRightId(), ReservationID: r.GetReservationId(), SettlementID: r.GetSettlementId(),
		Buyer: r.GetBuyerAccountId(), Quantity: r.GetQuantity()}
	if p := r.GetPrice(); p != nil {
		cmd.Price = &domain.Price{Amount: p.GetAmountMinor(), Currency: p.GetCurrency()}
	}
	return cmd
}

func cancelFromProto(r *pb.CancelUnitsRequest) domain.CancelUnits {
	cmd := domain.CancelUnits{RightID: r.GetRightId(), CancellationID: r.GetCancellationId(), Holder: r.GetHolderAccountId(),
		OrderNumber: r.GetOrderNumber(), Authority: r.GetAuthority(), Reason: r.GetReason()}
	switch a := r.GetAmount().(type) {
	case *pb.CancelUnitsRequest_Quantity:
		cmd.Quantity = a.Quantity
	case *pb.CancelUnitsRequest_Range:
		cmd.Range = rangeFromProto(a.Range)
	}
	return cmd
}
