package eventcodec

import (
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ecoregistry/ecoregistry/domain"
)

// DecodeUnitsTransferred, DecodeUnitsRetired and DecodeTradeSettled parse
// the event types that make up most of the log straight from the protobuf
// wire format,
// without the reflection and the per-field allocations of proto.Unmarshal.
// Readers of the whole log (the projections' catch-up) spend most of their
// time decoding; these make it several times cheaper. They accept exactly
// what Decode accepts and return the same events: wire_test.go checks this
// on random messages with every field of the schema set, so a field added
// to the schema and not here fails the test.

// DecodeUnitsTransferred is Decode for a UnitsTransferred payload.
func DecodeUnitsTransferred(data []byte) (domain.UnitsTransferred, error) {
	var e domain.UnitsTransferred
	// Transfers of fragmented holdings move several blocks.
	e.Blocks = make([]domain.Block, 0, 8)
	var at timestamp
	var err error
	for r := (wire{b: data}); err == nil; {
		num, typ, v, ok := r.next()
		if !ok {
			err = r.err
			break
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			err = v.str(&e.RightID)
		case num == 2 && typ == protowire.BytesType:
			err = v.str(&e.TransferID)
		case num == 3 && typ == protowire.BytesType:
			err = v.str(&e.From)
		case num == 4 && typ == protowire.BytesType:
			err = v.str(&e.To)
		case num == 5 && typ == protowire.BytesType:
			var b domain.Block
			b, err = v.block()
			e.Blocks = append(e.Blocks, b)
		case num == 6 && typ == protowire.VarintType:
			e.Quantity = int64(v.varint)
		case num == 7 && typ == protowire.BytesType:
			err = v.str(&e.Reference)
		case num == 8 && typ == protowire.BytesType:
			err = v.str(&e.Reason)
		case num == 9 && typ == protowire.BytesType:
			if e.TradePrice == nil {
				e.TradePrice = &domain.Price{}
			}
			err = v.price(e.TradePrice)
		case num == 10 && typ == protowire.BytesType:
			err = v.timestamp(&at)
		}
	}
	if err != nil {
		return domain.UnitsTransferred{}, fmt.Errorf("eventcodec: unmarshal %s: %w", domain.EventTypeUnitsTransferred, err)
	}
	e.TransferredAt = at.time()
	return e, nil
}

// DecodeUnitsRetired is Decode for a UnitsRetired payload.
func DecodeUnitsRetired(data []byte) (domain.UnitsRetired, error) {
	var e domain.UnitsRetired
	e.Blocks = make([]domain.Block, 0, 8)
	var at timestamp
	var err error
	for r := (wire{b: data}); err == nil; {
		num, typ, v, ok := r.next()
		if !ok {
			err = r.err
			break
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			err = v.str(&e.RightID)
		case num == 2 && typ == protowire.BytesType:
			err = v.str(&e.RetirementID)
		case num == 3 && typ == protowire.BytesType:
			err = v.str(&e.Holder)
		case num == 4 && typ == protowire.BytesType:
			var b domain.Block
			b, err = v.block()
			e.Blocks = append(e.Blocks, b)
		case num == 5 && typ == protowire.VarintType:
			e.Quantity = int64(v.varint)
		case num == 6 && typ == protowire.VarintType:
			e.Purpose = domain.RetirementPurpose(int32(v.varint))
		case num == 7 && typ == protowire.BytesType:
			err = v.str(&e.Beneficiary)
		case num == 8 && typ == protowire.BytesType:
			err = v.str(&e.CompliancePeriod)
		case num == 9 && typ == protowire.BytesType:
			err = v.str(&e.Reason)
		case num == 10 && typ == protowire.BytesType:
			err = v.timestamp(&at)
		}
	}
	if err != nil {
		return domain.UnitsRetired{}, fmt.Errorf("eventcodec: unmarshal %s: %w", domain.EventTypeUnitsRetired, err)
	}
	e.RetiredAt = at.time()
	return e, nil
}

// DecodeTradeSettled is Decode for a TradeSettled payload: an exchange's
// trades are most of a busy registry's log, and every read model decodes
// each of them.
func DecodeTradeSettled(data []byte) (domain.TradeSettled, error) {
	var e domain.TradeSettled
	e.Blocks = make([]domain.Block, 0, 2)
	var matched, settled timestamp
	var err error
	for r := (wire{b: data}); err == nil; {
		num, typ, v, ok := r.next()
		if !ok {
			err = r.err
			break
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			err = v.str(&e.RightID)
		case num == 2 && typ == protowire.BytesType:
			err = v.str(&e.ExchangeID)
		case num == 3 && typ == protowire.BytesType:
			err = v.str(&e.TradeID)
		case num == 4 && typ == protowire.BytesType:
			err = v.str(&e.Seller)
		case num == 5 && typ == protowire.BytesType:
			err = v.str(&e.Buyer)
		case num == 6 && typ == protowire.BytesType:
			if e.Range == nil {
				e.Range = &domain.Block{}
			}
			err = v.mergeBlock(e.Range)
		case num == 7 && typ == protowire.BytesType:
			var b domain.Block
			b, err = v.block()
			e.Blocks = append(e.Blocks, b)
		case num == 8 && typ == protowire.VarintType:
			e.Quantity = int64(v.varint)
		case num == 9 && typ == protowire.BytesType:
			err = v.price(&e.Price)
		case num == 10 && typ == protowire.BytesType:
			err = v.timestamp(&matched)
		case num == 11 && typ == protowire.BytesType:
			err = v.str(&e.ReservationID)
		case num == 12 && typ == protowire.VarintType:
			e.ReservationRemaining = int64(v.varint)
		case num == 13 && typ == protowire.BytesType:
			err = v.timestamp(&settled)
		}
	}
	if err != nil {
		return domain.TradeSettled{}, fmt.Errorf("eventcodec: unmarshal %s: %w", domain.EventTypeTradeSettled, err)
	}
	e.MatchedAt, e.SettledAt = matched.time(), settled.time()
	return e, nil
}

// field is the value of one field on the wire: the varint of a varint
// field, or the bytes of a length-delimited one.
type field struct {
	varint uint64
	bytes  []byte
}

// wire reads the fields of a message in order. A field whose number or wire
// type a decoder does not know is skipped, as proto.Unmarshal keeps it as
// an unknown field.
type wire struct {
	b   []byte
	err error
}

// next returns the next varint or length-delimited field, skipping fields
// of other wire types; false at the end of the message or on an error,
// which r.err then holds.
func (r *wire) next() (protowire.Number, protowire.Type, field, bool) {
	for len(r.b) > 0 {
		tag, ok := r.varint()
		if !ok {
			return 0, 0, field{}, false
		}
		num, typ := protowire.DecodeTag(tag)
		if num < protowire.MinValidNumber || tag>>3 > uint64(protowire.MaxValidNumber) {
			r.err = protowire.ParseError(-1)
			return 0, 0, field{}, false
		}
		var v field
		switch typ {
		case protowire.VarintType:
			if v.varint, ok = r.varint(); !ok {
				return 0, 0, field{}, false
			}
			return num, typ, v, true
		case protowire.BytesType:
			n, ok := r.varint()
			if !ok {
				return 0, 0, field{}, false
			}
			if n > uint64(len(r.b)) {
				r.err = io.ErrUnexpectedEOF
				return 0, 0, field{}, false
			}
			v.bytes, r.b = r.b[:n:n], r.b[n:]
			return num, typ, v, true
		}
		n := protowire.ConsumeFieldValue(num, typ, r.b)
		if n < 0 {
			r.err = protowire.ParseError(n)
			return 0, 0, field{}, false
		}
		r.b = r.b[n:]
	}
	return 0, 0, field{}, false
}

// varint reads a varint; most are one byte, which it reads without a call.
func (r *wire) varint() (uint64, bool) {
	if len(r.b) > 0 && r.b[0] < 0x80 {
		v := uint64(r.b[0])
		r.b = r.b[1:]
		return v, true
	}
	v, n := protowire.ConsumeVarint(r.b)
	if n < 0 {
		r.err = protowire.ParseError(n)
		return 0, false
	}
	r.b = r.b[n:]
	return v, true
}

// str sets *s to the field's text, which proto3 requires to be UTF-8.
func (v field) str(s *string) error {
	if !utf8.Valid(v.bytes) {
		return fmt.Errorf("string field contains invalid UTF-8")
	}
	*s = string(v.bytes)
	return nil
}

// block reads a SerialBlock.
func (v field) block() (domain.Block, error) {
	// The registry writes a block as its start and its end, in that order:
	// read that form directly, and any other through the general loop.
	if p := v.bytes; len(p) >= 4 && p[0] == 0x08 {
		start, n := protowire.ConsumeVarint(p[1:])
		if n > 0 && len(p) > 1+n && p[1+n] == 0x10 {
			end, m := protowire.ConsumeVarint(p[2+n:])
			if m > 0 && 2+n+m == len(p) {
				return domain.Block{Start: int64(start), End: int64(end)}, nil
			}
		}
	}
	var b domain.Block
	r := wire{b: v.bytes}
	for {
		num, typ, f, ok := r.next()
		if !ok {
			return b, r.err
		}
		switch {
		case num == 1 && typ == protowire.VarintType:
			b.Start = int64(f.varint)
		case num == 2 && typ == protowire.VarintType:
			b.End = int64(f.varint)
		}
	}
}

// mergeBlock merges a SerialBlock into b, as proto.Unmarshal merges a
// repeated occurrence of a singular message field: only the fields present
// change.
func (v field) mergeBlock(b *domain.Block) error {
	r := wire{b: v.bytes}
	for {
		num, typ, f, ok := r.next()
		if !ok {
			return r.err
		}
		switch {
		case num == 1 && typ == protowire.VarintType:
			b.Start = int64(f.varint)
		case num == 2 && typ == protowire.VarintType:
			b.End = int64(f.varint)
		}
	}
}

// price merges a Price into p, as proto.Unmarshal merges a repeated
// occurrence of a message field.
func (v field) price(p *domain.Price) error {
	r := wire{b: v.bytes}
	for {
		num, typ, f, ok := r.next()
		if !ok {
			return r.err
		}
		switch {
		case num == 1 && typ == protowire.VarintType:
			p.Amount = int64(f.varint)
		case num == 2 && typ == protowire.BytesType:
			if err := f.str(&p.Currency); err != nil {
				return err
			}
		}
	}
}

// timestamp is a google.protobuf.Timestamp as read, and whether it was there.
type timestamp struct {
	set     bool
	seconds int64
	nanos   int32
}

func (v field) timestamp(t *timestamp) error {
	t.set = true
	r := wire{b: v.bytes}
	for {
		num, typ, f, ok := r.next()
		if !ok {
			return r.err
		}
		switch {
		case num == 1 && typ == protowire.VarintType:
			t.seconds = int64(f.varint)
		case num == 2 && typ == protowire.VarintType:
			t.nanos = int32(f.varint)
		}
	}
}

// time converts as timestamppb.Timestamp.AsTime does; an absent timestamp
// is the zero time, as Decode makes it.
func (t timestamp) time() time.Time {
	if !t.set {
		return time.Time{}
	}
	return time.Unix(t.seconds, int64(t.nanos)).UTC()
}
