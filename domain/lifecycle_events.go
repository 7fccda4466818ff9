package domain

import "time"

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

// TransactionKind names a kind of completed transaction that a correction
// may reverse.
type TransactionKind int32

// The kinds of reversible transaction.
const (
	// TransactionKindUnspecified is the invalid zero value.
	TransactionKindUnspecified TransactionKind = iota
	// TransactionKindTransfer is a transfer (UnitsTransferred), named by its transfer id.
	TransactionKindTransfer
	// TransactionKindRetirement is a retirement (UnitsRetired), named by its retirement id.
	TransactionKindRetirement
	// TransactionKindSettlement is a settlement of a reservation (ReservationSettled), named by its settlement id.
	TransactionKindSettlement
	// TransactionKindCancellation is a cancellation (UnitsCancelled), named by its cancellation id.
	TransactionKindCancellation
	// TransactionKindTrade is a trade an exchange submitted for settlement
	// (TradeSettled), named by its exchange and trade id.
	TransactionKindTrade
)

var transactionKindNames = []string{"UNSPECIFIED", "TRANSFER", "RETIREMENT", "SETTLEMENT", "CANCELLATION", "TRADE"}

// String returns the kind's UPPER_SNAKE name.
func (k TransactionKind) String() string { return enumString(transactionKindNames, int32(k)) }

// Valid reports whether k is a specified, known kind.
func (k TransactionKind) Valid() bool { return enumValid(transactionKindNames, int32(k)) }

// AccountFrozen records that an authority order froze a whole account: while
// any order is in effect, none of the account's units of any right may be
// sent, retired, pledged or reserved. The account may still receive units.
type AccountFrozen struct {
	// AccountID is the frozen account.
	AccountID string
	// OrderNumber is the number of the court or regulator order, unique per account.
	OrderNumber string
	// Authority is the court or regulator that issued the order.
	Authority string
	// Reason is free text saying why.
	Reason string
	// FrozenAt is when the freeze was recorded.
	FrozenAt time.Time
}

// AccountUnfrozen records that the freeze of an account under an order was lifted.
type AccountUnfrozen struct {
	// AccountID is the account.
	AccountID string
	// OrderNumber is the order whose freeze is lifted.
	OrderNumber string
	// Authority is who lifted it.
	Authority string
	// Reason is free text saying why, e.g. the number of the lifting order.
	Reason string
	// UnfrozenAt is when the freeze was lifted.
	UnfrozenAt time.Time
}

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

// UnitsFrozen records that an authority order froze available units of one
// holding. Frozen units cannot move, be retired, reserved or pledged.
type UnitsFrozen struct {
	// RightID is the right's id.
	RightID string
	// OrderNumber is the number of the court or regulator order, unique within the right.
	OrderNumber string
	// Authority is the court or regulator that issued the order.
	Authority string
	// Holder is the account whose units are frozen.
	Holder string
	// Blocks are the frozen serial blocks.
	Blocks []Block
	// Quantity is the number of units frozen.
	Quantity int64
	// Reason is free text saying why.
	Reason string
	// FrozenAt is when the freeze was recorded.
	FrozenAt time.Time
}

// UnitsUnfrozen records that the freeze under an order was lifted: all the
// units it still froze are available to the holder again.
type UnitsUnfrozen struct {
	// RightID is the right's id.
	RightID string
	// OrderNumber is the order whose freeze is lifted.
	OrderNumber string
	// Authority is who lifted it.
	Authority string
	// Holder is the account whose units are unfrozen.
	Holder string
	// Blocks are the unfrozen serial blocks.
	Blocks []Block
	// Quantity is the number of units unfrozen.
	Quantity int64
	// Reason is free text saying why.
	Reason string
	// UnfrozenAt is when the freeze was lifted.
	UnfrozenAt time.Time
}

// UnitsReserved records that a seller's available units were reserved for
// an exchange order (the first phase of a two-phase settlement, as a pending
// transfer). They stay the seller's until settled, voided or expired.
type UnitsReserved struct {
	// RightID is the right's id.
	RightID string
	// ReservationID is the exchange's id of the reservation, unique within the right.
	ReservationID string
	// Holder is the selling account.
	Holder string
	// Exchange names the exchange that holds the order.
	Exchange string
	// OrderReference is the exchange's order number.
	OrderReference string
	// Blocks are the reserved serial blocks.
	Blocks []Block
	// Quantity is the number of units reserved.
	Quantity int64
	// Timeout is when the reservation expires unless settled or voided before.
	Timeout time.Time
	// ReservedAt is when the reservation was recorded.
	ReservedAt time.Time
}

// ReservationSettled records that reserved units were delivered to a buyer:
// all of them or part. The part not settled stays reserved until a later
// settlement, a void or the reservation's expiry.
type ReservationSettled struct {
	// RightID is the right's id.
	RightID string
	// ReservationID is the settled reservation.
	ReservationID string
	// SettlementID is the exchange's id of this settlement, unique within the right.
	SettlementID string
	// Seller is the account whose reserved units were delivered.
	Seller string
	// Buyer is the account that received them.
	Buyer string
	// Blocks are the delivered serial blocks (the lowest reserved serials).
	Blocks []Block
	// Quantity is the number of units delivered.
	Quantity int64
	// Remaining is the number of units that stay reserved after this settlement.
	Remaining int64
	// TradePrice is the price per unit of the trade; nil when none.
	TradePrice *Price
	// SettledAt is when the settlement was recorded.
	SettledAt time.Time
}

// ReservationVoided records that a reservation was cancelled before its
// timeout: its remaining units are available to the seller again.
type ReservationVoided struct {
	// RightID is the right's id.
	RightID string
	// ReservationID is the voided reservation.
	ReservationID string
	// Holder is the selling account.
	Holder string
	// Blocks are the released serial blocks.
	Blocks []Block
	// Quantity is the number of units released.
	Quantity int64
	// Reason is free text saying why.
	Reason string
	// VoidedAt is when the void was recorded.
	VoidedAt time.Time
}

// ReservationExpired records that a reservation reached its timeout while
// still open: its remaining units are available to the seller again. It is
// recorded once per reservation.
type ReservationExpired struct {
	// RightID is the right's id.
	RightID string
	// ReservationID is the expired reservation.
	ReservationID string
	// Holder is the selling account.
	Holder string
	// Blocks are the released serial blocks.
	Blocks []Block
	// Quantity is the number of units released.
	Quantity int64
	// Timeout is the reservation's timeout.
	Timeout time.Time
	// ExpiredAt is when the expiry was recorded (at or after Timeout).
	ExpiredAt time.Time
}

// UnitsCancelled records that an authority cancelled units, for example
// after fraud or, for a carbon sink, to cover a reversal from its buffer
// pool. Cancelled units never move again.
type UnitsCancelled struct {
	// RightID is the right's id.
	RightID string
	// CancellationID is the authority's id of the cancellation, unique within the right.
	CancellationID string
	// Holder is the account whose units were cancelled; empty when they came from the buffer pool.
	Holder string
	// OrderNumber is set when the units were frozen under this order before they were cancelled.
	OrderNumber string
	// Authority is who cancelled them.
	Authority string
	// Reason says why; required.
	Reason string
	// Blocks are the cancelled serial blocks.
	Blocks []Block
	// Quantity is the number of units cancelled.
	Quantity int64
	// CancelledAt is when the cancellation was recorded.
	CancelledAt time.Time
}

// RightExpired records that a time-bounded right reached its ValidUntil:
// every unit not retired or cancelled (available, pledged, frozen, reserved
// or in the buffer pool) became expired, and every pledge, freeze and
// reservation of the right ended with it.
type RightExpired struct {
	// RightID is the right's id.
	RightID string
	// ValidUntil is the end of the right's validity.
	ValidUntil time.Time
	// Blocks are the serial blocks that expired; empty when nothing was left.
	Blocks []Block
	// Quantity is the number of units that expired.
	Quantity int64
	// ExpiredAt is when the expiry was recorded (at or after ValidUntil).
	ExpiredAt time.Time
}

// TransactionReversed records a regulator's correction of a completed
// transaction: a new, compensating movement of the same units back where
// they came from. The original event stays as it was.
type TransactionReversed struct {
	// RightID is the right's id.
	RightID string
	// CorrectionID is the regulator's id of the correction, unique within the right.
	CorrectionID string
	// OriginalKind is the kind of the reversed transaction.
	OriginalKind TransactionKind
	// OriginalID is the id of the reversed transaction (transfer, retirement, settlement, cancellation or trade id).
	OriginalID string
	// ExchangeID is, for a trade, the exchange whose trade id OriginalID is;
	// empty for the other kinds.
	ExchangeID string
	// From is the account the units are taken back from; empty when they come
	// from the retired state of To (a retirement) or from the cancelled units.
	From string
	// To is the account the units return to.
	To string
	// Blocks are the serial blocks moved back.
	Blocks []Block
	// Quantity is the number of units moved back.
	Quantity int64
	// Authority is the regulator that ordered the correction.
	Authority string
	// Reason says why; required.
	Reason string
	// ReversedAt is when the reversal was recorded.
	ReversedAt time.Time
}

// Event type names of the lifecycle events, as returned by Event.EventType.
// They are stored with every event and never change.
const (
	EventTypeAccountFrozen       = "AccountFrozen"
	EventTypeAccountUnfrozen     = "AccountUnfrozen"
	EventTypeUnitsPledged        = "UnitsPledged"
	EventTypePledgeReleased      = "PledgeReleased"
	EventTypePledgeEnforced      = "PledgeEnforced"
	EventTypeUnitsFrozen         = "UnitsFrozen"
	EventTypeUnitsUnfrozen       = "UnitsUnfrozen"
	EventTypeUnitsReserved       = "UnitsReserved"
	EventTypeReservationSettled  = "ReservationSettled"
	EventTypeReservationVoided   = "ReservationVoided"
	EventTypeReservationExpired  = "ReservationExpired"
	EventTypeUnitsCancelled      = "UnitsCancelled"
	EventTypeRightExpired        = "RightExpired"
	EventTypeTransactionReversed = "TransactionReversed"
)

// EventType returns EventTypeAccountFrozen.
func (AccountFrozen) EventType() string { return EventTypeAccountFrozen }

// StreamID returns the account's stream.
func (e AccountFrozen) StreamID() string { return AccountStream(e.AccountID) }

// OccurredAt returns FrozenAt.
func (e AccountFrozen) OccurredAt() time.Time { return e.FrozenAt }

func (AccountFrozen) isEvent() {}

// EventType returns EventTypeAccountUnfrozen.
func (AccountUnfrozen) EventType() string { return EventTypeAccountUnfrozen }

// StreamID returns the account's stream.
func (e AccountUnfrozen) StreamID() string { return AccountStream(e.AccountID) }

// OccurredAt returns UnfrozenAt.
func (e AccountUnfrozen) OccurredAt() time.Time { return e.UnfrozenAt }

func (AccountUnfrozen) isEvent() {}

// EventType returns EventTypeUnitsPledged.
func (UnitsPledged) EventType() string { return EventTypeUnitsPledged }

// StreamID returns the right's stream.
func (e UnitsPledged) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns PledgedAt.
func (e UnitsPledged) OccurredAt() time.Time { return e.PledgedAt }

func (UnitsPledged) isEvent() {}

// EventType returns EventTypePledgeReleased.
func (PledgeReleased) EventType() string { return EventTypePledgeReleased }

// StreamID returns the right's stream.
func (e PledgeReleased) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns ReleasedAt.
func (e PledgeReleased) OccurredAt() time.Time { return e.ReleasedAt }

func (PledgeReleased) isEvent() {}

// EventType returns EventTypePledgeEnforced.
func (PledgeEnforced) EventType() string { return EventTypePledgeEnforced }

// StreamID returns the right's stream.
func (e PledgeEnforced) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns EnforcedAt.
func (e PledgeEnforced) OccurredAt() time.Time { return e.EnforcedAt }

func (PledgeEnforced) isEvent() {}

// EventType returns EventTypeUnitsFrozen.
func (UnitsFrozen) EventType() string { return EventTypeUnitsFrozen }

// StreamID returns the right's stream.
func (e UnitsFrozen) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns FrozenAt.
func (e UnitsFrozen) OccurredAt() time.Time { return e.FrozenAt }

func (UnitsFrozen) isEvent() {}

// EventType returns EventTypeUnitsUnfrozen.
func (UnitsUnfrozen) EventType() string { return EventTypeUnitsUnfrozen }

// StreamID returns the right's stream.
func (e UnitsUnfrozen) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns UnfrozenAt.
func (e UnitsUnfrozen) OccurredAt() time.Time { return e.UnfrozenAt }

func (UnitsUnfrozen) isEvent() {}

// EventType returns EventTypeUnitsReserved.
func (UnitsReserved) EventType() string { return EventTypeUnitsReserved }

// StreamID returns the right's stream.
func (e UnitsReserved) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns ReservedAt.
func (e UnitsReserved) OccurredAt() time.Time { return e.ReservedAt }

func (UnitsReserved) isEvent() {}

// EventType returns EventTypeReservationSettled.
func (ReservationSettled) EventType() string { return EventTypeReservationSettled }

// StreamID returns the right's stream.
func (e ReservationSettled) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns SettledAt.
func (e ReservationSettled) OccurredAt() time.Time { return e.SettledAt }

func (ReservationSettled) isEvent() {}

// EventType returns EventTypeReservationVoided.
func (ReservationVoided) EventType() string { return EventTypeReservationVoided }

// StreamID returns the right's stream.
func (e ReservationVoided) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns VoidedAt.
func (e ReservationVoided) OccurredAt() time.Time { return e.VoidedAt }

func (ReservationVoided) isEvent() {}

// EventType returns EventTypeReservationExpired.
func (ReservationExpired) EventType() string { return EventTypeReservationExpired }

// StreamID returns the right's stream.
func (e ReservationExpired) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns ExpiredAt.
func (e ReservationExpired) OccurredAt() time.Time { return e.ExpiredAt }

func (ReservationExpired) isEvent() {}

// EventType returns EventTypeUnitsCancelled.
func (UnitsCancelled) EventType() string { return EventTypeUnitsCancelled }

// StreamID returns the right's stream.
func (e UnitsCancelled) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns CancelledAt.
func (e UnitsCancelled) OccurredAt() time.Time { return e.CancelledAt }

func (UnitsCancelled) isEvent() {}

// EventType returns EventTypeRightExpired.
func (RightExpired) EventType() string { return EventTypeRightExpired }

// StreamID returns the right's stream.
func (e RightExpired) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns ExpiredAt.
func (e RightExpired) OccurredAt() time.Time { return e.ExpiredAt }

func (RightExpired) isEvent() {}

// EventType returns EventTypeTransactionReversed.
func (TransactionReversed) EventType() string { return EventTypeTransactionReversed }

// StreamID returns the right's stream.
func (e TransactionReversed) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns ReversedAt.
func (e TransactionReversed) OccurredAt() time.Time { return e.ReversedAt }

func (TransactionReversed) isEvent() {}
