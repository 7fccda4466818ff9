package domain

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// opKind tells apart the kinds of lifecycle operation whose ids a right
// remembers; ids are unique within a right per kind.
type opKind uint8

const (
	opPledge opKind = iota + 1
	opFreeze
	opReservation
	opSettlement
	opCancellation
	opCorrection
)

var opKindNames = map[opKind]string{
	opPledge: "pledge", opFreeze: "freeze order", opReservation: "reservation",
	opSettlement: "settlement", opCancellation: "cancellation", opCorrection: "correction",
}

// opKey names one lifecycle operation of a right.
type opKey struct {
	kind opKind
	id   string
}

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

// CancelledBlocks returns the serials cancelled by an authority.
func (r *Right) CancelledBlocks() []Block { return slices.Clone(r.ownList(StateCancelled).blocks) }

// ExpiredBlocks returns the serials that expired with the right.
func (r *Right) ExpiredBlocks() []Block { return slices.Clone(r.ownList(StateExpired).blocks) }

// ExpiredAt returns when the right's expiry was recorded; zero while it was not.
func (r *Right) ExpiredAt() time.Time { return r.expiredAt }

// CorrectedRevision returns the stream revision of the event that recorded
// the transaction cmd reverses, and false when the right recorded none (for
// a trade: settled none; a refused trade moved nothing).
func (r *Right) CorrectedRevision(cmd ReverseTransaction) (int64, bool) {
	rec, ok := r.transactionOf(cmd.Kind, cmd.ExchangeID, cmd.OriginalID)
	return rec.revision, ok
}

// transactionOf returns the record of a reversible transaction; a trade's
// has quantity -1, as a right does not keep the quantity of its trades.
func (r *Right) transactionOf(kind TransactionKind, exchange, id string) (transferRecord, bool) {
	if kind != TransactionKindTrade {
		return r.transaction(kind, id)
	}
	t, ok := r.trades[TradeKeyOf(exchange, id)]
	if !ok || !t.settled {
		return transferRecord{}, false
	}
	return transferRecord{quantity: -1, revision: t.revision, reversed: t.reversed}, true
}

// describeOriginal names a transaction in a message.
func describeOriginal(kind TransactionKind, exchange, id string) string {
	if kind == TransactionKindTrade {
		return id + " of exchange " + exchange
	}
	return id
}

// transaction returns the record of a reversible transaction.
func (r *Right) transaction(kind TransactionKind, id string) (transferRecord, bool) {
	var rec transferRecord
	ok := false
	switch kind {
	case TransactionKindTransfer:
		rec, ok = r.transfers[id]
	case TransactionKindRetirement:
		rec, ok = r.retirements[id]
	case TransactionKindSettlement:
		rec, ok = r.ops[opKey{opSettlement, id}]
	case TransactionKindCancellation:
		rec, ok = r.ops[opKey{opCancellation, id}]
	}
	return rec, ok
}

func (r *Right) markReversed(kind TransactionKind, exchange, id string) {
	if kind == TransactionKindTrade {
		key := TradeKeyOf(exchange, id)
		t := r.trades[key]
		t.reversed = true
		r.trades[key] = t
		return
	}
	rec, _ := r.transaction(kind, id)
	rec.reversed = true
	switch kind {
	case TransactionKindTransfer:
		r.transfers[id] = rec
	case TransactionKindRetirement:
		r.retirements[id] = rec
	case TransactionKindSettlement:
		r.ops[opKey{opSettlement, id}] = rec
	case TransactionKindCancellation:
		r.ops[opKey{opCancellation, id}] = rec
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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

// applyLifecycle applies the events of the lifecycle (pledges, freezes,
// reservations, cancellations, expiry and corrections).
func (r *Right) applyLifecycle(e Event, moves []Movement) error {
	switch e := e.(type) {
	case UnitsPledged:
		return r.applyPledged(e, moves)
	case PledgeReleased:
		return r.applyPledgeEnded(moves, "release", e.RightID, e.PledgeID, e.Pledgor, e.Pledgor, e.Blocks)
	case PledgeEnforced:
		return r.applyPledgeEnded(moves, "enforcement", e.RightID, e.PledgeID, e.Pledgor, e.To, e.Blocks)
	case UnitsFrozen:
		return r.applyFrozen(e, moves)
	case UnitsUnfrozen:
		return r.applyUnfrozen(e, moves)
	case UnitsReserved:
		return r.applyReserved(e, moves)
	case ReservationSettled:
		return r.applySettled(e, moves)
	case ReservationVoided:
		return r.applyReservationEnded(moves, "void", e.RightID, e.ReservationID, e.Holder, e.Blocks)
	case ReservationExpired:
		return r.applyReservationEnded(moves, "expiry", e.RightID, e.ReservationID, e.Holder, e.Blocks)
	case UnitsCancelled:
		return r.applyCancelled(e, moves)
	case RightExpired:
		return r.applyRightExpired(e, moves)
	case TransactionReversed:
		return r.applyReversed(e, moves)
	}
	return fmt.Errorf("%w: %T is not an event of a right", ErrEventDoesNotApply, e)
}

func (r *Right) applyPledged(e UnitsPledged, moves []Movement) error {
	if err := r.checkRightEvent("pledge", e.PledgeID, e.RightID); err != nil {
		return err
	}
	if _, ok := r.ops[opKey{opPledge, e.PledgeID}]; ok || e.Pledgee == "" || e.Pledgee == e.Pledgor {
		return fmt.Errorf("%w: pledge %s recorded twice or without a distinct pledgee", ErrEventDoesNotApply, e.PledgeID)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.pledges[e.PledgeID] = &pledge{pledgor: e.Pledgor, pledgee: e.Pledgee, loanReference: e.LoanReference, maturity: e.Maturity,
		pledgedAt: e.PledgedAt, blocks: slices.Clone(e.Blocks), count: e.Quantity}
	r.ops[opKey{opPledge, e.PledgeID}] = transferRecordOf(e.Blocks, e.Quantity, pledgeFingerprint(e.Pledgor, e.Pledgee, e.LoanReference, e.Maturity), r.version)
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

func (r *Right) applyFrozen(e UnitsFrozen, moves []Movement) error {
	if err := r.checkRightEvent("freeze", e.OrderNumber, e.RightID); err != nil {
		return err
	}
	if _, ok := r.ops[opKey{opFreeze, e.OrderNumber}]; ok {
		return fmt.Errorf("%w: freeze order %s recorded twice", ErrEventDoesNotApply, e.OrderNumber)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.freezes[e.OrderNumber] = &freeze{holder: e.Holder, authority: e.Authority, reason: e.Reason, frozenAt: e.FrozenAt,
		blocks: slices.Clone(e.Blocks), count: e.Quantity}
	r.ops[opKey{opFreeze, e.OrderNumber}] = transferRecordOf(e.Blocks, e.Quantity, freezeFingerprint(e.Authority, e.Holder, e.Reason), r.version)
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

func (r *Right) applyReserved(e UnitsReserved, moves []Movement) error {
	if err := r.checkRightEvent("reservation", e.ReservationID, e.RightID); err != nil {
		return err
	}
	if _, ok := r.ops[opKey{opReservation, e.ReservationID}]; ok || e.Timeout.IsZero() {
		return fmt.Errorf("%w: reservation %s recorded twice or without a timeout", ErrEventDoesNotApply, e.ReservationID)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.reservations[e.ReservationID] = &reservation{holder: e.Holder, exchange: e.Exchange, orderReference: e.OrderReference,
		timeout: e.Timeout, reservedAt: e.ReservedAt, blocks: slices.Clone(e.Blocks), count: e.Quantity}
	r.ops[opKey{opReservation, e.ReservationID}] = transferRecordOf(e.Blocks, e.Quantity,
		reservationFingerprint(e.Holder, e.Exchange, e.OrderReference, e.Timeout), r.version)
	return nil
}

func (r *Right) applySettled(e ReservationSettled, moves []Movement) error {
	if err := r.checkRightEvent("settlement", e.SettlementID, e.RightID); err != nil {
		return err
	}
	v := r.reservations[e.ReservationID]
	if v == nil || v.holder != e.Seller || e.Buyer == "" || e.Buyer == e.Seller {
		return fmt.Errorf("%w: settlement %s of reservation %s of %s, which is not open", ErrEventDoesNotApply, e.SettlementID, e.ReservationID, e.Seller)
	}
	if _, ok := r.ops[opKey{opSettlement, e.SettlementID}]; ok {
		return fmt.Errorf("%w: settlement %s recorded twice", ErrEventDoesNotApply, e.SettlementID)
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
	r.ops[opKey{opSettlement, e.SettlementID}] = transferRecordOf(e.Blocks, e.Quantity, settlementFingerprint(e.ReservationID, e.Buyer, e.TradePrice), r.version)
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

func (r *Right) applyCancelled(e UnitsCancelled, moves []Movement) error {
	if err := r.checkRightEvent("cancellation", e.CancellationID, e.RightID); err != nil {
		return err
	}
	if _, ok := r.ops[opKey{opCancellation, e.CancellationID}]; ok {
		return fmt.Errorf("%w: cancellation %s recorded twice", ErrEventDoesNotApply, e.CancellationID)
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
	r.ops[opKey{opCancellation, e.CancellationID}] = transferRecordOf(e.Blocks, e.Quantity,
		cancellationFingerprint(e.Holder, e.OrderNumber, e.Authority, e.Reason), r.version)
	return nil
}

// outstandingBlocks returns every serial that is neither retired,
// cancelled nor expired: what an expiry turns into expired units.
func (r *Right) outstandingBlocks() []Block {
	var all []Block
	for _, u := range r.holdings {
		for s := StateAvailable; s < StateRetired; s++ {
			all = append(all, u.Blocks(s)...)
		}
	}
	all = append(all, r.ownList(StateBuffer).blocks...)
	out, err := NormalizeBlocks(all)
	if err != nil {
		// The invariants keep the lists disjoint; report nothing rather than
		// a wrong answer, and let the event check fail.
		return nil
	}
	return out
}

func (r *Right) applyRightExpired(e RightExpired, moves []Movement) error {
	if err := r.checkRightEvent("expiry", "", e.RightID); err != nil {
		return err
	}
	left := r.outstandingBlocks()
	if !slices.Equal(left, e.Blocks) && !(len(left) == 0 && len(e.Blocks) == 0) || e.ExpiredAt.IsZero() {
		return fmt.Errorf("%w: expiry of right %s expires %v (%d units), but %v are left", ErrEventDoesNotApply, r.id, e.Blocks, e.Quantity, left)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.pledges = make(map[string]*pledge)
	r.freezes = make(map[string]*freeze)
	r.reservations = make(map[string]*reservation)
	r.expiredAt = e.ExpiredAt
	return nil
}

func (r *Right) applyReversed(e TransactionReversed, moves []Movement) error {
	if err := r.checkRightEvent("correction", e.CorrectionID, e.RightID); err != nil {
		return err
	}
	if _, ok := r.ops[opKey{opCorrection, e.CorrectionID}]; ok {
		return fmt.Errorf("%w: correction %s recorded twice", ErrEventDoesNotApply, e.CorrectionID)
	}
	rec, ok := r.transactionOf(e.OriginalKind, e.ExchangeID, e.OriginalID)
	if !ok || rec.reversed || (rec.quantity >= 0 && rec.quantity != e.Quantity) || e.To == "" {
		return fmt.Errorf("%w: correction %s reverses %s %s, which is not recorded or already reversed", ErrEventDoesNotApply, e.CorrectionID, e.OriginalKind, e.OriginalID)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.markReversed(e.OriginalKind, e.ExchangeID, e.OriginalID)
	r.ops[opKey{opCorrection, e.CorrectionID}] = transferRecordOf(e.Blocks, e.Quantity,
		correctionFingerprint(e.OriginalKind, e.ExchangeID, e.OriginalID, e.Authority, e.Reason), r.version)
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

func pledgeFingerprint(pledgor, pledgee, loanReference string, maturity time.Time) uint64 {
	return uint64(newFingerprint().str(pledgor).str(pledgee).str(loanReference).int(unixNanoOrZero(maturity)))
}

func freezeFingerprint(authority, holder, reason string) uint64 {
	return uint64(newFingerprint().str(authority).str(holder).str(reason))
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

func cancellationFingerprint(holder, orderNumber, authority, reason string) uint64 {
	return uint64(newFingerprint().str(holder).str(orderNumber).str(authority).str(reason))
}

func correctionFingerprint(kind TransactionKind, exchange, originalID, authority, reason string) uint64 {
	f := newFingerprint().int(int64(kind)).str(originalID).str(authority).str(reason)
	if exchange != "" {
		// Only trades name an exchange; the other kinds keep the
		// fingerprint they always had.
		f = f.str(exchange)
	}
	return uint64(f)
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
