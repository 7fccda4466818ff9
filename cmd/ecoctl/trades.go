package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// tradeSubmitCommand sends one matched trade for settlement, as an exchange
// does over SubmitTrade, for an operator who settles a trade by hand or
// checks what the registry answers for one (a resubmission returns the
// original outcome).
var tradeSubmitCommand = &command{
	path:    "trade submit",
	summary: "submit one matched trade of an exchange for settlement",
	about: `Submits one trade an exchange has matched and prints its outcome: settled,
with the serial blocks that moved from the seller to the buyer and where the
settlement was committed, or refused, with the registry's check code. A
refused trade exits 1, like any refusal.

A trade is identified by its exchange and trade id. Submitting the same trade
again, with the same content, settles nothing new and prints the original
outcome, marked as a replay; the same id with other content is refused
(E3009) and the original is shown. A trade whose outcome is unknown, e.g.
after a timeout, is therefore safe to submit again.

--price is the price per unit in major currency units as a decimal string
(58.25 yuan is sent as 5825 fen), read exactly. --matched-at is when the
exchange matched the trade; it is part of the trade, so a resubmission must
give the same time (there is no default: "now" would differ on a retry).`,
	example: `ecoctl trade submit --exchange HBEX --id X-20250312-0001 --right HB2025A --seller HB001 --buyer HB002 --quantity 500 --price 58.25 --matched-at 2025-03-12T10:31:07+08:00`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		t := &ecov1.MatchedTrade{}
		var amount amountFlags
		var price, currency, matchedAt string
		fs.StringVar(&t.ExchangeId, "exchange", "", "the exchange's `ID`")
		fs.StringVar(&t.TradeId, "id", "", "the trade's `ID`, unique within the exchange")
		fs.StringVar(&t.RightId, "right", "", "the traded right's `ID`")
		fs.StringVar(&t.SellerAccountId, "seller", "", "the seller's `account`")
		fs.StringVar(&t.BuyerAccountId, "buyer", "", "the buyer's `account`")
		amount.define(fs, "sell")
		fs.StringVar(&price, "price", "", "price per unit in major units (yuan), a decimal `amount` such as 58.25")
		fs.StringVar(&currency, "currency", "CNY", "ISO 4217 `code` of --price's currency")
		fs.StringVar(&matchedAt, "matched-at", "", "when the exchange matched the trade: a `time` in RFC 3339 or a date\n(YYYY-MM-DD, China Standard Time)")
		fs.StringVar(&t.ReservationId, "reservation", "", "the `ID` of a reservation of the seller's units to settle from")
		fs.require("exchange", "id", "right", "seller", "buyer", "price", "matched-at")
		return func([]string) (proto.Message, error) {
			q, r, err := amount.resolve(fs, t.RightId)
			if err != nil {
				return nil, err
			}
			if r != nil {
				t.Amount = &ecov1.MatchedTrade_Range{Range: r}
			} else {
				t.Amount = &ecov1.MatchedTrade_Quantity{Quantity: q}
			}
			if t.Price, err = parsePrice(price, currency); err != nil {
				return nil, err
			}
			if t.MatchedAt, err = parseTime(matchedAt); err != nil {
				return nil, errors.New("--matched-at: " + err.Error())
			}
			return &ecov1.SubmitTradeRequest{Trade: t}, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.SubmitTradeRequest) (*ecov1.SubmitTradeResponse, error) {
		return ecov1.NewSettlementServiceClient(cc).SubmitTrade(ctx, req)
	}),
	render: view(writeTradeOutcome),
	exit: func(resp proto.Message) int {
		if resp.(*ecov1.SubmitTradeResponse).GetOutcome().GetSettled() == nil {
			return exitRejected
		}
		return exitOK
	},
}

func writeTradeOutcome(w io.Writer, req *ecov1.SubmitTradeRequest, resp *ecov1.SubmitTradeResponse) error {
	o := resp.GetOutcome()
	t := req.GetTrade()
	f := newFields(w)
	f.add("Exchange", o.GetExchangeId())
	f.add("Trade", o.GetTradeId())
	f.add("Right", o.GetRightId())
	f.add("Seller", t.GetSellerAccountId())
	f.add("Buyer", t.GetBuyerAccountId())
	f.add("Price per unit", formatPrice(t.GetPrice()))
	f.addIf("Reservation", t.GetReservationId())
	if o.GetReplay() {
		f.add("Replay", "yes: this trade was decided before; nothing new was settled")
	}
	var ranges []*ecov1.SerialRange
	switch {
	case o.GetSettled() != nil:
		s := o.GetSettled()
		f.add("Outcome", "settled")
		f.add("Quantity", s.GetQuantity())
		f.add("Settled at", formatTime(s.GetSettledAt()))
		if t.GetReservationId() != "" {
			f.add("Still reserved", s.GetReservationRemaining())
		}
		f.commit(s.GetCommit())
		ranges = s.GetRanges()
	case o.GetRefused() != nil:
		r := o.GetRefused()
		f.add("Outcome", "refused")
		f.add("Check", r.GetCheckCode()+" "+r.GetCheckName())
		f.addIf("Field", r.GetField())
		f.add("Message", r.GetMessage())
		if r.GetCommit() != nil {
			f.add("Refused at", formatTime(r.GetRefusedAt()))
			f.commit(r.GetCommit())
		} else {
			f.add("Recorded", "no: a resubmission is decided afresh")
		}
	case o.GetFailed() != nil:
		f.add("Outcome", "failed")
		f.add("Message", fmt.Sprintf("%s (gRPC code %d)", o.GetFailed().GetMessage(), o.GetFailed().GetCode()))
	}
	if orig := o.GetOriginal(); orig != nil {
		f.add("Original outcome", originalSummary(orig))
	}
	if err := f.flush(); err != nil {
		return err
	}
	if len(ranges) == 0 {
		return nil
	}
	return writeMoved(w, ranges)
}

// originalSummary says in one line what the first submission of a trade id
// was and how it ended.
func originalSummary(o *ecov1.TradeOutcome) string {
	t := o.GetTrade()
	what := fmt.Sprintf("%s -> %s", t.GetSellerAccountId(), t.GetBuyerAccountId())
	if q := t.GetQuantity(); q > 0 {
		what += fmt.Sprintf(", %d units", q)
	} else if r := t.GetRange(); r != nil {
		what += ", serials " + rangeText(r)
	}
	if p := t.GetPrice(); p != nil {
		what += " at " + formatPrice(p)
	}
	switch {
	case o.GetSettled() != nil:
		return what + ": settled"
	case o.GetRefused() != nil:
		return what + ": refused " + o.GetRefused().GetCheckCode()
	}
	return what
}
