package eventcodec

import (
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	eventsv1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/events/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// settlementMessage returns an empty stored message for a settlement event
// type, or nil when the type is not one of them.
func settlementMessage(eventType string) proto.Message {
	switch eventType {
	case domain.EventTypeTradeSettled:
		return eventsv1.TradeSettledFromVTPool()
	case domain.EventTypeTradeRefused:
		return eventsv1.TradeRefusedFromVTPool()
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
			Blocks: blocksToProto(e.Blocks), Quantity: e.Quantity, Price: priceToProto(&e.Price), MatchedAt: timestampOf(e.MatchedAt),
			ReservationId: e.ReservationID, ReservationRemaining: e.ReservationRemaining, SettledAt: timestampOf(e.SettledAt)}, true
	case domain.TradeRefused:
		return &eventsv1.TradeRefused{RightId: e.RightID, ExchangeId: e.ExchangeID, TradeId: e.TradeID,
			SellerAccountId: e.Seller, BuyerAccountId: e.Buyer, Quantity: e.Quantity, Range: optionalBlockToProto(e.Range),
			Price: priceToProto(&e.Price), MatchedAt: timestampOf(e.MatchedAt), ReservationId: e.ReservationID,
			CheckCode: e.CheckCode, CheckName: e.CheckName, Field: e.Field, Detail: e.Detail, RefusedAt: timestampOf(e.RefusedAt)}, true
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
			MatchedAt: timeOf(m.GetMatchedAt()), ReservationID: m.GetReservationId(), ReservationRemaining: m.GetReservationRemaining(),
			SettledAt: timeOf(m.GetSettledAt())}, true
	case *eventsv1.TradeRefused:
		return domain.TradeRefused{RightID: m.GetRightId(), ExchangeID: m.GetExchangeId(), TradeID: m.GetTradeId(),
			Seller: m.GetSellerAccountId(), Buyer: m.GetBuyerAccountId(), Quantity: m.GetQuantity(), Range: optionalBlockFromProto(m.GetRange()),
			Price: priceValueFromProto(m.GetPrice()), MatchedAt: timeOf(m.GetMatchedAt()), ReservationID: m.GetReservationId(),
			CheckCode: m.GetCheckCode(), CheckName: m.GetCheckName(), Field: m.GetField(), Detail: m.GetDetail(),
			RefusedAt: timeOf(m.GetRefusedAt())}, true
	}
	return nil, false
}

// encodeSettlement writes a settlement event in the protobuf wire format
// directly, without the reflection and the intermediate message of
// proto.Marshal: settlement is the registry's hottest write path. The bytes
// are exactly those proto.Marshal writes for the converted message (fields
// in number order, zero values left out); settlement_test.go checks this on
// random events with every field set and with none. ok is false for other
// events.
func encodeSettlement(e domain.Event) (data []byte, ok bool) {
	switch e := e.(type) {
	case domain.TradeSettled:
		b := make([]byte, 0, 160+len(e.RightID)+len(e.ExchangeID)+len(e.TradeID)+len(e.Seller)+len(e.Buyer)+len(e.ReservationID)+12*len(e.Blocks))
		b = appendString(b, 1, e.RightID)
		b = appendString(b, 2, e.ExchangeID)
		b = appendString(b, 3, e.TradeID)
		b = appendString(b, 4, e.Seller)
		b = appendString(b, 5, e.Buyer)
		if e.Range != nil {
			b = appendBlock(b, 6, *e.Range)
		}
		for _, blk := range e.Blocks {
			b = appendBlock(b, 7, blk)
		}
		b = appendInt(b, 8, e.Quantity)
		b = appendPrice(b, 9, e.Price)
		b = appendTime(b, 10, e.MatchedAt)
		b = appendString(b, 11, e.ReservationID)
		b = appendInt(b, 12, e.ReservationRemaining)
		b = appendTime(b, 13, e.SettledAt)
		return b, true
	case domain.TradeRefused:
		b := make([]byte, 0, 160+len(e.RightID)+len(e.ExchangeID)+len(e.TradeID)+len(e.Seller)+len(e.Buyer)+len(e.ReservationID)+
			len(e.CheckCode)+len(e.CheckName)+len(e.Field)+len(e.Detail))
		b = appendString(b, 1, e.RightID)
		b = appendString(b, 2, e.ExchangeID)
		b = appendString(b, 3, e.TradeID)
		b = appendString(b, 4, e.Seller)
		b = appendString(b, 5, e.Buyer)
		b = appendInt(b, 6, e.Quantity)
		if e.Range != nil {
			b = appendBlock(b, 7, *e.Range)
		}
		b = appendPrice(b, 8, e.Price)
		b = appendTime(b, 9, e.MatchedAt)
		b = appendString(b, 10, e.ReservationID)
		b = appendString(b, 11, e.CheckCode)
		b = appendString(b, 12, e.CheckName)
		b = appendString(b, 13, e.Field)
		b = appendString(b, 14, e.Detail)
		b = appendTime(b, 15, e.RefusedAt)
		return b, true
	}
	return nil, false
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendInt(b []byte, num protowire.Number, v int64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// appendMessage appends a length-delimited submessage whose body body writes.
func appendMessage(b []byte, num protowire.Number, body func([]byte) []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	// Bodies here are shorter than 128 bytes, so the length takes one byte;
	// a longer one is moved to make room for a longer length.
	at := len(b)
	b = append(b, 0)
	b = body(b)
	n := len(b) - at - 1
	if n < 128 {
		b[at] = byte(n)
		return b
	}
	size := protowire.SizeVarint(uint64(n))
	b = append(b, make([]byte, size-1)...)
	copy(b[at+size:], b[at+1:at+1+n])
	protowire.AppendVarint(b[at:at], uint64(n))
	return b
}

func appendBlock(b []byte, num protowire.Number, blk domain.Block) []byte {
	return appendMessage(b, num, func(b []byte) []byte {
		return appendInt(appendInt(b, 1, blk.Start), 2, blk.End)
	})
}

func appendPrice(b []byte, num protowire.Number, p domain.Price) []byte {
	return appendMessage(b, num, func(b []byte) []byte {
		return appendString(appendInt(b, 1, p.Amount), 2, p.Currency)
	})
}

// appendTime appends a google.protobuf.Timestamp, leaving out a zero time
// as ts does.
func appendTime(b []byte, num protowire.Number, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	return appendMessage(b, num, func(b []byte) []byte {
		b = appendInt(b, 1, t.Unix())
		if n := t.Nanosecond(); n != 0 {
			b = protowire.AppendTag(b, 2, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(int32(n)))
		}
		return b
	})
}
