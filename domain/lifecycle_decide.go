package domain

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// MaxReservationTimeout is how far ahead of the reservation its timeout may lie.
const MaxReservationTimeout = 366 * 24 * time.Hour

// PledgeUnits is the command to pledge available units of a holder to a
// pledgee as collateral, by quantity (lowest available serials first) or by
// an explicit serial range; exactly one of Quantity and Range is given.
type PledgeUnits struct {
	// RightID is the right whose units are pledged.
	RightID string
	// PledgeID is the caller's id of the pledge, unique within the right.
	PledgeID string
	// Pledgor is the account whose units are pledged.
	Pledgor string
	// Pledgee is the lender's account.
	Pledgee string
	// LoanReference is the lender's reference of the secured loan; required.
	LoanReference string
	// Maturity is when the loan falls due; optional.
	Maturity time.Time
	// Quantity is the number of units to pledge; zero when Range is given.
	Quantity int64
	// Range is the serial block to pledge; nil when Quantity is given.
	Range *Block
}

// ReleasePledge is the command to end a pledge without enforcement, by the
// pledgee or by the registration office on its reference.
type ReleasePledge struct {
	// RightID is the pledged right.
	RightID string
	// PledgeID is the pledge to release.
	PledgeID string
	// ReleasedBy says who releases it.
	ReleasedBy PledgeReleaser
	// OfficeReference is the registration office's reference; required when it releases.
	OfficeReference string
	// Reason is free text saying why; optional.
	Reason string
}

// EnforcePledge is the command to transfer pledged units, on the pledgor's
// default, to the pledgee or to a buyer the pledgee names.
type EnforcePledge struct {
	// RightID is the pledged right.
	RightID string
	// PledgeID is the pledge to enforce.
	PledgeID string
	// To is the account that receives the units; empty means the pledgee.
	To string
	// DefaultReference is the reference of the default (e.g. the notice of default); required.
	DefaultReference string
	// Reason is free text saying why; optional.
	Reason string
}

// FreezeUnits is the command by which an authority order freezes available
// units of one holding, by quantity or serial range.
type FreezeUnits struct {
	// RightID is the right whose units are frozen.
	RightID string
	// OrderNumber is the number of the court or regulator order, unique within the right.
	OrderNumber string
	// Authority is the court or regulator that issued the order.
	Authority string
	// Holder is the account whose units are frozen.
	Holder string
	// Quantity is the number of units to freeze; zero when Range is given.
	Quantity int64
	// Range is the serial block to freeze; nil when Quantity is given.
	Range *Block
	// Reason is free text saying why; optional.
	Reason string
}

// UnfreezeUnits is the command to lift the freeze of an order on a right.
type UnfreezeUnits struct {
	// RightID is the right.
	RightID string
	// OrderNumber is the order whose freeze is lifted.
	OrderNumber string
	// Authority is who lifts it.
	Authority string
	// Reason is free text saying why, e.g. the lifting order's number; optional.
	Reason string
}

// FreezeAccount is the command by which an authority order freezes a whole account.
type FreezeAccount struct {
	// AccountID is the account to freeze.
	AccountID string
	// OrderNumber is the number of the court or regulator order.
	OrderNumber string
	// Authority is the court or regulator that issued the order.
	Authority string
	// Reason is free text saying why; optional.
	Reason string
}

// UnfreezeAccount is the command to lift an account-wide freeze order.
type UnfreezeAccount struct {
	// AccountID is the account.
	AccountID string
	// OrderNumber is the order whose freeze is lifted.
	OrderNumber string
	// Authority is who lifts it.
	Authority string
	// Reason is free text saying why; optional.
	Reason string
}

// ReserveUnits is the command to reserve a seller's available units for an
// exchange order until Timeout.
type ReserveUnits struct {
	// RightID is the right whose units are reserved.
	RightID string
	// ReservationID is the exchange's id of the reservation, unique within the right.
	ReservationID string
	// Holder is the selling account.
	Holder string
	// Exchange names the exchange; required.
	Exchange string
	// OrderReference is the exchange's order number; required.
	OrderReference string
	// Quantity is the number of units to reserve; zero when Range is given.
	Quantity int64
	// Range is the serial block to reserve; nil when Quantity is given.
	Range *Block
	// Timeout is when the reservation expires unless settled or voided.
	Timeout time.Time
}

// SettleReservation is the command to deliver reserved units to a buyer:
// all that remain reserved or part of them (the lowest reserved serials).
type SettleReservation struct {
	// RightID is the right.
	RightID string
	// ReservationID is the reservation to settle.
	ReservationID string
	// SettlementID is the exchange's id of this settlement, unique within the right.
	SettlementID string
	// Buyer is the receiving account.
	Buyer string
	// Quantity is the number of units to deliver, at most what remains reserved.
	Quantity int64
	// Price is the price per unit of the trade; optional.
	Price *Price
}

// VoidReservation is the command to end a reservation before its timeout.
type VoidReservation struct {
	// RightID is the right.
	RightID string
	// ReservationID is the reservation to void.
	ReservationID string
	// Reason is free text saying why; optional.
	Reason string
}

// CancelUnits is the command by which an authority cancels units: a
// holder's available units, units it froze under an order (OrderNumber
// set), or units of the right's buffer pool (Holder empty).
type CancelUnits struct {
	// RightID is the right.
	RightID string
	// CancellationID is the authority's id of the cancellation, unique within the right.
	CancellationID string
	// Holder is the account whose units are cancelled; empty for the buffer pool.
	Holder string
	// OrderNumber names the freeze order whose frozen units are cancelled; optional.
	OrderNumber string
	// Authority is who cancels; required.
	Authority string
	// Reason says why (fraud, reversal of a sink, ...); required.
	Reason string
	// Quantity is the number of units to cancel; zero when Range is given.
	Quantity int64
	// Range is the serial block to cancel; nil when Quantity is given.
	Range *Block
}

// ReverseTransaction is the command by which a regulator reverses a
// completed transaction of a right, named by its kind and id.
type ReverseTransaction struct {
	// RightID is the right.
	RightID string
	// CorrectionID is the regulator's id of the correction, unique within the right.
	CorrectionID string
	// Kind is the kind of the transaction to reverse.
	Kind TransactionKind
	// OriginalID is the transaction's id (transfer, retirement, settlement, cancellation or trade id).
	OriginalID string
	// ExchangeID is, for TransactionKindTrade, the exchange whose trade id
	// OriginalID is; it must be empty for the other kinds.
	ExchangeID string
	// Authority is the regulator; required.
	Authority string
	// Reason says why; required.
	Reason string
}

// seenOp answers a command whose id the right already recorded: a retry
// when the fields agree, a re-used id otherwise.
func (r *Right) seenOp(kind opKind, id, field string, quantity int64, rng *Block, fp uint64) *Rejection {
	rec, ok := r.ops[opKey{kind, id}]
	if !ok {
		return nil
	}
	qty := quantity
	if rng != nil {
		qty = rng.Size()
	}
	if rec.fingerprint == fp && (qty == 0 || rec.quantity == qty) && (rng == nil || rec.span == *rng) {
		return reject(CheckDuplicateOperationID, field, "%s %s was already recorded on right %s", opKindNames[kind], id, r.id)
	}
	return reject(CheckOperationIDReused, field, "%s %s was recorded on right %s with different fields", opKindNames[kind], id, r.id)
}

// DecidePledge decides whether units may be pledged as cmd says. The
// pledgor must be open and not frozen, the pledgee open or restricted, the
// right within its validity, and the units available (not pledged, frozen
// or reserved already).
//
// It returns one UnitsPledged event, a *ValidationError, or a *Rejection:
// CheckRightNotFound, CheckDuplicateOperationID, CheckOperationIDReused,
// CheckSameAccount, CheckAccountNotFound, an account status check,
// CheckAccountFrozen, CheckRightNotYetValid, CheckRightExpired,
// CheckInsufficientAvailableUnits or a serial range check (E5002, E5003,
// E5005..E5010).
func DecidePledge(r Right, cmd PledgeUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(&v, CheckInvalidOperationID, "pledge_id", cmd.PledgeID)
	checkID(&v, CheckInvalidAccountID, "pledgor", cmd.Pledgor)
	checkID(&v, CheckInvalidAccountID, "pledgee", cmd.Pledgee)
	checkText(&v, "loan_reference", cmd.LoanReference, true, MaxShortTextLength)
	checkQuantityOrRange(&v, cmd.Quantity, cmd.Range)
	if !cmd.Maturity.IsZero() && !cmd.Maturity.After(now) {
		v.add(CheckInvalidMaturity, "maturity", "maturity %s is not after %s", cmd.Maturity.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	if rej := r.seenOp(opPledge, cmd.PledgeID, "pledge_id", cmd.Quantity, cmd.Range,
		pledgeFingerprint(cmd.Pledgor, cmd.Pledgee, cmd.LoanReference, cmd.Maturity)); rej != nil {
		return nil, rej
	}
	if cmd.Pledgor == cmd.Pledgee {
		return nil, reject(CheckSameAccount, "pledgee", "account %s cannot pledge units to itself", cmd.Pledgor)
	}
	if rej := checkAccount(accounts, cmd.Pledgor, "pledgor", rolePledgor); rej != nil {
		return nil, rej
	}
	if rej := checkAccount(accounts, cmd.Pledgee, "pledgee", rolePledgee); rej != nil {
		return nil, rej
	}
	if rej := r.checkValidAt(now); rej != nil {
		return nil, rej
	}
	blocks, rej := r.selectUnits(cmd.Pledgor, cmd.Quantity, cmd.Range)
	if rej != nil {
		return nil, rej
	}
	return []Event{UnitsPledged{RightID: r.id, PledgeID: cmd.PledgeID, Pledgor: cmd.Pledgor, Pledgee: cmd.Pledgee,
		LoanReference: cmd.LoanReference, Maturity: utc(cmd.Maturity), Blocks: blocks, Quantity: BlocksTotal(blocks), PledgedAt: utc(now)}}, nil
}

// openPledge finds the open pledge a command names.
func (r *Right) openPledge(id string) (*pledge, *Rejection) {
	if p := r.pledges[id]; p != nil {
		return p, nil
	}
	if _, ok := r.ops[opKey{opPledge, id}]; ok {
		return nil, reject(CheckPledgeNotActive, "pledge_id", "pledge %s of right %s was already released or enforced", id, r.id)
	}
	return nil, reject(CheckPledgeNotFound, "pledge_id", "right %s has no pledge %s", r.id, id)
}

// DecideReleasePledge decides whether a pledge may be released: its units
// become available to the pledgor again. The pledgor may be open or
// restricted, or suspended when the registration office releases.
//
// It returns one PledgeReleased event, a *ValidationError, or a *Rejection:
// CheckRightNotFound, CheckPledgeNotFound, CheckPledgeNotActive,
// CheckAccountNotFound or an account status check.
func DecideReleasePledge(r Right, cmd ReleasePledge, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(&v, CheckInvalidOperationID, "pledge_id", cmd.PledgeID)
	if !cmd.ReleasedBy.Valid() {
		v.add(CheckInvalidEnumValue, "released_by", "releaser %s is not a valid releaser", cmd.ReleasedBy)
	}
	switch cmd.ReleasedBy {
	case PledgeReleaserRegistrationOffice:
		checkText(&v, "office_reference", cmd.OfficeReference, true, MaxShortTextLength)
	case PledgeReleaserPledgee:
		if cmd.OfficeReference != "" {
			v.add(CheckInvalidText, "office_reference", "only the registration office gives an office reference")
		}
	}
	checkText(&v, "reason", cmd.Reason, false, MaxReasonLength)
	if err := v.err(); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	p, rej := r.openPledge(cmd.PledgeID)
	if rej != nil {
		return nil, rej
	}
	role := roleReleased
	if cmd.ReleasedBy == PledgeReleaserRegistrationOffice {
		role = roleAuthorityTarget
	}
	if rej := checkAccount(accounts, p.pledgor, "pledge_id", role); rej != nil {
		return nil, rej
	}
	return []Event{PledgeReleased{RightID: r.id, PledgeID: cmd.PledgeID, Pledgor: p.pledgor, Pledgee: p.pledgee,
		ReleasedBy: cmd.ReleasedBy, OfficeReference: cmd.OfficeReference, Reason: cmd.Reason,
		Blocks: slices.Clone(p.blocks), Quantity: p.count, ReleasedAt: utc(now)}}, nil
}

// DecideEnforcePledge decides whether a pledge may be enforced: its units
// go to the pledgee or to the buyer it names. The pledgor must be open or
// restricted and not frozen, the recipient open or restricted, and the
// right within its validity.
//
// It returns one PledgeEnforced event, a *ValidationError, or a *Rejection:
// CheckRightNotFound, CheckPledgeNotFound, CheckPledgeNotActive,
// CheckSameAccount, CheckAccountNotFound, an account status check,
// CheckAccountFrozen, CheckRightNotYetValid or CheckRightExpired.
func DecideEnforcePledge(r Right, cmd EnforcePledge, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(&v, CheckInvalidOperationID, "pledge_id", cmd.PledgeID)
	if cmd.To != "" {
		checkID(&v, CheckInvalidAccountID, "to", cmd.To)
	}
	checkText(&v, "default_reference", cmd.DefaultReference, true, MaxShortTextLength)
	checkText(&v, "reason", cmd.Reason, false, MaxReasonLength)
	if err := v.err(); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	p, rej := r.openPledge(cmd.PledgeID)
	if rej != nil {
		return nil, rej
	}
	to := cmd.To
	if to == "" {
		to = p.pledgee
	}
	if to == p.pledgor {
		return nil, reject(CheckSameAccount, "to", "enforcement cannot deliver the units of %s to itself", p.pledgor)
	}
	if rej := checkAccount(accounts, p.pledgor, "pledge_id", roleEnforcedPledgor); rej != nil {
		return nil, rej
	}
	if rej := checkAccount(accounts, to, "to", roleReceiver); rej != nil {
		return nil, rej
	}
	if rej := r.checkValidAt(now); rej != nil {
		return nil, rej
	}
	return []Event{PledgeEnforced{RightID: r.id, PledgeID: cmd.PledgeID, Pledgor: p.pledgor, Pledgee: p.pledgee, To: to,
		DefaultReference: cmd.DefaultReference, Reason: cmd.Reason, Blocks: slices.Clone(p.blocks), Quantity: p.count, EnforcedAt: utc(now)}}, nil
}

// DecideFreezeUnits decides whether an order may freeze available units of
// a holding. The holder may have any status but closed; the right must be
// within its validity.
//
// It returns one UnitsFrozen event, a *ValidationError, or a *Rejection:
// CheckRightNotFound, CheckDuplicateOperationID, CheckOperationIDReused,
// CheckAccountNotFound, CheckAccountClosed, CheckRightNotYetValid,
// CheckRightExpired, CheckInsufficientAvailableUnits or a serial range check.
func DecideFreezeUnits(r Right, cmd FreezeUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkText(&v, "order_number", cmd.OrderNumber, true, MaxShortTextLength)
	checkText(&v, "authority", cmd.Authority, true, MaxShortTextLength)
	checkID(&v, CheckInvalidAccountID, "holder", cmd.Holder)
	checkQuantityOrRange(&v, cmd.Quantity, cmd.Range)
	checkText(&v, "reason", cmd.Reason, false, MaxReasonLength)
	if err := v.err(); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	if rej := r.seenOp(opFreeze, cmd.OrderNumber, "order_number", cmd.Quantity, cmd.Range,
		freezeFingerprint(cmd.Authority, cmd.Holder, cmd.Reason)); rej != nil {
		return nil, rej
	}
	if rej := checkAccount(accounts, cmd.Holder, "holder", roleAuthorityTarget); rej != nil {
		return nil, rej
	}
	if rej := r.checkValidAt(now); rej != nil {
		return nil, rej
	}
	blocks, rej := r.selectUnits(cmd.Holder, cmd.Quantity, cmd.Range)
	if rej != nil {
		return nil, rej
	}
	return []Event{UnitsFrozen{RightID: r.id, OrderNumber: cmd.OrderNumber, Authority: cmd.Authority, Holder: cmd.Holder,
		Blocks: blocks, Quantity: BlocksTotal(blocks), Reason: cmd.Reason, FrozenAt: utc(now)}}, nil
}

// DecideUnfreezeUnits decides whether the freeze of an order on a right may
// be lifted; all the units it still freezes become available again.
//
// It returns one UnitsUnfrozen event, a *ValidationError, or a *Rejection:
// CheckRightNotFound, CheckFreezeOrderNotFound, CheckFreezeOrderLifted,
// CheckAccountNotFound or CheckAccountClosed.
func DecideUnfreezeUnits(r Right, cmd UnfreezeUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkText(&v, "order_number", cmd.OrderNumber, true, MaxShortTextLength)
	checkText(&v, "authority", cmd.Authority, true, MaxShortTextLength)
	checkText(&v, "reason", cmd.Reason, false, MaxReasonLength)
	if err := v.err(); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	f := r.freezes[cmd.OrderNumber]
	if f == nil {
		if _, ok := r.ops[opKey{opFreeze, cmd.OrderNumber}]; ok {
			return nil, reject(CheckFreezeOrderLifted, "order_number", "the freeze of order %s on right %s was already lifted", cmd.OrderNumber, r.id)
		}
		return nil, reject(CheckFreezeOrderNotFound, "order_number", "right %s has no freeze under order %s", r.id, cmd.OrderNumber)
	}
	if rej := checkAccount(accounts, f.holder, "order_number", roleAuthorityTarget); rej != nil {
		return nil, rej
	}
	return []Event{UnitsUnfrozen{RightID: r.id, OrderNumber: cmd.OrderNumber, Authority: cmd.Authority, Holder: f.holder,
		Blocks: slices.Clone(f.blocks), Quantity: f.count, Reason: cmd.Reason, UnfrozenAt: utc(now)}}, nil
}

// DecideFreezeAccount decides whether an order may freeze a whole account.
// Any account but a closed one may be frozen, under several orders at once.
//
// It returns one AccountFrozen event, a *ValidationError, or a *Rejection:
// CheckAccountNotFound, CheckAccountClosed, CheckDuplicateOperationID (the
// order was recorded with the same fields: a retry) or
// CheckOperationIDReused.
func DecideFreezeAccount(a Account, cmd FreezeAccount, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidAccountID, "account_id", cmd.AccountID)
	checkText(&v, "order_number", cmd.OrderNumber, true, MaxShortTextLength)
	checkText(&v, "authority", cmd.Authority, true, MaxShortTextLength)
	checkText(&v, "reason", cmd.Reason, false, MaxReasonLength)
	if err := v.err(); err != nil {
		return nil, err
	}
	switch {
	case !a.Opened():
		return nil, reject(CheckAccountNotFound, "account_id", "account %s does not exist", cmd.AccountID)
	case a.status == AccountStatusClosed:
		return nil, reject(CheckAccountClosed, "account_id", "account %s is closed", a.id)
	}
	if o, ok := a.orders[cmd.OrderNumber]; ok {
		if o.authority == cmd.Authority && o.reason == cmd.Reason {
			return nil, reject(CheckDuplicateOperationID, "order_number", "order %s was already recorded on account %s", cmd.OrderNumber, a.id)
		}
		return nil, reject(CheckOperationIDReused, "order_number", "order %s was recorded on account %s with different fields", cmd.OrderNumber, a.id)
	}
	return []Event{AccountFrozen{AccountID: a.id, OrderNumber: cmd.OrderNumber, Authority: cmd.Authority, Reason: cmd.Reason, FrozenAt: utc(now)}}, nil
}

// DecideUnfreezeAccount decides whether an account-wide freeze order may be lifted.
//
// It returns one AccountUnfrozen event, a *ValidationError, or a *Rejection:
// CheckAccountNotFound, CheckAccountClosed, CheckFreezeOrderNotFound or
// CheckFreezeOrderLifted.
func DecideUnfreezeAccount(a Account, cmd UnfreezeAccount, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidAccountID, "account_id", cmd.AccountID)
	checkText(&v, "order_number", cmd.OrderNumber, true, MaxShortTextLength)
	checkText(&v, "authority", cmd.Authority, true, MaxShortTextLength)
	checkText(&v, "reason", cmd.Reason, false, MaxReasonLength)
	if err := v.err(); err != nil {
		return nil, err
	}
	switch {
	case !a.Opened():
		return nil, reject(CheckAccountNotFound, "account_id", "account %s does not exist", cmd.AccountID)
	case a.status == AccountStatusClosed:
		return nil, reject(CheckAccountClosed, "account_id", "account %s is closed", a.id)
	}
	o, ok := a.orders[cmd.OrderNumber]
	switch {
	case !ok:
		return nil, reject(CheckFreezeOrderNotFound, "order_number", "account %s has no freeze under order %s", a.id, cmd.OrderNumber)
	case !o.active:
		return nil, reject(CheckFreezeOrderLifted, "order_number", "the freeze of account %s under order %s was already lifted", a.id, cmd.OrderNumber)
	}
	return []Event{AccountUnfrozen{AccountID: a.id, OrderNumber: cmd.OrderNumber, Authority: cmd.Authority, Reason: cmd.Reason, UnfrozenAt: utc(now)}}, nil
}

// DecideReserve decides whether a seller's units may be reserved for an
// exchange order. The seller must be open and not frozen, the right within
// its validity, the timeout after now and at most MaxReservationTimeout
// ahead, and the units available.
//
// It returns one UnitsReserved event, a *ValidationError, or a *Rejection:
// CheckRightNotFound, CheckDuplicateOperationID, CheckOperationIDReused,
// CheckAccountNotFound, an account status check, CheckAccountFrozen,
// CheckRightNotYetValid, CheckRightExpired, CheckInsufficientAvailableUnits
// or a serial range check.
func DecideReserve(r Right, cmd ReserveUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(&v, CheckInvalidOperationID, "reservation_id", cmd.ReservationID)
	checkID(&v, CheckInvalidAccountID, "holder", cmd.Holder)
	checkText(&v, "exchange", cmd.Exchange, true, MaxShortTextLength)
	checkText(&v, "order_reference", cmd.OrderReference, true, MaxShortTextLength)
	checkQuantityOrRange(&v, cmd.Quantity, cmd.Range)
	switch {
	case cmd.Timeout.IsZero():
		v.add(CheckInvalidTimeout, "timeout", "a reservation needs a timeout")
	case !cmd.Timeout.After(now) || cmd.Timeout.Sub(now) > MaxReservationTimeout:
		v.add(CheckInvalidTimeout, "timeout", "timeout %s is not after %s and within %d days of it",
			cmd.Timeout.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), MaxReservationTimeout/(24*time.Hour))
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	if rej := r.seenOp(opReservation, cmd.ReservationID, "reservation_id", cmd.Quantity, cmd.Range,
		reservationFingerprint(cmd.Holder, cmd.Exchange, cmd.OrderReference, cmd.Timeout)); rej != nil {
		return nil, rej
	}
	if rej := checkAccount(accounts, cmd.Holder, "holder", roleSeller); rej != nil {
		return nil, rej
	}
	if rej := r.checkValidAt(now); rej != nil {
		return nil, rej
	}
	blocks, rej := r.selectUnits(cmd.Holder, cmd.Quantity, cmd.Range)
	if rej != nil {
		return nil, rej
	}
	return []Event{UnitsReserved{RightID: r.id, ReservationID: cmd.ReservationID, Holder: cmd.Holder, Exchange: cmd.Exchange,
		OrderReference: cmd.OrderReference, Blocks: blocks, Quantity: BlocksTotal(blocks), Timeout: utc(cmd.Timeout), ReservedAt: utc(now)}}, nil
}

// openReservation finds the open reservation a command names, refusing it
// at or after its timeout.
func (r *Right) openReservation(id string, now time.Time) (*reservation, *Rejection) {
	v := r.reservations[id]
	if v == nil {
		if _, ok := r.ops[opKey{opReservation, id}]; ok {
			return nil, reject(CheckReservationNotOpen, "reservation_id", "reservation %s of right %s was already fully settled, voided or expired", id, r.id)
		}
		return nil, reject(CheckReservationNotFound, "reservation_id", "right %s has no reservation %s", r.id, id)
	}
	if !now.Before(v.timeout) {
		return nil, reject(CheckReservationTimedOut, "reservation_id", "reservation %s timed out at %s, it is %s",
			id, v.timeout.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return v, nil
}

// DecideSettleReservation decides whether reserved units may be delivered
// to a buyer: Quantity of them, the lowest reserved serials first. The rest
// stays reserved. The seller must be open and not frozen, the buyer open or
// restricted, the reservation open and before its timeout, and the right
// within its validity.
//
// It returns one ReservationSettled event, a *ValidationError, or a
// *Rejection: CheckRightNotFound, CheckDuplicateOperationID,
// CheckOperationIDReused, CheckReservationNotFound, CheckReservationNotOpen,
// CheckReservationTimedOut, CheckSameAccount, CheckAccountNotFound, an
// account status check, CheckAccountFrozen, CheckRightNotYetValid,
// CheckRightExpired or CheckSettlementExceedsReservation.
func DecideSettleReservation(r Right, cmd SettleReservation, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(&v, CheckInvalidOperationID, "reservation_id", cmd.ReservationID)
	checkID(&v, CheckInvalidOperationID, "settlement_id", cmd.SettlementID)
	checkID(&v, CheckInvalidAccountID, "buyer", cmd.Buyer)
	checkQuantity(&v, "quantity", cmd.Quantity)
	if p := cmd.Price; p != nil {
		switch {
		case !validCurrency(p.Currency):
			v.add(CheckInvalidPrice, "price.currency", "%q is not an ISO 4217 currency code", truncate(p.Currency))
		case p.Amount < 0:
			v.add(CheckInvalidPrice, "price.amount", "price %d is negative", p.Amount)
		case cmd.Quantity > 0 && p.Amount > math.MaxInt64/cmd.Quantity:
			v.add(CheckInvalidPrice, "price.amount", "price %d times quantity %d overflows", p.Amount, cmd.Quantity)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	// A settlement id seen before is answered first, so that a retry of a
	// settlement that emptied the reservation is still recognised.
	if rej := r.seenOp(opSettlement, cmd.SettlementID, "settlement_id", cmd.Quantity, nil,
		settlementFingerprint(cmd.ReservationID, cmd.Buyer, cmd.Price)); rej != nil {
		return nil, rej
	}
	res, rej := r.openReservation(cmd.ReservationID, now)
	if rej != nil {
		return nil, rej
	}
	if cmd.Buyer == res.holder {
		return nil, reject(CheckSameAccount, "buyer", "account %s cannot buy its own reserved units", cmd.Buyer)
	}
	if rej := checkAccount(accounts, res.holder, "reservation_id", roleSeller); rej != nil {
		return nil, rej
	}
	if rej := checkAccount(accounts, cmd.Buyer, "buyer", roleReceiver); rej != nil {
		return nil, rej
	}
	if rej := r.checkValidAt(now); rej != nil {
		return nil, rej
	}
	if cmd.Quantity > res.count {
		return nil, reject(CheckSettlementExceedsReservation, "quantity", "reservation %s has %d units reserved, %d asked for", cmd.ReservationID, res.count, cmd.Quantity)
	}
	blocks, _ := TakeLowest(res.blocks, cmd.Quantity)
	var price *Price
	if cmd.Price != nil {
		p := *cmd.Price
		price = &p
	}
	return []Event{ReservationSettled{RightID: r.id, ReservationID: cmd.ReservationID, SettlementID: cmd.SettlementID,
		Seller: res.holder, Buyer: cmd.Buyer, Blocks: blocks, Quantity: cmd.Quantity, Remaining: res.count - cmd.Quantity,
		TradePrice: price, SettledAt: utc(now)}}, nil
}

// DecideVoidReservation decides whether a reservation may be voided before
// its timeout; its remaining units become available to the seller again.
// The seller may be open or restricted.
//
// It returns one ReservationVoided event, a *ValidationError, or a
// *Rejection: CheckRightNotFound, CheckReservationNotFound,
// CheckReservationNotOpen, CheckReservationTimedOut, CheckAccountNotFound
// or an account status check.
func DecideVoidReservation(r Right, cmd VoidReservation, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(&v, CheckInvalidOperationID, "reservation_id", cmd.ReservationID)
	checkText(&v, "reason", cmd.Reason, false, MaxReasonLength)
	if err := v.err(); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	res, rej := r.openReservation(cmd.ReservationID, now)
	if rej != nil {
		return nil, rej
	}
	if rej := checkAccount(accounts, res.holder, "reservation_id", roleReleased); rej != nil {
		return nil, rej
	}
	return []Event{ReservationVoided{RightID: r.id, ReservationID: cmd.ReservationID, Holder: res.holder,
		Blocks: slices.Clone(res.blocks), Quantity: res.count, Reason: cmd.Reason, VoidedAt: utc(now)}}, nil
}

// DecideExpireReservation decides whether the reservation has expired: it
// yields one ReservationExpired event when the reservation is still open and
// now is at or after its timeout, and no event otherwise (not yet due,
// already settled, voided or expired, or no such reservation), so that
// deciding it again, after a restart or on another node, records nothing twice.
func DecideExpireReservation(r Right, reservationID string, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	v := r.reservations[reservationID]
	if !r.Registered() || v == nil || now.Before(v.timeout) {
		return nil, nil
	}
	return []Event{ReservationExpired{RightID: r.id, ReservationID: reservationID, Holder: v.holder,
		Blocks: slices.Clone(v.blocks), Quantity: v.count, Timeout: v.timeout, ExpiredAt: utc(now)}}, nil
}

// DecideExpireRight decides whether the right has expired: it yields one
// RightExpired event when the right has a ValidUntil, now is at or after
// it, and its expiry was not recorded yet; no event otherwise.
func DecideExpireRight(r Right, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	if !r.Registered() || r.validUntil.IsZero() || now.Before(r.validUntil) || !r.expiredAt.IsZero() {
		return nil, nil
	}
	left := r.outstandingBlocks()
	return []Event{RightExpired{RightID: r.id, ValidUntil: r.validUntil, Blocks: left, Quantity: BlocksTotal(left), ExpiredAt: utc(now)}}, nil
}

// DecideCancel decides whether an authority may cancel units: a holder's
// available units, units frozen under OrderNumber, or (Holder empty) units
// of the buffer pool, which are taken from its lowest serials, or by a range
// at either end of it. The holder may have any status but closed.
//
// It returns one UnitsCancelled event, a *ValidationError, or a *Rejection:
// CheckRightNotFound, CheckDuplicateOperationID, CheckOperationIDReused,
// CheckRightExpired (after the expiry was recorded), CheckAccountNotFound,
// CheckAccountClosed, CheckFreezeOrderNotFound, CheckFreezeOrderLifted,
// CheckInsufficientAvailableUnits or a serial range check.
func DecideCancel(r Right, cmd CancelUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(&v, CheckInvalidOperationID, "cancellation_id", cmd.CancellationID)
	if cmd.Holder != "" {
		checkID(&v, CheckInvalidAccountID, "holder", cmd.Holder)
	} else if cmd.OrderNumber != "" {
		v.add(CheckRequiredFieldMissing, "holder", "units frozen under order %s are cancelled from a holder, which is required", truncate(cmd.OrderNumber))
	}
	if cmd.OrderNumber != "" {
		checkText(&v, "order_number", cmd.OrderNumber, false, MaxShortTextLength)
	}
	checkText(&v, "authority", cmd.Authority, true, MaxShortTextLength)
	checkText(&v, "reason", cmd.Reason, true, MaxReasonLength)
	checkQuantityOrRange(&v, cmd.Quantity, cmd.Range)
	if err := v.err(); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	if rej := r.seenOp(opCancellation, cmd.CancellationID, "cancellation_id", cmd.Quantity, cmd.Range,
		cancellationFingerprint(cmd.Holder, cmd.OrderNumber, cmd.Authority, cmd.Reason)); rej != nil {
		return nil, rej
	}
	if !r.expiredAt.IsZero() {
		return nil, r.checkValidAt(now)
	}
	var blocks []Block
	switch {
	case cmd.Holder == "":
		b, rej := r.selectBuffer(cmd.Quantity, cmd.Range)
		if rej != nil {
			return nil, rej
		}
		blocks = []Block{b}
	case cmd.OrderNumber != "":
		if rej := checkAccount(accounts, cmd.Holder, "holder", roleAuthorityTarget); rej != nil {
			return nil, rej
		}
		f := r.freezes[cmd.OrderNumber]
		switch {
		case f == nil:
			if _, ok := r.ops[opKey{opFreeze, cmd.OrderNumber}]; ok {
				return nil, reject(CheckFreezeOrderLifted, "order_number", "the freeze of order %s on right %s was already lifted", cmd.OrderNumber, r.id)
			}
			return nil, reject(CheckFreezeOrderNotFound, "order_number", "right %s has no freeze under order %s", r.id, cmd.OrderNumber)
		case f.holder != cmd.Holder:
			return nil, reject(CheckFreezeOrderNotFound, "order_number", "order %s freezes units of %s, not %s", cmd.OrderNumber, f.holder, cmd.Holder)
		}
		var rej *Rejection
		if blocks, rej = selectFrom(f.blocks, cmd.Quantity, cmd.Range, fmt.Sprintf("units of %s frozen under order %s", cmd.Holder, cmd.OrderNumber)); rej != nil {
			return nil, rej
		}
	default:
		if rej := checkAccount(accounts, cmd.Holder, "holder", roleAuthorityTarget); rej != nil {
			return nil, rej
		}
		var rej *Rejection
		if blocks, rej = r.selectUnits(cmd.Holder, cmd.Quantity, cmd.Range); rej != nil {
			return nil, rej
		}
	}
	return []Event{UnitsCancelled{RightID: r.id, CancellationID: cmd.CancellationID, Holder: cmd.Holder, OrderNumber: cmd.OrderNumber,
		Authority: cmd.Authority, Reason: cmd.Reason, Blocks: blocks, Quantity: BlocksTotal(blocks), CancelledAt: utc(now)}}, nil
}

// selectFrom picks units out of an encumbrance's blocks: the lowest for a
// quantity, or the range when it lies wholly in them.
func selectFrom(bs []Block, quantity int64, rng *Block, what string) ([]Block, *Rejection) {
	if rng == nil {
		out, ok := TakeLowest(bs, quantity)
		if !ok {
			return nil, reject(CheckInsufficientAvailableUnits, "quantity", "there are %d %s, %d requested", BlocksTotal(bs), what, quantity)
		}
		return out, nil
	}
	if !BlocksContain(bs, *rng) {
		return nil, reject(CheckSerialRangeNotHeld, "range", "range %s is not wholly among the %s", *rng, what)
	}
	return []Block{*rng}, nil
}

// selectBuffer picks units of the buffer pool to cancel: the lowest for a
// quantity, or a range at either end of the pool, so that the pool stays
// one block.
func (r *Right) selectBuffer(quantity int64, rng *Block) (Block, *Rejection) {
	b := r.Buffer()
	if b.IsZero() {
		return Block{}, reject(CheckInsufficientAvailableUnits, "quantity", "right %s has no units in its buffer pool", r.id)
	}
	if rng == nil {
		if quantity > b.Size() {
			return Block{}, reject(CheckInsufficientAvailableUnits, "quantity", "the buffer pool of right %s has %d units, %d requested", r.id, b.Size(), quantity)
		}
		return Block{b.Start, b.Start + quantity - 1}, nil
	}
	if !b.Contains(*rng) || (rng.Start != b.Start && rng.End != b.End) {
		return Block{}, reject(CheckSerialRangeNotHeld, "range", "range %s is not at either end of the buffer pool %s of right %s", *rng, b, r.id)
	}
	return *rng, nil
}

// DecideReverse decides whether a regulator may reverse a completed
// transaction: the units it moved go back where they came from, as a new
// TransactionReversed event. original is the event that recorded the
// transaction; the caller reads it from the right's stream at
// CorrectedRevision(cmd). The accounts involved may
// have any status but closed.
//
// A transfer or settlement is reversed only while its recipient still has
// every unit it received available: when some have moved on since
// (transferred, pledged, frozen, reserved, retired, cancelled), it is
// refused with CheckReversalBlocked, whose detail names the blocking serial
// blocks and where they are now. Retired and cancelled units never move, so
// retirements and cancellations of a holder's units can always be reversed
// once; buffer-pool cancellations cannot.
//
// It returns one TransactionReversed event, a *ValidationError, or a
// *Rejection: CheckRightNotFound, CheckDuplicateOperationID,
// CheckOperationIDReused, CheckTransactionNotFound,
// CheckTransactionAlreadyReversed, CheckTransactionNotReversible,
// CheckRightExpired, CheckAccountNotFound, CheckAccountClosed or
// CheckReversalBlocked.
func DecideReverse(r Right, cmd ReverseTransaction, original Event, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(&v, CheckInvalidOperationID, "correction_id", cmd.CorrectionID)
	if !cmd.Kind.Valid() {
		v.add(CheckInvalidEnumValue, "kind", "transaction kind %s is not a valid kind", cmd.Kind)
	}
	checkText(&v, "original_id", cmd.OriginalID, true, MaxIDLength)
	switch {
	case cmd.Kind == TransactionKindTrade:
		checkID(&v, CheckInvalidExchangeID, "exchange_id", cmd.ExchangeID)
	case cmd.ExchangeID != "":
		v.add(CheckInvalidExchangeID, "exchange_id", "exchange_id names the exchange of a trade; a %s is named by original_id alone", cmd.Kind)
	}
	checkText(&v, "authority", cmd.Authority, true, MaxShortTextLength)
	checkText(&v, "reason", cmd.Reason, true, MaxReasonLength)
	if err := v.err(); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	if rej := r.seenOp(opCorrection, cmd.CorrectionID, "correction_id", 0, nil,
		correctionFingerprint(cmd.Kind, cmd.ExchangeID, cmd.OriginalID, cmd.Authority, cmd.Reason)); rej != nil {
		return nil, rej
	}
	rec, ok := r.transactionOf(cmd.Kind, cmd.ExchangeID, cmd.OriginalID)
	if !ok {
		if t, found := r.trades[TradeKeyOf(cmd.ExchangeID, cmd.OriginalID)]; found && cmd.Kind == TransactionKindTrade && !t.settled {
			return nil, reject(CheckTransactionNotFound, "original_id", "trade %s of exchange %s was refused on right %s: nothing moved, nothing to reverse", cmd.OriginalID, cmd.ExchangeID, r.id)
		}
		return nil, reject(CheckTransactionNotFound, "original_id", "right %s has no %s %s", r.id, cmd.Kind, describeOriginal(cmd.Kind, cmd.ExchangeID, cmd.OriginalID))
	}
	if rec.reversed {
		return nil, reject(CheckTransactionAlreadyReversed, "original_id", "%s %s of right %s was already reversed", cmd.Kind, cmd.OriginalID, r.id)
	}
	if !r.expiredAt.IsZero() {
		return nil, r.checkValidAt(now)
	}
	// What moved, from where to where, read from the original event.
	var blocks []Block
	var from, to string
	var fromState UnitState
	switch e := original.(type) {
	case UnitsTransferred:
		if cmd.Kind != TransactionKindTransfer || e.TransferID != cmd.OriginalID {
			return nil, fmt.Errorf("domain: reversal of %s %s given %s %s", cmd.Kind, cmd.OriginalID, e.EventType(), e.TransferID)
		}
		blocks, from, to, fromState = e.Blocks, e.To, e.From, StateAvailable
	case ReservationSettled:
		if cmd.Kind != TransactionKindSettlement || e.SettlementID != cmd.OriginalID {
			return nil, fmt.Errorf("domain: reversal of %s %s given %s %s", cmd.Kind, cmd.OriginalID, e.EventType(), e.SettlementID)
		}
		blocks, from, to, fromState = e.Blocks, e.Buyer, e.Seller, StateAvailable
	case TradeSettled:
		if cmd.Kind != TransactionKindTrade || e.TradeID != cmd.OriginalID || e.ExchangeID != cmd.ExchangeID {
			return nil, fmt.Errorf("domain: reversal of %s %s given %s %s of %s", cmd.Kind, cmd.OriginalID, e.EventType(), e.TradeID, e.ExchangeID)
		}
		blocks, from, to, fromState = e.Blocks, e.Buyer, e.Seller, StateAvailable
	case UnitsRetired:
		if cmd.Kind != TransactionKindRetirement || e.RetirementID != cmd.OriginalID {
			return nil, fmt.Errorf("domain: reversal of %s %s given %s %s", cmd.Kind, cmd.OriginalID, e.EventType(), e.RetirementID)
		}
		blocks, to, fromState = e.Blocks, e.Holder, StateRetired
	case UnitsCancelled:
		if cmd.Kind != TransactionKindCancellation || e.CancellationID != cmd.OriginalID {
			return nil, fmt.Errorf("domain: reversal of %s %s given %s %s", cmd.Kind, cmd.OriginalID, e.EventType(), e.CancellationID)
		}
		if e.Holder == "" {
			return nil, reject(CheckTransactionNotReversible, "original_id", "cancellation %s took units of the buffer pool of right %s, which is not refilled", cmd.OriginalID, r.id)
		}
		blocks, to, fromState = e.Blocks, e.Holder, StateCancelled
	default:
		return nil, fmt.Errorf("domain: reversal of %s %s given %T", cmd.Kind, cmd.OriginalID, original)
	}
	if rec.quantity >= 0 && BlocksTotal(blocks) != rec.quantity {
		return nil, fmt.Errorf("domain: reversal of %s %s given an event of %d units, %d were recorded", cmd.Kind, cmd.OriginalID, BlocksTotal(blocks), rec.quantity)
	}
	for _, acct := range []struct{ id, field string }{{from, "original_id"}, {to, "original_id"}} {
		if acct.id == "" {
			continue
		}
		if rej := checkAccount(accounts, acct.id, acct.field, roleAuthorityTarget); rej != nil {
			return nil, rej
		}
	}
	// Retired units stay in their holder's holding; cancelled ones in the right's list.
	source := from
	if fromState == StateRetired {
		source = to
	}
	var have []Block
	if l := r.list(Place{Account: source, State: fromState}, false); l != nil {
		have = l.blocks
	}
	if blocking := missingBlocks(have, blocks); len(blocking) > 0 {
		where := "are no longer available to " + from
		switch fromState {
		case StateRetired:
			where = "are no longer retired by " + to
		case StateCancelled:
			where = "are no longer cancelled"
		}
		return nil, reject(CheckReversalBlocked, "original_id", "%s %s of right %s cannot be reversed: serial blocks %s %s (%s)",
			cmd.Kind, cmd.OriginalID, r.id, formatBlocks(blocking), where, r.whereAre(blocking))
	}
	return []Event{TransactionReversed{RightID: r.id, CorrectionID: cmd.CorrectionID, OriginalKind: cmd.Kind, OriginalID: cmd.OriginalID, ExchangeID: cmd.ExchangeID,
		From: from, To: to, Blocks: slices.Clone(blocks), Quantity: BlocksTotal(blocks), Authority: cmd.Authority, Reason: cmd.Reason, ReversedAt: utc(now)}}, nil
}

// missingBlocks returns the serials of want that the normalised list have
// lacks, as a normalised list.
func missingBlocks(have, want []Block) []Block {
	var out []Block
	for _, w := range want {
		cur := w.Start
		i := searchEnd(have, w.Start)
		for ; i < len(have) && have[i].Start <= w.End && cur <= w.End; i++ {
			if have[i].Start > cur {
				out = append(out, Block{cur, have[i].Start - 1})
			}
			cur = max(cur, have[i].End+1)
		}
		if cur <= w.End {
			out = append(out, Block{cur, w.End})
		}
	}
	return out
}

func formatBlocks(bs []Block) string {
	s := ""
	for i, b := range bs {
		if i > 0 {
			s += ", "
		}
		s += b.String()
	}
	return s
}

// whereAre says where the given serials are now, for a refusal's detail.
func (r *Right) whereAre(bs []Block) string {
	var parts []string
	note := func(where string, l []Block) {
		for _, b := range bs {
			if BlocksOverlap(l, b) {
				parts = append(parts, where)
				return
			}
		}
	}
	for _, id := range sortedKeys(r.holdings) {
		u := r.holdings[id]
		note("available to "+id, u.Blocks(StateAvailable))
		note("pledged by "+id, u.Blocks(StatePledged))
		note("frozen at "+id, u.Blocks(StateFrozen))
		note("reserved by "+id, u.Blocks(StateReserved))
		note("retired by "+id, u.Blocks(StateRetired))
	}
	note("cancelled", r.ownList(StateCancelled).blocks)
	note("expired", r.ownList(StateExpired).blocks)
	if len(parts) == 0 {
		return "now elsewhere"
	}
	out := "now "
	for i, p := range parts {
		if i > 0 {
			out += "; "
		}
		out += p
	}
	return out
}
