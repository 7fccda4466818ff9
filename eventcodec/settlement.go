package eventcodec

import (
	"github.com/ecoregistry/ecoregistry/domain"
	eventsv1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/events/v1"
	"google.golang.org/protobuf/proto"
)

// settlementMessage returns an empty stored message for a settlement event
// type, or nil when the type is not one of them.
func settlementMessage(eventType string) proto.Message {
	switch eventType {
	case domain.EventTypeTradeSettled:
		return &eventsv1.TradeSettled{}
	case domain.EventTypeTradeRefused:
		return &eventsv1.TradeRefused{}
	}
	return nil
}

func optionalBlockToProto(b *domain.Block) *eventsv1.SerialBlock {
	if b == nil {
		return nil
	}
	return &eventsv1.SerialBlock{Start: b.Start, End: b.End}
}

func optionalBlockFromProto(b *eventsv1.SerialBlock) *domain.Block {
	if b == nil {
		return nil
	}
	return &domain.Block{Start: b.GetStart(), End: b.GetEnd()}
}

func priceValueFromProto(p *eventsv1.Price) domain.Price {
	return domain.Price{Amount: p.GetAmountMinor(), Currency: p.GetCurrency()}
}

// settlementToProto converts a settlement event; ok is false for other events.
func settlementToProto(e domain.Event) (m proto.Message, ok bool) {
	switch e := e.(type) {
	case domain.TradeSettled:
		return &eventsv1.TradeSettled{RightId: e.RightID, ExchangeId: e.ExchangeID, TradeId: e.TradeID,
			SellerAccountId: e.Seller, BuyerAccountId: e.Buyer, Range: optionalBlockToProto(e.Range),
			Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, Price: priceToProto(&e.Price), MatchedAt: ts(e.MatchedAt),
			ReservationId: e.ReservationID, ReservationRemaining: e.ReservationRemaining, SettledAt: ts(e.SettledAt)}, true
	case domain.TradeRefused:
		return &eventsv1.TradeRefused{RightId: e.RightID, ExchangeId: e.ExchangeID, TradeId: e.TradeID,
			SellerAccountId: e.Seller, BuyerAccountId: e.Buyer, Quantity: e.Quantity, Range: optionalBlockToProto(e.Range),
			Price: priceToProto(&e.Price), MatchedAt: ts(e.MatchedAt), ReservationId: e.ReservationID,
			CheckCode: e.CheckCode, CheckName: e.CheckName, Field: e.Field, Detail: e.Detail, RefusedAt: ts(e.RefusedAt)}, true
	}
	return nil, false
}

// settlementFromProto converts a stored settlement message; ok is false for other messages.
func settlementFromProto(m proto.Message) (e domain.Event, ok bool) {
	switch m := m.(type) {
	case *eventsv1.TradeSettled:
		return domain.TradeSettled{RightID: m.GetRightId(), ExchangeID: m.GetExchangeId(), TradeID: m.GetTradeId(),
			Seller: m.GetSellerAccountId(), Buyer: m.GetBuyerAccountId(), Range: optionalBlockFromProto(m.GetRange()),
			Blocks: blocksFromProto(m.GetBlocks()), Quantity: m.GetQuantity(), Price: priceValueFromProto(m.GetPrice()),
			MatchedAt: tm(m.GetMatchedAt()), ReservationID: m.GetReservationId(), ReservationRemaining: m.GetReservationRemaining(),
			SettledAt: tm(m.GetSettledAt())}, true
	case *eventsv1.TradeRefused:
		return domain.TradeRefused{RightID: m.GetRightId(), ExchangeID: m.GetExchangeId(), TradeID: m.GetTradeId(),
			Seller: m.GetSellerAccountId(), Buyer: m.GetBuyerAccountId(), Quantity: m.GetQuantity(), Range: optionalBlockFromProto(m.GetRange()),
			Price: priceValueFromProto(m.GetPrice()), MatchedAt: tm(m.GetMatchedAt()), ReservationID: m.GetReservationId(),
			CheckCode: m.GetCheckCode(), CheckName: m.GetCheckName(), Field: m.GetField(), Detail: m.GetDetail(),
			RefusedAt: tm(m.GetRefusedAt())}, true
	}
	return nil, false
}
