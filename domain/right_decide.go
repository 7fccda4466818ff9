package domain

import (
	"fmt"
	"math"
	"time"
)

// RegisterRight is the command to register (issue) a right to a holder account.
type RegisterRight struct {
	// RightID is the id of the new right.
	RightID string
	// Type is the right's type.
	Type RightType
	// Jurisdiction is the GB/T 2260 code of the registering authority's division.
	Jurisdiction string
	// Vintage is the year the units belong to, 2005..2100.
	Vintage int
	// Unit is the unit of the quantity; it may be left unspecified, and
	// otherwise must be Type.Unit().
	Unit Unit
	// Quantity is the number of units to issue, including any buffer.
	Quantity int64
	// HolderAccountID is the account that receives the units; it must be open.
	HolderAccountID string
	// Attributes are the type's attributes: a CarbonAllowance, WaterRight,
	// PollutantRight or CarbonSink matching Type.
	Attributes Attributes
	// ValidFrom is when the right becomes usable; zero means at once.
	ValidFrom time.Time
	// ValidUntil is the first instant at which the right is expired; zero means never.
	ValidUntil time.Time
}

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

// RetireUnits is the command to retire (surrender) units a holder has
// available, by quantity (the lowest available serials first) or by an
// explicit serial range; exactly one of Quantity and Range is given.
type RetireUnits struct {
	// RightID is the right whose units are retired.
	RightID string
	// RetirementID is the caller's id of the retirement, unique within the right.
	RetirementID string
	// Holder is the account whose units are retired.
	Holder string
	// Quantity is the number of units to retire; zero when Range is given.
	Quantity int64
	// Range is the serial block to retire; nil when Quantity is given.
	Range *Block
	// Purpose is compliance or voluntary.
	Purpose RetirementPurpose
	// Beneficiary is on whose behalf units are retired; required for voluntary retirements.
	Beneficiary string
	// CompliancePeriod is the period surrendered for, "2023-2024" or "2025";
	// required for compliance and not allowed for voluntary retirements.
	CompliancePeriod string
	// Reason is free text saying why; optional.
	Reason string
}

// DecideRegisterRight decides whether right r, which must not exist yet, may
// be registered as cmd says. The holder account must exist and be open.
// For a carbon sink, BufferQuantity(Quantity, BufferBasisPoints) units with
// the highest serials go to the right's buffer pool and the rest to the holder.
//
// It returns one RightRegistered event, a *ValidationError listing every
// malformed field, or a *Rejection: CheckRightAlreadyExists,
// CheckAccountNotFound, CheckAccountNotOpen, CheckAccountRestricted,
// CheckAccountSuspended, CheckAccountClosed or CheckRightExpired (the
// validity period is already over).
func DecideRegisterRight(r Right, cmd RegisterRight, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	cmd.Attributes = derefAttributes(cmd.Attributes)
	if err := validateRegisterRight(&cmd, now); err != nil {
		return nil, err
	}
	if r.Registered() {
		return nil, reject(CheckRightAlreadyExists, "right_id", "right %s was registered at %s", r.id, r.registeredAt.Format(time.RFC3339))
	}
	if rej := checkAccount(accounts, cmd.HolderAccountID, "holder_account_id", roleRegistrationHolder); rej != nil {
		return nil, rej
	}
	if !cmd.ValidUntil.IsZero() && !now.Before(cmd.ValidUntil) {
		return nil, reject(CheckRightExpired, "valid_until", "the validity period ended at %s, before registration at %s",
			cmd.ValidUntil.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	var buffer Block
	if s, ok := cmd.Attributes.(CarbonSink); ok {
		if n := BufferQuantity(cmd.Quantity, s.BufferBasisPoints); n > 0 {
			buffer = Block{cmd.Quantity - n + 1, cmd.Quantity}
		}
	}
	return []Event{RightRegistered{
		RightID:         cmd.RightID,
		Type:            cmd.Type,
		Jurisdiction:    cmd.Jurisdiction,
		Vintage:         cmd.Vintage,
		Unit:            cmd.Type.Unit(),
		Quantity:        cmd.Quantity,
		SerialPrefix:    SerialPrefix(cmd.Type, cmd.Jurisdiction, cmd.Vintage, cmd.RightID),
		Serial:          Block{1, cmd.Quantity},
		Buffer:          buffer,
		HolderAccountID: cmd.HolderAccountID,
		Attributes:      normalizeAttributeTimes(cmd.Attributes),
		ValidFrom:       utc(cmd.ValidFrom),
		ValidUntil:      utc(cmd.ValidUntil),
		RegisteredAt:    utc(now),
	}}, nil
}

func validateRegisterRight(cmd *RegisterRight, now time.Time) error {
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	typeOK := cmd.Type.Valid()
	if !typeOK {
		v.add(CheckInvalidEnumValue, "type", "right type %s is not a valid type", cmd.Type)
	}
	checkDivisionCode(&v, "jurisdiction", cmd.Jurisdiction)
	vintageOK := checkVintage(&v, "vintage", cmd.Vintage)
	if typeOK && cmd.Unit != UnitUnspecified && cmd.Unit != cmd.Type.Unit() {
		v.add(CheckUnitTypeMismatch, "unit", "a %s right is counted in %s, not %s", cmd.Type, cmd.Type.Unit(), cmd.Unit)
	}
	checkQuantity(&v, "quantity", cmd.Quantity)
	checkID(&v, CheckInvalidAccountID, "holder_account_id", cmd.HolderAccountID)
	switch a := cmd.Attributes.(type) {
	case nil:
		v.add(CheckRequiredFieldMissing, attributesField(cmd.Type), "the attributes of the right are required")
	default:
		if typeOK && a.RightType() != cmd.Type {
			v.add(CheckAttributesTypeMismatch, attributesField(a.RightType()), "%s attributes given for a %s right", a.RightType(), cmd.Type)
			break
		}
		switch a := a.(type) {
		case CarbonAllowance:
			a.validate(&v, cmd, now, vintageOK)
		case WaterRight:
			a.validate(&v, cmd, now, vintageOK)
		case PollutantRight:
			a.validate(&v, cmd, now, vintageOK)
		case CarbonSink:
			a.validate(&v, cmd, now, vintageOK)
		default:
			v.add(CheckAttributesTypeMismatch, "attributes", "%T is not an attribute set of this package", a)
		}
	}
	return v.err()
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
func checkQuantityOrRange(v *violations, quantity int64, rng *Block) {
	switch {
	case rng == nil && quantity == 0:
		v.add(CheckQuantityOrRange, "quantity", "give a quantity or a serial range")
	case rng != nil && quantity != 0:
		v.add(CheckQuantityOrRange, "quantity", "give a quantity or a serial range, not both (quantity %d, range %s)", quantity, *rng)
	case rng != nil:
		checkBlock(v, "range", *rng)
	default:
		checkQuantity(v, "quantity", quantity)
	}
}

// selectUnits picks the blocks a transfer or retirement moves out of the
// holder's available units: the lowest serials for a quantity, or the range
// itself when the holder has all of it available. It does not change r.
func (r *Right) selectUnits(holderID string, quantity int64, rng *Block) ([]Block, *Rejection) {
	u := r.holdings[holderID]
	if rng == nil {
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
	b := *rng
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

// rightFor checks that r is the registered right the command names.
func rightFor(r *Right, rightID string) *Rejection {
	if !r.Registered() || r.id != rightID {
		return reject(CheckRightNotFound, "right_id", "right %s does not exist", rightID)
	}
	return nil
}

// DecideTransfer decides whether units of right r may move as cmd says, given
// the accounts involved and the time. The transferring account must be open
// and the acquiring one open or restricted; the right must be within its
// validity period; the units must be available to the transferring account.
//
// It returns one UnitsTransferred event, a *ValidationError listing every
// malformed field, or a *Rejection: CheckRightNotFound,
// CheckDuplicateTransferID (the same transfer was recorded before: a retry),
// CheckTransferIDReused, CheckSameAccount, CheckAccountNotFound, an account
// status check, CheckRightNotYetValid, CheckRightExpired,
// CheckInsufficientAvailableUnits, CheckSerialRangeOutsideIssuance,
// CheckBufferUnitsNotTransferable, CheckUnitsAlreadyRetired or
// CheckSerialRangeNotHeld. It costs O(log n + k) for a holder with n blocks
// of which k move.
func DecideTransfer(r Right, cmd TransferUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	if err := validateTransfer(&cmd); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	// An id seen before is answered before anything that may have changed
	// since, so that a retry of a completed transfer is always recognised.
	if rec, ok := r.transfers[cmd.TransferID]; ok {
		qty := cmd.Quantity
		if cmd.Range != nil {
			qty = cmd.Range.Size()
		}
		if rec.quantity == qty && (cmd.Range == nil || rec.span == *cmd.Range) &&
			rec.fingerprint == transferFingerprint(cmd.From, cmd.To, cmd.Reference, cmd.Reason, cmd.Price) {
			return nil, reject(CheckDuplicateTransferID, "transfer_id", "transfer %s was already recorded on right %s", cmd.TransferID, r.id)
		}
		return nil, reject(CheckTransferIDReused, "transfer_id", "transfer %s was recorded on right %s with different fields", cmd.TransferID, r.id)
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
	if rej := r.checkValidAt(now); rej != nil {
		return nil, rej
	}
	blocks, rej := r.selectUnits(cmd.From, cmd.Quantity, cmd.Range)
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

func validateTransfer(cmd *TransferUnits) error {
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(&v, CheckInvalidTransferID, "transfer_id", cmd.TransferID)
	checkID(&v, CheckInvalidAccountID, "from", cmd.From)
	checkID(&v, CheckInvalidAccountID, "to", cmd.To)
	checkQuantityOrRange(&v, cmd.Quantity, cmd.Range)
	checkText(&v, "reference", cmd.Reference, false, MaxShortTextLength)
	checkText(&v, "reason", cmd.Reason, false, MaxReasonLength)
	if p := cmd.Price; p != nil {
		qty := cmd.Quantity
		if cmd.Range != nil && cmd.Range.Valid() {
			qty = cmd.Range.Size()
		}
		switch {
		case !validCurrency(p.Currency):
			v.add(CheckInvalidPrice, "price.currency", "%q is not an ISO 4217 currency code", truncate(p.Currency))
		case p.Amount < 0:
			v.add(CheckInvalidPrice, "price.amount", "price %d is negative", p.Amount)
		case qty > 0 && p.Amount > math.MaxInt64/qty:
			v.add(CheckInvalidPrice, "price.amount", "price %d times quantity %d overflows", p.Amount, qty)
		}
	}
	return v.err()
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

// DecideRetire decides whether units of right r may be retired as cmd says.
// The holder must be open or restricted, the right within its validity
// period, and the units available to the holder. Allowances surrendered for
// compliance must not be of a later vintage than the period's last year.
//
// It returns one UnitsRetired event, a *ValidationError, or a *Rejection:
// CheckRightNotFound, CheckDuplicateRetirementID (a retry),
// CheckRetirementIDReused, CheckAccountNotFound, an account status check,
// CheckRightNotYetValid, CheckRightExpired, CheckVintageNotEligible,
// CheckInsufficientAvailableUnits, CheckSerialRangeOutsideIssuance,
// CheckBufferUnitsNotTransferable, CheckUnitsAlreadyRetired or
// CheckSerialRangeNotHeld.
func DecideRetire(r Right, cmd RetireUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	if err := validateRetire(&cmd); err != nil {
		return nil, err
	}
	if rej := rightFor(&r, cmd.RightID); rej != nil {
		return nil, rej
	}
	if rec, ok := r.retirements[cmd.RetirementID]; ok {
		qty := cmd.Quantity
		if cmd.Range != nil {
			qty = cmd.Range.Size()
		}
		if rec.quantity == qty && (cmd.Range == nil || rec.span == *cmd.Range) &&
			rec.fingerprint == retirementFingerprint(cmd.Holder, cmd.Purpose, cmd.Beneficiary, cmd.CompliancePeriod, cmd.Reason) {
			return nil, reject(CheckDuplicateRetirementID, "retirement_id", "retirement %s was already recorded on right %s", cmd.RetirementID, r.id)
		}
		return nil, reject(CheckRetirementIDReused, "retirement_id", "retirement %s was recorded on right %s with different fields", cmd.RetirementID, r.id)
	}
	if rej := checkAccount(accounts, cmd.Holder, "holder", roleRetirer); rej != nil {
		return nil, rej
	}
	if rej := r.checkValidAt(now); rej != nil {
		return nil, rej
	}
	if r.typ == RightTypeCarbonAllowance && cmd.Purpose == RetirementPurposeCompliance {
		// Banking is allowed, borrowing is not: allowances count for the
		// period of their vintage and later ones.
		if _, last, _ := ParseCompliancePeriod(cmd.CompliancePeriod); last < r.vintage {
			return nil, reject(CheckVintageNotEligible, "compliance_period", "allowances of vintage %d cannot be surrendered for the period %s",
				r.vintage, cmd.CompliancePeriod)
		}
	}
	blocks, rej := r.selectUnits(cmd.Holder, cmd.Quantity, cmd.Range)
	if rej != nil {
		return nil, rej
	}
	return []Event{UnitsRetired{
		RightID:          r.id,
		RetirementID:     cmd.RetirementID,
		Holder:           cmd.Holder,
		Blocks:           blocks,
		Quantity:         BlocksTotal(blocks),
		Purpose:          cmd.Purpose,
		Beneficiary:      cmd.Beneficiary,
		CompliancePeriod: cmd.CompliancePeriod,
		Reason:           cmd.Reason,
		RetiredAt:        utc(now),
	}}, nil
}

func validateRetire(cmd *RetireUnits) error {
	var v violations
	checkID(&v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(&v, CheckInvalidRetirementID, "retirement_id", cmd.RetirementID)
	checkID(&v, CheckInvalidAccountID, "holder", cmd.Holder)
	checkQuantityOrRange(&v, cmd.Quantity, cmd.Range)
	if !cmd.Purpose.Valid() {
		v.add(CheckInvalidEnumValue, "purpose", "retirement purpose %s is not a valid purpose", cmd.Purpose)
	}
	checkText(&v, "beneficiary", cmd.Beneficiary, cmd.Purpose == RetirementPurposeVoluntary, MaxShortTextLength)
	switch {
	case cmd.Purpose == RetirementPurposeCompliance && cmd.CompliancePeriod == "":
		v.add(CheckRequiredFieldMissing, "compliance_period", "a compliance retirement needs the compliance period")
	case cmd.Purpose == RetirementPurposeVoluntary && cmd.CompliancePeriod != "":
		v.add(CheckInvalidCompliancePeriod, "compliance_period", "a voluntary retirement has no compliance period, %q given", truncate(cmd.CompliancePeriod))
	case cmd.CompliancePeriod != "":
		if _, _, ok := ParseCompliancePeriod(cmd.CompliancePeriod); !ok {
			v.add(CheckInvalidCompliancePeriod, "compliance_period", "%q is not a compliance period like \"2023-2024\"", truncate(cmd.CompliancePeriod))
		}
	}
	checkText(&v, "reason", cmd.Reason, false, MaxReasonLength)
	return v.err()
}

// String returns the command in brief, for logs.
func (c TransferUnits) String() string {
	what := fmt.Sprintf("%d units", c.Quantity)
	if c.Range != nil {
		what = "serials " + c.Range.String()
	}
	return fmt.Sprintf("transfer %s of right %s: %s from %s to %s", c.TransferID, c.RightID, what, c.From, c.To)
}
