package domain

import (
	"fmt"
	"slices"
	"time"
)

// Pledges: a holder pledges units to a pledgee as collateral; the pledge
// ends by release or by enforcement.

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

// PledgeReleaser says who released a pledge.
type PledgeReleaser int32

// The parties that may release a pledge.
const (
	// PledgeReleaserUnspecified is the invalid zero value.
	PledgeReleaserUnspecified PledgeReleaser = iota
	// PledgeReleaserPledgee is the pledgee (the lending bank), after the loan was repaid.
	PledgeReleaserPledgee
	// PledgeReleaserRegistrationOffice is the registration office, on its own reference (for example a court judgment).
	PledgeReleaserRegistrationOffice
)

var pledgeReleaserNames = []string{"UNSPECIFIED", "PLEDGEE", "REGISTRATION_OFFICE"}

// String returns the releaser's UPPER_SNAKE name.
func (p PledgeReleaser) String() string { return enumString(pledgeReleaserNames, int32(p)) }

// Valid reports whether p is a specified, known releaser.
func (p PledgeReleaser) Valid() bool { return enumValid(pledgeReleaserNames, int32(p)) }

// UnitsPledged records that a holder pledged available units to a pledgee
// as collateral for a loan. Pledged units cannot be transferred, retired,
// reserved, frozen or pledged again until the pledge is released or enforced.
type UnitsPledged struct {
	// RightID is the right's id.
	RightID string
	// PledgeID is the caller's id of the pledge, unique within the right.
	PledgeID string
	// Pledgor is the account whose units are pledged.
	Pledgor string
	// Pledgee is the account of the lender (a bank) the units are pledged to.
	Pledgee string
	// LoanReference is the lender's reference of the secured loan.
	LoanReference string
	// Maturity is when the secured loan falls due; zero when not given.
	Maturity time.Time
	// Blocks are the pledged serial blocks, as a normalised block list.
	Blocks []Block
	// Quantity is the number of units pledged, the total of Blocks.
	Quantity int64
	// PledgedAt is when the pledge was recorded.
	PledgedAt time.Time
}

// EventType returns EventTypeUnitsPledged.
func (UnitsPledged) EventType() string { return EventTypeUnitsPledged }

// StreamID returns the right's stream.
func (e UnitsPledged) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns PledgedAt.
func (e UnitsPledged) OccurredAt() time.Time { return e.PledgedAt }

func (UnitsPledged) isEvent() {}

// PledgeReleased records that a pledge ended without enforcement: its units
// are available to the pledgor again.
type PledgeReleased struct {
	// RightID is the right's id.
	RightID string
	// PledgeID is the released pledge.
	PledgeID string
	// Pledgor is the account whose units were pledged.
	Pledgor string
	// Pledgee is the account they were pledged to.
	Pledgee string
	// ReleasedBy says whether the pledgee or the registration office released the pledge.
	ReleasedBy PledgeReleaser
	// OfficeReference is the registration office's reference; set when it released the pledge.
	OfficeReference string
	// Reason is free text saying why.
	Reason string
	// Blocks are the released serial blocks.
	Blocks []Block
	// Quantity is the number of units released.
	Quantity int64
	// ReleasedAt is when the release was recorded.
	ReleasedAt time.Time
}

// EventType returns EventTypePledgeReleased.
func (PledgeReleased) EventType() string { return EventTypePledgeReleased }

// StreamID returns the right's stream.
func (e PledgeReleased) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns ReleasedAt.
func (e PledgeReleased) OccurredAt() time.Time { return e.ReleasedAt }

func (PledgeReleased) isEvent() {}

// PledgeEnforced records that, on the pledgor's default, the pledged units
// were transferred to the pledgee or to a buyer the pledgee named.
type PledgeEnforced struct {
	// RightID is the right's id.
	RightID string
	// PledgeID is the enforced pledge.
	PledgeID string
	// Pledgor is the defaulting account whose units were pledged.
	Pledgor string
	// Pledgee is the account the units were pledged to.
	Pledgee string
	// To is the account that received the units: the pledgee or a buyer it named.
	To string
	// DefaultReference is the reference of the default (e.g. the notice of default).
	DefaultReference string
	// Reason is free text saying why.
	Reason string
	// Blocks are the transferred serial blocks.
	Blocks []Block
	// Quantity is the number of units transferred.
	Quantity int64
	// EnforcedAt is when the enforcement was recorded.
	EnforcedAt time.Time
}

// EventType returns EventTypePledgeEnforced.
func (PledgeEnforced) EventType() string { return EventTypePledgeEnforced }

// StreamID returns the right's stream.
func (e PledgeEnforced) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns EnforcedAt.
func (e PledgeEnforced) OccurredAt() time.Time { return e.EnforcedAt }

func (PledgeEnforced) isEvent() {}

// pledge is an open pledge of a right: units of one holder encumbered for a pledgee.
type pledge struct {
	pledgor       string
	pledgee       string
	loanReference string
	maturity      time.Time
	pledgedAt     time.Time
	blocks        []Block
	count         int64
}

func (p *pledge) clone() *pledge {
	c := *p
	c.blocks = slices.Clone(p.blocks)
	return &c
}

// PledgeView is an open pledge of a right.
type PledgeView struct {
	// PledgeID is the pledge's id.
	PledgeID string
	// Pledgor is the account whose units are pledged.
	Pledgor string
	// Pledgee is the account they are pledged to.
	Pledgee string
	// LoanReference is the secured loan's reference.
	LoanReference string
	// Maturity is when the loan falls due; zero when not given.
	Maturity time.Time
	// PledgedAt is when the pledge was recorded.
	PledgedAt time.Time
	// Blocks are the pledged serials.
	Blocks []Block
	// Quantity is the number of pledged units.
	Quantity int64
}

func (p *pledge) view(id string) PledgeView {
	return PledgeView{PledgeID: id, Pledgor: p.pledgor, Pledgee: p.pledgee, LoanReference: p.loanReference,
		Maturity: p.maturity, PledgedAt: p.pledgedAt, Blocks: slices.Clone(p.blocks), Quantity: p.count}
}

// Pledges returns the right's open pledges whose pledgor or pledgee is the
// account, or every open pledge when account is empty, sorted by pledge id.
func (r *Right) Pledges(account string) []PledgeView {
	var out []PledgeView
	for _, id := range sortedKeys(r.pledges) {
		p := r.pledges[id]
		if account == "" || p.pledgor == account || p.pledgee == account {
			out = append(out, p.view(id))
		}
	}
	return out
}

// Pledge returns the open pledge with the id, and false when there is none.
func (r *Right) Pledge(id string) (PledgeView, bool) {
	p, ok := r.pledges[id]
	if !ok {
		return PledgeView{}, false
	}
	return p.view(id), true
}

// DecidePledge decides whether units may be pledged as cmd says. The
// pledgor must be open and not frozen, the pledgee open or restricted, the
// right within its validity, and the units available (not pledged, frozen
// or reserved already).
//
// It returns one UnitsPledged event, a *RecordedBefore (a retry), a
// *ValidationError, or a *Rejection: CheckRightNotFound,
// CheckOperationIDReused (an *IDReused),
// CheckSameAccount, CheckAccountNotFound, an account status check,
// CheckAccountFrozen, CheckRightNotYetValid, CheckRightExpired,
// CheckInsufficientAvailableUnits or a serial range check (E5002, E5003,
// E5005..E5010).
func DecidePledge(r Right, cmd PledgeUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if err := r.open(now, cmd.RightID, cmd.check, cmd.seen); err != nil {
		return nil, err
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
	blocks, rej := r.selectValid(now, cmd.Pledgor, cmd.Quantity, cmd.Range)
	if rej != nil {
		return nil, rej
	}
	return []Event{UnitsPledged{RightID: r.id, PledgeID: cmd.PledgeID, Pledgor: cmd.Pledgor, Pledgee: cmd.Pledgee,
		LoanReference: cmd.LoanReference, Maturity: utc(cmd.Maturity), Blocks: blocks, Quantity: BlocksTotal(blocks), PledgedAt: utc(now)}}, nil
}

func (cmd PledgeUnits) check(v *violations, now time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(v, CheckInvalidOperationID, "pledge_id", cmd.PledgeID)
	checkID(v, CheckInvalidAccountID, "pledgor", cmd.Pledgor)
	checkID(v, CheckInvalidAccountID, "pledgee", cmd.Pledgee)
	checkText(v, "loan_reference", cmd.LoanReference, true, MaxShortTextLength)
	checkQuantityOrRange(v, cmd.Quantity, cmd.Range)
	if !cmd.Maturity.IsZero() && !cmd.Maturity.After(now) {
		v.add(CheckInvalidMaturity, "maturity", "maturity %s is not after %s", cmd.Maturity.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
}

func (cmd PledgeUnits) seen(r *Right) error {
	return r.seenOp(opPledge, cmd.PledgeID, "pledge_id", cmd.Quantity, cmd.Range, pledgeFingerprint(cmd.Pledgor, cmd.Pledgee, cmd.LoanReference, cmd.Maturity))
}

// openPledge finds the open pledge a command names.
func (r *Right) openPledge(id string) (*pledge, *Rejection) {
	if p := r.pledges[id]; p != nil {
		return p, nil
	}
	if _, ok := r.record(opPledge, id); ok {
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
	if err := r.open(now, cmd.RightID, cmd.check, nil); err != nil {
		return nil, err
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

func (cmd ReleasePledge) check(v *violations, _ time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(v, CheckInvalidOperationID, "pledge_id", cmd.PledgeID)
	if !cmd.ReleasedBy.Valid() {
		v.add(CheckInvalidEnumValue, "released_by", "releaser %s is not a valid releaser", cmd.ReleasedBy)
	}
	switch cmd.ReleasedBy {
	case PledgeReleaserRegistrationOffice:
		checkText(v, "office_reference", cmd.OfficeReference, true, MaxShortTextLength)
	case PledgeReleaserPledgee:
		if cmd.OfficeReference != "" {
			v.add(CheckInvalidText, "office_reference", "only the registration office gives an office reference")
		}
	}
	checkText(v, "reason", cmd.Reason, false, MaxReasonLength)
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
	if err := r.open(now, cmd.RightID, cmd.check, nil); err != nil {
		return nil, err
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

func (cmd EnforcePledge) check(v *violations, _ time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(v, CheckInvalidOperationID, "pledge_id", cmd.PledgeID)
	if cmd.To != "" {
		checkID(v, CheckInvalidAccountID, "to", cmd.To)
	}
	checkText(v, "default_reference", cmd.DefaultReference, true, MaxShortTextLength)
	checkText(v, "reason", cmd.Reason, false, MaxReasonLength)
}

func (r *Right) applyPledged(e UnitsPledged, moves []Movement) error {
	if err := r.checkNewOp(opPledge, e.PledgeID, e.RightID); err != nil {
		return err
	}
	if e.Pledgee == "" || e.Pledgee == e.Pledgor {
		return fmt.Errorf("%w: pledge %s without a distinct pledgee", ErrEventDoesNotApply, e.PledgeID)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.pledges[e.PledgeID] = &pledge{pledgor: e.Pledgor, pledgee: e.Pledgee, loanReference: e.LoanReference, maturity: e.Maturity,
		pledgedAt: e.PledgedAt, blocks: slices.Clone(e.Blocks), count: e.Quantity}
	r.remember(opPledge, e.PledgeID, recordOf(e.Blocks, e.Quantity, pledgeFingerprint(e.Pledgor, e.Pledgee, e.LoanReference, e.Maturity), r.version))
	return nil
}

// applyPledgeEnded ends a pledge: its units go to the pledgor's (release)
// or the recipient's (enforcement) available units.
func (r *Right) applyPledgeEnded(moves []Movement, kind, rightID, id, pledgor, to string, blocks []Block) error {
	if err := r.checkRightEvent("pledge "+kind, id, rightID); err != nil {
		return err
	}
	p := r.pledges[id]
	if p == nil || p.pledgor != pledgor || !slices.Equal(p.blocks, blocks) || to == "" {
		return fmt.Errorf("%w: pledge %s of %s is not open with blocks %v", ErrEventDoesNotApply, id, pledgor, blocks)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	delete(r.pledges, id)
	return nil
}

func pledgeFingerprint(pledgor, pledgee, loanReference string, maturity time.Time) uint64 {
	return uint64(newFingerprint().str(pledgor).str(pledgee).str(loanReference).int(unixNanoOrZero(maturity)))
}
