package holdings

import (
	"fmt"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/projections/internal/enc"
)

// RightRef is what a registration fixes about a right, and what a holding
// shows of it.
type RightRef struct {
	// RightID is the right's id.
	RightID string
	// Type is the right's type.
	Type domain.RightType
	// Jurisdiction is the GB/T 2260 code of the registering division.
	Jurisdiction string
	// Vintage is the right's vintage year.
	Vintage int
	// Unit is the unit of the right's quantities.
	Unit domain.Unit
	// SerialPrefix begins the serial numbers of the right's units.
	SerialPrefix string
}

// RightInfo is what the projection knows of a right: its registration and
// its units by state.
type RightInfo struct {
	RightRef
	// Issued is the number of units registered, buffer included.
	Issued int64
	// Buffer is the block set aside in the buffer pool; zero when none.
	Buffer domain.Block
	// RegisteredAt is when the right was registered.
	RegisteredAt time.Time
	// Holders is the number of accounts that hold units of the right in
	// any state.
	Holders int64
	// Totals are the right's held units by state, summed over its holders.
	Totals [numStates]int64
	// Cancelled and Expired count units removed by an authority or by the
	// end of the right's validity; zero until those events exist.
	Cancelled, Expired int64
}

// Total returns the right's held units in state s.
func (r *RightInfo) Total(s State) int64 { return r.Totals[s] }

// Totals are the units of the rights of one type registered in one
// division, by state.
type Totals struct {
	// Type is the right type.
	Type domain.RightType
	// Jurisdiction is the six-digit GB/T 2260 code the rights were
	// registered in.
	Jurisdiction string
	// Rights is the number of rights registered.
	Rights int64
	// Issued is the number of units registered, buffers included.
	Issued int64
	// Buffer is the number of units in buffer pools.
	Buffer int64
	// Totals are the held units by state.
	Totals [numStates]int64
	// Cancelled and Expired count units removed by an authority or by the
	// end of validity; zero until those events exist.
	Cancelled, Expired int64
}

// Total returns the held units in state s.
func (t *Totals) Total(s State) int64 { return t.Totals[s] }

// Holding is what one account holds of one right, by state.
type Holding struct {
	// Right is the right held.
	Right RightRef
	// AccountID is the holding account.
	AccountID string
	// Counts are the units in each state.
	Counts [numStates]int64
	// Blocks are the serial blocks in each state, as normalised block lists.
	Blocks [numStates][]domain.Block
}

// Count returns the units in state s.
func (h *Holding) Count(s State) int64 { return h.Counts[s] }

// States returns every state, in order.
func States() []State {
	out := make([]State, numStates)
	for i := range out {
		out[i] = State(i)
	}
	return out
}

// Keys.

func rightKey(id string) []byte { return append([]byte{'r'}, id...) }

func holdingDataKey(right, account string) []byte {
	k := make([]byte, 0, 2+len(right)+len(account))
	k = append(k, 'h')
	k = append(k, right...)
	k = append(k, 0)
	return append(k, account...)
}

func accountHoldingKey(account, right string) []byte {
	k := make([]byte, 0, 2+len(right)+len(account))
	k = append(k, 'a')
	k = append(k, account...)
	k = append(k, 0)
	return append(k, right...)
}

func totalsDataKey(typ domain.RightType, jurisdiction string) []byte {
	return append([]byte{'t', byte(typ)}, jurisdiction...)
}

// Records.

func encodeRight(b []byte, r *RightInfo) []byte {
	b = enc.Uvarint(b, uint64(r.Type))
	b = enc.String(b, r.Jurisdiction)
	b = enc.Varint(b, int64(r.Vintage))
	b = enc.Uvarint(b, uint64(r.Unit))
	b = enc.String(b, r.SerialPrefix)
	b = enc.Varint(b, r.Issued)
	b = enc.Varint(b, r.Buffer.Start)
	b = enc.Varint(b, r.Buffer.End)
	b = enc.Varint(b, unixNano(r.RegisteredAt))
	b = enc.Varint(b, r.Holders)
	for _, n := range r.Totals {
		b = enc.Varint(b, n)
	}
	b = enc.Varint(b, r.Cancelled)
	return enc.Varint(b, r.Expired)
}

func decodeRight(id string, v []byte) (RightInfo, error) {
	d := enc.NewReader(v)
	r := RightInfo{RightRef: RightRef{RightID: id}}
	r.Type = domain.RightType(d.Uvarint())
	r.Jurisdiction = d.String()
	r.Vintage = int(d.Varint())
	r.Unit = domain.Unit(d.Uvarint())
	r.SerialPrefix = d.String()
	r.Issued = d.Varint()
	r.Buffer.Start = d.Varint()
	r.Buffer.End = d.Varint()
	r.RegisteredAt = fromUnixNano(d.Varint())
	r.Holders = d.Varint()
	for i := range r.Totals {
		r.Totals[i] = d.Varint()
	}
	r.Cancelled = d.Varint()
	r.Expired = d.Varint()
	return r, d.Done()
}

// encodeRightRef writes what a list of an account's holdings shows of
// their rights: the parts of a registration that never change.
func encodeRightRef(b []byte, r *RightRef) []byte {
	b = enc.Uvarint(b, uint64(r.Type))
	b = enc.String(b, r.Jurisdiction)
	b = enc.Varint(b, int64(r.Vintage))
	b = enc.Uvarint(b, uint64(r.Unit))
	return enc.String(b, r.SerialPrefix)
}

// decodeAccountHolding reads a record of an account's holding: the right's
// reference, then the holding.
func decodeAccountHolding(rightID, account string, v []byte) (Holding, error) {
	d := enc.NewReader(v)
	h := Holding{Right: RightRef{RightID: rightID}, AccountID: account}
	h.Right.Type = domain.RightType(d.Uvarint())
	h.Right.Jurisdiction = d.String()
	h.Right.Vintage = int(d.Varint())
	h.Right.Unit = domain.Unit(d.Uvarint())
	h.Right.SerialPrefix = d.String()
	for s := range h.Blocks {
		h.Counts[s] = d.Varint()
		h.Blocks[s] = d.Blocks(nil)
	}
	return h, d.Done()
}

func encodeHolding(b []byte, h *holding) []byte {
	for s := range State(numStates) {
		b = enc.Varint(b, h.units.Count(s))
		b = enc.Blocks(b, h.units.Blocks(s))
	}
	return b
}

// decodeStoredHolding reads the units and blocks of a holding's record,
// skipping the right's reference.
func decodeStoredHolding(v []byte, h *holding) error {
	d := enc.NewReader(v)
	d.Uvarint()
	d.Bytes()
	d.Varint()
	d.Uvarint()
	d.Bytes()
	var counts [numStates]int64
	var blocks [numStates][]domain.Block
	for s := range blocks {
		counts[s] = d.Varint()
		blocks[s] = d.Blocks(nil)
	}
	if err := d.Done(); err != nil {
		return err
	}
	u, err := domain.UnitsOf(blocks)
	if err != nil {
		return err
	}
	for s := range State(numStates) {
		if u.Count(s) != counts[s] {
			return fmt.Errorf("holdings: %s units: the count says %d, the blocks hold %d", s, counts[s], u.Count(s))
		}
	}
	h.units = u
	return nil
}

func encodeTotals(b []byte, t *Totals) []byte {
	b = enc.Varint(b, t.Rights)
	b = enc.Varint(b, t.Issued)
	b = enc.Varint(b, t.Buffer)
	for _, n := range t.Totals {
		b = enc.Varint(b, n)
	}
	b = enc.Varint(b, t.Cancelled)
	return enc.Varint(b, t.Expired)
}

func decodeTotals(v []byte, t *Totals) error {
	d := enc.NewReader(v)
	t.Rights = d.Varint()
	t.Issued = d.Varint()
	t.Buffer = d.Varint()
	for i := range t.Totals {
		t.Totals[i] = d.Varint()
	}
	t.Cancelled = d.Varint()
	t.Expired = d.Varint()
	return d.Done()
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
