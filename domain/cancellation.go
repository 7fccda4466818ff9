package domain

import (
	"fmt"
	"slices"
	"time"
)

// Cancellation: an authority cancels units of a holder, units it froze
// under an order, or units of the buffer pool.

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

// EventType returns EventTypeUnitsCancelled.
func (UnitsCancelled) EventType() string { return EventTypeUnitsCancelled }

// StreamID returns the right's stream.
func (e UnitsCancelled) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns CancelledAt.
func (e UnitsCancelled) OccurredAt() time.Time { return e.CancelledAt }

func (UnitsCancelled) isEvent() {}

// DecideCancel decides whether an authority may cancel units: a holder's
// available units, units frozen under OrderNumber, or (Holder empty) units
// of the buffer pool, which are taken from its lowest serials, or by a range
// at either end of it. The holder may have any status but closed.
//
// It returns one UnitsCancelled event, a *RecordedBefore (a retry), a
// *ValidationError, or a *Rejection: CheckRightNotFound,
// CheckOperationIDReused (an *IDReused),
// CheckRightExpired (after the expiry was recorded), CheckAccountNotFound,
// CheckAccountClosed, CheckFreezeOrderNotFound, CheckFreezeOrderLifted,
// CheckInsufficientAvailableUnits or a serial range check.
func DecideCancel(r Right, cmd CancelUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if err := r.open(now, cmd.RightID, cmd.check, cmd.seen); err != nil {
		return nil, err
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
		f, rej := r.openFreeze(cmd.OrderNumber)
		if rej != nil {
			return nil, rej
		}
		if f.holder != cmd.Holder {
			return nil, reject(CheckFreezeOrderNotFound, "order_number", "order %s freezes units of %s, not %s", cmd.OrderNumber, f.holder, cmd.Holder)
		}
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

func (cmd CancelUnits) check(v *violations, _ time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(v, CheckInvalidOperationID, "cancellation_id", cmd.CancellationID)
	if cmd.Holder != "" {
		checkID(v, CheckInvalidAccountID, "holder", cmd.Holder)
	} else if cmd.OrderNumber != "" {
		v.add(CheckRequiredFieldMissing, "holder", "units frozen under order %s are cancelled from a holder, which is required", truncate(cmd.OrderNumber))
	}
	if cmd.OrderNumber != "" {
		checkText(v, "order_number", cmd.OrderNumber, false, MaxShortTextLength)
	}
	checkText(v, "authority", cmd.Authority, true, MaxShortTextLength)
	checkText(v, "reason", cmd.Reason, true, MaxReasonLength)
	checkQuantityOrRange(v, cmd.Quantity, cmd.Range)
}

func (cmd CancelUnits) seen(r *Right) error {
	return r.seenOp(opCancellation, cmd.CancellationID, "cancellation_id", cmd.Quantity, cmd.Range, cancellationFingerprint(cmd.Holder, cmd.OrderNumber, cmd.Authority, cmd.Reason))
}

// selectBuffer picks units of the buffer pool to cancel: the lowest for a
// quantity, or a range at either end of the pool, so that the pool stays
// one block.
func (r *Right) selectBuffer(quantity int64, serials *Block) (Block, *Rejection) {
	b := r.Buffer()
	if b.IsZero() {
		return Block{}, reject(CheckInsufficientAvailableUnits, "quantity", "right %s has no units in its buffer pool", r.id)
	}
	if serials == nil {
		if quantity > b.Size() {
			return Block{}, reject(CheckInsufficientAvailableUnits, "quantity", "the buffer pool of right %s has %d units, %d requested", r.id, b.Size(), quantity)
		}
		return Block{b.Start, b.Start + quantity - 1}, nil
	}
	if !b.Contains(*serials) || (serials.Start != b.Start && serials.End != b.End) {
		return Block{}, reject(CheckSerialRangeNotHeld, "range", "range %s is not at either end of the buffer pool %s of right %s", *serials, b, r.id)
	}
	return *serials, nil
}

func (r *Right) applyCancelled(e UnitsCancelled, moves []Movement) error {
	if err := r.checkNewOp(opCancellation, e.CancellationID, e.RightID); err != nil {
		return err
	}
	what := "cancellation " + e.CancellationID
	var order *freeze
	var rest []Block
	switch {
	case e.Holder == "":
		// From the buffer pool: one block at either end of it, so that the
		// rest stays one block.
		b := r.Buffer()
		if len(e.Blocks) != 1 || b.IsZero() || !b.Contains(e.Blocks[0]) || (e.Blocks[0].Start != b.Start && e.Blocks[0].End != b.End) {
			return fmt.Errorf("%w: %s takes %v, not one end of the buffer %s", ErrEventDoesNotApply, what, e.Blocks, b)
		}
	case e.OrderNumber != "":
		order = r.freezes[e.OrderNumber]
		if order == nil || order.holder != e.Holder {
			return fmt.Errorf("%w: %s names freeze order %s of %s, which is not in effect", ErrEventDoesNotApply, what, e.OrderNumber, e.Holder)
		}
		var err error
		if rest, err = SubtractBlocks(slices.Clone(order.blocks), e.Blocks); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrEventDoesNotApply, what, err)
		}
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	if order != nil {
		order.blocks, order.count = rest, order.count-e.Quantity
		if order.count == 0 {
			// Nothing is left for the order to freeze: it has run its course.
			delete(r.freezes, e.OrderNumber)
		}
	}
	r.remember(opCancellation, e.CancellationID, recordOf(e.Blocks, e.Quantity,
		cancellationFingerprint(e.Holder, e.OrderNumber, e.Authority, e.Reason), r.version))
	return nil
}

func cancellationFingerprint(holder, orderNumber, authority, reason string) uint64 {
	return uint64(newFingerprint().str(holder).str(orderNumber).str(authority).str(reason))
}

// CancelledBlocks returns the serials cancelled by an authority.
func (r *Right) CancelledBlocks() []Block { return slices.Clone(r.ownList(StateCancelled).blocks) }
