package domain

import (
	"fmt"
	"slices"
	"sync/atomic"
)

// UnitState is where a unit of a right is: in one of the states of an
// account's holding (available, pledged, frozen, reserved, retired) or in
// one of the right's own places, which belong to no account (the buffer
// pool, cancelled, expired). Every issued unit is in exactly one state.
type UnitState uint8

// The states of units. The first HeldStates are those of an account's
// holding, in the order the holdings read model stores them.
const (
	// StateAvailable units may be transferred, retired, pledged, frozen or reserved.
	StateAvailable UnitState = iota
	// StatePledged units are collateral of an open pledge.
	StatePledged
	// StateFrozen units are blocked by an authority's freeze order.
	StateFrozen
	// StateReserved units are held for an exchange order until it settles,
	// is voided or expires.
	StateReserved
	// StateRetired units were retired or surrendered and never move again
	// (but for a correction).
	StateRetired
	// StateBuffer units are in the right's non-tradable buffer pool.
	StateBuffer
	// StateCancelled units were cancelled by an authority.
	StateCancelled
	// StateExpired units expired with the right.
	StateExpired
	// StateUnissued is the source of the units a registration issues: they
	// did not exist before. No unit is ever in it.
	StateUnissued
	// StateOutstanding is, as the source of a movement, wherever each of its
	// serials is among the states that end with the right: a holder's
	// available, pledged, frozen or reserved units, or the buffer pool.
	// RightExpired moves from it, because the event records which serials
	// expired but not whose or in which state; whoever applies the movement
	// finds them in its own state (see Right.Apply and the holdings read
	// model). No unit is ever in it.
	StateOutstanding
)

// HeldStates is the number of states of an account's holding: the states
// below it, StateAvailable to StateRetired.
const HeldStates = 5

var unitStateNames = [...]string{"available", "pledged", "frozen", "reserved", "retired", "buffer", "cancelled", "expired", "unissued", "outstanding"}

// String returns the state's lower-case name.
func (s UnitState) String() string {
	if int(s) < len(unitStateNames) {
		return unitStateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Held reports whether s is a state of an account's holding.
func (s UnitState) Held() bool { return s < HeldStates }

// Place is where units are or go: a state of one account's holding, or,
// with an empty Account, one of the right's own states.
type Place struct {
	// Account is the holding account; empty for the right's own states.
	Account string
	// State is the state the units are in.
	State UnitState
}

// String returns the place as "available of ACCOUNT", or the state's name
// for the right's own places.
func (p Place) String() string {
	if p.Account == "" {
		return p.State.String()
	}
	return p.State.String() + " of " + p.Account
}

// Movement is units of a right moving from one place to another, as an
// event records them. Blocks is a normalised block list whose total is
// Quantity; only a movement from StateOutstanding may be empty (a right
// that expired with nothing left).
type Movement struct {
	// Right is the id of the right whose units move.
	Right string
	// From is where the units were.
	From Place
	// To is where they are now.
	To Place
	// Blocks are the serials moved; they are the event's own slice, not a copy.
	Blocks []Block
	// Quantity is the number of units moved.
	Quantity int64
	// Reversal is set when the movement takes back an earlier one by a
	// regulator's correction (TransactionReversed): a fact of its own that
	// statistics of flows do not count again.
	Reversal bool
}

// Movements returns the movements of units that e records, in order: none
// for an event that moves no unit (the account events and TradeRefused), one
// for most events, and two for a registration with a buffer pool (to the
// holder and to the pool). It is the one place that says how each event
// moves units; Right.Apply and the read models apply what it returns, and
// keep only their own bookkeeping (pledges, trades, totals) beside it.
//
// It returns an error wrapping ErrEventDoesNotApply when e cannot move
// units as it says: blocks that are not a normalised, non-empty list, a
// quantity other than their total, a buffer outside the registration's
// serials, or a correction of an unknown kind.
func Movements(e Event) ([]Movement, error) { return AppendMovements(nil, e) }

// AppendMovements is Movements appending to dst, so that a caller applying
// events one after another can reuse one array: with a two-element array
// on the stack, applying an event allocates nothing for its movements.
func AppendMovements(dst []Movement, e Event) ([]Movement, error) {
	one := func(right string, from, to Place, blocks []Block, quantity int64) ([]Movement, error) {
		if err := checkMoved(blocks, quantity, false); err != nil {
			return dst, fmt.Errorf("%w: %s %s: %v", ErrEventDoesNotApply, e.EventType(), from, err)
		}
		return append(dst, Movement{Right: right, From: from, To: to, Blocks: blocks, Quantity: quantity}), nil
	}
	held := func(account string, s UnitState) Place { return Place{Account: account, State: s} }
	own := func(s UnitState) Place { return Place{State: s} }
	switch e := e.(type) {
	case RightRegistered:
		return appendIssued(dst, e)
	case UnitsTransferred:
		return one(e.RightID, held(e.From, StateAvailable), held(e.To, StateAvailable), e.Blocks, e.Quantity)
	case UnitsRetired:
		return one(e.RightID, held(e.Holder, StateAvailable), held(e.Holder, StateRetired), e.Blocks, e.Quantity)
	case TradeSettled:
		from := StateAvailable
		if e.ReservationID != "" {
			from = StateReserved
		}
		return one(e.RightID, held(e.Seller, from), held(e.Buyer, StateAvailable), e.Blocks, e.Quantity)
	case UnitsPledged:
		return one(e.RightID, held(e.Pledgor, StateAvailable), held(e.Pledgor, StatePledged), e.Blocks, e.Quantity)
	case PledgeReleased:
		return one(e.RightID, held(e.Pledgor, StatePledged), held(e.Pledgor, StateAvailable), e.Blocks, e.Quantity)
	case PledgeEnforced:
		return one(e.RightID, held(e.Pledgor, StatePledged), held(e.To, StateAvailable), e.Blocks, e.Quantity)
	case UnitsFrozen:
		return one(e.RightID, held(e.Holder, StateAvailable), held(e.Holder, StateFrozen), e.Blocks, e.Quantity)
	case UnitsUnfrozen:
		return one(e.RightID, held(e.Holder, StateFrozen), held(e.Holder, StateAvailable), e.Blocks, e.Quantity)
	case UnitsReserved:
		return one(e.RightID, held(e.Holder, StateAvailable), held(e.Holder, StateReserved), e.Blocks, e.Quantity)
	case ReservationSettled:
		return one(e.RightID, held(e.Seller, StateReserved), held(e.Buyer, StateAvailable), e.Blocks, e.Quantity)
	case ReservationVoided:
		return one(e.RightID, held(e.Holder, StateReserved), held(e.Holder, StateAvailable), e.Blocks, e.Quantity)
	case ReservationExpired:
		return one(e.RightID, held(e.Holder, StateReserved), held(e.Holder, StateAvailable), e.Blocks, e.Quantity)
	case UnitsCancelled:
		from := held(e.Holder, StateAvailable)
		switch {
		case e.Holder == "":
			from = own(StateBuffer)
		case e.OrderNumber != "":
			from = held(e.Holder, StateFrozen)
		}
		return one(e.RightID, from, own(StateCancelled), e.Blocks, e.Quantity)
	case RightExpired:
		// The event does not say whose units expired: see StateOutstanding.
		if err := checkMoved(e.Blocks, e.Quantity, true); err != nil {
			return dst, fmt.Errorf("%w: expiry of %s: %v", ErrEventDoesNotApply, e.RightID, err)
		}
		return append(dst, Movement{Right: e.RightID, From: own(StateOutstanding), To: own(StateExpired), Blocks: e.Blocks, Quantity: e.Quantity}), nil
	case TransactionReversed:
		return appendReversed(dst, e)
	}
	return dst, nil
}

// appendIssued appends the movements of a registration: the buffer block to
// the buffer pool and every other serial to the holder.
func appendIssued(dst []Movement, e RightRegistered) ([]Movement, error) {
	if !e.Serial.Valid() || (!e.Buffer.IsZero() && !(e.Buffer.Valid() && e.Serial.Contains(e.Buffer))) {
		return dst, fmt.Errorf("%w: registration of %s: buffer %s lies outside its serial %s", ErrEventDoesNotApply, e.RightID, e.Buffer, e.Serial)
	}
	holder := []Block{e.Serial}
	if !e.Buffer.IsZero() {
		holder, _ = SubtractBlocks(holder, []Block{e.Buffer})
	}
	unissued := Place{State: StateUnissued}
	if n := BlocksTotal(holder); n > 0 {
		dst = append(dst, Movement{Right: e.RightID, From: unissued, To: Place{Account: e.HolderAccountID, State: StateAvailable}, Blocks: holder, Quantity: n})
	}
	if !e.Buffer.IsZero() {
		dst = append(dst, Movement{Right: e.RightID, From: unissued, To: Place{State: StateBuffer}, Blocks: []Block{e.Buffer}, Quantity: e.Buffer.Size()})
	}
	return dst, nil
}

// appendReversed appends the movement of a correction: the units go back
// where the reversed transaction took them from.
func appendReversed(dst []Movement, e TransactionReversed) ([]Movement, error) {
	var from Place
	switch e.OriginalKind {
	case TransactionKindTransfer, TransactionKindSettlement, TransactionKindTrade:
		from = Place{Account: e.From, State: StateAvailable}
	case TransactionKindRetirement:
		from = Place{Account: e.To, State: StateRetired}
	case TransactionKindCancellation:
		from = Place{State: StateCancelled}
	default:
		return dst, fmt.Errorf("%w: correction %s reverses a transaction of kind %s", ErrEventDoesNotApply, e.CorrectionID, e.OriginalKind)
	}
	if err := checkMoved(e.Blocks, e.Quantity, false); err != nil {
		return dst, fmt.Errorf("%w: correction %s: %v", ErrEventDoesNotApply, e.CorrectionID, err)
	}
	return append(dst, Movement{Right: e.RightID, From: from, To: Place{Account: e.To, State: StateAvailable}, Blocks: e.Blocks, Quantity: e.Quantity, Reversal: true}), nil
}

// checkMoved checks the blocks an event moves against its quantity.
func checkMoved(blocks []Block, quantity int64, mayBeEmpty bool) error {
	switch {
	case !BlocksNormalized(blocks) || (len(blocks) == 0 && !mayBeEmpty):
		return fmt.Errorf("moves blocks %v, not a normalised list", blocks)
	case BlocksTotal(blocks) != quantity:
		return fmt.Errorf("moves %d units in blocks of %d", quantity, BlocksTotal(blocks))
	}
	return nil
}

// unitList is the units in one state: a normalised block list and its count.
type unitList struct {
	blocks []Block
	count  int64
}

// take removes blocks (quantity units) from the list. It fails, without
// change, unless the list holds every block.
func (l *unitList) take(blocks []Block, quantity int64) error {
	if l.count < quantity {
		return fmt.Errorf("%w: %d units wanted, %d there", ErrBlocksNotHeld, quantity, l.count)
	}
	rest, err := SubtractBlocks(l.blocks, blocks)
	if err != nil {
		return err
	}
	l.blocks, l.count = rest, l.count-quantity
	return nil
}

// put adds blocks (quantity units) to the list. It fails, without change,
// when the list holds any of them.
func (l *unitList) put(blocks []Block, quantity int64) error {
	added, err := AddBlocks(l.blocks, blocks)
	if err != nil {
		return err
	}
	l.blocks, l.count = added, l.count+quantity
	return nil
}

// check verifies that the list is normalised and its count its total.
func (l *unitList) check() error {
	switch {
	case l.count < 0:
		return fmt.Errorf("%d units", l.count)
	case !BlocksNormalized(l.blocks):
		return fmt.Errorf("blocks %v are not normalised", l.blocks)
	case BlocksTotal(l.blocks) != l.count:
		return fmt.Errorf("blocks hold %d units, the count says %d", BlocksTotal(l.blocks), l.count)
	}
	return nil
}

// Units are the units of one right that one account holds, by state: for
// each held state (StateAvailable to StateRetired) a normalised block list
// and its count, which Take, Put and Move keep consistent. The zero Units
// holds nothing. Copying Units by assignment shares the block lists: use
// Clone.
type Units struct {
	lists [HeldStates]unitList
}

// UnitsOf returns the units whose blocks in each held state are blocks[s],
// as a read model stored them; the lists become u's. It returns an error
// when a list is not normalised. Check also verifies that the lists are
// disjoint, at a cost a read model loading a holding need not pay.
func UnitsOf(blocks [HeldStates][]Block) (Units, error) {
	var u Units
	for s, bs := range blocks {
		if !BlocksNormalized(bs) {
			return Units{}, fmt.Errorf("domain: %s blocks %v are not normalised", UnitState(s), bs)
		}
		u.lists[s] = unitList{blocks: bs, count: BlocksTotal(bs)}
	}
	return u, nil
}

// Count returns the number of units in held state s.
func (u *Units) Count(s UnitState) int64 { return u.lists[s].count }

// Blocks returns the serials in held state s, as a normalised block list.
// The list is shared with u: do not change it.
func (u *Units) Blocks(s UnitState) []Block { return u.lists[s].blocks }

// Empty reports whether u holds no unit in any state.
func (u *Units) Empty() bool {
	for i := range u.lists {
		if u.lists[i].count != 0 {
			return false
		}
	}
	return true
}

// Take removes blocks (quantity units, their total) from held state s. It
// returns an error wrapping ErrBlocksNotHeld, and changes nothing, unless
// state s holds every block.
func (u *Units) Take(s UnitState, blocks []Block, quantity int64) error {
	return u.lists[s].take(blocks, quantity)
}

// Put adds blocks (quantity units, their total) to held state s. It returns
// an error wrapping ErrBlocksOverlap, and changes nothing, when state s
// holds any of them already.
func (u *Units) Put(s UnitState, blocks []Block, quantity int64) error {
	return u.lists[s].put(blocks, quantity)
}

// Move moves blocks (quantity units) from held state from to held state to.
// It changes nothing and returns an error unless state from holds every
// block and state to none of them.
func (u *Units) Move(from, to UnitState, blocks []Block, quantity int64) error {
	if from == to {
		return fmt.Errorf("domain: a move from %s to itself", from)
	}
	if err := u.lists[from].take(blocks, quantity); err != nil {
		return err
	}
	if err := u.lists[to].put(blocks, quantity); err != nil {
		// Unreachable while the lists are disjoint; undo the take.
		u.lists[from].put(blocks, quantity)
		return err
	}
	return nil
}

// Clear empties held state s and returns what it held.
func (u *Units) Clear(s UnitState) ([]Block, int64) {
	l := u.lists[s]
	u.lists[s] = unitList{}
	return l.blocks, l.count
}

// Clone returns a copy of u that shares no block list with it.
func (u *Units) Clone() Units {
	c := *u
	for i := range c.lists {
		c.lists[i].blocks = slices.Clone(u.lists[i].blocks)
	}
	return c
}

// Check verifies that every list is normalised, that each count is the
// total of its list, and that no serial is in two states. It costs
// O(B log B) for B blocks.
func (u *Units) Check() error {
	var all []Block
	for s := range u.lists {
		if err := u.lists[s].check(); err != nil {
			return fmt.Errorf("domain: %s units: %v", UnitState(s), err)
		}
		all = append(all, u.lists[s].blocks...)
	}
	if _, err := NormalizeBlocks(all); err != nil {
		return fmt.Errorf("domain: a serial is in two states: %v", err)
	}
	return nil
}

// verifyApplies is set by VerifyEveryApply.
var verifyApplies atomic.Bool

// VerifyEveryApply makes every later Right.Apply check the right's
// invariants (CheckInvariants) after the event, and panic with the broken
// invariant and the event when one does not hold; false stops it. Tests and
// simulations turn it on, as TigerBeetle asserts its invariants after every
// change; it costs O(B log B) per event for B blocks, so the registry leaves
// it off. Read models of units may follow it too (see VerifyingApplies).
func VerifyEveryApply(on bool) { verifyApplies.Store(on) }

// VerifyingApplies reports whether VerifyEveryApply is on.
func VerifyingApplies() bool { return verifyApplies.Load() }
