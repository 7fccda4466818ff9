package domain

import (
	"fmt"
	"time"
)

// Transfer: units of a right move from one account to another.

// TransferUnits is the command to move units of a right from one account to
// another, by quantity (the lowest available serials first) or by an explicit
// serial range; exactly one of Quantity and Range is given.
type TransferUnits struct {
	// RightID is the right whose units move.
	RightID string
	// TransferID is the caller's id of the transfer, unique within the right;
	// a retry must repeat it.
	TransferID string
	// From is the transferring account.
	From string
	// To is the acquiring account.
	To string
	// Quantity is the number of units to move; zero when Range is given.
	Quantity int64
	// Range is the serial block to move; nil when Quantity is given.
	Range *Block
	// Reference is the caller's reference, e.g. an exchange's trade id; optional.
	Reference string
	// Reason is free text saying why; optional.
	Reason string
	// Price is the price per unit of the trade being settled; optional.
	Price *Price
}

// String returns the command in brief, for logs.
func (c TransferUnits) String() string {
	what := fmt.Sprintf("%d units", c.Quantity)
	if c.Range != nil {
		what = "serials " + c.Range.String()
	}
	return fmt.Sprintf("transfer %s of right %s: %s from %s to %s", c.TransferID, c.RightID, what, c.From, c.To)
}

// Price is a price per unit in integer minor units of a currency, e.g. 5850
// CNY means 58.50 yuan per unit.
type Price struct {
	// Amount is the price per unit in minor units (fen for CNY).
	Amount int64
	// Currency is the ISO 4217 alphabetic currency code, e.g. "CNY".
	Currency string
}

// UnitsTransferred records that units of a right moved from one account to another.
type UnitsTransferred struct {
	// RightID is the right's id.
	RightID string
	// TransferID is the caller's id of the transfer, unique within the right.
	TransferID string
	// From is the transferring account.
	From string
	// To is the acquiring account.
	To string
	// Blocks are the serial blocks moved, as a normalised block list.
	Blocks []Block
	// Quantity is the number of units moved, the total of Blocks.
	Quantity int64
	// Reference is the caller's reference, e.g. an exchange's trade id.
	Reference string
	// Reason is free text saying why.
	Reason string
	// TradePrice is the price per unit of the trade being settled; nil when none.
	TradePrice *Price
	// TransferredAt is when the transfer was recorded.
	TransferredAt time.Time
}

// EventType returns EventTypeUnitsTransferred.
func (UnitsTransferred) EventType() string { return EventTypeUnitsTransferred }

// StreamID returns the right's stream.
func (e UnitsTransferred) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns TransferredAt.
func (e UnitsTransferred) OccurredAt() time.Time { return e.TransferredAt }

func (UnitsTransferred) isEvent() {}

// DecideTransfer decides whether units of right r may move as cmd says, given
// the accounts involved and the time. The transferring account must be open
// and the acquiring one open or restricted; the right must be within its
// validity period; the units must be available to the transferring account.
//
// It returns one UnitsTransferred event, a *RecordedBefore (the same
// transfer was recorded before: a retry), a *ValidationError listing every
// malformed field, or a *Rejection: CheckRightNotFound,
// CheckTransferIDReused (an *IDReused), CheckSameAccount, CheckAccountNotFound, an account
// status check, CheckRightNotYetValid, CheckRightExpired,
// CheckInsufficientAvailableUnits, CheckSerialRangeOutsideIssuance,
// CheckBufferUnitsNotTransferable, CheckUnitsAlreadyRetired or
// CheckSerialRangeNotHeld. It costs O(log n + k) for a holder with n blocks
// of which k move.
func DecideTransfer(r Right, cmd TransferUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if err := r.open(now, cmd.RightID, cmd.check, cmd.seen); err != nil {
		return nil, err
	}
	if cmd.From == cmd.To {
		return nil, reject(CheckSameAccount, "to", "account %s cannot transfer to itself", cmd.From)
	}
	if rej := checkAccount(accounts, cmd.From, "from", roleSender); rej != nil {
		return nil, rej
	}
	if rej := checkAccount(accounts, cmd.To, "to", roleReceiver); rej != nil {
		return nil, rej
	}
	blocks, rej := r.selectValid(now, cmd.From, cmd.Quantity, cmd.Range)
	if rej != nil {
		return nil, rej
	}
	var price *Price
	if cmd.Price != nil {
		// Copy, so that the event does not share the caller's Price.
		p := *cmd.Price
		price = &p
	}
	return []Event{UnitsTransferred{
		RightID:       r.id,
		TransferID:    cmd.TransferID,
		From:          cmd.From,
		To:            cmd.To,
		Blocks:        blocks,
		Quantity:      BlocksTotal(blocks),
		Reference:     cmd.Reference,
		Reason:        cmd.Reason,
		TradePrice:    price,
		TransferredAt: utc(now),
	}}, nil
}

func (c TransferUnits) check(v *violations, _ time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", c.RightID)
	checkID(v, CheckInvalidTransferID, "transfer_id", c.TransferID)
	checkID(v, CheckInvalidAccountID, "from", c.From)
	checkID(v, CheckInvalidAccountID, "to", c.To)
	checkQuantityOrRange(v, c.Quantity, c.Range)
	checkText(v, "reference", c.Reference, false, MaxShortTextLength)
	checkText(v, "reason", c.Reason, false, MaxReasonLength)
	checkPrice(v, c.Price, quantityOf(c.Quantity, c.Range))
}

func (c TransferUnits) seen(r *Right) error {
	return r.seenOp(opTransfer, c.TransferID, "transfer_id", c.Quantity, c.Range,
		transferFingerprint(c.From, c.To, c.Reference, c.Reason, c.Price))
}

func (r *Right) applyTransferred(e UnitsTransferred, moves []Movement) error {
	if err := r.checkRightOf("transfer", e.TransferID, e.RightID); err != nil {
		return err
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.remember(opTransfer, e.TransferID, recordOf(e.Blocks, e.Quantity, transferFingerprint(e.From, e.To, e.Reference, e.Reason, e.TradePrice), r.version))
	return nil
}

func transferFingerprint(from, to, reference, reason string, price *Price) uint64 {
	f := newFingerprint().str(from).str(to).str(reference).str(reason)
	if price != nil {
		f = f.byte(1).int(price.Amount).str(price.Currency)
	} else {
		f = f.byte(0)
	}
	return uint64(f)
}

// HasTransfer reports whether a transfer with this id has been recorded on the right.
func (r *Right) HasTransfer(transferID string) bool {
	_, ok := r.transfers[transferID]
	return ok
}
