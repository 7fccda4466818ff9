package domain

import (
	"errors"
	"time"
)

// Stream name prefixes. An account's events are in stream "account-<id>" and
// a right's in "right-<id>".
const (
	AccountStreamPrefix = "account-"
	RightStreamPrefix   = "right-"
)

// AccountStream returns the name of the event stream of the account.
func AccountStream(accountID string) string { return AccountStreamPrefix + accountID }

// RightStream returns the name of the event stream of the right.
func RightStream(rightID string) string { return RightStreamPrefix + rightID }

// Event type names, as returned by Event.EventType. They are stored with
// every event and never change.
const (
	EventTypeAccountOpened        = "AccountOpened"
	EventTypeAccountStatusChanged = "AccountStatusChanged"
	EventTypeRightRegistered      = "RightRegistered"
	EventTypeUnitsTransferred     = "UnitsTransferred"
	EventTypeUnitsRetired         = "UnitsRetired"
)

// Event is a fact recorded in an event stream. The event types of this
// package are AccountOpened and AccountStatusChanged (account streams) and
// RightRegistered, UnitsTransferred and UnitsRetired (right streams); they are
// plain values, and Apply accepts them as values, not pointers.
type Event interface {
	// EventType returns the stable name of the event's type, e.g. "UnitsTransferred".
	EventType() string
	// StreamID returns the name of the stream the event belongs to.
	StreamID() string
	// OccurredAt returns when the registry recorded the fact.
	OccurredAt() time.Time
	isEvent()
}

// ErrEventDoesNotApply is returned (wrapped, with the reason) by Apply when an
// event cannot follow the state it is applied to: an unknown event type, an
// event of another aggregate or stream, a second opening or registration, or
// units moved that the holder does not hold. It means the stream is corrupt
// or was read wrongly, never that a command was refused.
var ErrEventDoesNotApply = errors.New("domain: event does not apply to state")

// AccountOpened records that an account was opened. The account's status is
// then AccountStatusOpen.
type AccountOpened struct {
	// AccountID is the account's id.
	AccountID string
	// Holder is who owns the account.
	Holder Holder
	// Jurisdiction is the GB/T 2260 code of the division the account belongs to.
	Jurisdiction string
	// Type is the account's role.
	Type AccountType
	// OpenedAt is when the account was opened.
	OpenedAt time.Time
}

// EventType returns EventTypeAccountOpened.
func (AccountOpened) EventType() string { return EventTypeAccountOpened }

// StreamID returns the account's stream.
func (e AccountOpened) StreamID() string { return AccountStream(e.AccountID) }

// OccurredAt returns OpenedAt.
func (e AccountOpened) OccurredAt() time.Time { return e.OpenedAt }

func (AccountOpened) isEvent() {}

// AccountStatusChanged records that an account's status changed.
type AccountStatusChanged struct {
	// AccountID is the account's id.
	AccountID string
	// From is the status before the change.
	From AccountStatus
	// To is the status after the change.
	To AccountStatus
	// Reason says why, e.g. the order that required it.
	Reason string
	// ChangedAt is when the status changed.
	ChangedAt time.Time
}

// EventType returns EventTypeAccountStatusChanged.
func (AccountStatusChanged) EventType() string { return EventTypeAccountStatusChanged }

// StreamID returns the account's stream.
func (e AccountStatusChanged) StreamID() string { return AccountStream(e.AccountID) }

// OccurredAt returns ChangedAt.
func (e AccountStatusChanged) OccurredAt() time.Time { return e.ChangedAt }

func (AccountStatusChanged) isEvent() {}

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
