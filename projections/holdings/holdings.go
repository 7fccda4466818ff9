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
// The units move as domain.Movements says: Builder.Apply applies each
// movement of an event to the holdings (move takes the blocks from one
// holding and state and puts them in another, or in one of the right's
// own places: the buffer pool, cancelled or expired units) and keeps the
// right's and the type's totals. A registration also writes the right's
// record. A new event type that moves units needs nothing here but a bump
// of SchemaVersion, which rebuilds stores that skipped the event.
package holdings

import (
	"errors"
	"fmt"
	"slices"

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

// State is a state a held unit can be in: one of the held states of
// domain.UnitState.
type State = domain.UnitState

// The states of held units. Every unit of a right that is not in the
// buffer pool, cancelled or expired is in exactly one state in exactly one
// holding.
const (
	// Available units may be transferred, retired, pledged, frozen or reserved.
	Available = domain.StateAvailable
	// Pledged units are collateral of a pledge.
	Pledged = domain.StatePledged
	// Frozen units are blocked by a court or regulator order.
	Frozen = domain.StateFrozen
	// Reserved units are held for a trade being settled.
	Reserved = domain.StateReserved
	// Retired units were surrendered or retired and never move again.
	Retired   = domain.StateRetired
	numStates = domain.HeldStates
)

// Projection is the holdings projection.
type Projection struct{}

// New returns the holdings projection.
func New() Projection { return Projection{} }

// Name returns "holdings".
func (Projection) Name() string { return Name }

// SchemaVersion returns SchemaVersion.
func (Projection) SchemaVersion() uint32 { return SchemaVersion }

// Decodes returns the event types whose payloads the projection reads:
// those that move units.
func (Projection) Decodes() []string { return domain.UnitEventTypes() }

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
	key   holdingKey
	units domain.Units
	// stored tells whether the committed state has the holding (and its
	// index entry); dirty whether it changed since the last flush.
	stored, dirty bool
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
	if e == nil {
		// Not one of Decodes: an event that moves no unit is known and
		// changes nothing. Holdings do not depend on accounts: an account
		// holds what its rights' events gave it, whatever its status, and
		// an account-wide freeze blocks commands, not units.
		return slices.Contains(domain.EventTypes(), ev.Type), nil
	}
	var buf [2]domain.Movement
	moves, err := domain.AppendMovements(buf[:0], e)
	if err != nil {
		return true, err
	}
	if reg, ok := e.(domain.RightRegistered); ok {
		if err := b.registered(reg); err != nil {
			return true, err
		}
	}
	for _, m := range moves {
		if err := b.move(m); err != nil {
			return true, err
		}
	}
	if domain.VerifyingApplies() {
		for _, m := range moves {
			if err := b.verify(m); err != nil {
				panic(fmt.Sprintf("holdings: %s at %s breaks an invariant: %v", ev.Type, ev.Position, err))
			}
		}
	}
	return true, nil
}

// verify checks, after a movement, the invariants of what it touched: the
// units of both holdings are consistent, and the right's units by state
// add up to its issuance. Tests turn it on with domain.VerifyEveryApply.
func (b *builder) verify(m domain.Movement) error {
	for _, p := range [2]domain.Place{m.From, m.To} {
		if h := b.holdings[holdingKey{m.Right, p.Account}]; p.State.Held() && h != nil {
			if err := h.units.Check(); err != nil {
				return fmt.Errorf("%s of %s: %w", p, m.Right, err)
			}
		}
	}
	info := &b.rights[m.Right].info
	sum := info.Buffer.Size()*boolInt(!info.Buffer.IsZero()) + info.Cancelled + info.Expired
	for _, n := range info.Totals {
		sum += n
	}
	if sum != info.Issued {
		return fmt.Errorf("right %s: %d units by state, %d issued", m.Right, sum, info.Issued)
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// registered writes the record of a new right; its units come with the
// registration's movements.
func (b *builder) registered(e domain.RightRegistered) error {
	r, err := b.right(e.RightID)
	if err != nil {
		return err
	}
	if r != nil {
		return fmt.Errorf("%w: right %s registered twice", domain.ErrEventDoesNotApply, e.RightID)
	}
	t, err := b.totalsOf(e.Type, e.Jurisdiction)
	if err != nil {
		return err
	}
	t.Rights++
	t.Issued += e.Quantity
	r = &right{info: RightInfo{
		RightRef: RightRef{
			RightID:      e.RightID,
			Type:         e.Type,
			Jurisdiction: e.Jurisdiction,
			Vintage:      e.Vintage,
			Unit:         e.Unit,
			SerialPrefix: e.SerialPrefix,
		},
		Issued:       e.Quantity,
		RegisteredAt: e.RegisteredAt,
	}}
	b.rights[e.RightID] = r
	b.markRight(r)
	// A right registered here has no holding in the committed state.
	b.holders[e.RightID] = map[string]struct{}{}
	return nil
}

// move applies one movement of units: it takes the blocks from where they
// were and puts them where they go, keeping the right's holders and
// totals and its type's totals. The right's record is written again only
// when they change: a plain transfer between two holders leaves it as it
// is.
func (b *builder) move(m domain.Movement) error {
	r, err := b.right(m.Right)
	if err != nil {
		return err
	}
	if r == nil {
		return fmt.Errorf("%w: right %s is not registered", domain.ErrEventDoesNotApply, m.Right)
	}
	if m.From.State == domain.StateOutstanding {
		return b.expire(r, m)
	}
	if err := b.take(r, m); err != nil {
		return err
	}
	if err := b.put(r, m); err != nil {
		return err
	}
	if m.From.State == m.To.State {
		return nil
	}
	t, err := b.totalsOf(r.info.Type, r.info.Jurisdiction)
	if err != nil {
		return err
	}
	for _, side := range [2]struct {
		s State
		n int64
	}{{m.From.State, -m.Quantity}, {m.To.State, m.Quantity}} {
		switch side.s {
		case domain.StateBuffer:
			t.Buffer += side.n
		case domain.StateCancelled:
			r.info.Cancelled += side.n
			t.Cancelled += side.n
		case domain.StateExpired:
			r.info.Expired += side.n
			t.Expired += side.n
		case domain.StateUnissued:
		default:
			r.info.Totals[side.s] += side.n
			t.Totals[side.s] += side.n
		}
	}
	b.markRight(r)
	return nil
}

// take takes the units of a movement from where they were: a holding, the
// buffer pool (one block at either end of it, so that it stays one block)
// or the cancelled units.
func (b *builder) take(r *right, m domain.Movement) error {
	switch m.From.State {
	case domain.StateUnissued:
		return nil
	case domain.StateBuffer:
		c, buf := m.Blocks[0], r.info.Buffer
		if len(m.Blocks) != 1 || buf.IsZero() || !buf.Contains(c) || (c.Start != buf.Start && c.End != buf.End) {
			return fmt.Errorf("%w: %s of %s takes %v, not one end of the buffer %s", domain.ErrEventDoesNotApply, m.To, m.Right, m.Blocks, buf)
		}
		switch {
		case c == buf:
			r.info.Buffer = domain.Block{}
		case c.Start == buf.Start:
			r.info.Buffer = domain.Block{Start: c.End + 1, End: buf.End}
		default:
			r.info.Buffer = domain.Block{Start: buf.Start, End: c.Start - 1}
		}
		return nil
	case domain.StateCancelled:
		if r.info.Cancelled < m.Quantity {
			return fmt.Errorf("%w: %d cancelled units of %s restored, %d are cancelled", domain.ErrEventDoesNotApply, m.Quantity, m.Right, r.info.Cancelled)
		}
		return nil
	}
	h, err := b.holding(m.Right, m.From.Account)
	if err != nil {
		return err
	}
	if err := h.units.Take(m.From.State, m.Blocks, m.Quantity); err != nil {
		return fmt.Errorf("%w: %s of %s: %v", domain.ErrEventDoesNotApply, m.From, m.Right, err)
	}
	b.markHolding(h)
	if h.units.Empty() {
		r.info.Holders--
		b.markRight(r)
	}
	return nil
}

// put puts the units of a movement where they go: a holding, or one of
// the right's own places, which keep counts only (and the buffer's block).
func (b *builder) put(r *right, m domain.Movement) error {
	switch m.To.State {
	case domain.StateBuffer:
		r.info.Buffer = m.Blocks[0]
		return nil
	case domain.StateCancelled, domain.StateExpired:
		return nil
	}
	h, err := b.holding(m.Right, m.To.Account)
	if err != nil {
		return err
	}
	wasEmpty := h.units.Empty()
	if err := h.units.Put(m.To.State, m.Blocks, m.Quantity); err != nil {
		return fmt.Errorf("%w: %s of %s: %v", domain.ErrEventDoesNotApply, m.To, m.Right, err)
	}
	b.markHolding(h)
	if wasEmpty {
		r.info.Holders++
		b.markRight(r)
	}
	return nil
}

// expire applies the movement of an expiry: every unit not retired or
// cancelled (available, pledged, frozen, reserved, or in the buffer pool)
// is expired. The event names the serials but not whose they were, so
// every holding of the right is visited.
func (b *builder) expire(r *right, m domain.Movement) error {
	t, err := b.totalsOf(r.info.Type, r.info.Jurisdiction)
	if err != nil {
		return err
	}
	// Every holding of the right: those committed, and those made since.
	accounts := map[string]bool{}
	prefix := holdingDataKey(m.Right, "")
	if err := b.state.Keys(prefix, func(key []byte) error {
		accounts[string(key[len(prefix):])] = true
		return nil
	}); err != nil {
		return err
	}
	for k := range b.holdings {
		if k.right == m.Right {
			accounts[k.account] = true
		}
	}
	var expired int64
	for acct := range accounts {
		h, err := b.holding(m.Right, acct)
		if err != nil {
			return err
		}
		wasEmpty := h.units.Empty()
		for _, s := range []State{Available, Pledged, Frozen, Reserved} {
			_, n := h.units.Clear(s)
			expired += n
			r.info.Totals[s] -= n
			t.Totals[s] -= n
			b.markHolding(h)
		}
		if !wasEmpty && h.units.Empty() {
			r.info.Holders--
		}
	}
	if !r.info.Buffer.IsZero() {
		expired += r.info.Buffer.Size()
		t.Buffer -= r.info.Buffer.Size()
		r.info.Buffer = domain.Block{}
	}
	if expired != m.Quantity {
		return fmt.Errorf("%w: expiry of right %s expires %d units, but %d are left", domain.ErrEventDoesNotApply, m.Right, m.Quantity, expired)
	}
	r.info.Expired += m.Quantity
	t.Expired += m.Quantity
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
		case h.units.Empty():
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
