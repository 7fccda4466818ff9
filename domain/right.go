package domain

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// holding is what one account holds of one right, by state. Each state is a
// normalised block list; the counts are kept alongside so that balances are
// O(1). The pledged, frozen and reserved lists are the union of the blocks of
// the account's open pledges, freeze orders and reservations on the right.
type holding struct {
	available      []Block
	availableCount int64
	retired        []Block
	retiredCount   int64
	pledged        []Block
	pledgedCount   int64
	frozen         []Block
	frozenCount    int64
	reserved       []Block
	reservedCount  int64
}

func (h *holding) empty() bool {
	return h.availableCount == 0 && h.retiredCount == 0 && h.pledgedCount == 0 && h.frozenCount == 0 && h.reservedCount == 0
}

func (h *holding) clone() *holding {
	c := *h
	c.available = slices.Clone(h.available)
	c.retired = slices.Clone(h.retired)
	c.pledged = slices.Clone(h.pledged)
	c.frozen = slices.Clone(h.frozen)
	c.reserved = slices.Clone(h.reserved)
	return &c
}

// transferRecord is what a right remembers of a past transfer to tell a retry
// from a conflicting re-use of its id, in 40 bytes however long the fields:
// a fingerprint of the request's text and accounts, its quantity, its single
// block when it moved one, and where in the stream it was recorded.
type transferRecord struct {
	quantity    int64
	span        Block
	fingerprint uint64
	// revision is the stream revision (Version-1 after applying) of the
	// event that recorded the transaction, so that a correction can read it.
	revision int64
	// reversed is set once a correction reversed the transaction.
	reversed bool
}

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

	holdings       map[string]*holding
	buffer         Block
	availableTotal int64
	retiredTotal   int64
	pledgedTotal   int64
	frozenTotal    int64
	reservedTotal  int64

	// cancelled and expired units belong to no holder any more.
	cancelled      []Block
	cancelledCount int64
	expired        []Block
	expiredCount   int64
	// expiredAt is when RightExpired was recorded; zero while it was not.
	expiredAt time.Time

	// The open encumbrances, by id; each also counts in its holder's lists.
	pledges      map[string]*pledge
	freezes      map[string]*freeze
	reservations map[string]*reservation

	transfers   map[string]transferRecord
	retirements map[string]transferRecord
	// ops remembers every lifecycle operation by kind and id, to tell a
	// retry from a re-used id and to find the transaction a correction names.
	ops map[opKey]transferRecord
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
func (r *Right) Buffer() Block { return r.buffer }

// HasTransfer reports whether a transfer with this id has been recorded on the right.
func (r *Right) HasTransfer(transferID string) bool {
	_, ok := r.transfers[transferID]
	return ok
}

// HasRetirement reports whether a retirement with this id has been recorded on the right.
func (r *Right) HasRetirement(retirementID string) bool {
	_, ok := r.retirements[retirementID]
	return ok
}

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
	h := r.holdings[accountID]
	if h == nil {
		return HoldingView{AccountID: accountID}
	}
	return h.view(accountID)
}

// AvailableQuantity returns the number of units the account has available, in O(1).
func (r *Right) AvailableQuantity(accountID string) int64 {
	if h := r.holdings[accountID]; h != nil {
		return h.availableCount
	}
	return 0
}

func (h *holding) view(accountID string) HoldingView {
	return HoldingView{
		AccountID:       accountID,
		Available:       h.availableCount,
		Retired:         h.retiredCount,
		AvailableBlocks: slices.Clone(h.available),
		RetiredBlocks:   slices.Clone(h.retired),
		Pledged:         h.pledgedCount,
		Frozen:          h.frozenCount,
		Reserved:        h.reservedCount,
		PledgedBlocks:   slices.Clone(h.pledged),
		FrozenBlocks:    slices.Clone(h.frozen),
		ReservedBlocks:  slices.Clone(h.reserved),
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
		out[i] = r.holdings[id].view(id)
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
	t := Totals{Issued: r.quantity, Available: r.availableTotal, Retired: r.retiredTotal,
		Pledged: r.pledgedTotal, Frozen: r.frozenTotal, Reserved: r.reservedTotal,
		Cancelled: r.cancelledCount, Expired: r.expiredCount}
	if !r.buffer.IsZero() {
		t.Buffer = r.buffer.Size()
	}
	return t
}

// Clone returns a deep copy of the right that shares nothing mutable with it,
// so that one may be changed without affecting the other. It costs O(blocks
// + recorded transfer, retirement and trade ids).
func (r *Right) Clone() Right {
	c := *r
	if r.holdings != nil {
		c.holdings = make(map[string]*holding, len(r.holdings))
		for id, h := range r.holdings {
			c.holdings[id] = h.clone()
		}
	}
	c.transfers = maps.Clone(r.transfers)
	c.retirements = maps.Clone(r.retirements)
	c.ops = maps.Clone(r.ops)
	c.trades = maps.Clone(r.trades)
	c.cancelled = slices.Clone(r.cancelled)
	c.expired = slices.Clone(r.expired)
	c.pledges = cloneEncumbrances(r.pledges)
	c.freezes = cloneEncumbrances(r.freezes)
	c.reservations = cloneEncumbrances(r.reservations)
	return c
}

// CheckInvariants verifies the conservation of units: every list is
// normalised and matches its count, no count is negative, the holdings'
// available, pledged, frozen, reserved and retired blocks, the cancelled and
// expired blocks and the buffer are disjoint and together cover 1..Quantity
// exactly, the totals add up, and each holder's pledged, frozen and reserved
// lists are exactly the union of its open pledges, freezes and reservations.
// It returns nil or an error describing the first violation; it costs
// O(B log B) for B blocks.
func (r *Right) CheckInvariants() error {
	if !r.Registered() {
		if len(r.holdings) > 0 || r.quantity != 0 {
			return fmt.Errorf("domain: unregistered right %q has holdings", r.id)
		}
		return nil
	}
	type list struct {
		name   string
		blocks []Block
		count  int64
	}
	var all []Block
	checkList := func(owner string, l list) error {
		if l.count < 0 {
			return fmt.Errorf("domain: right %s: %s has %d %s units", r.id, owner, l.count, l.name)
		}
		if !BlocksNormalized(l.blocks) {
			return fmt.Errorf("domain: right %s: %s's %s blocks %v are not normalised", r.id, owner, l.name, l.blocks)
		}
		if n := BlocksTotal(l.blocks); n != l.count {
			return fmt.Errorf("domain: right %s: %s's %s blocks hold %d units, the count says %d", r.id, owner, l.name, n, l.count)
		}
		all = append(all, l.blocks...)
		return nil
	}
	var sum Totals
	for id, h := range r.holdings {
		for _, l := range []list{
			{"available", h.available, h.availableCount}, {"retired", h.retired, h.retiredCount},
			{"pledged", h.pledged, h.pledgedCount}, {"frozen", h.frozen, h.frozenCount}, {"reserved", h.reserved, h.reservedCount},
		} {
			if err := checkList(id, l); err != nil {
				return err
			}
		}
		if h.empty() {
			return fmt.Errorf("domain: right %s: empty holding of %s is kept", r.id, id)
		}
		sum.Available += h.availableCount
		sum.Retired += h.retiredCount
		sum.Pledged += h.pledgedCount
		sum.Frozen += h.frozenCount
		sum.Reserved += h.reservedCount
	}
	if err := checkList("the right", list{"cancelled", r.cancelled, r.cancelledCount}); err != nil {
		return err
	}
	if err := checkList("the right", list{"expired", r.expired, r.expiredCount}); err != nil {
		return err
	}
	sum.Cancelled, sum.Expired = r.cancelledCount, r.expiredCount
	if !r.buffer.IsZero() {
		if !r.buffer.Valid() {
			return fmt.Errorf("domain: right %s: buffer %s is not a valid block", r.id, r.buffer)
		}
		all = append(all, r.buffer)
		sum.Buffer = r.buffer.Size()
	}
	sum.Issued = r.quantity
	if t := r.Totals(); t != sum {
		return fmt.Errorf("domain: right %s: the lists sum to %+v, the totals say %+v", r.id, sum, t)
	}
	if n := sum.Available + sum.Pledged + sum.Frozen + sum.Reserved + sum.Retired + sum.Cancelled + sum.Expired + sum.Buffer; n != r.quantity {
		return fmt.Errorf("domain: right %s: %d available + %d pledged + %d frozen + %d reserved + %d retired + %d cancelled + %d expired + %d buffer = %d units, %d issued",
			r.id, sum.Available, sum.Pledged, sum.Frozen, sum.Reserved, sum.Retired, sum.Cancelled, sum.Expired, sum.Buffer, n, r.quantity)
	}
	if err := r.checkEncumbrances(); err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b Block) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
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

// Apply changes the right by one event of its stream. It returns an error
// wrapping ErrEventDoesNotApply, and leaves the right unchanged, when the
// event cannot follow the current state (for example, units moved that the
// holder does not have).
func (r *Right) Apply(e Event) error {
	var err error
	switch e := e.(type) {
	case RightRegistered:
		err = r.applyRegistered(e)
	case UnitsTransferred:
		err = r.applyTransferred(e)
	case UnitsRetired:
		err = r.applyRetired(e)
	case TradeSettled:
		err = r.applyTradeSettled(e)
	case TradeRefused:
		err = r.applyTradeRefused(e)
	default:
		err = r.applyLifecycle(e)
	}
	if err == nil {
		r.version++
	}
	return err
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

func (r *Right) applyRegistered(e RightRegistered) error {
	switch {
	case r.Registered():
		return fmt.Errorf("%w: right %s registered twice", ErrEventDoesNotApply, r.id)
	case !e.Type.Valid() || e.Quantity <= 0 || e.Serial != (Block{1, e.Quantity}):
		return fmt.Errorf("%w: registration of %s has type %s, quantity %d and serial %s", ErrEventDoesNotApply, e.RightID, e.Type, e.Quantity, e.Serial)
	case e.HolderAccountID == "" && e.Buffer != e.Serial:
		return fmt.Errorf("%w: registration of %s names no holder", ErrEventDoesNotApply, e.RightID)
	case !e.Buffer.IsZero() && !(e.Serial.Contains(e.Buffer) && e.Buffer.Valid()):
		return fmt.Errorf("%w: buffer %s of %s lies outside its serial %s", ErrEventDoesNotApply, e.Buffer, e.RightID, e.Serial)
	}
	available := []Block{e.Serial}
	if !e.Buffer.IsZero() {
		var err error
		if available, err = SubtractBlocks(available, []Block{e.Buffer}); err != nil {
			return fmt.Errorf("%w: %v", ErrEventDoesNotApply, err)
		}
	}
	*r = Right{
		id:           e.RightID,
		typ:          e.Type,
		jurisdiction: e.Jurisdiction,
		vintage:      e.Vintage,
		unit:         e.Unit,
		quantity:     e.Quantity,
		serialPrefix: e.SerialPrefix,
		issuedTo:     e.HolderAccountID,
		attributes:   derefAttributes(e.Attributes),
		validFrom:    e.ValidFrom,
		validUntil:   e.ValidUntil,
		registeredAt: e.RegisteredAt,
		version:      r.version,
		holdings:     make(map[string]*holding),
		buffer:       e.Buffer,
		transfers:    make(map[string]transferRecord),
		retirements:  make(map[string]transferRecord),
		ops:          make(map[opKey]transferRecord),
		pledges:      make(map[string]*pledge),
		freezes:      make(map[string]*freeze),
		reservations: make(map[string]*reservation),
	}
	if n := BlocksTotal(available); n > 0 {
		r.holdings[e.HolderAccountID] = &holding{available: available, availableCount: n}
		r.availableTotal = n
	}
	return nil
}

// checkMovedBlocks checks the blocks of a transfer or retirement event
// against its quantity, before any state changes.
func (r *Right) checkMovedBlocks(kind, id string, rightID string, blocks []Block, quantity int64) error {
	switch {
	case !r.Registered() || rightID != r.id:
		return fmt.Errorf("%w: %s %s of right %q applied to right %q", ErrEventDoesNotApply, kind, id, rightID, r.id)
	case !BlocksNormalized(blocks) || len(blocks) == 0:
		return fmt.Errorf("%w: %s %s moves blocks %v, not a normalised list", ErrEventDoesNotApply, kind, id, blocks)
	case BlocksTotal(blocks) != quantity:
		return fmt.Errorf("%w: %s %s moves %d units in blocks of %d", ErrEventDoesNotApply, kind, id, quantity, BlocksTotal(blocks))
	}
	return nil
}

func (r *Right) applyTransferred(e UnitsTransferred) error {
	if err := r.checkMovedBlocks("transfer", e.TransferID, e.RightID, e.Blocks, e.Quantity); err != nil {
		return err
	}
	from := r.holdings[e.From]
	if from == nil || from.availableCount < e.Quantity || e.From == e.To {
		return fmt.Errorf("%w: transfer %s moves %d units from %s, which has fewer available", ErrEventDoesNotApply, e.TransferID, e.Quantity, e.From)
	}
	to := r.holdings[e.To]
	if to == nil {
		to = &holding{}
	}
	// Subtract first: it fails, without change, unless the sender holds every
	// block. Then the receiver cannot already hold any of them, since each
	// serial has one place, so the add cannot fail half-way.
	avail, err := SubtractBlocks(from.available, e.Blocks)
	if err != nil {
		return fmt.Errorf("%w: transfer %s: %v", ErrEventDoesNotApply, e.TransferID, err)
	}
	added, err := AddBlocks(to.available, e.Blocks)
	if err != nil {
		// Unreachable while the invariants hold; restore the sender so that
		// a failed Apply leaves the state unchanged.
		from.available, _ = AddBlocks(avail, e.Blocks)
		return fmt.Errorf("%w: transfer %s: %v", ErrEventDoesNotApply, e.TransferID, err)
	}
	from.available = avail
	from.availableCount -= e.Quantity
	to.available = added
	to.availableCount += e.Quantity
	r.holdings[e.To] = to
	if from.empty() {
		delete(r.holdings, e.From)
	}
	r.transfers[e.TransferID] = transferRecordOf(e.Blocks, e.Quantity, transferFingerprint(e.From, e.To, e.Reference, e.Reason, e.TradePrice), r.version)
	return nil
}

func (r *Right) applyRetired(e UnitsRetired) error {
	if err := r.checkMovedBlocks("retirement", e.RetirementID, e.RightID, e.Blocks, e.Quantity); err != nil {
		return err
	}
	h := r.holdings[e.Holder]
	if h == nil || h.availableCount < e.Quantity {
		return fmt.Errorf("%w: retirement %s retires %d units of %s, which has fewer available", ErrEventDoesNotApply, e.RetirementID, e.Quantity, e.Holder)
	}
	avail, err := SubtractBlocks(h.available, e.Blocks)
	if err != nil {
		return fmt.Errorf("%w: retirement %s: %v", ErrEventDoesNotApply, e.RetirementID, err)
	}
	retired, err := AddBlocks(h.retired, e.Blocks)
	if err != nil {
		h.available, _ = AddBlocks(avail, e.Blocks)
		return fmt.Errorf("%w: retirement %s: %v", ErrEventDoesNotApply, e.RetirementID, err)
	}
	h.available, h.retired = avail, retired
	h.availableCount -= e.Quantity
	h.retiredCount += e.Quantity
	r.availableTotal -= e.Quantity
	r.retiredTotal += e.Quantity
	r.retirements[e.RetirementID] = transferRecordOf(e.Blocks, e.Quantity,
		retirementFingerprint(e.Holder, e.Purpose, e.Beneficiary, e.CompliancePeriod, e.Reason), r.version)
	return nil
}

// transferRecordOf builds the record of a transaction applied as the event
// at revision (the right's version before it was applied).
func transferRecordOf(blocks []Block, quantity int64, fp uint64, revision int64) transferRecord {
	rec := transferRecord{quantity: quantity, fingerprint: fp, revision: revision}
	if len(blocks) == 1 {
		rec.span = blocks[0]
	}
	return rec
}

// fingerprint is an FNV-1a hash over length-prefixed strings and integers,
// written out so that it does not allocate.
type fingerprint uint64

func newFingerprint() fingerprint { return 14695981039346656037 }

func (f fingerprint) byte(b byte) fingerprint { return (f ^ fingerprint(b)) * 1099511628211 }

func (f fingerprint) int(n int64) fingerprint {
	for i := 0; i < 8; i++ {
		f = f.byte(byte(n >> (8 * i)))
	}
	return f
}

func (f fingerprint) str(s string) fingerprint {
	// The length prefix keeps ("ab","c") and ("a","bc") apart.
	f = f.int(int64(len(s)))
	for i := 0; i < len(s); i++ {
		f = f.byte(s[i])
	}
	return f
}

func transferFingerprint(from, to, reference, reason string, price *Price) uint64 {
	f := newFingerprint().str(from).str(to).str(reference).str(reason)
	if price != nil {
		f = f.byte(1).int(price.Amount).str(price.Currency)
	} else {
		f = f.byte(0)
	}
	return uint64(f)
}

func retirementFingerprint(holder string, purpose RetirementPurpose, beneficiary, period, reason string) uint64 {
	return uint64(newFingerprint().str(holder).int(int64(purpose)).str(beneficiary).str(period).str(reason))
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
