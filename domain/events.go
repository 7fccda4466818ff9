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
// every event and never change; like the check codes, they are one table.
// Each event's type, its decision and its effect are in the file of its
// capability (registration.go, transfer.go, pledge.go, ...).
const (
	EventTypeAccountOpened        = "AccountOpened"
	EventTypeAccountStatusChanged = "AccountStatusChanged"
	EventTypeAccountFrozen        = "AccountFrozen"
	EventTypeAccountUnfrozen      = "AccountUnfrozen"
	EventTypeRightRegistered      = "RightRegistered"
	EventTypeUnitsTransferred     = "UnitsTransferred"
	EventTypeUnitsRetired         = "UnitsRetired"
	EventTypeUnitsPledged         = "UnitsPledged"
	EventTypePledgeReleased       = "PledgeReleased"
	EventTypePledgeEnforced       = "PledgeEnforced"
	EventTypeUnitsFrozen          = "UnitsFrozen"
	EventTypeUnitsUnfrozen        = "UnitsUnfrozen"
	EventTypeUnitsReserved        = "UnitsReserved"
	EventTypeReservationSettled   = "ReservationSettled"
	EventTypeReservationVoided    = "ReservationVoided"
	EventTypeReservationExpired   = "ReservationExpired"
	EventTypeUnitsCancelled       = "UnitsCancelled"
	EventTypeRightExpired         = "RightExpired"
	EventTypeTransactionReversed  = "TransactionReversed"
	EventTypeTradeSettled         = "TradeSettled"
	EventTypeTradeRefused         = "TradeRefused"
)

// Event is a fact recorded in an event stream: an event of an account's
// stream (AccountOpened, AccountStatusChanged, AccountFrozen,
// AccountUnfrozen) or of a right's (every other type; see EventTypes).
// Events are plain values, and Apply accepts them as values, not pointers.
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

// UnitEventTypes returns the types of the events that move units: those for
// which Movements may return a movement. A read model of units decodes
// exactly these.
func UnitEventTypes() []string {
	return []string{EventTypeRightRegistered, EventTypeUnitsTransferred, EventTypeUnitsRetired, EventTypeTradeSettled,
		EventTypeUnitsPledged, EventTypePledgeReleased, EventTypePledgeEnforced,
		EventTypeUnitsFrozen, EventTypeUnitsUnfrozen,
		EventTypeUnitsReserved, EventTypeReservationSettled, EventTypeReservationVoided, EventTypeReservationExpired,
		EventTypeUnitsCancelled, EventTypeRightExpired, EventTypeTransactionReversed}
}

// EventTypes returns the type of every event of the package.
func EventTypes() []string {
	return append(UnitEventTypes(), EventTypeAccountOpened, EventTypeAccountStatusChanged,
		EventTypeAccountFrozen, EventTypeAccountUnfrozen, EventTypeTradeRefused)
}
