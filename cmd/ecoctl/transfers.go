package main

import (
	"context"
	"errors"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// amountFlags are the two ways to say how many units a transfer or
// retirement moves.
type amountFlags struct {
	quantity int64
	rng      string
}

func (a *amountFlags) define(fs *flagSet, verb string) {
	fs.Int64Var(&a.quantity, "quantity", 0, "`units` to "+verb+", lowest available serials first; give this or --range")
	fs.StringVar(&a.rng, "range", "", "the inclusive serial `range` to "+verb+", instead of --quantity:\nSTART-END (e.g. 1001-1500) or a serial block as ecoctl prints it\n(CEA-420000-2025-HB2025A-000001001-000001500)")
}

// resolve returns exactly one of a quantity or a range. Both or neither is a
// usage error: the registry would refuse it too (E5004), but the operator
// should learn it before anything is sent.
func (a *amountFlags) resolve(fs *flagSet, rightID string) (quantity int64, rng *ecov1.SerialRange, err error) {
	hasQ, hasR := fs.given("quantity"), fs.given("range")
	switch {
	case hasQ && hasR:
		return 0, nil, errors.New("give exactly one of --quantity and --range, not both")
	case !hasQ && !hasR:
		return 0, nil, errors.New("give exactly one of --quantity and --range")
	case hasQ:
		return a.quantity, nil, nil
	}
	rng, err = parseRange(a.rng, rightID)
	if err != nil {
		return 0, nil, errors.New("--range: " + err.Error())
	}
	return 0, rng, nil
}

var transferCommand = &command{
	path:    "transfer",
	summary: "move units of a right from one account to another",
	about: `Transfers a quantity (lowest available serials first), or an explicit serial
range, of one right from one account to another, and prints the serial blocks
that moved and where the transfer was committed.

The transfer id is the caller's, unique within the right: repeating a command
with the same id and fields never transfers twice; the registry answers with
the first outcome, marked "Replay: yes", so a command whose outcome is
unknown, e.g. after a timeout, is safe to rerun. The same id with other
fields is refused (E3004) and the refusal shows the original.

--price is the price per unit in major currency units (yuan for CNY) as a
decimal string, e.g. 58.25; it is read exactly, without floating point, and
sent in minor units (5825 fen). More decimal places than the currency has
(two for CNY) are refused rather than rounded.`,
	example: `ecoctl transfer --right HB2025A --id T-0001 --from HB001 --to HB002 --quantity 500 --price 58.25 --reference TRADE-88321`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.TransferUnitsRequest{}
		var amount amountFlags
		var price, currency string
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.TransferId, "id", "", "this transfer's `ID`, unique within the right: 1 to 64 characters of\nA-Z a-z 0-9 . _ -")
		fs.StringVar(&req.FromAccountId, "from", "", "the sending `account`")
		fs.StringVar(&req.ToAccountId, "to", "", "the receiving `account`")
		amount.define(fs, "transfer")
		fs.StringVar(&req.Reference, "reference", "", "an external `reference`, e.g. a contract or trade number")
		fs.StringVar(&req.Reason, "reason", "", "why the units move (`text`)")
		fs.StringVar(&price, "price", "", "price per unit in major units (yuan), a decimal `amount` such as 58.25")
		fs.StringVar(&currency, "currency", "CNY", "ISO 4217 `code` of --price's currency")
		fs.require("right", "id", "from", "to")
		return func([]string) (proto.Message, error) {
			q, r, err := amount.resolve(fs, req.RightId)
			if err != nil {
				return nil, err
			}
			if r != nil {
				req.Amount = &ecov1.TransferUnitsRequest_Range{Range: r}
			} else {
				req.Amount = &ecov1.TransferUnitsRequest_Quantity{Quantity: q}
			}
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
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.TransferUnitsRequest) (*ecov1.TransferUnitsResponse, error) {
		return ecov1.NewTransferServiceClient(cc).TransferUnits(ctx, req)
	}),
	render: view(writeTransfer),
}

var retireCommand = &command{
	path:    "retire",
	summary: "retire (surrender) units for compliance or voluntary offsetting",
	about: `Retires a quantity (lowest available serials first), or an explicit serial
range, of one right held by an account. Retired units never move again.
Compliance retirements (清缴) name the compliance period they surrender for.

The retirement id is the caller's, unique within the right: repeating a
command with the same id and fields never retires twice; it shows the first
outcome, marked "Replay: yes".`,
	example: `ecoctl retire --right HB2025A --id R-2025-001 --holder HB001 --quantity 9000 --purpose compliance --compliance-period 2025-2026 --beneficiary "Hubei Steel Co."`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.RetireUnitsRequest{}
		var amount amountFlags
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.RetirementId, "id", "", "this retirement's `ID`, unique within the right")
		fs.StringVar(&req.HolderAccountId, "holder", "", "the `account` that holds the units")
		amount.define(fs, "retire")
		enum(fs, &req.Purpose, "purpose", retirementPurposes, "why the units are retired (`purpose`)")
		fs.StringVar(&req.Beneficiary, "beneficiary", "", "on whose behalf the units are retired (`name`)")
		fs.StringVar(&req.CompliancePeriod, "compliance-period", "", "for --purpose compliance, the `period` surrendered for, e.g. 2023-2024")
		fs.StringVar(&req.Reason, "reason", "", "a free-text `reason`")
		fs.require("right", "id", "holder", "purpose")
		return func([]string) (proto.Message, error) {
			q, r, err := amount.resolve(fs, req.RightId)
			if err != nil {
				return nil, err
			}
			if r != nil {
				req.Amount = &ecov1.RetireUnitsRequest_Range{Range: r}
			} else {
				req.Amount = &ecov1.RetireUnitsRequest_Quantity{Quantity: q}
			}
			return req, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.RetireUnitsRequest) (*ecov1.RetireUnitsResponse, error) {
		return ecov1.NewRetirementServiceClient(cc).RetireUnits(ctx, req)
	}),
	render: view(writeRetirement),
}
