package domain

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Freezes: an authority order freezes units of one holding, or a whole
// account, until the order is lifted.

// FreezeUnits is the command by which an authority order freezes available
// units of one holding, by quantity or serial range.
type FreezeUnits struct {
	// RightID is the right whose units are frozen.
	RightID string
	// OrderNumber is the number of the court or regulator order, unique within the right.
	OrderNumber string
	// Authority is the court or regulator that issued the order.
	Authority string
	// Holder is the account whose units are frozen.
	Holder string
	// Quantity is the number of units to freeze; zero when Range is given.
	Quantity int64
	// Range is the serial block to freeze; nil when Quantity is given.
	Range *Block
	// Reason is free text saying why; optional.
	Reason string
}

// UnfreezeUnits is the command to lift the freeze of an order on a right.
type UnfreezeUnits struct {
	// RightID is the right.
	RightID string
	// OrderNumber is the order whose freeze is lifted.
	OrderNumber string
	// Authority is who lifts it.
	Authority string
	// Reason is free text saying why, e.g. the lifting order's number; optional.
	Reason string
}

// FreezeAccount is the command by which an authority order freezes a whole account.
type FreezeAccount struct {
	// AccountID is the account to freeze.
	AccountID string
	// OrderNumber is the number of the court or regulator order.
	OrderNumber string
	// Authority is the court or regulator that issued the order.
	Authority string
	// Reason is free text saying why; optional.
	Reason string
}

// UnfreezeAccount is the command to lift an account-wide freeze order.
type UnfreezeAccount struct {
	// AccountID is the account.
	AccountID string
	// OrderNumber is the order whose freeze is lifted.
	OrderNumber string
	// Authority is who lifts it.
	Authority string
	// Reason is free text saying why; optional.
	Reason string
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

// EventType returns EventTypeUnitsFrozen.
func (UnitsFrozen) EventType() string { return EventTypeUnitsFrozen }

// StreamID returns the right's stream.
func (e UnitsFrozen) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns FrozenAt.
func (e UnitsFrozen) OccurredAt() time.Time { return e.FrozenAt }

func (UnitsFrozen) isEvent() {}

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

// EventType returns EventTypeUnitsUnfrozen.
func (UnitsUnfrozen) EventType() string { return EventTypeUnitsUnfrozen }

// StreamID returns the right's stream.
func (e UnitsUnfrozen) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns UnfrozenAt.
func (e UnitsUnfrozen) OccurredAt() time.Time { return e.UnfrozenAt }

func (UnitsUnfrozen) isEvent() {}

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

// EventType returns EventTypeAccountFrozen.
func (AccountFrozen) EventType() string { return EventTypeAccountFrozen }

// StreamID returns the account's stream.
func (e AccountFrozen) StreamID() string { return AccountStream(e.AccountID) }

// OccurredAt returns FrozenAt.
func (e AccountFrozen) OccurredAt() time.Time { return e.FrozenAt }

func (AccountFrozen) isEvent() {}

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

// EventType returns EventTypeAccountUnfrozen.
func (AccountUnfrozen) EventType() string { return EventTypeAccountUnfrozen }

// StreamID returns the account's stream.
func (e AccountUnfrozen) StreamID() string { return AccountStream(e.AccountID) }

// OccurredAt returns UnfrozenAt.
func (e AccountUnfrozen) OccurredAt() time.Time { return e.UnfrozenAt }

func (AccountUnfrozen) isEvent() {}

// freeze is a holding-scope freeze order in effect on a right.
type freeze struct {
	holder    string
	authority string
	reason    string
	frozenAt  time.Time
	blocks    []Block
	count     int64
}

func (f *freeze) clone() *freeze {
	c := *f
	c.blocks = slices.Clone(f.blocks)
	return &c
}

// FreezeView is a holding-scope freeze order in effect on a right.
type FreezeView struct {
	// OrderNumber is the order's number.
	OrderNumber string
	// Authority is who issued it.
	Authority string
	// Holder is the account whose units are frozen.
	Holder string
	// Reason says why.
	Reason string
	// FrozenAt is when the freeze was recorded.
	FrozenAt time.Time
	// Blocks are the frozen serials.
	Blocks []Block
	// Quantity is the number of frozen units.
	Quantity int64
}

// Freezes returns the holding-scope freeze orders in effect on the right,
// sorted by order number.
func (r *Right) Freezes() []FreezeView {
	out := make([]FreezeView, 0, len(r.freezes))
	for _, id := range sortedKeys(r.freezes) {
		f := r.freezes[id]
		out = append(out, FreezeView{OrderNumber: id, Authority: f.authority, Holder: f.holder, Reason: f.reason,
			FrozenAt: f.frozenAt, Blocks: slices.Clone(f.blocks), Quantity: f.count})
	}
	return out
}

// FreezeOrders returns the numbers of the account-wide freeze orders in
// effect, sorted; nil when the account is not frozen.
func (a *Account) FreezeOrders() []string {
	var out []string
	for n, o := range a.orders {
		if o.active {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Frozen reports whether an account-wide freeze order is in effect.
func (a *Account) Frozen() bool {
	for _, o := range a.orders {
		if o.active {
			return true
		}
	}
	return false
}

// DecideFreezeUnits decides whether an order may freeze available units of
// a holding. The holder may have any status but closed; the right must be
// within its validity.
//
// It returns one UnitsFrozen event, a *RecordedBefore (a retry), a
// *ValidationError, or a *Rejection: CheckRightNotFound,
// CheckOperationIDReused (an *IDReused),
// CheckAccountNotFound, CheckAccountClosed, CheckRightNotYetValid,
// CheckRightExpired, CheckInsufficientAvailableUnits or a serial range check.
func DecideFreezeUnits(r Right, cmd FreezeUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if err := r.open(now, cmd.RightID, cmd.check, cmd.seen); err != nil {
		return nil, err
	}
	if rej := checkAccount(accounts, cmd.Holder, "holder", roleAuthorityTarget); rej != nil {
		return nil, rej
	}
	blocks, rej := r.selectValid(now, cmd.Holder, cmd.Quantity, cmd.Range)
	if rej != nil {
		return nil, rej
	}
	return []Event{UnitsFrozen{RightID: r.id, OrderNumber: cmd.OrderNumber, Authority: cmd.Authority, Holder: cmd.Holder,
		Blocks: blocks, Quantity: BlocksTotal(blocks), Reason: cmd.Reason, FrozenAt: utc(now)}}, nil
}

func (cmd FreezeUnits) check(v *violations, _ time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkText(v, "order_number", cmd.OrderNumber, true, MaxShortTextLength)
	checkText(v, "authority", cmd.Authority, true, MaxShortTextLength)
	checkID(v, CheckInvalidAccountID, "holder", cmd.Holder)
	checkQuantityOrRange(v, cmd.Quantity, cmd.Range)
	checkText(v, "reason", cmd.Reason, false, MaxReasonLength)
}

func (cmd FreezeUnits) seen(r *Right) error {
	return r.seenOp(opFreeze, cmd.OrderNumber, "order_number", cmd.Quantity, cmd.Range, freezeFingerprint(cmd.Authority, cmd.Holder, cmd.Reason))
}

// DecideUnfreezeUnits decides whether the freeze of an order on a right may
// be lifted; all the units it still freezes become available again.
//
// It returns one UnitsUnfrozen event, a *ValidationError, or a *Rejection:
// CheckRightNotFound, CheckFreezeOrderNotFound, CheckFreezeOrderLifted,
// CheckAccountNotFound or CheckAccountClosed.
func DecideUnfreezeUnits(r Right, cmd UnfreezeUnits, accounts AccountLookup, now time.Time) ([]Event, error) {
	if err := r.open(now, cmd.RightID, cmd.check, nil); err != nil {
		return nil, err
	}
	f, rej := r.openFreeze(cmd.OrderNumber)
	if rej != nil {
		return nil, rej
	}
	if rej := checkAccount(accounts, f.holder, "order_number", roleAuthorityTarget); rej != nil {
		return nil, rej
	}
	return []Event{UnitsUnfrozen{RightID: r.id, OrderNumber: cmd.OrderNumber, Authority: cmd.Authority, Holder: f.holder,
		Blocks: slices.Clone(f.blocks), Quantity: f.count, Reason: cmd.Reason, UnfrozenAt: utc(now)}}, nil
}

// openFreeze finds the freeze order in effect that a command names.
func (r *Right) openFreeze(order string) (*freeze, *Rejection) {
	if f := r.freezes[order]; f != nil {
		return f, nil
	}
	if _, ok := r.record(opFreeze, order); ok {
		return nil, reject(CheckFreezeOrderLifted, "order_number", "the freeze of order %s on right %s was already lifted", order, r.id)
	}
	return nil, reject(CheckFreezeOrderNotFound, "order_number", "right %s has no freeze under order %s", r.id, order)
}

func (cmd UnfreezeUnits) check(v *violations, _ time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkText(v, "order_number", cmd.OrderNumber, true, MaxShortTextLength)
	checkText(v, "authority", cmd.Authority, true, MaxShortTextLength)
	checkText(v, "reason", cmd.Reason, false, MaxReasonLength)
}

// DecideFreezeAccount decides whether an order may freeze a whole account.
// Any account but a closed one may be frozen, under several orders at once.
//
// It returns one AccountFrozen event, a *RecordedBefore (the order was
// recorded with the same fields: a retry), a *ValidationError, or a
// *Rejection: CheckAccountNotFound, CheckAccountClosed or
// CheckOperationIDReused (an *IDReused). An order recorded before is
// answered so also once the account is closed.
func DecideFreezeAccount(a Account, cmd FreezeAccount, now time.Time) ([]Event, error) {
	err := a.open(now, cmd.AccountID, func(v *violations) { checkOrder(v, cmd.AccountID, cmd.OrderNumber, cmd.Authority, cmd.Reason) })
	if o, ok := a.orders[cmd.OrderNumber]; ok && (err == nil || errors.Is(err, CheckAccountClosed)) {
		return nil, seenBefore(CheckDuplicateOperationID, CheckOperationIDReused, "order_number",
			fmt.Sprintf("freeze order %s of account %s", cmd.OrderNumber, a.id), o.revision, o.authority == cmd.Authority && o.reason == cmd.Reason)
	}
	if err != nil {
		return nil, err
	}
	return []Event{AccountFrozen{AccountID: a.id, OrderNumber: cmd.OrderNumber, Authority: cmd.Authority, Reason: cmd.Reason, FrozenAt: utc(now)}}, nil
}

// DecideUnfreezeAccount decides whether an account-wide freeze order may be lifted.
//
// It returns one AccountUnfrozen event, a *ValidationError, or a *Rejection:
// CheckAccountNotFound, CheckAccountClosed, CheckFreezeOrderNotFound or
// CheckFreezeOrderLifted.
func DecideUnfreezeAccount(a Account, cmd UnfreezeAccount, now time.Time) ([]Event, error) {
	if err := a.open(now, cmd.AccountID, func(v *violations) { checkOrder(v, cmd.AccountID, cmd.OrderNumber, cmd.Authority, cmd.Reason) }); err != nil {
		return nil, err
	}
	o, ok := a.orders[cmd.OrderNumber]
	switch {
	case !ok:
		return nil, reject(CheckFreezeOrderNotFound, "order_number", "account %s has no freeze under order %s", a.id, cmd.OrderNumber)
	case !o.active:
		return nil, reject(CheckFreezeOrderLifted, "order_number", "the freeze of account %s under order %s was already lifted", a.id, cmd.OrderNumber)
	}
	return []Event{AccountUnfrozen{AccountID: a.id, OrderNumber: cmd.OrderNumber, Authority: cmd.Authority, Reason: cmd.Reason, UnfrozenAt: utc(now)}}, nil
}

// checkOrder checks the fields of an account-wide freeze order.
func checkOrder(v *violations, accountID, order, authority, reason string) {
	checkID(v, CheckInvalidAccountID, "account_id", accountID)
	checkText(v, "order_number", order, true, MaxShortTextLength)
	checkText(v, "authority", authority, true, MaxShortTextLength)
	checkText(v, "reason", reason, false, MaxReasonLength)
}

func (r *Right) applyFrozen(e UnitsFrozen, moves []Movement) error {
	if err := r.checkNewOp(opFreeze, e.OrderNumber, e.RightID); err != nil {
		return err
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.freezes[e.OrderNumber] = &freeze{holder: e.Holder, authority: e.Authority, reason: e.Reason, frozenAt: e.FrozenAt,
		blocks: slices.Clone(e.Blocks), count: e.Quantity}
	r.remember(opFreeze, e.OrderNumber, recordOf(e.Blocks, e.Quantity, freezeFingerprint(e.Authority, e.Holder, e.Reason), r.version))
	return nil
}

func (r *Right) applyUnfrozen(e UnitsUnfrozen, moves []Movement) error {
	if err := r.checkRightEvent("unfreeze", e.OrderNumber, e.RightID); err != nil {
		return err
	}
	f := r.freezes[e.OrderNumber]
	if f == nil || f.holder != e.Holder || !slices.Equal(f.blocks, e.Blocks) {
		return fmt.Errorf("%w: freeze order %s of %s is not in effect with blocks %v", ErrEventDoesNotApply, e.OrderNumber, e.Holder, e.Blocks)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	delete(r.freezes, e.OrderNumber)
	return nil
}

func freezeFingerprint(authority, holder, reason string) uint64 {
	return uint64(newFingerprint().str(authority).str(holder).str(reason))
}
