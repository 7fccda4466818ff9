package domain

import (
	"fmt"
	"time"
)

// Registration: a right is registered (issued) to a holder account.

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

// RightRegistered records that a right was registered (issued): Quantity
// units numbered Serial (1..Quantity), of which the Buffer block went to the
// right's non-tradable buffer pool and the rest to HolderAccountID.
type RightRegistered struct {
	// RightID is the right's id.
	RightID string
	// Type is the right's type.
	Type RightType
	// Jurisdiction is the GB/T 2260 code of the registering authority's division.
	Jurisdiction string
	// Vintage is the year the units belong to (the allocation year of an allowance).
	Vintage int
	// Unit is the unit of one serial number; it is always Type.Unit().
	Unit Unit
	// Quantity is the number of units issued, including any buffer.
	Quantity int64
	// SerialPrefix begins every serial number of the right, e.g. "CEA-420000-2025-HB2025A".
	SerialPrefix string
	// Serial is the block of all units issued, always 1..Quantity.
	Serial Block
	// Buffer is the block set aside in the buffer pool, at the top of Serial;
	// the zero Block when there is none. Only carbon-sink rights have one.
	Buffer Block
	// HolderAccountID is the account that received the units outside the buffer.
	HolderAccountID string
	// Attributes are the type's attributes; their RightType is Type.
	Attributes Attributes
	// ValidFrom is when the right becomes usable; zero means from registration.
	ValidFrom time.Time
	// ValidUntil is the first instant at which the right is expired; zero means never.
	ValidUntil time.Time
	// RegisteredAt is when the right was registered.
	RegisteredAt time.Time
}

// EventType returns EventTypeRightRegistered.
func (RightRegistered) EventType() string { return EventTypeRightRegistered }

// StreamID returns the right's stream.
func (e RightRegistered) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns RegisteredAt.
func (e RightRegistered) OccurredAt() time.Time { return e.RegisteredAt }

func (RightRegistered) isEvent() {}

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

func (r *Right) applyRegistered(e RightRegistered, moves []Movement) error {
	switch {
	case r.Registered():
		return fmt.Errorf("%w: right %s registered twice", ErrEventDoesNotApply, r.id)
	case !e.Type.Valid() || e.Quantity <= 0 || e.Serial != (Block{1, e.Quantity}):
		return fmt.Errorf("%w: registration of %s has type %s, quantity %d and serial %s", ErrEventDoesNotApply, e.RightID, e.Type, e.Quantity, e.Serial)
	case e.HolderAccountID == "" && e.Buffer != e.Serial:
		return fmt.Errorf("%w: registration of %s names no holder", ErrEventDoesNotApply, e.RightID)
	}
	n := Right{
		id:           e.RightID,
		typ:          e.Type,
		jurisdiction: e.Jurisdiction,
		vintage:      e.Vintage,
		unit:         e.Unit,
		quantity:     e.Quantity,
		serialPrefix: e.SerialPrefix,
		issuedTo:     e.HolderAccountID,
		attributes:   derefAttributes(e.Attributes),
		validFrom:    e.ValidFrom,
		validUntil:   e.ValidUntil,
		registeredAt: e.RegisteredAt,
		version:      r.version,
		holdings:     make(map[string]*Units),
		transfers:    make(map[string]opRecord),
		retirements:  make(map[string]opRecord),
		ops:          make(map[opKey]opRecord),
		pledges:      make(map[string]*pledge),
		freezes:      make(map[string]*freeze),
		reservations: make(map[string]*reservation),
	}
	if err := n.moveAll(moves); err != nil {
		return err
	}
	*r = n
	return nil
}
