package domain

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// The steps below are shared by the decisions on rights: the opening every
// decision runs, the checks of the accounts a decision involves, and the
// choice of the units it moves.

// errZeroTime is returned when a decision is asked for without a time: a
// programming error of the caller, not a refusal of the command.
var errZeroTime = errors.New("domain: decision time is zero")

// open runs the opening every decision on an existing right shares: the
// time must be given; every malformed field of the command is reported at
// once (check adds a violation for each, right_id included); the right
// must be the registered right the command names; and, for a command with
// an id of its own, an id the right recorded before is answered as a retry
// (*RecordedBefore) or refused as a re-used id (*IDReused) (seen; nil for
// commands that name an existing operation instead). A retry is recognised
// first, before anything that may have changed since it was recorded, so
// that a retry of a completed command is always answered with its outcome.
// After it, each capability's decision holds only its own rule.
func (r *Right) open(now time.Time, rightID string, check func(v *violations, now time.Time), seen func(r *Right) error) error {
	if now.IsZero() {
		return errZeroTime
	}
	var v violations
	check(&v, now)
	var seenErr error
	if seen != nil && rightFor(r, rightID) == nil {
		// A retry is answered as one even when the clock has since made a
		// field invalid (a reservation's timeout now past): the command was
		// valid when it was recorded, and its fields are the same.
		var before *RecordedBefore
		if seenErr = seen(r); errors.As(seenErr, &before) {
			return seenErr
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	if rej := rightFor(r, rightID); rej != nil {
		return rej
	}
	return seenErr
}

// rightFor checks that r is the registered right the command names.
func rightFor(r *Right, rightID string) *Rejection {
	if !r.Registered() || r.id != rightID {
		return reject(CheckRightNotFound, "right_id", "right %s does not exist", rightID)
	}
	return nil
}

// checkPrice validates an optional price per unit of quantity units.
func checkPrice(v *violations, p *Price, quantity int64) {
	switch {
	case p == nil:
	case !validCurrency(p.Currency):
		v.add(CheckInvalidPrice, "price.currency", "%q is not an ISO 4217 currency code", truncate(p.Currency))
	case p.Amount < 0:
		v.add(CheckInvalidPrice, "price.amount", "price %d is negative", p.Amount)
	case quantity > 0 && p.Amount > math.MaxInt64/quantity:
		v.add(CheckInvalidPrice, "price.amount", "price %d times quantity %d overflows", p.Amount, quantity)
	}
}

// quantityOf returns the number of units a command names: its quantity,
// or the size of its range when that is valid.
func quantityOf(quantity int64, serials *Block) int64 {
	if serials != nil && serials.Valid() {
		return serials.Size()
	}
	return quantity
}

// accountRole is what a decision needs an account to do, which decides the
// statuses it accepts.
type accountRole int

const (
	roleSender accountRole = iota
	roleReceiver
	roleRetirer
	roleRegistrationHolder
	// rolePledgor pledges its units; roleSeller reserves units for an exchange
	// order or delivers them in a settlement.
	rolePledgor
	roleSeller
	// rolePledgee is the lender a pledge names.
	rolePledgee
	// roleEnforcedPledgor is a pledgor whose pledged units are taken by enforcement.
	roleEnforcedPledgor
	// roleReleased gets encumbered units back by a pledge release or a void.
	roleReleased
	// roleAuthorityTarget is an account an authority acts on: a freeze, an
	// unfreeze, a cancellation or a correction.
	roleAuthorityTarget
)

// checkAccount checks that the account exists and that its status allows
// the role; the matrix is in the package documentation. In short: an open
// account may do everything; a restricted account may receive, retire, be a
// pledgee and get encumbered units back, but not send, pledge, sell or take
// a new registration; a suspended account is subject only to authority
// actions; a closed account to nothing. An account-wide freeze order
// further stops the account's units from being sent, retired, pledged,
// reserved or taken by enforcement.
func checkAccount(accounts AccountLookup, id, field string, role accountRole) *Rejection {
	var view AccountView
	ok := false
	if accounts != nil {
		view, ok = accounts(id)
	}
	if !ok {
		return reject(CheckAccountNotFound, field, "account %s does not exist", id)
	}
	if rej := checkStatus(view, id, field, role); rej != nil {
		return rej
	}
	if view.FreezeOrder != "" {
		switch role {
		case roleSender, roleRetirer, rolePledgor, roleSeller, roleEnforcedPledgor:
			return reject(CheckAccountFrozen, field, "account %s is frozen by order %s", id, view.FreezeOrder)
		}
	}
	return nil
}

func checkStatus(view AccountView, id, field string, role accountRole) *Rejection {
	switch view.Status {
	case AccountStatusOpen:
		return nil
	case AccountStatusRestricted:
		switch role {
		case roleReceiver, roleRetirer, rolePledgee, roleEnforcedPledgor, roleReleased, roleAuthorityTarget:
			return nil
		}
		return reject(CheckAccountRestricted, field, "account %s is restricted", id)
	case AccountStatusSuspended:
		if role == roleAuthorityTarget {
			return nil
		}
		return reject(CheckAccountSuspended, field, "account %s is suspended", id)
	case AccountStatusClosed:
		return reject(CheckAccountClosed, field, "account %s is closed", id)
	}
	return reject(CheckAccountNotOpen, field, "account %s has status %s", id, view.Status)
}

// checkValidAt refuses transactions outside the right's validity period,
// and on a right whose expiry was recorded whatever the clock says.
func (r *Right) checkValidAt(now time.Time) *Rejection {
	if !r.expiredAt.IsZero() {
		return reject(CheckRightExpired, "", "right %s expired at %s (recorded at %s)",
			r.id, r.validUntil.UTC().Format(time.RFC3339), r.expiredAt.UTC().Format(time.RFC3339))
	}
	if !r.validFrom.IsZero() && now.Before(r.validFrom) {
		return reject(CheckRightNotYetValid, "", "right %s is valid from %s, it is %s",
			r.id, r.validFrom.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !r.validUntil.IsZero() && !now.Before(r.validUntil) {
		return reject(CheckRightExpired, "", "right %s expired at %s, it is %s",
			r.id, r.validUntil.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkQuantityOrRange validates the Quantity/Range pair of a command.
func checkQuantityOrRange(v *violations, quantity int64, serials *Block) {
	switch {
	case serials == nil && quantity == 0:
		v.add(CheckQuantityOrRange, "quantity", "give a quantity or a serial range")
	case serials != nil && quantity != 0:
		v.add(CheckQuantityOrRange, "quantity", "give a quantity or a serial range, not both (quantity %d, range %s)", quantity, *serials)
	case serials != nil:
		checkBlock(v, "range", *serials)
	default:
		checkQuantity(v, "quantity", quantity)
	}
}

// selectUnits picks the blocks a transfer or retirement moves out of the
// holder's available units: the lowest serials for a quantity, or the range
// itself when the holder has all of it available. It does not change r.
func (r *Right) selectUnits(holderID string, quantity int64, serials *Block) ([]Block, *Rejection) {
	u := r.holdings[holderID]
	if serials == nil {
		if u == nil || u.Count(StateAvailable) < quantity {
			var encumbered string
			if u != nil && u.Count(StatePledged)+u.Count(StateFrozen)+u.Count(StateReserved) > 0 {
				encumbered = fmt.Sprintf(" (besides %d pledged, %d frozen and %d reserved)", u.Count(StatePledged), u.Count(StateFrozen), u.Count(StateReserved))
			}
			return nil, reject(CheckInsufficientAvailableUnits, "quantity", "account %s has %d units of right %s available%s, %d requested",
				holderID, r.AvailableQuantity(holderID), r.id, encumbered, quantity)
		}
		blocks, _ := TakeLowest(u.Blocks(StateAvailable), quantity)
		return blocks, nil
	}
	b := *serials
	if b.End > r.quantity {
		return nil, reject(CheckSerialRangeOutsideIssuance, "range", "range %s lies beyond serials 1..%d of right %s", b, r.quantity, r.id)
	}
	if u != nil && BlocksContain(u.Blocks(StateAvailable), b) {
		return []Block{b}, nil
	}
	// Refused: say why as precisely as the state allows.
	if buffer := r.Buffer(); !buffer.IsZero() && buffer.Overlaps(b) {
		return nil, reject(CheckBufferUnitsNotTransferable, "range", "range %s overlaps the buffer pool %s of right %s", b, buffer, r.id)
	}
	for _, id := range sortedKeys(r.holdings) {
		other := r.holdings[id]
		if BlocksOverlap(other.Blocks(StateRetired), b) {
			return nil, reject(CheckUnitsAlreadyRetired, "range", "range %s includes units of right %s retired by %s", b, r.id, id)
		}
		if BlocksOverlap(other.Blocks(StatePledged), b) {
			return nil, reject(CheckUnitsPledged, "range", "range %s includes units of right %s that %s has pledged", b, r.id, id)
		}
		if BlocksOverlap(other.Blocks(StateFrozen), b) {
			return nil, reject(CheckUnitsFrozen, "range", "range %s includes units of right %s of %s frozen by an order", b, r.id, id)
		}
		if BlocksOverlap(other.Blocks(StateReserved), b) {
			return nil, reject(CheckUnitsReserved, "range", "range %s includes units of right %s that %s has reserved for an exchange order", b, r.id, id)
		}
	}
	if BlocksOverlap(r.ownList(StateCancelled).blocks, b) {
		return nil, reject(CheckUnitsCancelled, "range", "range %s includes cancelled units of right %s", b, r.id)
	}
	return nil, reject(CheckSerialRangeNotHeld, "range", "range %s is not wholly among the available units of %s in right %s", b, holderID, r.id)
}

// selectValid refuses a transaction outside the right's validity
// (checkValidAt) and otherwise picks the units it moves (selectUnits).
func (r *Right) selectValid(now time.Time, holderID string, quantity int64, serials *Block) ([]Block, *Rejection) {
	if rej := r.checkValidAt(now); rej != nil {
		return nil, rej
	}
	return r.selectUnits(holderID, quantity, serials)
}

// selectFrom picks units out of an encumbrance's blocks: the lowest for a
// quantity, or the range when it lies wholly in them.
func selectFrom(bs []Block, quantity int64, serials *Block, what string) ([]Block, *Rejection) {
	if serials == nil {
		out, ok := TakeLowest(bs, quantity)
		if !ok {
			return nil, reject(CheckInsufficientAvailableUnits, "quantity", "there are %d %s, %d requested", BlocksTotal(bs), what, quantity)
		}
		return out, nil
	}
	if !BlocksContain(bs, *serials) {
		return nil, reject(CheckSerialRangeNotHeld, "range", "range %s is not wholly among the %s", *serials, what)
	}
	return []Block{*serials}, nil
}

// validCurrency reports whether s has the shape of an ISO 4217 alphabetic
// code: three upper-case ASCII letters.
func validCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
