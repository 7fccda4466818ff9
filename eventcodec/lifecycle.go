package eventcodec

import (
	"github.com/ecoregistry/ecoregistry/domain"
	eventsv1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/events/v1"
	"google.golang.org/protobuf/proto"
)

// lifecycleMessage returns an empty stored message for a lifecycle event
// type, or nil when the type is not one of them.
func lifecycleMessage(eventType string) proto.Message {
	switch eventType {
	case domain.EventTypeAccountFrozen:
		return &eventsv1.AccountFrozen{}
	case domain.EventTypeAccountUnfrozen:
		return &eventsv1.AccountUnfrozen{}
	case domain.EventTypeUnitsPledged:
		return &eventsv1.UnitsPledged{}
	case domain.EventTypePledgeReleased:
		return &eventsv1.PledgeReleased{}
	case domain.EventTypePledgeEnforced:
		return &eventsv1.PledgeEnforced{}
	case domain.EventTypeUnitsFrozen:
		return &eventsv1.UnitsFrozen{}
	case domain.EventTypeUnitsUnfrozen:
		return &eventsv1.UnitsUnfrozen{}
	case domain.EventTypeUnitsReserved:
		return &eventsv1.UnitsReserved{}
	case domain.EventTypeReservationSettled:
		return &eventsv1.ReservationSettled{}
	case domain.EventTypeReservationVoided:
		return &eventsv1.ReservationVoided{}
	case domain.EventTypeReservationExpired:
		return &eventsv1.ReservationExpired{}
	case domain.EventTypeUnitsCancelled:
		return &eventsv1.UnitsCancelled{}
	case domain.EventTypeRightExpired:
		return &eventsv1.RightExpired{}
	case domain.EventTypeTransactionReversed:
		return &eventsv1.TransactionReversed{}
	}
	return nil
}

func priceToProto(p *domain.Price) *eventsv1.Price {
	if p == nil {
		return nil
	}
	return &eventsv1.Price{AmountMinor: p.Amount, Currency: p.Currency}
}

func priceFromProto(p *eventsv1.Price) *domain.Price {
	if p == nil {
		return nil
	}
	return &domain.Price{Amount: p.GetAmountMinor(), Currency: p.GetCurrency()}
}

// lifecycleToProto converts a lifecycle event; ok is false for other events.
func lifecycleToProto(e domain.Event) (m proto.Message, ok bool) {
	switch e := e.(type) {
	case domain.AccountFrozen:
		return &eventsv1.AccountFrozen{AccountId: e.AccountID, OrderNumber: e.OrderNumber, Authority: e.Authority, Reason: e.Reason, FrozenAt: timestampOf(e.FrozenAt)}, true
	case domain.AccountUnfrozen:
		return &eventsv1.AccountUnfrozen{AccountId: e.AccountID, OrderNumber: e.OrderNumber, Authority: e.Authority, Reason: e.Reason, UnfrozenAt: timestampOf(e.UnfrozenAt)}, true
	case domain.UnitsPledged:
		return &eventsv1.UnitsPledged{RightId: e.RightID, PledgeId: e.PledgeID, PledgorAccountId: e.Pledgor, PledgeeAccountId: e.Pledgee,
			LoanReference: e.LoanReference, Maturity: timestampOf(e.Maturity), Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, PledgedAt: timestampOf(e.PledgedAt)}, true
	case domain.PledgeReleased:
		return &eventsv1.PledgeReleased{RightId: e.RightID, PledgeId: e.PledgeID, PledgorAccountId: e.Pledgor, PledgeeAccountId: e.Pledgee,
			ReleasedBy: eventsv1.PledgeReleaser(e.ReleasedBy), OfficeReference: e.OfficeReference, Reason: e.Reason,
			Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, ReleasedAt: timestampOf(e.ReleasedAt)}, true
	case domain.PledgeEnforced:
		return &eventsv1.PledgeEnforced{RightId: e.RightID, PledgeId: e.PledgeID, PledgorAccountId: e.Pledgor, PledgeeAccountId: e.Pledgee,
			ToAccountId: e.To, DefaultReference: e.DefaultReference, Reason: e.Reason,
			Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, EnforcedAt: timestampOf(e.EnforcedAt)}, true
	case domain.UnitsFrozen:
		return &eventsv1.UnitsFrozen{RightId: e.RightID, OrderNumber: e.OrderNumber, Authority: e.Authority, HolderAccountId: e.Holder,
			Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, Reason: e.Reason, FrozenAt: timestampOf(e.FrozenAt)}, true
	case domain.UnitsUnfrozen:
		return &eventsv1.UnitsUnfrozen{RightId: e.RightID, OrderNumber: e.OrderNumber, Authority: e.Authority, HolderAccountId: e.Holder,
			Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, Reason: e.Reason, UnfrozenAt: timestampOf(e.UnfrozenAt)}, true
	case domain.UnitsReserved:
		return &eventsv1.UnitsReserved{RightId: e.RightID, ReservationId: e.ReservationID, HolderAccountId: e.Holder, Exchange: e.Exchange,
			OrderReference: e.OrderReference, Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, Timeout: timestampOf(e.Timeout), ReservedAt: timestampOf(e.ReservedAt)}, true
	case domain.ReservationSettled:
		return &eventsv1.ReservationSettled{RightId: e.RightID, ReservationId: e.ReservationID, SettlementId: e.SettlementID,
			SellerAccountId: e.Seller, BuyerAccountId: e.Buyer, Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, Remaining: e.Remaining,
			Price: priceToProto(e.TradePrice), SettledAt: timestampOf(e.SettledAt)}, true
	case domain.ReservationVoided:
		return &eventsv1.ReservationVoided{RightId: e.RightID, ReservationId: e.ReservationID, HolderAccountId: e.Holder,
			Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, Reason: e.Reason, VoidedAt: timestampOf(e.VoidedAt)}, true
	case domain.ReservationExpired:
		return &eventsv1.ReservationExpired{RightId: e.RightID, ReservationId: e.ReservationID, HolderAccountId: e.Holder,
			Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, Timeout: timestampOf(e.Timeout), ExpiredAt: timestampOf(e.ExpiredAt)}, true
	case domain.UnitsCancelled:
		return &eventsv1.UnitsCancelled{RightId: e.RightID, CancellationId: e.CancellationID, HolderAccountId: e.Holder, OrderNumber: e.OrderNumber,
			Authority: e.Authority, Reason: e.Reason, Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, CancelledAt: timestampOf(e.CancelledAt)}, true
	case domain.RightExpired:
		return &eventsv1.RightExpired{RightId: e.RightID, ValidUntil: timestampOf(e.ValidUntil), Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, ExpiredAt: timestampOf(e.ExpiredAt)}, true
	case domain.TransactionReversed:
		return &eventsv1.TransactionReversed{RightId: e.RightID, CorrectionId: e.CorrectionID, OriginalKind: eventsv1.TransactionKind(e.OriginalKind),
			OriginalId: e.OriginalID, FromAccountId: e.From, ToAccountId: e.To, Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity,
			Authority: e.Authority, Reason: e.Reason, ReversedAt: timestampOf(e.ReversedAt), ExchangeId: e.ExchangeID}, true
	}
	return nil, false
}

// lifecycleFromProto converts a stored lifecycle message; ok is false for other messages.
func lifecycleFromProto(m proto.Message) (e domain.Event, ok bool) {
	switch m := m.(type) {
	case *eventsv1.AccountFrozen:
		return domain.AccountFrozen{AccountID: m.GetAccountId(), OrderNumber: m.GetOrderNumber(), Authority: m.GetAuthority(), Reason: m.GetReason(), FrozenAt: timeOf(m.GetFrozenAt())}, true
	case *eventsv1.AccountUnfrozen:
		return domain.AccountUnfrozen{AccountID: m.GetAccountId(), OrderNumber: m.GetOrderNumber(), Authority: m.GetAuthority(), Reason: m.GetReason(), UnfrozenAt: timeOf(m.GetUnfrozenAt())}, true
	case *eventsv1.UnitsPledged:
		return domain.UnitsPledged{RightID: m.GetRightId(), PledgeID: m.GetPledgeId(), Pledgor: m.GetPledgorAccountId(), Pledgee: m.GetPledgeeAccountId(),
			LoanReference: m.GetLoanReference(), Maturity: timeOf(m.GetMaturity()), Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), PledgedAt: timeOf(m.GetPledgedAt())}, true
	case *eventsv1.PledgeReleased:
		return domain.PledgeReleased{RightID: m.GetRightId(), PledgeID: m.GetPledgeId(), Pledgor: m.GetPledgorAccountId(), Pledgee: m.GetPledgeeAccountId(),
			ReleasedBy: domain.PledgeReleaser(m.GetReleasedBy()), OfficeReference: m.GetOfficeReference(), Reason: m.GetReason(),
			Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), ReleasedAt: timeOf(m.GetReleasedAt())}, true
	case *eventsv1.PledgeEnforced:
		return domain.PledgeEnforced{RightID: m.GetRightId(), PledgeID: m.GetPledgeId(), Pledgor: m.GetPledgorAccountId(), Pledgee: m.GetPledgeeAccountId(),
			To: m.GetToAccountId(), DefaultReference: m.GetDefaultReference(), Reason: m.GetReason(),
			Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), EnforcedAt: timeOf(m.GetEnforcedAt())}, true
	case *eventsv1.UnitsFrozen:
		return domain.UnitsFrozen{RightID: m.GetRightId(), OrderNumber: m.GetOrderNumber(), Authority: m.GetAuthority(), Holder: m.GetHolderAccountId(),
			Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), Reason: m.GetReason(), FrozenAt: timeOf(m.GetFrozenAt())}, true
	case *eventsv1.UnitsUnfrozen:
		return domain.UnitsUnfrozen{RightID: m.GetRightId(), OrderNumber: m.GetOrderNumber(), Authority: m.GetAuthority(), Holder: m.GetHolderAccountId(),
			Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), Reason: m.GetReason(), UnfrozenAt: timeOf(m.GetUnfrozenAt())}, true
	case *eventsv1.UnitsReserved:
		return domain.UnitsReserved{RightID: m.GetRightId(), ReservationID: m.GetReservationId(), Holder: m.GetHolderAccountId(), Exchange: m.GetExchange(),
			OrderReference: m.GetOrderReference(), Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), Timeout: timeOf(m.GetTimeout()), ReservedAt: timeOf(m.GetReservedAt())}, true
	case *eventsv1.ReservationSettled:
		return domain.ReservationSettled{RightID: m.GetRightId(), ReservationID: m.GetReservationId(), SettlementID: m.GetSettlementId(),
			Seller: m.GetSellerAccountId(), Buyer: m.GetBuyerAccountId(), Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), Remaining: m.GetRemaining(),
			TradePrice: priceFromProto(m.GetPrice()), SettledAt: timeOf(m.GetSettledAt())}, true
	case *eventsv1.ReservationVoided:
		return domain.ReservationVoided{RightID: m.GetRightId(), ReservationID: m.GetReservationId(), Holder: m.GetHolderAccountId(),
			Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), Reason: m.GetReason(), VoidedAt: timeOf(m.GetVoidedAt())}, true
	case *eventsv1.ReservationExpired:
		return domain.ReservationExpired{RightID: m.GetRightId(), ReservationID: m.GetReservationId(), Holder: m.GetHolderAccountId(),
			Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), Timeout: timeOf(m.GetTimeout()), ExpiredAt: timeOf(m.GetExpiredAt())}, true
	case *eventsv1.UnitsCancelled:
		return domain.UnitsCancelled{RightID: m.GetRightId(), CancellationID: m.GetCancellationId(), Holder: m.GetHolderAccountId(), OrderNumber: m.GetOrderNumber(),
			Authority: m.GetAuthority(), Reason: m.GetReason(), Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), CancelledAt: timeOf(m.GetCancelledAt())}, true
	case *eventsv1.RightExpired:
		return domain.RightExpired{RightID: m.GetRightId(), ValidUntil: timeOf(m.GetValidUntil()), Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), ExpiredAt: timeOf(m.GetExpiredAt())}, true
	case *eventsv1.TransactionReversed:
		return domain.TransactionReversed{RightID: m.GetRightId(), CorrectionID: m.GetCorrectionId(), OriginalKind: domain.TransactionKind(m.GetOriginalKind()),
			OriginalID: m.GetOriginalId(), From: m.GetFromAccountId(), To: m.GetToAccountId(), Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(),
			Authority: m.GetAuthority(), Reason: m.GetReason(), ReversedAt: timeOf(m.GetReversedAt()), ExchangeID: m.GetExchangeId()}, true
	}
	return nil, false
}
