package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

var (
	pledgeReleasers = choices[ecov1.PledgeReleaser]{
		{"pledgee", ecov1.PledgeReleaser_PLEDGE_RELEASER_PLEDGEE},
		{"registration-office", ecov1.PledgeReleaser_PLEDGE_RELEASER_REGISTRATION_OFFICE},
	}
	transactionKinds = choices[ecov1.TransactionKind]{
		{"transfer", ecov1.TransactionKind_TRANSACTION_KIND_TRANSFER},
		{"retirement", ecov1.TransactionKind_TRANSACTION_KIND_RETIREMENT},
		{"settlement", ecov1.TransactionKind_TRANSACTION_KIND_SETTLEMENT},
		{"cancellation", ecov1.TransactionKind_TRANSACTION_KIND_CANCELLATION},
		{"trade", ecov1.TransactionKind_TRANSACTION_KIND_TRADE},
	}
)

// writeRecorded prints the key facts of a lifecycle command, where it was
// committed, and the serial blocks it concerned.
// replayed says what a response's replay flag means; empty when it is not
// set, so that writeRecorded leaves the line out.
func replayed(replay bool) string {
	if !replay {
		return ""
	}
	return "yes: recorded before under this id; nothing new was recorded"
}

func writeRecorded(w io.Writer, facts [][2]any, c *ecov1.Commit, ranges []*ecov1.SerialRange) error {
	f := newFields(w)
	for _, kv := range facts {
		if s, ok := kv[1].(string); ok && s == "" {
			continue
		}
		f.add(kv[0].(string), kv[1])
	}
	f.commit(c)
	if err := f.flush(); err != nil {
		return err
	}
	return writeMoved(w, ranges)
}

var pledgeCreateCommand = &command{
	path:    "pledge create",
	summary: "pledge units to a lender as loan collateral",
	about: `Pledges a quantity (lowest available serials first), or an explicit serial
range, of one right held by the pledgor to the pledgee's account. Pledged
units cannot be transferred, retired, reserved or pledged again until the
pledge is released or enforced.

The pledge id is the caller's, unique within the right: repeating the command
never pledges twice; it shows the first outcome, marked "Replay: yes".`,
	example: `ecoctl pledge create --right HB2025A --id PL-0001 --pledgor HB001 --pledgee ICBC-HB --loan ICBC-2025-0042 --quantity 5000 --maturity 2026-06-30`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.PledgeUnitsRequest{}
		var amount amountFlags
		var maturity string
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.PledgeId, "id", "", "this pledge's `ID`, unique within the right")
		fs.StringVar(&req.PledgorAccountId, "pledgor", "", "the `account` whose units are pledged")
		fs.StringVar(&req.PledgeeAccountId, "pledgee", "", "the lender's `account`")
		fs.StringVar(&req.LoanReference, "loan", "", "the lender's `reference` of the secured loan")
		fs.StringVar(&maturity, "maturity", "", "when the loan falls due: a `date` YYYY-MM-DD (China Standard Time) or RFC 3339 time")
		amount.define(fs, "pledge")
		fs.require("right", "id", "pledgor", "pledgee", "loan")
		return func([]string) (proto.Message, error) {
			q, r, err := amount.resolve(fs, req.RightId)
			if err != nil {
				return nil, err
			}
			if r != nil {
				req.Amount = &ecov1.PledgeUnitsRequest_Range{Range: r}
			} else {
				req.Amount = &ecov1.PledgeUnitsRequest_Quantity{Quantity: q}
			}
			if req.Maturity, err = optionalTime("maturity", maturity); err != nil {
				return nil, err
			}
			return req, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.PledgeUnitsRequest) (*ecov1.PledgeUnitsResponse, error) {
		return ecov1.NewPledgeServiceClient(cc).PledgeUnits(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.PledgeUnitsRequest, resp *ecov1.PledgeUnitsResponse) error {
		p := resp.GetPledge()
		maturity := ""
		if p.GetMaturity() != nil {
			maturity = formatTime(p.GetMaturity())
		}
		return writeRecorded(w, [][2]any{{"Pledge", p.GetPledgeId()}, {"Right", p.GetRightId()}, {"Pledgor", p.GetPledgorAccountId()},
			{"Pledgee", p.GetPledgeeAccountId()}, {"Loan reference", p.GetLoanReference()}, {"Maturity", maturity}, {"Quantity", p.GetQuantity()}, {"Replay", replayed(resp.GetReplay())}},
			resp.GetCommit(), p.GetRanges())
	}),
}

var pledgeReleaseCommand = &command{
	path:    "pledge release",
	summary: "release a pledge: its units are the pledgor's again",
	about: `Releases pledge --id of a right. The pledgee releases it (--by pledgee), or
the registration office with its reference (--by registration-office
--office-reference ...).`,
	example: `ecoctl pledge release --right HB2025A --id PL-0001 --by pledgee --reason "loan repaid"`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ReleasePledgeRequest{}
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.PledgeId, "id", "", "the pledge's `ID`")
		enum(fs, &req.ReleasedBy, "by", pledgeReleasers, "who releases the pledge (`party`)")
		fs.StringVar(&req.OfficeReference, "office-reference", "", "the registration office's `reference`; required with --by registration-office")
		fs.StringVar(&req.Reason, "reason", "", "a free-text `reason`")
		fs.require("right", "id", "by")
		return func([]string) (proto.Message, error) {
			if req.ReleasedBy == ecov1.PledgeReleaser_PLEDGE_RELEASER_REGISTRATION_OFFICE && req.OfficeReference == "" {
				return nil, errors.New("--by registration-office needs --office-reference")
			}
			return req, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ReleasePledgeRequest) (*ecov1.ReleasePledgeResponse, error) {
		return ecov1.NewPledgeServiceClient(cc).ReleasePledge(ctx, req)
	}),
	render: view(func(w io.Writer, req *ecov1.ReleasePledgeRequest, resp *ecov1.ReleasePledgeResponse) error {
		return writeRecorded(w, [][2]any{{"Pledge released", resp.GetPledgeId()}, {"Right", req.GetRightId()},
			{"Pledgor", resp.GetPledgorAccountId()}, {"Quantity", resp.GetQuantity()}}, resp.GetCommit(), resp.GetRanges())
	}),
}

var pledgeEnforceCommand = &command{
	path:    "pledge enforce",
	summary: "on default, transfer pledged units to the pledgee or a buyer",
	about: `Enforces pledge --id of a right: all its units go to the pledgee, or to the
buyer --to names. The default's reference (e.g. the notice of default) is
required.`,
	example: `ecoctl pledge enforce --right HB2025A --id PL-0001 --default-reference NOTICE-2026-3 --to HB009`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.EnforcePledgeRequest{}
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.PledgeId, "id", "", "the pledge's `ID`")
		fs.StringVar(&req.ToAccountId, "to", "", "the receiving `account`; the pledgee when not given")
		fs.StringVar(&req.DefaultReference, "default-reference", "", "the `reference` of the default")
		fs.StringVar(&req.Reason, "reason", "", "a free-text `reason`")
		fs.require("right", "id", "default-reference")
		return func([]string) (proto.Message, error) { return req, nil }
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.EnforcePledgeRequest) (*ecov1.EnforcePledgeResponse, error) {
		return ecov1.NewPledgeServiceClient(cc).EnforcePledge(ctx, req)
	}),
	render: view(func(w io.Writer, req *ecov1.EnforcePledgeRequest, resp *ecov1.EnforcePledgeResponse) error {
		return writeRecorded(w, [][2]any{{"Pledge enforced", resp.GetPledgeId()}, {"Right", req.GetRightId()},
			{"To", resp.GetToAccountId()}, {"Quantity", resp.GetQuantity()}}, resp.GetCommit(), resp.GetRanges())
	}),
}

var pledgeListCommand = &command{
	path:    "pledge list",
	summary: "list open pledges: of a right, or of an account's units across rights",
	about: `With --right, lists the open pledges of that right in which --account is
pledgor or pledgee (all open pledges of the right without --account). With
--account alone, lists the open pledges of the account's units in every
right (the account as pledgor). Each comes with its serial blocks: what a
bank checks before it accepts units as collateral. The pledges are read from
the rights' streams, so they reflect every command already answered.`,
	example: `ecoctl pledge list --account HB001`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ListPledgesRequest{}
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`; without it, --account's pledges across rights")
		fs.StringVar(&req.AccountId, "account", "", "only pledges of this `account`, as pledgor or pledgee")
		return func([]string) (proto.Message, error) {
			if req.RightId == "" && req.AccountId == "" {
				return nil, errors.New("give --right, --account, or both")
			}
			return req, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ListPledgesRequest) (*ecov1.ListPledgesResponse, error) {
		return ecov1.NewPledgeServiceClient(cc).ListPledges(ctx, req)
	}),
	render: view(func(w io.Writer, req *ecov1.ListPledgesRequest, resp *ecov1.ListPledgesResponse) error {
		if len(resp.GetPledges()) == 0 {
			if req.GetRightId() == "" {
				_, err := fmt.Fprintf(w, "No open pledges of units of account %s.\n", req.GetAccountId())
				return err
			}
			_, err := fmt.Fprintf(w, "No open pledges of right %s (revision %d).\n", req.GetRightId(), resp.GetRevision())
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RIGHT\tPLEDGE\tPLEDGOR\tPLEDGEE\tLOAN\tMATURITY\tQUANTITY\tSERIALS")
		for _, p := range resp.GetPledges() {
			maturity := "-"
			if p.GetMaturity() != nil {
				maturity = formatTime(p.GetMaturity())
			}
			serials := ""
			for i, r := range p.GetRanges() {
				if i > 0 {
					serials += " "
				}
				serials += rangeText(r)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", p.GetRightId(), p.GetPledgeId(), p.GetPledgorAccountId(), p.GetPledgeeAccountId(),
				p.GetLoanReference(), maturity, p.GetQuantity(), serials)
		}
		if req.GetRightId() != "" {
			fmt.Fprintf(tw, "\nRevision:\t%d\n", resp.GetRevision())
		}
		return tw.Flush()
	}),
}

var freezeCommand = &command{
	path:    "freeze",
	summary: "freeze units of a holding, or a whole account, under an authority order",
	about: `Freezes, under a court or regulator order, a quantity or serial range of one
right held by --holder; or, with --whole-account, the whole account --holder in
every right: its units may then not be sent, retired, pledged or reserved
(it may still receive). Frozen units stay the holder's.`,
	example: `ecoctl freeze --right HB2025A --holder HB001 --quantity 1000 --order "(2025)鄂01执保123号" --authority "Wuhan Intermediate People's Court"`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		var rightID, holder, order, authority, reason string
		var whole bool
		var amount amountFlags
		fs.StringVar(&rightID, "right", "", "the right's `ID` (not with --whole-account)")
		fs.StringVar(&holder, "holder", "", "the `account` whose units are frozen")
		fs.BoolVar(&whole, "whole-account", false, "freeze the whole account in every right instead of units of one right")
		fs.StringVar(&order, "order", "", "the order's `number`")
		fs.StringVar(&authority, "authority", "", "the court or regulator that issued the order (`name`)")
		fs.StringVar(&reason, "reason", "", "a free-text `reason`")
		amount.define(fs, "freeze")
		fs.require("holder", "order", "authority")
		return func([]string) (proto.Message, error) {
			if whole {
				if rightID != "" || fs.given("quantity") || fs.given("range") {
					return nil, errors.New("--whole-account freezes every right: give no --right, --quantity or --range")
				}
				return &ecov1.FreezeAccountRequest{AccountId: holder, OrderNumber: order, Authority: authority, Reason: reason}, nil
			}
			if rightID == "" {
				return nil, errors.New("give --right, or --whole-account")
			}
			q, r, err := amount.resolve(fs, rightID)
			if err != nil {
				return nil, err
			}
			req := &ecov1.FreezeUnitsRequest{RightId: rightID, HolderAccountId: holder, OrderNumber: order, Authority: authority, Reason: reason}
			if r != nil {
				req.Amount = &ecov1.FreezeUnitsRequest_Range{Range: r}
			} else {
				req.Amount = &ecov1.FreezeUnitsRequest_Quantity{Quantity: q}
			}
			return req, nil
		}
	},
	call: func(ctx context.Context, cc grpc.ClientConnInterface, req proto.Message) (proto.Message, error) {
		c := ecov1.NewFreezeServiceClient(cc)
		switch req := req.(type) {
		case *ecov1.FreezeAccountRequest:
			return nilIfErr(c.FreezeAccount(ctx, req))
		case *ecov1.FreezeUnitsRequest:
			return nilIfErr(c.FreezeUnits(ctx, req))
		}
		return nil, fmt.Errorf("freeze cannot send a %T", req)
	},
	render: func(w io.Writer, req, resp proto.Message) error {
		switch resp := resp.(type) {
		case *ecov1.FreezeAccountResponse:
			if resp.GetReplay() {
				fmt.Fprintf(w, "Replay: %s\n", replayed(true))
			}
			return writeAccount(w, resp.GetAccount(), resp.GetCommit())
		case *ecov1.FreezeUnitsResponse:
			r := req.(*ecov1.FreezeUnitsRequest)
			return writeRecorded(w, [][2]any{{"Frozen under order", resp.GetOrderNumber()}, {"Right", r.GetRightId()},
				{"Holder", r.GetHolderAccountId()}, {"Quantity", resp.GetQuantity()}, {"Replay", replayed(resp.GetReplay())}}, resp.GetCommit(), resp.GetRanges())
		}
		return fmt.Errorf("unexpected response %T", resp)
	},
}

var unfreezeCommand = &command{
	path:    "unfreeze",
	summary: "lift a freeze order on a right, or on a whole account",
	about: `Lifts the freeze of --order on --right (every unit it still freezes becomes
available again), or with --whole-account the account-wide freeze of --order
on account --holder.`,
	example: `ecoctl unfreeze --right HB2025A --order "(2025)鄂01执保123号" --authority "Wuhan Intermediate People's Court" --reason "order lifted"`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		var rightID, holder, order, authority, reason string
		var whole bool
		fs.StringVar(&rightID, "right", "", "the right's `ID` (not with --whole-account)")
		fs.StringVar(&holder, "holder", "", "with --whole-account, the frozen `account`")
		fs.BoolVar(&whole, "whole-account", false, "lift an account-wide freeze instead of one on a right")
		fs.StringVar(&order, "order", "", "the order's `number`")
		fs.StringVar(&authority, "authority", "", "who lifts the freeze (`name`)")
		fs.StringVar(&reason, "reason", "", "a free-text `reason`, e.g. the lifting order's number")
		fs.require("order", "authority")
		return func([]string) (proto.Message, error) {
			if whole {
				if rightID != "" || holder == "" {
					return nil, errors.New("--whole-account needs --holder and no --right")
				}
				return &ecov1.UnfreezeAccountRequest{AccountId: holder, OrderNumber: order, Authority: authority, Reason: reason}, nil
			}
			if rightID == "" || holder != "" {
				return nil, errors.New("give --right (the order names the holder), or --whole-account with --holder")
			}
			return &ecov1.UnfreezeUnitsRequest{RightId: rightID, OrderNumber: order, Authority: authority, Reason: reason}, nil
		}
	},
	call: func(ctx context.Context, cc grpc.ClientConnInterface, req proto.Message) (proto.Message, error) {
		c := ecov1.NewFreezeServiceClient(cc)
		switch req := req.(type) {
		case *ecov1.UnfreezeAccountRequest:
			return nilIfErr(c.UnfreezeAccount(ctx, req))
		case *ecov1.UnfreezeUnitsRequest:
			return nilIfErr(c.UnfreezeUnits(ctx, req))
		}
		return nil, fmt.Errorf("unfreeze cannot send a %T", req)
	},
	render: func(w io.Writer, req, resp proto.Message) error {
		switch resp := resp.(type) {
		case *ecov1.UnfreezeAccountResponse:
			return writeAccount(w, resp.GetAccount(), resp.GetCommit())
		case *ecov1.UnfreezeUnitsResponse:
			r := req.(*ecov1.UnfreezeUnitsRequest)
			return writeRecorded(w, [][2]any{{"Unfrozen order", resp.GetOrderNumber()}, {"Right", r.GetRightId()},
				{"Holder", resp.GetHolderAccountId()}, {"Quantity", resp.GetQuantity()}}, resp.GetCommit(), resp.GetRanges())
		}
		return fmt.Errorf("unexpected response %T", resp)
	},
}

// nilIfErr returns a typed response as a proto.Message, or nil with the
// error, so that a typed nil never passes for a response.
func nilIfErr[Resp proto.Message](resp Resp, err error) (proto.Message, error) {
	if err != nil {
		return nil, err
	}
	return resp, nil
}

var reserveCommand = &command{
	path:    "reserve",
	summary: "reserve a seller's units for an exchange order until a timeout",
	about: `Reserves a quantity or serial range of one right held by --holder for an
exchange order (the first phase of a two-phase settlement). The units stay
the seller's but cannot move until the reservation is settled, voided or
expires at --until (its timeout), which the registry records by itself.`,
	example: `ecoctl reserve --right HB2025A --id RSV-77 --holder HB001 --exchange "Hubei Emission Exchange" --order-ref ORD-77 --quantity 500 --until 2025-12-01T18:00:00+08:00`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ReserveUnitsRequest{}
		var amount amountFlags
		var timeout string
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.ReservationId, "id", "", "the reservation's `ID`, unique within the right")
		fs.StringVar(&req.HolderAccountId, "holder", "", "the selling `account`")
		fs.StringVar(&req.Exchange, "exchange", "", "the exchange's `name`")
		fs.StringVar(&req.OrderReference, "order-ref", "", "the exchange's order `number`")
		fs.StringVar(&timeout, "until", "", "the reservation's timeout, when it expires: an RFC 3339 `time` or a date\nYYYY-MM-DD (China Standard Time)")
		amount.define(fs, "reserve")
		fs.require("right", "id", "holder", "exchange", "order-ref", "until")
		return func([]string) (proto.Message, error) {
			q, r, err := amount.resolve(fs, req.RightId)
			if err != nil {
				return nil, err
			}
			if r != nil {
				req.Amount = &ecov1.ReserveUnitsRequest_Range{Range: r}
			} else {
				req.Amount = &ecov1.ReserveUnitsRequest_Quantity{Quantity: q}
			}
			if req.Timeout, err = optionalTime("until", timeout); err != nil {
				return nil, err
			}
			return req, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ReserveUnitsRequest) (*ecov1.ReserveUnitsResponse, error) {
		return ecov1.NewReservationServiceClient(cc).ReserveUnits(ctx, req)
	}),
	render: view(func(w io.Writer, req *ecov1.ReserveUnitsRequest, resp *ecov1.ReserveUnitsResponse) error {
		return writeRecorded(w, [][2]any{{"Reservation", resp.GetReservationId()}, {"Right", req.GetRightId()},
			{"Holder", req.GetHolderAccountId()}, {"Quantity", resp.GetQuantity()}, {"Timeout", formatTime(resp.GetTimeout())},
			{"Replay", replayed(resp.GetReplay())}},
			resp.GetCommit(), resp.GetRanges())
	}),
}

var reservationSettleCommand = &command{
	path:    "reservation settle",
	summary: "deliver reserved units to a buyer, all or part",
	about: `Delivers --quantity of the units reserved under --reservation (the lowest
reserved serials) to --buyer. What is not settled stays reserved until a
later settlement, a void or the timeout. The settlement id makes a retry
safe: a repeat shows the first outcome, marked "Replay: yes".`,
	example: `ecoctl reservation settle --right HB2025A --reservation RSV-77 --id STL-77-1 --buyer HB002 --quantity 200 --price 58.25`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.SettleReservationRequest{}
		var price, currency string
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.ReservationId, "reservation", "", "the reservation's `ID`")
		fs.StringVar(&req.SettlementId, "id", "", "this settlement's `ID`, unique within the right")
		fs.StringVar(&req.BuyerAccountId, "buyer", "", "the buying `account`")
		fs.Int64Var(&req.Quantity, "quantity", 0, "`units` to deliver")
		fs.StringVar(&price, "price", "", "price per unit in major units (yuan), a decimal `amount` such as 58.25")
		fs.StringVar(&currency, "currency", "CNY", "ISO 4217 `code` of --price's currency")
		fs.require("right", "reservation", "id", "buyer", "quantity")
		return func([]string) (proto.Message, error) {
			var err error
			switch {
			case fs.given("price"):
				if req.Price, err = parsePrice(price, currency); err != nil {
					return nil, err
				}
			case fs.given("currency"):
				return nil, errors.New("--currency needs --price")
			}
			return req, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.SettleReservationRequest) (*ecov1.SettleReservationResponse, error) {
		return ecov1.NewReservationServiceClient(cc).SettleReservation(ctx, req)
	}),
	render: view(func(w io.Writer, req *ecov1.SettleReservationRequest, resp *ecov1.SettleReservationResponse) error {
		return writeRecorded(w, [][2]any{{"Settlement", resp.GetSettlementId()}, {"Reservation", req.GetReservationId()},
			{"Right", req.GetRightId()}, {"Buyer", req.GetBuyerAccountId()}, {"Quantity", resp.GetQuantity()}, {"Still reserved", resp.GetRemaining()},
			{"Replay", replayed(resp.GetReplay())}},
			resp.GetCommit(), resp.GetRanges())
	}),
}

var reservationVoidCommand = &command{
	path:    "reservation void",
	summary: "void a reservation before its timeout",
	about:   `Voids --reservation: the units it still reserves are the seller's available units again.`,
	example: `ecoctl reservation void --right HB2025A --reservation RSV-77 --reason "order cancelled"`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.VoidReservationRequest{}
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.ReservationId, "reservation", "", "the reservation's `ID`")
		fs.StringVar(&req.Reason, "reason", "", "a free-text `reason`")
		fs.require("right", "reservation")
		return func([]string) (proto.Message, error) { return req, nil }
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.VoidReservationRequest) (*ecov1.VoidReservationResponse, error) {
		return ecov1.NewReservationServiceClient(cc).VoidReservation(ctx, req)
	}),
	render: view(func(w io.Writer, req *ecov1.VoidReservationRequest, resp *ecov1.VoidReservationResponse) error {
		return writeRecorded(w, [][2]any{{"Reservation voided", resp.GetReservationId()}, {"Right", req.GetRightId()},
			{"Quantity", resp.GetQuantity()}}, resp.GetCommit(), resp.GetRanges())
	}),
}

var cancelCommand = &command{
	path:    "cancel",
	summary: "cancel units by an authority: a holder's, frozen ones, or the buffer pool's",
	about: `Cancels a quantity or serial range of one right: --holder's available units,
units frozen under --order (with --holder), or, without --holder, units of the
right's buffer pool (e.g. to cover a reversal of a carbon sink). Cancelled
units never move again. A reason is required.`,
	example: `ecoctl cancel --right CSR2024 --id CAN-1 --quantity 300 --authority NFGA --reason "reversal: forest fire 2025-07"`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.CancelUnitsRequest{}
		var amount amountFlags
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.CancellationId, "id", "", "the cancellation's `ID`, unique within the right")
		fs.StringVar(&req.HolderAccountId, "holder", "", "the `account` whose units are cancelled; omit for the buffer pool")
		fs.StringVar(&req.OrderNumber, "order", "", "cancel units frozen under this order `number`")
		fs.StringVar(&req.Authority, "authority", "", "the cancelling authority (`name`)")
		fs.StringVar(&req.Reason, "reason", "", "why the units are cancelled (`text`)")
		amount.define(fs, "cancel")
		fs.require("right", "id", "authority", "reason")
		return func([]string) (proto.Message, error) {
			q, r, err := amount.resolve(fs, req.RightId)
			if err != nil {
				return nil, err
			}
			if r != nil {
				req.Amount = &ecov1.CancelUnitsRequest_Range{Range: r}
			} else {
				req.Amount = &ecov1.CancelUnitsRequest_Quantity{Quantity: q}
			}
			if req.OrderNumber != "" && req.HolderAccountId == "" {
				return nil, errors.New("--order needs --holder")
			}
			return req, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.CancelUnitsRequest) (*ecov1.CancelUnitsResponse, error) {
		return ecov1.NewCancellationServiceClient(cc).CancelUnits(ctx, req)
	}),
	render: view(func(w io.Writer, req *ecov1.CancelUnitsRequest, resp *ecov1.CancelUnitsResponse) error {
		from := req.GetHolderAccountId()
		if from == "" {
			from = "buffer pool"
		}
		return writeRecorded(w, [][2]any{{"Cancellation", resp.GetCancellationId()}, {"Right", req.GetRightId()},
			{"From", from}, {"Quantity", resp.GetQuantity()}, {"Replay", replayed(resp.GetReplay())}}, resp.GetCommit(), resp.GetRanges())
	}),
}

var correctCommand = &command{
	path:    "correct",
	summary: "reverse a completed transaction by its id (a regulator's correction)",
	about: `Reverses the transfer, retirement, settlement, cancellation or exchange trade
--original of a right with a new, compensating event; the original stays as
recorded. A trade is named by its trade id and --exchange. The registry
refuses (E7007 REVERSAL_BLOCKED) when the units have since moved on, and
names the blocking serial blocks. A reversed trade stays decided: the
exchange resubmitting it gets its original outcome and nothing moves.`,
	example: `ecoctl correct --right HB2025A --id COR-1 --kind transfer --original T-0001 --authority MEE --reason "entered twice"`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.ReverseTransactionRequest{}
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.CorrectionId, "id", "", "the correction's `ID`, unique within the right")
		enum(fs, &req.Kind, "kind", transactionKinds, "the `kind` of the transaction to reverse")
		fs.StringVar(&req.OriginalId, "original", "", "the transaction's `ID`")
		fs.StringVar(&req.ExchangeId, "exchange", "", "for --kind trade, the `exchange` whose trade id --original is")
		fs.StringVar(&req.Authority, "authority", "", "the regulator ordering the correction (`name`)")
		fs.StringVar(&req.Reason, "reason", "", "why (`text`)")
		fs.require("right", "id", "kind", "original", "authority", "reason")
		return func([]string) (proto.Message, error) {
			trade := req.Kind == ecov1.TransactionKind_TRANSACTION_KIND_TRADE
			switch {
			case trade && req.ExchangeId == "":
				return nil, errors.New("--kind trade needs --exchange: a trade id is unique only within its exchange")
			case !trade && req.ExchangeId != "":
				return nil, errors.New("--exchange is only for --kind trade")
			}
			return req, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.ReverseTransactionRequest) (*ecov1.ReverseTransactionResponse, error) {
		return ecov1.NewCorrectionServiceClient(cc).ReverseTransaction(ctx, req)
	}),
	render: view(func(w io.Writer, req *ecov1.ReverseTransactionRequest, resp *ecov1.ReverseTransactionResponse) error {
		return writeRecorded(w, [][2]any{{"Correction", resp.GetCorrectionId()}, {"Reversed", reversedName(req)},
			{"Right", req.GetRightId()}, {"From", resp.GetFromAccountId()}, {"To", resp.GetToAccountId()}, {"Quantity", resp.GetQuantity()},
			{"Replay", replayed(resp.GetReplay())}},
			resp.GetCommit(), resp.GetRanges())
	}),
}

// reversedName names the reversed transaction, e.g. "transfer T-0001" or
// "trade X-1 of HBEX".
func reversedName(req *ecov1.ReverseTransactionRequest) string {
	name := transactionKinds.nameOf(req.GetKind()) + " " + req.GetOriginalId()
	if req.GetExchangeId() != "" {
		name += " of " + req.GetExchangeId()
	}
	return name
}
