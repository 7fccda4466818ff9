// Package holdings is the holdings projection: for every right and account,
// the units available, pledged, frozen, reserved and retired, with their
// serial blocks; for every right, its totals by state; and totals per right
// type and jurisdiction.
//
// Keys of the projection's keyspace (ids never contain a zero byte):
//
//	'r' RIGHT                       the right: type, jurisdiction, unit, serial prefix, totals by state
//	'a' ACCOUNT 0x00 RIGHT          one account's holding of one right: what a list of holdings
//	                                shows of the right (type, jurisdiction, unit, serial
//	                                prefix), then the units and blocks by state
//	'h' RIGHT 0x00 ACCOUNT          index of a right's holders (empty value)
//	't' TYPE JURISDICTION           totals of the rights of one type registered in one division
//
// Listing an account's holdings, the query that serves holders day to day,
// is one scan; listing a right's holders reads each holding by its key.
// A holding is kept while it has any units in any state, retired ones
// included, and deleted when it has none.
//
// # Events
//
// Builder.Apply has one case per event type, and Decodes lists the types it
// decodes. Every movement of units is a call of move, which takes blocks
// from one holding and state and puts them in another (a transfer, a
// retirement, a pledge and its release or enforcement, a freeze, a
// reservation and its settlement, a settled exchange trade, a correction)
// and keeps the right's and the type's totals; cancel and expire take units
// out of the holdings. A new event type becomes a case and an entry of
// Decodes, and a bump of SchemaVersion, which rebuilds stores that skipped
// the event.
package holdings

import (
	"errors"
	"fmt"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/projections"
)

// Name is the projection's name.
const Name = "holdings"

// SchemaVersion is the version of the projection's layout and of the set
// of event types it handles. Version 2 keeps a copy of each holding under
// its account; version 3 handles the lifecycle and settlement events;
// version 4 keeps each holding once, under its account, with an index by
// right.
const SchemaVersion = 4

// State is a state a held unit can be in.
type State int

// The states of held units. Every unit of a right that is not in the
// buffer pool, cancelled or expired is in exactly one state in exactly one
// holding.
const (
	// Available units may be transferred, retired, pledged, frozen or reserved.
	Available State = iota
	// Pledged units are collateral of a pledge.
	Pledged
	// Frozen units are blocked by a court or regulator order.
	Frozen
	// Reserved units are held for a trade being settled.
	Reserved
	// Retired units were surrendered or retired and never move again.
	Retired
	numStates
)

var stateNames = [numStates]string{"available", "pledged", "frozen", "reserved", "retired"}

// String returns the state's lower-case name.
func (s State) String() string {
	if s >= 0 && s < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Projection is the holdings projection.
type Projection struct{}

// New returns the holdings projection.
func New() Projection { return Projection{} }

// Name returns "holdings".
func (Projection) Name() string { return Name }

// SchemaVersion returns SchemaVersion.
func (Projection) SchemaVersion() uint32 { return SchemaVersion }

// Decodes returns the event types whose payloads the projection reads.
func (Projection) Decodes() []string {
	return []string{domain.EventTypeRightRegistered, domain.EventTypeUnitsTransferred, domain.EventTypeUnitsRetired,
		domain.EventTypeUnitsPledged, domain.EventTypePledgeReleased, domain.EventTypePledgeEnforced,
		domain.EventTypeUnitsFrozen, domain.EventTypeUnitsUnfrozen,
		domain.EventTypeUnitsReserved, domain.EventTypeReservationSettled, domain.EventTypeReservationVoided, domain.EventTypeReservationExpired,
		domain.EventTypeUnitsCancelled, domain.EventTypeRightExpired, domain.EventTypeTransactionReversed,
		domain.EventTypeTradeSettled}
}

// NewBuilder returns a builder over the committed state.
func (Projection) NewBuilder(state projections.Keyspace) projections.Builder {
	return &builder{
		state:    state,
		rights:   map[string]*right{},
		holdings: map[holdingKey]*holding{},
		totals:   map[totalsKey]*Totals{},
		holders:  map[string]map[string]struct{}{},
	}
}

// maxHolderSet bounds the holder set the builder keeps for one right: a
// right with more holders is looked up holding by holding.
const maxHolderSet = 100_000

// cacheLimit bounds the holdings a builder keeps in memory between commits;
// beyond it, clean ones are dropped after a flush and read again when needed.
const cacheLimit = 500_000

type holdingKey struct{ right, account string }

type totalsKey struct {
	typ          domain.RightType
	jurisdiction string
}

// right is the builder's record of a right.
type right struct {
	info  RightInfo
	dirty bool
}

// markRight records that r changed since the last flush.
func (b *builder) markRight(r *right) {
	if !r.dirty {
		r.dirty = true
		b.dirtyRights = append(b.dirtyRights, r)
	}
}

// markHolding records that h changed since the last flush.
func (b *builder) markHolding(h *holding) {
	if !h.dirty {
		h.dirty = true
		b.dirtyHoldings = append(b.dirtyHoldings, h)
	}
}

// holding is the builder's record of one holding.
type holding struct {
	key    holdingKey
	blocks [numStates][]domain.Block
	counts [numStates]int64
	// stored tells whether the committed state has the holding (and its
	// index entry); dirty whether it changed since the last flush.
	stored, dirty bool
}

func (h *holding) empty() bool {
	for _, n := range h.counts {
		if n != 0 {
			return false
		}
	}
	return true
}

type builder struct {
	state    projections.Keyspace
	rights   map[string]*right
	holdings map[holdingKey]*holding
	totals   map[totalsKey]*Totals
	// dirtyRights and dirtyHoldings list what changed since the last
	// flush, so that a flush costs what changed, not what is cached: live,
	// the runner commits after every few events, and the cache holds up to
	// cacheLimit holdings.
	dirtyRights   []*right
	dirtyHoldings []*holding
	// dirtyTotals are the totals changed since the last flush.
	dirtyTotals map[totalsKey]bool
	// holders are, per right, the accounts whose holding of it is in the
	// committed state, read once per right on the first holding not in the
	// cache and kept up to date by Flush. A buyer's first holding of a
	// right is then known to be new without a lookup in the read store
	// (which, for a key that is not there, searches the memtable and the
	// tables' filters). A nil set means the right has too many holders to
	// keep; holderCount bounds the sets together.
	holders     map[string]map[string]struct{}
	holderCount int
	key         []byte
	val         []byte
}

// Apply applies one event; see projections.Builder.
func (b *builder) Apply(ev *eventstore.RecordedEvent, e domain.Event) (bool, error) {
	switch e := e.(type) {
	case domain.RightRegistered:
		return true, b.registered(e)
	case domain.UnitsTransferred:
		return true, b.move(e.RightID, e.From, Available, e.To, Available, e.Blocks, e.Quantity)
	case domain.UnitsRetired:
		return true, b.move(e.RightID, e.Holder, Available, e.Holder, Retired, e.Blocks, e.Quantity)
	case domain.UnitsPledged:
		return true, b.move(e.RightID, e.Pledgor, Available, e.Pledgor, Pledged, e.Blocks, e.Quantity)
	case domain.PledgeReleased:
		return true, b.move(e.RightID, e.Pledgor, Pledged, e.Pledgor, Available, e.Blocks, e.Quantity)
	case domain.PledgeEnforced:
		return true, b.move(e.RightID, e.Pledgor, Pledged, e.To, Available, e.Blocks, e.Quantity)
	case domain.UnitsFrozen:
		return true, b.move(e.RightID, e.Holder, Available, e.Holder, Frozen, e.Blocks, e.Quantity)
	case domain.UnitsUnfrozen:
		return true, b.move(e.RightID, e.Holder, Frozen, e.Holder, Available, e.Blocks, e.Quantity)
	case domain.UnitsReserved:
		return true, b.move(e.RightID, e.Holder, Available, e.Holder, Reserved, e.Blocks, e.Quantity)
	case domain.ReservationSettled:
		return true, b.move(e.RightID, e.Seller, Reserved, e.Buyer, Available, e.Blocks, e.Quantity)
	case domain.ReservationVoided:
		return true, b.move(e.RightID, e.Holder, Reserved, e.Holder, Available, e.Blocks, e.Quantity)
	case domain.ReservationExpired:
		return true, b.move(e.RightID, e.Holder, Reserved, e.Holder, Available, e.Blocks, e.Quantity)
	case domain.TradeSettled:
		from := Available
		if e.ReservationID != "" {
			from = Reserved
		}
		return true, b.move(e.RightID, e.Seller, from, e.Buyer, Available, e.Blocks, e.Quantity)
	case domain.UnitsCancelled:
		return true, b.cancel(e)
	case domain.RightExpired:
		return true, b.expire(e)
	case domain.TransactionReversed:
		return true, b.reverse(e)
	case nil:
		// Not one of Decodes.
		switch ev.Type {
		case domain.EventTypeAccountOpened, domain.EventTypeAccountStatusChanged,
			domain.EventTypeAccountFrozen, domain.EventTypeAccountUnfrozen, domain.EventTypeTradeRefused:
			// Holdings do not depend on accounts: an account holds what
			// its rights' events gave it, whatever its status, and an
			// account-wide freeze blocks commands, not units. A refused
			// trade moves nothing.
			return true, nil
		}
		return false, nil
	}
	return false, fmt.Errorf("holdings: %s decoded as %T", ev.Type, e)
}

func (b *builder) registered(e domain.RightRegistered) error {
	r, err := b.right(e.RightID)
	if err != nil {
		return err
	}
	if r != nil {
		return fmt.Errorf("%w: right %s registered twice", domain.ErrEventDoesNotApply, e.RightID)
	}
	available := []domain.Block{e.Serial}
	if !e.Buffer.IsZero() {
		if available, err = domain.SubtractBlocks(available, []domain.Block{e.Buffer}); err != nil {
			return fmt.Errorf("%w: buffer of %s: %v", domain.ErrEventDoesNotApply, e.RightID, err)
		}
	}
	info := RightInfo{
		RightRef: RightRef{
			RightID:      e.RightID,
			Type:         e.Type,
			Jurisdiction: e.Jurisdiction,
			Vintage:      e.Vintage,
			Unit:         e.Unit,
			SerialPrefix: e.SerialPrefix,
		},
		Issued:       e.Quantity,
		Buffer:       e.Buffer,
		RegisteredAt: e.RegisteredAt,
	}
	t, err := b.totalsOf(e.Type, e.Jurisdiction)
	if err != nil {
		return err
	}
	t.Rights++
	t.Issued += e.Quantity
	if !e.Buffer.IsZero() {
		t.Buffer += e.Buffer.Size()
	}
	r = &right{info: info}
	b.rights[e.RightID] = r
	b.markRight(r)
	// A right registered here has no holding in the committed state.
	b.holders[e.RightID] = map[string]struct{}{}
	if n := domain.BlocksTotal(available); n > 0 {
		h, err := b.holding(e.RightID, e.HolderAccountID)
		if err != nil {
			return err
		}
		h.blocks[Available] = available
		h.counts[Available] = n
		b.markHolding(h)
		info := &r.info
		info.Holders++
		info.Totals[Available] += n
		t.Totals[Available] += n
	}
	return nil
}

// move moves blocks of a right from one holding and state to another
// (possibly the same holding) and keeps the right's and the type's totals.
func (b *builder) move(rightID, from string, fromState State, to string, toState State, blocks []domain.Block, quantity int64) error {
	r, err := b.right(rightID)
	if err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("%w: right %s is not registered", domain.ErrEventDoesNotApply, rightID)
	}
	if quantity <= 0 || domain.BlocksTotal(blocks) != quantity {
		return fmt.Errorf("%w: %d units in blocks of %d", domain.ErrEventDoesNotApply, quantity, domain.BlocksTotal(blocks))
	}
	src, err := b.holding(rightID, from)
	if err != nil {
		return err
	}
	rest, err := domain.SubtractBlocks(src.blocks[fromState], blocks)
	if err != nil {
		return fmt.Errorf("%w: %s's %s units of %s: %v", domain.ErrEventDoesNotApply, from, fromState, rightID, err)
	}
	srcWasEmpty := src.empty()
	src.blocks[fromState] = rest
	src.counts[fromState] -= quantity
	b.markHolding(src)
	dst := src
	if to != from {
		if dst, err = b.holding(rightID, to); err != nil {
			return err
		}
	}
	dstWasEmpty := dst.empty()
	added, err := domain.AddBlocks(dst.blocks[toState], blocks)
	if err != nil {
		return fmt.Errorf("%w: %s's %s units of %s: %v", domain.ErrEventDoesNotApply, to, toState, rightID, err)
	}
	dst.blocks[toState] = added
	dst.counts[toState] += quantity
	b.markHolding(dst)
	// The right's record changes only with its holders or its totals by
	// state: a plain transfer between two holders leaves it as it is, and
	// is not written again.
	if to != from {
		if srcWasEmpty != src.empty() {
			r.info.Holders--
			b.markRight(r)
		}
		if dstWasEmpty {
			r.info.Holders++
			b.markRight(r)
		}
	}
	if fromState != toState {
		r.info.Totals[fromState] -= quantity
		r.info.Totals[toState] += quantity
		t, err := b.totalsOf(r.info.Type, r.info.Jurisdiction)
		if err != nil {
			return err
		}
		t.Totals[fromState] -= quantity
		t.Totals[toState] += quantity
		b.markRight(r)
	}
	return nil
}

// cancel takes cancelled units out of a holder's available units, out of
// its frozen units (when the cancellation names the freeze order), or out
// of the right's buffer pool (when it names no holder).
func (b *builder) cancel(e domain.UnitsCancelled) error {
	r, t, err := b.rightAndTotals(e.RightID, e.Blocks, e.Quantity)
	if err != nil {
		return err
	}
	if e.Holder == "" {
		// One block at either end of the buffer, which stays one block.
		c, buf := e.Blocks[0], r.info.Buffer
		if len(e.Blocks) != 1 || buf.IsZero() || !buf.Contains(c) || (c.Start != buf.Start && c.End != buf.End) {
			return fmt.Errorf("%w: cancellation %s takes %v, not one end of the buffer %s", domain.ErrEventDoesNotApply, e.CancellationID, e.Blocks, buf)
		}
		switch {
		case c == buf:
			r.info.Buffer = domain.Block{}
		case c.Start == buf.Start:
			r.info.Buffer = domain.Block{Start: c.End + 1, End: buf.End}
		default:
			r.info.Buffer = domain.Block{Start: buf.Start, End: c.Start - 1}
		}
		t.Buffer -= e.Quantity
	} else {
		from := Available
		if e.OrderNumber != "" {
			from = Frozen
		}
		if err := b.take(r, t, e.Holder, from, e.Blocks, e.Quantity); err != nil {
			return err
		}
	}
	r.info.Cancelled += e.Quantity
	t.Cancelled += e.Quantity
	b.markRight(r)
	return nil
}

// expire ends a right: every unit not retired or cancelled (available,
// pledged, frozen, reserved, or in the buffer pool) is expired.
func (b *builder) expire(e domain.RightExpired) error {
	r, err := b.right(e.RightID)
	if err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("%w: right %s is not registered", domain.ErrEventDoesNotApply, e.RightID)
	}
	t, err := b.totalsOf(r.info.Type, r.info.Jurisdiction)
	if err != nil {
		return err
	}
	// Every holding of the right: those committed, and those made since.
	accounts := map[string]bool{}
	prefix := holdingDataKey(e.RightID, "")
	if err := b.state.Keys(prefix, func(key []byte) error {
		accounts[string(key[len(prefix):])] = true
		return nil
	}); err != nil {
		return err
	}
	for k := range b.holdings {
		if k.right == e.RightID {
			accounts[k.account] = true
		}
	}
	var expired int64
	for acct := range accounts {
		h, err := b.holding(e.RightID, acct)
		if err != nil {
			return err
		}
		wasEmpty := h.empty()
		for _, s := range []State{Available, Pledged, Frozen, Reserved} {
			expired += h.counts[s]
			r.info.Totals[s] -= h.counts[s]
			t.Totals[s] -= h.counts[s]
			h.blocks[s], h.counts[s] = nil, 0
			b.markHolding(h)
		}
		if !wasEmpty && h.empty() {
			r.info.Holders--
		}
	}
	if !r.info.Buffer.IsZero() {
		expired += r.info.Buffer.Size()
		t.Buffer -= r.info.Buffer.Size()
		r.info.Buffer = domain.Block{}
	}
	if expired != e.Quantity || domain.BlocksTotal(e.Blocks) != e.Quantity {
		return fmt.Errorf("%w: expiry of right %s expires %d units, but %d are left", domain.ErrEventDoesNotApply, e.RightID, e.Quantity, expired)
	}
	r.info.Expired += e.Quantity
	t.Expired += e.Quantity
	b.markRight(r)
	return nil
}

// reverse applies a regulator's correction: the units of a transfer,
// settlement or trade go back from its recipient, those of a retirement from the
// retired state, those of a cancellation from the cancelled units.
func (b *builder) reverse(e domain.TransactionReversed) error {
	switch e.OriginalKind {
	case domain.TransactionKindTransfer, domain.TransactionKindSettlement, domain.TransactionKindTrade:
		return b.move(e.RightID, e.From, Available, e.To, Available, e.Blocks, e.Quantity)
	case domain.TransactionKindRetirement:
		return b.move(e.RightID, e.To, Retired, e.To, Available, e.Blocks, e.Quantity)
	case domain.TransactionKindCancellation:
		r, t, err := b.rightAndTotals(e.RightID, e.Blocks, e.Quantity)
		if err != nil {
			return err
		}
		if r.info.Cancelled < e.Quantity {
			return fmt.Errorf("%w: correction %s restores %d cancelled units of %s, which has %d", domain.ErrEventDoesNotApply, e.CorrectionID, e.Quantity, e.RightID, r.info.Cancelled)
		}
		if err := b.put(r, t, e.To, Available, e.Blocks, e.Quantity); err != nil {
			return err
		}
		r.info.Cancelled -= e.Quantity
		t.Cancelled -= e.Quantity
		b.markRight(r)
		return nil
	}
	return fmt.Errorf("%w: correction %s reverses a transaction of kind %s", domain.ErrEventDoesNotApply, e.CorrectionID, e.OriginalKind)
}

// rightAndTotals returns a registered right and its type's totals after
// checking the blocks of an event against its quantity.
func (b *builder) rightAndTotals(rightID string, blocks []domain.Block, quantity int64) (*right, *Totals, error) {
	r, err := b.right(rightID)
	if err != nil {
		return nil, nil, err
	}
	if r == nil {
		return nil, nil, fmt.Errorf("%w: right %s is not registered", domain.ErrEventDoesNotApply, rightID)
	}
	if quantity <= 0 || len(blocks) == 0 || domain.BlocksTotal(blocks) != quantity {
		return nil, nil, fmt.Errorf("%w: %d units in blocks %v", domain.ErrEventDoesNotApply, quantity, blocks)
	}
	t, err := b.totalsOf(r.info.Type, r.info.Jurisdiction)
	return r, t, err
}

// take removes blocks from one state of a holding, keeping the totals.
func (b *builder) take(r *right, t *Totals, account string, s State, blocks []domain.Block, quantity int64) error {
	h, err := b.holding(r.info.RightID, account)
	if err != nil {
		return err
	}
	rest, err := domain.SubtractBlocks(h.blocks[s], blocks)
	if err != nil {
		return fmt.Errorf("%w: %s's %s units of %s: %v", domain.ErrEventDoesNotApply, account, s, r.info.RightID, err)
	}
	h.blocks[s] = rest
	h.counts[s] -= quantity
	b.markHolding(h)
	r.info.Totals[s] -= quantity
	t.Totals[s] -= quantity
	if h.empty() {
		r.info.Holders--
	}
	b.markRight(r)
	return nil
}

// put adds blocks to one state of a holding, keeping the totals.
func (b *builder) put(r *right, t *Totals, account string, s State, blocks []domain.Block, quantity int64) error {
	h, err := b.holding(r.info.RightID, account)
	if err != nil {
		return err
	}
	wasEmpty := h.empty()
	added, err := domain.AddBlocks(h.blocks[s], blocks)
	if err != nil {
		return fmt.Errorf("%w: %s's %s units of %s: %v", domain.ErrEventDoesNotApply, account, s, r.info.RightID, err)
	}
	h.blocks[s] = added
	h.counts[s] += quantity
	b.markHolding(h)
	r.info.Totals[s] += quantity
	t.Totals[s] += quantity
	if wasEmpty {
		r.info.Holders++
	}
	b.markRight(r)
	return nil
}

// right returns the right, loading it when needed; nil when it is not
// registered.
func (b *builder) right(id string) (*right, error) {
	if r, ok := b.rights[id]; ok {
		return r, nil
	}
	v, found, err := b.state.Get(rightKey(id))
	if err != nil || !found {
		return nil, err
	}
	info, err := decodeRight(id, v)
	if err != nil {
		return nil, err
	}
	r := &right{info: info}
	b.rights[id] = r
	return r, nil
}

// holding returns the holding, loading it or making an empty one.
func (b *builder) holding(rightID, account string) (*holding, error) {
	k := holdingKey{rightID, account}
	if h, ok := b.holdings[k]; ok {
		return h, nil
	}
	h := &holding{key: k}
	hs, err := b.holdersOf(rightID)
	if err != nil {
		return nil, err
	}
	if _, stored := hs[account]; hs != nil && !stored {
		b.holdings[k] = h
		return h, nil
	}
	v, found, err := b.state.Get(accountHoldingKey(account, rightID))
	if err != nil {
		return nil, err
	}
	if found {
		if err := decodeStoredHolding(v, h); err != nil {
			return nil, fmt.Errorf("holding of %s in %s: %w", account, rightID, err)
		}
		h.stored = true
	}
	b.holdings[k] = h
	return h, nil
}

func (b *builder) totalsOf(typ domain.RightType, jurisdiction string) (*Totals, error) {
	k := totalsKey{typ, jurisdiction}
	if b.dirtyTotals == nil {
		b.dirtyTotals = map[totalsKey]bool{}
	}
	b.dirtyTotals[k] = true
	if t, ok := b.totals[k]; ok {
		return t, nil
	}
	t := &Totals{Type: typ, Jurisdiction: jurisdiction}
	v, found, err := b.state.Get(totalsDataKey(typ, jurisdiction))
	if err != nil {
		return nil, err
	}
	if found {
		if err := decodeTotals(v, t); err != nil {
			return nil, err
		}
	}
	b.totals[k] = t
	return t, nil
}

// Flush writes the changed rights, holdings and totals.
func (b *builder) Flush(w *projections.Writer) error {
	for _, r := range b.dirtyRights {
		b.val = encodeRight(b.val[:0], &r.info)
		if err := w.Set(rightKey(r.info.RightID), b.val); err != nil {
			return err
		}
		r.dirty = false
	}
	clear(b.dirtyRights)
	b.dirtyRights = b.dirtyRights[:0]
	for _, h := range b.dirtyHoldings {
		k := h.key
		h.dirty = false
		switch {
		case h.empty():
			if h.stored {
				if err := w.Delete(holdingDataKey(k.right, k.account)); err != nil {
					return err
				}
				if err := w.Delete(accountHoldingKey(k.account, k.right)); err != nil {
					return err
				}
				if hs := b.holders[k.right]; hs != nil {
					delete(hs, k.account)
					b.holderCount--
				}
			}
			// An empty holding is not worth remembering.
			delete(b.holdings, k)
			continue
		}
		r, err := b.right(k.right)
		if err != nil || r == nil {
			return fmt.Errorf("holdings: flush a holding of right %s: %v", k.right, err)
		}
		if !h.stored {
			if err := w.Set(holdingDataKey(k.right, k.account), nil); err != nil {
				return err
			}
			if hs := b.holders[k.right]; hs != nil {
				hs[k.account] = struct{}{}
				b.holderCount++
			}
		}
		b.val = encodeHolding(encodeRightRef(b.val[:0], &r.info.RightRef), h)
		if err := w.Set(accountHoldingKey(k.account, k.right), b.val); err != nil {
			return err
		}
		h.stored = true
	}
	clear(b.dirtyHoldings)
	b.dirtyHoldings = b.dirtyHoldings[:0]
	for k := range b.dirtyTotals {
		b.val = encodeTotals(b.val[:0], b.totals[k])
		if err := w.Set(totalsDataKey(k.typ, k.jurisdiction), b.val); err != nil {
			return err
		}
	}
	clear(b.dirtyTotals)
	if len(b.holdings) > cacheLimit {
		// Every entry is clean now; dropping them only costs reads later.
		clear(b.holdings)
	}
	if len(b.rights) > cacheLimit {
		clear(b.rights)
	}
	return nil
}

// holdersOf returns the accounts whose holding of the right is in the
// committed state, reading them on the first call for the right; nil when
// the right has more than maxHolderSet of them.
func (b *builder) holdersOf(rightID string) (map[string]struct{}, error) {
	if hs, ok := b.holders[rightID]; ok {
		return hs, nil
	}
	if b.holderCount > cacheLimit {
		clear(b.holders)
		b.holderCount = 0
	}
	hs := map[string]struct{}{}
	prefix := holdingDataKey(rightID, "")
	err := b.state.Keys(prefix, func(key []byte) error {
		if len(hs) >= maxHolderSet {
			hs = nil
			return errEnoughHolders
		}
		hs[string(key[len(prefix):])] = struct{}{}
		return nil
	})
	if err != nil && err != errEnoughHolders {
		return nil, fmt.Errorf("holdings: read the holders of %s: %w", rightID, err)
	}
	b.holders[rightID] = hs
	b.holderCount += len(hs)
	return hs, nil
}

var errEnoughHolders = errors.New("holdings: too many holders to keep")
