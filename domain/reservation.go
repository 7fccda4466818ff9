package domain

import (
	"fmt"
	"slices"
	"time"
)

// Reservations: a seller's units are reserved for an exchange order, then
// settled (all or part), voided, or expired at the timeout.

// MaxReservationTimeout is how far ahead of the reservation its timeout may lie.
const MaxReservationTimeout = 366 * 24 * time.Hour

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

// EventType returns EventTypeUnitsReserved.
func (UnitsReserved) EventType() string { return EventTypeUnitsReserved }

// StreamID returns the right's stream.
func (e UnitsReserved) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns ReservedAt.
func (e UnitsReserved) OccurredAt() time.Time { return e.ReservedAt }

func (UnitsReserved) isEvent() {}

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

// EventType returns EventTypeReservationSettled.
func (ReservationSettled) EventType() string { return EventTypeReservationSettled }

// StreamID returns the right's stream.
func (e ReservationSettled) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns SettledAt.
func (e ReservationSettled) OccurredAt() time.Time { return e.SettledAt }

func (ReservationSettled) isEvent() {}

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

// EventType returns EventTypeReservationVoided.
func (ReservationVoided) EventType() string { return EventTypeReservationVoided }

// StreamID returns the right's stream.
func (e ReservationVoided) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns VoidedAt.
func (e ReservationVoided) OccurredAt() time.Time { return e.VoidedAt }

func (ReservationVoided) isEvent() {}

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

// EventType returns EventTypeReservationExpired.
func (ReservationExpired) EventType() string { return EventTypeReservationExpired }

// StreamID returns the right's stream.
func (e ReservationExpired) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns ExpiredAt.
func (e ReservationExpired) OccurredAt() time.Time { return e.ExpiredAt }

func (ReservationExpired) isEvent() {}

// reservation is an open reservation of a seller's units for an exchange order.
type reservation struct {
	holder         string
	exchange       string
	orderReference string
	timeout        time.Time
	reservedAt     time.Time
	blocks         []Block
	count          int64
}

func (v *reservation) clone() *reservation {
	c := *v
	c.blocks = slices.Clone(v.blocks)
	return &c
}

// ReservationView is an open reservation of a right.
type ReservationView struct {
	// ReservationID is the reservation's id.
	ReservationID string
	// Holder is the selling account.
	Holder string
	// Exchange names the exchange.
	Exchange string
	// OrderReference is the exchange's order number.
	OrderReference string
	// Timeout is when the reservation expires.
	Timeout time.Time
	// ReservedAt is when the reservation was recorded.
	ReservedAt time.Time
	// Blocks are the serials still reserved.
	Blocks []Block
	// Quantity is the number of units still reserved.
	Quantity int64
}

// Reservations returns the right's open reservations, sorted by id.
func (r *Right) Reservations() []ReservationView {
	out := make([]ReservationView, 0, len(r.reservations))
	for _, id := range sortedKeys(r.reservations) {
		v := r.reservations[id]
		out = append(out, ReservationView{ReservationID: id, Holder: v.holder, Exchange: v.exchange, OrderReference: v.orderReference,
			Timeout: v.timeout, ReservedAt: v.reservedAt, Blocks: slices.Clone(v.blocks), Quantity: v.count})
	}
	return out
}

// DecideReserve decides whether a seller's units may be reserved for an
// exchange order. The seller must be open and not frozen, the right within
// its validity, the timeout after now and at most MaxReservationTimeout
// ahead, and the units available.
//
// It returns one UnitsReserved event, a *RecordedBefore (a retry), a
// *ValidationError, or a *Rejection: CheckRightNotFound,
// CheckOperationIDReused (an *IDReused),
// CheckAccountNotFound, an account status check, CheckAccountFrozen,
// CheckRightNotYetValid, CheckRightExpired, CheckInsufficientAvailableUnits
// or a serial range check.
func DecideReserve(r Right, cmd ReserveUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if err := r.open(now, cmd.RightID, cmd.check, cmd.seen); err != nil {
		return nil, err
	}
	if rej := checkAccount(accounts, cmd.Holder, "holder", roleSeller); rej != nil {
		return nil, rej
	}
	blocks, rej := r.selectValid(now, cmd.Holder, cmd.Quantity, cmd.Range)
	if rej != nil {
		return nil, rej
	}
	return []Event{UnitsReserved{RightID: r.id, ReservationID: cmd.ReservationID, Holder: cmd.Holder, Exchange: cmd.Exchange,
		OrderReference: cmd.OrderReference, Blocks: blocks, Quantity: BlocksTotal(blocks), Timeout: utc(cmd.Timeout), ReservedAt: utc(now)}}, nil
}

func (cmd ReserveUnits) check(v *violations, now time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(v, CheckInvalidOperationID, "reservation_id", cmd.ReservationID)
	checkID(v, CheckInvalidAccountID, "holder", cmd.Holder)
	checkText(v, "exchange", cmd.Exchange, true, MaxShortTextLength)
	checkText(v, "order_reference", cmd.OrderReference, true, MaxShortTextLength)
	checkQuantityOrRange(v, cmd.Quantity, cmd.Range)
	switch {
	case cmd.Timeout.IsZero():
		v.add(CheckInvalidTimeout, "timeout", "a reservation needs a timeout")
	case !cmd.Timeout.After(now) || cmd.Timeout.Sub(now) > MaxReservationTimeout:
		v.add(CheckInvalidTimeout, "timeout", "timeout %s is not after %s and within %d days of it",
			cmd.Timeout.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), MaxReservationTimeout/(24*time.Hour))
	}
}

func (cmd ReserveUnits) seen(r *Right) error {
	return r.seenOp(opReservation, cmd.ReservationID, "reservation_id", cmd.Quantity, cmd.Range, reservationFingerprint(cmd.Holder, cmd.Exchange, cmd.OrderReference, cmd.Timeout))
}

// openReservation finds the open reservation a command names, refusing it
// at or after its timeout.
func (r *Right) openReservation(id string, now time.Time) (*reservation, *Rejection) {
	v := r.reservations[id]
	if v == nil {
		if _, ok := r.record(opReservation, id); ok {
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
// It returns one ReservationSettled event, a *RecordedBefore (a retry), a
// *ValidationError, or a *Rejection: CheckRightNotFound,
// CheckOperationIDReused (an *IDReused), CheckReservationNotFound, CheckReservationNotOpen,
// CheckReservationTimedOut, CheckSameAccount, CheckAccountNotFound, an
// account status check, CheckAccountFrozen, CheckRightNotYetValid,
// CheckRightExpired or CheckSettlementExceedsReservation.
func DecideSettleReservation(r Right, cmd SettleReservation, accounts AccountLookup, now time.Time) ([]Event, error) {
	if err := r.open(now, cmd.RightID, cmd.check, cmd.seen); err != nil {
		return nil, err
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

func (cmd SettleReservation) check(v *violations, _ time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(v, CheckInvalidOperationID, "reservation_id", cmd.ReservationID)
	checkID(v, CheckInvalidOperationID, "settlement_id", cmd.SettlementID)
	checkID(v, CheckInvalidAccountID, "buyer", cmd.Buyer)
	checkQuantity(v, "quantity", cmd.Quantity)
	checkPrice(v, cmd.Price, cmd.Quantity)
}

// A settlement id seen before is answered first, so that a retry of a
// settlement that emptied the reservation is still recognised.
func (cmd SettleReservation) seen(r *Right) error {
	return r.seenOp(opSettlement, cmd.SettlementID, "settlement_id", cmd.Quantity, nil, settlementFingerprint(cmd.ReservationID, cmd.Buyer, cmd.Price))
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
	if err := r.open(now, cmd.RightID, cmd.check, nil); err != nil {
		return nil, err
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

func (cmd VoidReservation) check(v *violations, _ time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(v, CheckInvalidOperationID, "reservation_id", cmd.ReservationID)
	checkText(v, "reason", cmd.Reason, false, MaxReasonLength)
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

func (r *Right) applyReserved(e UnitsReserved, moves []Movement) error {
	if err := r.checkNewOp(opReservation, e.ReservationID, e.RightID); err != nil {
		return err
	}
	if e.Timeout.IsZero() {
		return fmt.Errorf("%w: reservation %s without a timeout", ErrEventDoesNotApply, e.ReservationID)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.reservations[e.ReservationID] = &reservation{holder: e.Holder, exchange: e.Exchange, orderReference: e.OrderReference,
		timeout: e.Timeout, reservedAt: e.ReservedAt, blocks: slices.Clone(e.Blocks), count: e.Quantity}
	r.remember(opReservation, e.ReservationID, recordOf(e.Blocks, e.Quantity,
		reservationFingerprint(e.Holder, e.Exchange, e.OrderReference, e.Timeout), r.version))
	return nil
}

func (r *Right) applySettled(e ReservationSettled, moves []Movement) error {
	if err := r.checkNewOp(opSettlement, e.SettlementID, e.RightID); err != nil {
		return err
	}
	v := r.reservations[e.ReservationID]
	if v == nil || v.holder != e.Seller || e.Buyer == "" || e.Buyer == e.Seller {
		return fmt.Errorf("%w: settlement %s of reservation %s of %s, which is not open", ErrEventDoesNotApply, e.SettlementID, e.ReservationID, e.Seller)
	}
	if e.Remaining != v.count-e.Quantity {
		return fmt.Errorf("%w: settlement %s leaves %d reserved, the event says %d", ErrEventDoesNotApply, e.SettlementID, v.count-e.Quantity, e.Remaining)
	}
	remaining, err := SubtractBlocks(slices.Clone(v.blocks), e.Blocks)
	if err != nil {
		return fmt.Errorf("%w: settlement %s: %v", ErrEventDoesNotApply, e.SettlementID, err)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	v.blocks, v.count = remaining, v.count-e.Quantity
	if v.count == 0 {
		delete(r.reservations, e.ReservationID)
	}
	r.remember(opSettlement, e.SettlementID, recordOf(e.Blocks, e.Quantity, settlementFingerprint(e.ReservationID, e.Buyer, e.TradePrice), r.version))
	return nil
}

// applyReservationEnded ends a reservation by void or expiry: its remaining
// units are the seller's available units again.
func (r *Right) applyReservationEnded(moves []Movement, kind, rightID, id, holder string, blocks []Block) error {
	if err := r.checkRightEvent("reservation "+kind, id, rightID); err != nil {
		return err
	}
	v := r.reservations[id]
	if v == nil || v.holder != holder || !slices.Equal(v.blocks, blocks) {
		return fmt.Errorf("%w: reservation %s of %s is not open with blocks %v", ErrEventDoesNotApply, id, holder, blocks)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	delete(r.reservations, id)
	return nil
}

func reservationFingerprint(holder, exchange, orderReference string, timeout time.Time) uint64 {
	return uint64(newFingerprint().str(holder).str(exchange).str(orderReference).int(unixNanoOrZero(timeout)))
}

func settlementFingerprint(reservationID, buyer string, price *Price) uint64 {
	f := newFingerprint().str(reservationID).str(buyer)
	if price != nil {
		f = f.byte(1).int(price.Amount).str(price.Currency)
	} else {
		f = f.byte(0)
	}
	return uint64(f)
}
