package grpcserver

import (
	"strings"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
)

func matchedTradeFromProto(t *pb.MatchedTrade) domain.SettleTrade {
	cmd := domain.SettleTrade{ExchangeID: t.GetExchangeId(), TradeID: t.GetTradeId(), RightID: t.GetRightId(),
		Seller: t.GetSellerAccountId(), Buyer: t.GetBuyerAccountId(), MatchedAt: tm(t.GetMatchedAt()), ReservationID: t.GetReservationId()}
	switch a := t.GetAmount().(type) {
	case *pb.MatchedTrade_Quantity:
		cmd.Quantity = a.Quantity
	case *pb.MatchedTrade_Range:
		cmd.Range = rangeFromProto(a.Range)
	}
	if p := t.GetPrice(); p != nil {
		cmd.Price = &domain.Price{Amount: p.GetAmountMinor(), Currency: p.GetCurrency()}
	}
	return cmd
}

func matchedTradeToProto(c domain.SettleTrade) *pb.MatchedTrade {
	t := &pb.MatchedTrade{ExchangeId: c.ExchangeID, TradeId: c.TradeID, RightId: c.RightID, SellerAccountId: c.Seller,
		BuyerAccountId: c.Buyer, MatchedAt: ts(c.MatchedAt), ReservationId: c.ReservationID}
	if c.Range != nil {
		t.Amount = &pb.MatchedTrade_Range{Range: &pb.SerialRange{Start: c.Range.Start, End: c.Range.End}}
	} else {
		t.Amount = &pb.MatchedTrade_Quantity{Quantity: c.Quantity}
	}
	if c.Price != nil {
		t.Price = &pb.Price{AmountMinor: c.Price.Amount, Currency: c.Price.Currency}
	}
	return t
}

// tradeOutcomeToProto turns a trade's outcome into its API form.
func tradeOutcomeToProto(o registry.TradeOutcome) *pb.TradeOutcome {
	out := &pb.TradeOutcome{ExchangeId: o.Trade.ExchangeID, TradeId: o.Trade.TradeID, RightId: o.Trade.RightID, Replay: o.Replay}
	switch {
	case o.Settled != nil:
		e := o.Settled
		out.Result = &pb.TradeOutcome_Settled{Settled: &pb.TradeSettlement{Quantity: e.Quantity, Ranges: prefixedRanges(o.SerialPrefix, e.Blocks),
			Commit: commitToProto(o.Commit), SettledAt: ts(e.SettledAt), ReservationRemaining: e.ReservationRemaining}}
	default:
		out.Result = &pb.TradeOutcome_Refused{Refused: refusalToProto(o)}
	}
	if o.Original != nil {
		out.Original = tradeOutcomeToProto(*o.Original)
		out.Original.Trade = matchedTradeToProto(o.Original.Trade)
	}
	return out
}

func refusalToProto(o registry.TradeOutcome) *pb.TradeRefusal {
	r := &pb.TradeRefusal{Message: strings.TrimPrefix(errorText(o.Refusal), "domain: ")}
	if v := domain.ViolationsOf(o.Refusal); len(v) > 0 {
		r.CheckCode, r.CheckName, r.Field = v[0].Check.Code, v[0].Check.Name, v[0].Field
	}
	if o.Recorded {
		r.Commit, r.RefusedAt = commitToProto(o.Commit), ts(o.At)
	}
	return r
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// refusedTrade is the outcome of a trade refused before the registry saw
// it, for a message that carries no trade at all.
func refusedTrade(t *pb.MatchedTrade, c domain.Check, field, detail string) *pb.TradeOutcome {
	return &pb.TradeOutcome{ExchangeId: t.GetExchangeId(), TradeId: t.GetTradeId(), RightId: t.GetRightId(),
		Result: &pb.TradeOutcome_Refused{Refused: &pb.TradeRefusal{CheckCode: c.Code, CheckName: c.Name, Field: field,
			Message: c.Code + " " + c.Name + " (" + field + "): " + detail}}}
}
