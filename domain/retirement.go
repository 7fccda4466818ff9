package domain

import (
	"time"
)

// Retirement: a holder retires (surrenders) units, which never move again.

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

// UnitsRetired records that a holder retired (surrendered) units, which can
// never be transferred again.
type UnitsRetired struct {
	// RightID is the right's id.
	RightID string
	// RetirementID is the caller's id of the retirement, unique within the right.
	RetirementID string
	// Holder is the account whose units were retired.
	Holder string
	// Blocks are the serial blocks retired, as a normalised block list.
	Blocks []Block
	// Quantity is the number of units retired, the total of Blocks.
	Quantity int64
	// Purpose says whether the units were surrendered for compliance or retired voluntarily.
	Purpose RetirementPurpose
	// Beneficiary is on whose behalf the units were retired; may be empty for compliance.
	Beneficiary string
	// CompliancePeriod is the period surrendered for, e.g. "2023-2024"; empty for voluntary retirements.
	CompliancePeriod string
	// Reason is free text saying why.
	Reason string
	// RetiredAt is when the retirement was recorded.
	RetiredAt time.Time
}

// EventType returns EventTypeUnitsRetired.
func (UnitsRetired) EventType() string { return EventTypeUnitsRetired }

// StreamID returns the right's stream.
func (e UnitsRetired) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns RetiredAt.
func (e UnitsRetired) OccurredAt() time.Time { return e.RetiredAt }

func (UnitsRetired) isEvent() {}

// DecideRetire decides whether units of right r may be retired as cmd says.
// The holder must be open or restricted, the right within its validity
// period, and the units available to the holder. Allowances surrendered for
// compliance must not be of a later vintage than the period's last year.
//
// It returns one UnitsRetired event, a *RecordedBefore (a retry), a
// *ValidationError, or a *Rejection: CheckRightNotFound,
// CheckRetirementIDReused (an *IDReused), CheckAccountNotFound, an account
// status check,
// CheckRightNotYetValid, CheckRightExpired, CheckVintageNotEligible,
// CheckInsufficientAvailableUnits, CheckSerialRangeOutsideIssuance,
// CheckBufferUnitsNotTransferable, CheckUnitsAlreadyRetired or
// CheckSerialRangeNotHeld.
func DecideRetire(r Right, cmd RetireUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if err := r.open(now, cmd.RightID, cmd.check, cmd.seen); err != nil {
		return nil, err
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

func (cmd RetireUnits) check(v *violations, _ time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(v, CheckInvalidRetirementID, "retirement_id", cmd.RetirementID)
	checkID(v, CheckInvalidAccountID, "holder", cmd.Holder)
	checkQuantityOrRange(v, cmd.Quantity, cmd.Range)
	if !cmd.Purpose.Valid() {
		v.add(CheckInvalidEnumValue, "purpose", "retirement purpose %s is not a valid purpose", cmd.Purpose)
	}
	checkText(v, "beneficiary", cmd.Beneficiary, cmd.Purpose == RetirementPurposeVoluntary, MaxShortTextLength)
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
	checkText(v, "reason", cmd.Reason, false, MaxReasonLength)
}

func (cmd RetireUnits) seen(r *Right) error {
	return r.seenOp(opRetirement, cmd.RetirementID, "retirement_id", cmd.Quantity, cmd.Range,
		retirementFingerprint(cmd.Holder, cmd.Purpose, cmd.Beneficiary, cmd.CompliancePeriod, cmd.Reason))
}

func (r *Right) applyRetired(e UnitsRetired, moves []Movement) error {
	if err := r.checkRightOf("retirement", e.RetirementID, e.RightID); err != nil {
		return err
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.remember(opRetirement, e.RetirementID, recordOf(e.Blocks, e.Quantity,
		retirementFingerprint(e.Holder, e.Purpose, e.Beneficiary, e.CompliancePeriod, e.Reason), r.version))
	return nil
}

func retirementFingerprint(holder string, purpose RetirementPurpose, beneficiary, period, reason string) uint64 {
	return uint64(newFingerprint().str(holder).int(int64(purpose)).str(beneficiary).str(period).str(reason))
}

// HasRetirement reports whether a retirement with this id has been recorded on the right.
func (r *Right) HasRetirement(retirementID string) bool {
	_, ok := r.retirements[retirementID]
	return ok
}
