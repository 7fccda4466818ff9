// Package enc is the compact binary encoding of projection records: unsigned
// and signed varints, length-prefixed strings and serial block lists,
// appended to a byte slice and read back in the same order.
//
// Records are private to one projection and one schema version, so the
// encoding carries no field tags: a change of layout is a new schema version
// of the projection, which rebuilds its state.
package enc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/ecoregistry/ecoregistry/domain"
)

// ErrCorrupt reports a record that does not decode.
var ErrCorrupt = errors.New("enc: corrupt record")

// Uvarint appends v as an unsigned varint.
func Uvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// Varint appends v as a signed (zig-zag) varint.
func Varint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// String appends s with its length.
func String(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Bytes appends p with its length.
func Bytes(b []byte, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// Blocks appends a block list: its length, then each block as its start
// relative to the end of the previous block and its size, which keeps the
// fragmented lists of busy holdings small.
func Blocks(b []byte, bs []domain.Block) []byte {
	b = binary.AppendUvarint(b, uint64(len(bs)))
	prev := int64(0)
	for _, x := range bs {
		b = binary.AppendVarint(b, x.Start-prev)
		b = binary.AppendUvarint(b, uint64(x.End-x.Start))
		prev = x.End
	}
	return b
}

// Reader reads a record written with the functions of this package. The
// first error sticks: later reads return zero values, and Err reports it.
type Reader struct {
	b   []byte
	err error
}

// NewReader returns a reader of b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

func (r *Reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", ErrCorrupt, what)
	}
	r.b = nil
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("unsigned varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Bytes reads a length-prefixed byte string. The result aliases the record.
func (r *Reader) Bytes() []byte {
	n := r.Uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("length")
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

// String reads a length-prefixed string (a copy).
func (r *Reader) String() string { return string(r.Bytes()) }

// Blocks reads a block list written by Blocks, appending to dst.
func (r *Reader) Blocks(dst []domain.Block) []domain.Block {
	n := r.Uvarint()
	if r.err != nil {
		return dst
	}
	// Each block takes at least two bytes, which bounds a corrupt length.
	if n > uint64(len(r.b)) {
		r.fail("block count")
		return dst
	}
	dst = slices.Grow(dst, int(n))
	prev := int64(0)
	for i := uint64(0); i < n && r.err == nil; i++ {
		start := prev + r.Varint()
		size := int64(r.Uvarint())
		dst = append(dst, domain.Block{Start: start, End: start + size})
		prev = start + size
	}
	return dst
}

// Done returns the first error, or ErrCorrupt when bytes are left over.
func (r *Reader) Done() error {
	if r.err == nil && len(r.b) > 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(r.b))
	}
	return r.err
}

// Err returns the first error.
func (r *Reader) Err() error { return r.err }
