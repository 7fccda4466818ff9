package domain

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// Right is the state of one registered right and all its holdings, rebuilt
// from the right's event stream by Apply. The zero Right is a right that has
// not been registered. Decide functions only read a Right, so several
// goroutines may decide on one Right at once as long as none applies to it
// meanwhile; Clone makes an independent copy. Copying a Right by assignment
// shares its holdings: use Clone.
type Right struct {
	id           string
	typ          RightType
	jurisdiction string
	vintage      int
	unit         Unit
	quantity     int64
	serialPrefix string
	issuedTo     string
	attributes   Attributes
	validFrom    time.Time
	validUntil   time.Time
	registeredAt time.Time
	version      int64

	// holdings are the holders' units by account; a holding is kept while
	// it has any unit in any state.
	holdings map[string]*Units
	// held are the units of every holder in each held state, summed.
	held [HeldStates]int64
	// own are the units in the right's own states, which belong to no
	// account: the buffer pool (at most one block), cancelled and expired.
	own [3]unitList
	// expiredAt is when RightExpired was recorded; zero while it was not.
	expiredAt time.Time

	// The open encumbrances, by id; each also counts in its holder's lists.
	pledges      map[string]*pledge
	freezes      map[string]*freeze
	reservations map[string]*reservation

	transfers   map[string]opRecord
	retirements map[string]opRecord
	// ops remembers every lifecycle operation by kind and id, to tell a
	// retry from a re-used id and to find the transaction a correction names.
	ops map[opKey]opRecord
	// trades remembers every trade submitted on the right, settled or
	// refused, to answer a retry with its first outcome; nil until one is.
	trades map[TradeKey]tradeRecord
}

// Registered reports whether the right has been registered.
func (r *Right) Registered() bool { return r.typ != RightTypeUnspecified }

// ID returns the right's id.
func (r *Right) ID() string { return r.id }

// Type returns the right's type.
func (r *Right) Type() RightType { return r.typ }

// Jurisdiction returns the GB/T 2260 code of the registering authority's division.
func (r *Right) Jurisdiction() string { return r.jurisdiction }

// Vintage returns the right's vintage year.
func (r *Right) Vintage() int { return r.vintage }

// Unit returns the unit of the right's serial numbers.
func (r *Right) Unit() Unit { return r.unit }

// Quantity returns the number of units issued, including any buffer.
func (r *Right) Quantity() int64 { return r.quantity }

// Serial returns the block of all serials issued, 1..Quantity.
func (r *Right) Serial() Block {
	if !r.Registered() {
		return Block{}
	}
	return Block{1, r.quantity}
}

// SerialPrefix returns the prefix of the right's serial numbers.
func (r *Right) SerialPrefix() string { return r.serialPrefix }

// IssuedTo returns the account the right was registered to.
func (r *Right) IssuedTo() string { return r.issuedTo }

// Attributes returns the right's type-specific attributes.
func (r *Right) Attributes() Attributes { return r.attributes }

// ValidFrom returns when the right becomes usable; zero means from registration.
func (r *Right) ValidFrom() time.Time { return r.validFrom }

// ValidUntil returns the first instant at which the right is expired; zero means never.
func (r *Right) ValidUntil() time.Time { return r.validUntil }

// RegisteredAt returns when the right was registered.
func (r *Right) RegisteredAt() time.Time { return r.registeredAt }

// Version returns how many events have been applied to the right.
func (r *Right) Version() int64 { return r.version }

// Buffer returns the block of the non-tradable buffer pool; the zero Block when none.
func (r *Right) Buffer() Block {
	if b := r.ownList(StateBuffer).blocks; len(b) > 0 {
		return b[0]
	}
	return Block{}
}

// ownList returns the list of one of the right's own states.
func (r *Right) ownList(s UnitState) *unitList { return &r.own[s-StateBuffer] }

// HoldingView is what one account holds of one right.
type HoldingView struct {
	// AccountID is the holding account.
	AccountID string
	// Available is the number of units the account may transfer or retire.
	Available int64
	// Retired is the number of units the account has retired.
	Retired int64
	// AvailableBlocks are the available serials, as a normalised block list.
	AvailableBlocks []Block
	// RetiredBlocks are the retired serials, as a normalised block list.
	RetiredBlocks []Block
	// Pledged is the number of units under the account's open pledges.
	Pledged int64
	// Frozen is the number of units frozen by authority orders on this holding.
	Frozen int64
	// Reserved is the number of units reserved for exchange orders.
	Reserved int64
	// PledgedBlocks are the pledged serials, as a normalised block list.
	PledgedBlocks []Block
	// FrozenBlocks are the frozen serials, as a normalised block list.
	FrozenBlocks []Block
	// ReservedBlocks are the reserved serials, as a normalised block list.
	ReservedBlocks []Block
}

// Holding returns what the account holds of the right; an empty view when
// it holds nothing. The block lists are copies.
func (r *Right) Holding(accountID string) HoldingView {
	u := r.holdings[accountID]
	if u == nil {
		return HoldingView{AccountID: accountID}
	}
	return viewOf(accountID, u)
}

// AvailableQuantity returns the number of units the account has available, in O(1).
func (r *Right) AvailableQuantity(accountID string) int64 {
	if u := r.holdings[accountID]; u != nil {
		return u.Count(StateAvailable)
	}
	return 0
}

// Units returns the units the account holds of the right, by state; the
// zero Units when it holds nothing. The result is a copy.
func (r *Right) Units(accountID string) Units {
	if u := r.holdings[accountID]; u != nil {
		return u.Clone()
	}
	return Units{}
}

func viewOf(accountID string, u *Units) HoldingView {
	return HoldingView{
		AccountID:       accountID,
		Available:       u.Count(StateAvailable),
		Retired:         u.Count(StateRetired),
		AvailableBlocks: slices.Clone(u.Blocks(StateAvailable)),
		RetiredBlocks:   slices.Clone(u.Blocks(StateRetired)),
		Pledged:         u.Count(StatePledged),
		Frozen:          u.Count(StateFrozen),
		Reserved:        u.Count(StateReserved),
		PledgedBlocks:   slices.Clone(u.Blocks(StatePledged)),
		FrozenBlocks:    slices.Clone(u.Blocks(StateFrozen)),
		ReservedBlocks:  slices.Clone(u.Blocks(StateReserved)),
	}
}

// Holdings returns every non-empty holding of the right, sorted by account id.
func (r *Right) Holdings() []HoldingView {
	ids := make([]string, 0, len(r.holdings))
	for id := range r.holdings {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]HoldingView, len(ids))
	for i, id := range ids {
		out[i] = viewOf(id, r.holdings[id])
	}
	return out
}

// Totals are the unit counts of a right by state.
type Totals struct {
	// Issued is the quantity registered.
	Issued int64
	// Available is the sum of all holders' available units.
	Available int64
	// Retired is the sum of all holders' retired units.
	Retired int64
	// Buffer is the number of units in the buffer pool.
	Buffer int64
	// Pledged is the sum of all holders' pledged units.
	Pledged int64
	// Frozen is the sum of all holders' units frozen by holding-scope orders.
	Frozen int64
	// Reserved is the sum of all holders' reserved units.
	Reserved int64
	// Cancelled is the number of units cancelled by an authority.
	Cancelled int64
	// Expired is the number of units that expired with the right.
	Expired int64
}

// Totals returns the right's unit counts by state, in O(1). Issued always
// equals the sum of the other counts.
func (r *Right) Totals() Totals {
	return Totals{Issued: r.quantity, Available: r.held[StateAvailable], Retired: r.held[StateRetired],
		Pledged: r.held[StatePledged], Frozen: r.held[StateFrozen], Reserved: r.held[StateReserved],
		Buffer: r.ownList(StateBuffer).count, Cancelled: r.ownList(StateCancelled).count, Expired: r.ownList(StateExpired).count}
}

// Clone returns a deep copy of the right that shares nothing mutable with it,
// so that one may be changed without affecting the other. It costs O(blocks
// + recorded transfer, retirement and trade ids).
func (r *Right) Clone() Right {
	c := *r
	if r.holdings != nil {
		c.holdings = make(map[string]*Units, len(r.holdings))
		for id, u := range r.holdings {
			clone := u.Clone()
			c.holdings[id] = &clone
		}
	}
	for i := range c.own {
		c.own[i].blocks = slices.Clone(r.own[i].blocks)
	}
	c.transfers = maps.Clone(r.transfers)
	c.retirements = maps.Clone(r.retirements)
	c.ops = maps.Clone(r.ops)
	c.trades = maps.Clone(r.trades)
	c.pledges = cloneEncumbrances(r.pledges)
	c.freezes = cloneEncumbrances(r.freezes)
	c.reservations = cloneEncumbrances(r.reservations)
	return c
}

// String returns a one-line summary of the right, for logs and test failures.
func (r *Right) String() string {
	if !r.Registered() {
		return "right(unregistered)"
	}
	var b strings.Builder
	t := r.Totals()
	fmt.Fprintf(&b, "right %s (%s, %d %s: %d available, %d pledged, %d frozen, %d reserved, %d retired, %d cancelled, %d expired, %d buffer; %d holders)",
		r.id, r.typ, t.Issued, r.unit.Symbol(), t.Available, t.Pledged, t.Frozen, t.Reserved, t.Retired, t.Cancelled, t.Expired, t.Buffer, len(r.holdings))
	return b.String()
}

// Apply changes the right by one event of its stream. It returns an error
// wrapping ErrEventDoesNotApply, and leaves the right unchanged, when the
// event cannot follow the current state (for example, units moved that the
// holder does not have). The units move as Movements says; the event's own
// bookkeeping (a pledge's record, a trade's outcome) is its capability's.
func (r *Right) Apply(e Event) error {
	var buf [2]Movement
	moves, err := AppendMovements(buf[:0], e)
	if err != nil {
		return err
	}
	switch e := e.(type) {
	case RightRegistered:
		err = r.applyRegistered(e, moves)
	case UnitsTransferred:
		err = r.applyTransferred(e, moves)
	case UnitsRetired:
		err = r.applyRetired(e, moves)
	case TradeSettled:
		err = r.applyTradeSettled(e, moves)
	case TradeRefused:
		err = r.applyTradeRefused(e)
	case UnitsPledged:
		err = r.applyPledged(e, moves)
	case PledgeReleased:
		err = r.applyPledgeEnded(moves, "release", e.RightID, e.PledgeID, e.Pledgor, e.Pledgor, e.Blocks)
	case PledgeEnforced:
		err = r.applyPledgeEnded(moves, "enforcement", e.RightID, e.PledgeID, e.Pledgor, e.To, e.Blocks)
	case UnitsFrozen:
		err = r.applyFrozen(e, moves)
	case UnitsUnfrozen:
		err = r.applyUnfrozen(e, moves)
	case UnitsReserved:
		err = r.applyReserved(e, moves)
	case ReservationSettled:
		err = r.applySettled(e, moves)
	case ReservationVoided:
		err = r.applyReservationEnded(moves, "void", e.RightID, e.ReservationID, e.Holder, e.Blocks)
	case ReservationExpired:
		err = r.applyReservationEnded(moves, "expiry", e.RightID, e.ReservationID, e.Holder, e.Blocks)
	case UnitsCancelled:
		err = r.applyCancelled(e, moves)
	case RightExpired:
		err = r.applyRightExpired(e, moves)
	case TransactionReversed:
		err = r.applyReversed(e, moves)
	default:
		err = fmt.Errorf("%w: %T is not an event of a right", ErrEventDoesNotApply, e)
	}
	if err != nil {
		return err
	}
	r.version++
	if verifyApplies.Load() {
		if err := r.CheckInvariants(); err != nil {
			panic(fmt.Sprintf("domain: %s (version %d) breaks an invariant: %v", e.EventType(), r.version, err))
		}
	}
	return nil
}

// RebuildRight returns the right that results from applying events, in
// order, to an unregistered right.
func RebuildRight(events []Event) (Right, error) {
	var r Right
	for _, e := range events {
		if err := r.Apply(e); err != nil {
			return Right{}, err
		}
	}
	return r, nil
}

// checkNewOp checks that an event recording a new operation of the kind
// applies to this right and that the right did not record its id before.
func (r *Right) checkNewOp(kind opKind, id, rightID string) error {
	name := opKinds[kind].name
	if err := r.checkRightEvent(name, id, rightID); err != nil {
		return err
	}
	if _, ok := r.record(kind, id); ok {
		return fmt.Errorf("%w: %s %s recorded twice", ErrEventDoesNotApply, name, id)
	}
	return nil
}

// checkRightOf checks that an event of a right applies to this right.
func (r *Right) checkRightOf(kind, id, rightID string) error {
	if !r.Registered() || rightID != r.id {
		return fmt.Errorf("%w: %s %s of right %q applied to right %q", ErrEventDoesNotApply, kind, id, rightID, r.id)
	}
	return nil
}

// checkRightEvent checks that an event of a right applies to this right.
func (r *Right) checkRightEvent(kind, id, rightID string) error {
	if !r.Registered() || rightID != r.id {
		return fmt.Errorf("%w: %s %s of right %q applied to right %q", ErrEventDoesNotApply, kind, id, rightID, r.id)
	}
	if !r.expiredAt.IsZero() {
		return fmt.Errorf("%w: %s %s on right %s, which expired at %s", ErrEventDoesNotApply, kind, id, r.id, r.expiredAt.Format(time.RFC3339))
	}
	return nil
}

// moveAll applies the movements of an event, in order. It changes nothing
// and returns an error wrapping ErrEventDoesNotApply unless every movement
// applies.
func (r *Right) moveAll(moves []Movement) error {
	for i, m := range moves {
		if err := r.move(m); err != nil {
			for j := i - 1; j >= 0; j-- {
				// Put back what the earlier movements moved.
				back := moves[j]
				back.From, back.To = back.To, back.From
				r.move(back)
			}
			return fmt.Errorf("%w: %v", ErrEventDoesNotApply, err)
		}
	}
	return nil
}

// list returns the units of a place: a state of a holding, or one of the
// right's own states; nil for a holding that does not exist (unless create
// makes it) and for the unissued and outstanding states.
func (r *Right) list(p Place, create bool) *unitList {
	switch {
	case p.State.Held():
		u := r.holdings[p.Account]
		if u == nil {
			if !create {
				return nil
			}
			u = &Units{}
			r.holdings[p.Account] = u
		}
		return &u.lists[p.State]
	case p.State >= StateBuffer && p.State <= StateExpired:
		return r.ownList(p.State)
	}
	return nil
}

// move applies one movement, keeping the totals; it drops a holding that
// it leaves empty. It fails, without change, unless the source holds every
// block. Units come from StateUnissued only at registration, and go to it
// only when a failed registration is undone.
func (r *Right) move(m Movement) error {
	switch {
	case m.From.State == StateOutstanding:
		return r.moveOutstanding(m)
	case m.From == m.To:
		return fmt.Errorf("moves %d units from %s to where they are", m.Quantity, m.From)
	}
	var src *unitList
	if m.From.State != StateUnissued {
		if src = r.list(m.From, false); src == nil {
			return fmt.Errorf("moves %d units from %s, which has none", m.Quantity, m.From)
		}
		if err := src.take(m.Blocks, m.Quantity); err != nil {
			return fmt.Errorf("moves %d units from %s: %v", m.Quantity, m.From, err)
		}
	}
	if m.To.State != StateUnissued {
		_, existed := r.holdings[m.To.Account]
		dst := r.list(m.To, true)
		err := errNoPlace(dst, m.To)
		if err == nil {
			err = dst.put(m.Blocks, m.Quantity)
		}
		if err != nil {
			// Unreachable while the invariants hold; undo, so that a
			// failed Apply leaves the state unchanged.
			if src != nil {
				src.put(m.Blocks, m.Quantity)
			}
			if !existed && m.To.State.Held() {
				delete(r.holdings, m.To.Account)
			}
			return fmt.Errorf("moves %d units to %s: %v", m.Quantity, m.To, err)
		}
	}
	if m.From.State.Held() {
		r.held[m.From.State] -= m.Quantity
		if u := r.holdings[m.From.Account]; u.Empty() {
			delete(r.holdings, m.From.Account)
		}
	}
	if m.To.State.Held() {
		r.held[m.To.State] += m.Quantity
	}
	return nil
}

func errNoPlace(l *unitList, p Place) error {
	if l == nil {
		return fmt.Errorf("no unit can be in the %s state", p.State)
	}
	return nil
}

// moveOutstanding moves serials from wherever each is outstanding (see
// StateOutstanding): it finds them in the holders' available, pledged,
// frozen and reserved units and in the buffer pool, and moves each part
// from where it is.
func (r *Right) moveOutstanding(m Movement) error {
	var parts []Movement
	var found int64
	add := func(from Place, l *unitList) {
		if part := intersectBlocks(l.blocks, m.Blocks); len(part) > 0 {
			n := BlocksTotal(part)
			parts = append(parts, Movement{From: from, To: m.To, Blocks: part, Quantity: n})
			found += n
		}
	}
	for _, id := range sortedKeys(r.holdings) {
		for s := StateAvailable; s < StateRetired; s++ {
			add(Place{Account: id, State: s}, &r.holdings[id].lists[s])
		}
	}
	add(Place{State: StateBuffer}, r.ownList(StateBuffer))
	if found != m.Quantity {
		return fmt.Errorf("moves %d outstanding units, %d of its serials are outstanding", m.Quantity, found)
	}
	for i, p := range parts {
		if err := r.move(p); err != nil {
			for j := i - 1; j >= 0; j-- {
				back := parts[j]
				back.From, back.To = back.To, back.From
				r.move(back)
			}
			return err
		}
	}
	return nil
}

// intersectBlocks returns the serials that the normalised lists a and b
// share, as a normalised list.
func intersectBlocks(a, b []Block) []Block {
	var out []Block
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].Start, b[j].Start), min(a[i].End, b[j].End)
		if lo <= hi {
			out = append(out, Block{lo, hi})
		}
		if a[i].End < b[j].End {
			i++
		} else {
			j++
		}
	}
	return out
}

// CheckInvariants verifies the conservation of units: every list is
// normalised and matches its count, no count is negative, the holdings'
// available, pledged, frozen, reserved and retired blocks, the cancelled and
// expired blocks and the buffer are disjoint and together cover 1..Quantity
// exactly, the buffer is at most one block, the totals add up, and each
// holder's pledged, frozen and reserved lists are exactly the union of its
// open pledges, freezes and reservations. It returns nil or an error
// describing the first violation; it costs O(B log B) for B blocks.
func (r *Right) CheckInvariants() error {
	if !r.Registered() {
		if len(r.holdings) > 0 || r.quantity != 0 {
			return fmt.Errorf("domain: unregistered right %q has holdings", r.id)
		}
		return nil
	}
	var all []Block
	var sum [HeldStates]int64
	for id, u := range r.holdings {
		for s := range u.lists {
			if err := u.lists[s].check(); err != nil {
				return fmt.Errorf("domain: right %s: %s's %s units: %v", r.id, id, UnitState(s), err)
			}
			all = append(all, u.lists[s].blocks...)
			sum[s] += u.lists[s].count
		}
		if u.Empty() {
			return fmt.Errorf("domain: right %s: empty holding of %s is kept", r.id, id)
		}
	}
	if sum != r.held {
		return fmt.Errorf("domain: right %s: the holdings sum to %v units by state, the totals say %v", r.id, sum, r.held)
	}
	n := sum[StateAvailable] + sum[StatePledged] + sum[StateFrozen] + sum[StateReserved] + sum[StateRetired]
	for i := range r.own {
		if err := r.own[i].check(); err != nil {
			return fmt.Errorf("domain: right %s: %s units: %v", r.id, StateBuffer+UnitState(i), err)
		}
		all = append(all, r.own[i].blocks...)
		n += r.own[i].count
	}
	if len(r.ownList(StateBuffer).blocks) > 1 {
		return fmt.Errorf("domain: right %s: the buffer pool %v is not one block", r.id, r.ownList(StateBuffer).blocks)
	}
	if n != r.quantity {
		t := r.Totals()
		return fmt.Errorf("domain: right %s: %d available + %d pledged + %d frozen + %d reserved + %d retired + %d cancelled + %d expired + %d buffer = %d units, %d issued",
			r.id, t.Available, t.Pledged, t.Frozen, t.Reserved, t.Retired, t.Cancelled, t.Expired, t.Buffer, n, r.quantity)
	}
	if err := r.checkEncumbrances(); err != nil {
		return err
	}
	return r.checkCover(all)
}

// checkCover verifies that the blocks are disjoint and cover 1..Quantity.
func (r *Right) checkCover(all []Block) error {
	slices.SortFunc(all, func(a, b Block) int { return cmp.Compare(a.Start, b.Start) })
	next := int64(1)
	for _, b := range all {
		if b.Start != next {
			if b.Start < next {
				return fmt.Errorf("domain: right %s: block %s overlaps another", r.id, b)
			}
			return fmt.Errorf("domain: right %s: serials %d..%d are held by no one", r.id, next, b.Start-1)
		}
		next = b.End + 1
	}
	if next != r.quantity+1 {
		return fmt.Errorf("domain: right %s: serials %d..%d are held by no one", r.id, next, r.quantity)
	}
	return nil
}

// checkEncumbrances verifies that each holder's pledged, frozen and reserved
// lists are exactly the union of its open pledges, freezes and reservations.
func (r *Right) checkEncumbrances() error {
	type part struct {
		holder, id string
		blocks     []Block
		count      int64
	}
	kinds := []struct {
		state UnitState
		parts []part
	}{{state: StatePledged}, {state: StateFrozen}, {state: StateReserved}}
	for id, p := range r.pledges {
		kinds[0].parts = append(kinds[0].parts, part{p.pledgor, id, p.blocks, p.count})
	}
	for id, f := range r.freezes {
		kinds[1].parts = append(kinds[1].parts, part{f.holder, id, f.blocks, f.count})
	}
	for id, v := range r.reservations {
		kinds[2].parts = append(kinds[2].parts, part{v.holder, id, v.blocks, v.count})
	}
	for _, k := range kinds {
		union := map[string][]Block{}
		for _, p := range k.parts {
			if !BlocksNormalized(p.blocks) || BlocksTotal(p.blocks) != p.count || p.count <= 0 {
				return fmt.Errorf("domain: right %s: %s %s has blocks %v and count %d", r.id, k.state, p.id, p.blocks, p.count)
			}
			u, err := AddBlocks(slices.Clone(union[p.holder]), p.blocks)
			if err != nil {
				return fmt.Errorf("domain: right %s: %s %s overlaps another: %v", r.id, k.state, p.id, err)
			}
			union[p.holder] = u
		}
		for holder, u := range r.holdings {
			l := u.Blocks(k.state)
			if !slices.Equal(l, union[holder]) && !(len(l) == 0 && len(union[holder]) == 0) {
				return fmt.Errorf("domain: right %s: %s's %s blocks %v are not its open ones %v", r.id, holder, k.state, l, union[holder])
			}
			delete(union, holder)
		}
		for holder, u := range union {
			return fmt.Errorf("domain: right %s: %s has %s blocks %v but no holding", r.id, holder, k.state, u)
		}
	}
	return nil
}

func cloneEncumbrances[E interface{ clone() E }](m map[string]E) map[string]E {
	if m == nil {
		return nil
	}
	out := make(map[string]E, len(m))
	for k, v := range m {
		out[k] = v.clone()
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
