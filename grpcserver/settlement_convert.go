package grpcserver

import (
	"strings"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
	"google.golang.org/protobuf/types/known/timestamppb"
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

// settledOutcome holds the messages of a settled trade's outcome in one
// allocation: outcomes are the bulk of what a busy stream sends.
type settledOutcome struct {
	outcome    pb.TradeOutcome
	result     pb.TradeOutcome_Settled
	settlement pb.TradeSettlement
	commit     pb.Commit
	position   pb.Position
	settledAt  timestamppb.Timestamp
	ranges     [1]*pb.SerialRange
	rng        pb.SerialRange
}

// tradeOutcomeToProto turns a trade's outcome into its API form.
func tradeOutcomeToProto(o registry.TradeOutcome) *pb.TradeOutcome {
	if e := o.Settled; e != nil && len(e.Blocks) == 1 && o.Original == nil {
		return settledOneBlockToProto(o)
	}
	return outcomeMessages(o)
}

// settledOneBlockToProto is outcomeMessages for the common outcome, a
// settlement of one serial block, in one allocation.
func settledOneBlockToProto(o registry.TradeOutcome) *pb.TradeOutcome {
	e := o.Settled
	m := &settledOutcome{}
	m.outcome.ExchangeId, m.outcome.TradeId, m.outcome.RightId, m.outcome.Replay = o.Trade.ExchangeID, o.Trade.TradeID, o.Trade.RightID, o.Replay
	m.rng.Start, m.rng.End, m.rng.Serial = e.Blocks[0].Start, e.Blocks[0].End, domain.FormatSerialWithPrefix(o.SerialPrefix, e.Blocks[0])
	m.ranges[0] = &m.rng
	m.position.Commit, m.position.Prepare = o.Commit.Position.Commit, o.Commit.Position.Prepare
	m.commit.Stream, m.commit.StreamRevision, m.commit.Position, m.commit.CorrelationId = o.Commit.Stream, o.Commit.Revision, &m.position, o.Commit.CorrelationID
	m.settledAt.Seconds, m.settledAt.Nanos = e.SettledAt.Unix(), int32(e.SettledAt.Nanosecond())
	m.settlement.Quantity, m.settlement.Ranges, m.settlement.Commit, m.settlement.ReservationRemaining = e.Quantity, m.ranges[:], &m.commit, e.ReservationRemaining
	if !e.SettledAt.IsZero() {
		m.settlement.SettledAt = &m.settledAt
	}
	m.result.Settled = &m.settlement
	m.outcome.Result = &m.result
	return &m.outcome
}

// outcomeMessages turns any outcome into its API form.
func outcomeMessages(o registry.TradeOutcome) *pb.TradeOutcome {
	// A refused trade's ids may be anything the exchange sent; they are
	// clipped like every other echo.
	out := &pb.TradeOutcome{ExchangeId: clip(o.Trade.ExchangeID), TradeId: clip(o.Trade.TradeID), RightId: clip(o.Trade.RightID), Replay: o.Replay}
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

// matchedTradeDescriptor is the message whose field paths a trade's refusal names.
var matchedTradeDescriptor = (&pb.MatchedTrade{}).ProtoReflect().Descriptor()

func refusalToProto(o registry.TradeOutcome) *pb.TradeRefusal {
	msg := strings.TrimPrefix(errorText(o.Refusal), "domain: ")
	r := &pb.TradeRefusal{}
	if v := domain.ViolationsOf(o.Refusal); len(v) > 0 {
		r.CheckCode, r.CheckName, r.Field = v[0].Check.Code, v[0].Check.Name, requestFieldPath(matchedTradeDescriptor, v[0].Field)
		msg = renameField(msg, v[0].Field, r.Field)
	}
	r.Message = clip(msg)
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
	return &pb.TradeOutcome{ExchangeId: clip(t.GetExchangeId()), TradeId: clip(t.GetTradeId()), RightId: clip(t.GetRightId()),
		Result: &pb.TradeOutcome_Refused{Refused: &pb.TradeRefusal{CheckCode: c.Code, CheckName: c.Name, Field: field,
			Message: c.Code + " " + c.Name + " (" + field + "): " + detail}}}
}
