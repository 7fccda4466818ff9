// Package logtree defines the Merkle tree that commits to ecoregistry's
// global event log: what one leaf holds, how leaves and nodes are hashed,
// and how roots and proofs are made from stored nodes and checked.
//
// The tree is the one of Certificate Transparency (RFC 6962, RFC 9162
// section 2.1), with SHA-256 and the domain-separating prefixes 0x00 for
// leaves and 0x01 for interior nodes, as implemented by
// github.com/transparency-dev/merkle; this package only says what goes into
// a leaf and wires the library's compact ranges and proofs to a store of
// node hashes. Leaf i (from 0) is the i-th event of the global log.
//
// # Leaf
//
// A leaf is the event's place in the log and its hash-chain value (which
// covers the event's type, data and metadata, and through the metadata
// every earlier event of its stream), encoded as:
//
//	version      1 byte, 1
//	commit       8 bytes, big-endian: the event's global position
//	prepare      8 bytes, big-endian
//	revision     8 bytes, big-endian: the event's revision in its stream
//	chain value  32 bytes: eventcodec.ChainHash of the stored event
//	stream       the rest: the stream's name, UTF-8
//
// The stream and revision are in the leaf so that a proof names the event
// it proves, and an event moved to another stream or revision changes it.
package logtree

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// HashSize is the size of every hash of the tree.
const HashSize = 32

// Hasher is the tree's hasher: RFC 6962 with SHA-256.
var Hasher = rfc6962.DefaultHasher

// Factory makes the compact ranges of the tree.
var Factory = &compact.RangeFactory{Hash: Hasher.HashChildren}

const (
	leafVersion  = 1
	leafFixedLen = 1 + 8 + 8 + 8 + eventcodec.HashSize
)

// Leaf is what the tree commits to for one event of the log.
type Leaf struct {
	// Position is the event's place in the global log.
	Position eventstore.Position
	// Stream and Revision say which event of which stream it is.
	Stream   string
	Revision uint64
	// Chain is the event's hash-chain value.
	Chain eventcodec.Hash
}

// LeafOf returns the leaf of a stored event.
func LeafOf(ev *eventstore.RecordedEvent) Leaf {
	return Leaf{Position: ev.Position, Stream: ev.Stream, Revision: ev.Revision,
		Chain: eventcodec.ChainHash(ev.Type, ev.Data, ev.Metadata)}
}

// AppendBinary appends the leaf's encoding (see the package documentation)
// to b.
func (l Leaf) AppendBinary(b []byte) []byte {
	b = append(b, leafVersion)
	b = binary.BigEndian.AppendUint64(b, l.Position.Commit)
	b = binary.BigEndian.AppendUint64(b, l.Position.Prepare)
	b = binary.BigEndian.AppendUint64(b, l.Revision)
	b = append(b, l.Chain[:]...)
	return append(b, l.Stream...)
}

// ErrMalformedLeaf reports bytes that are not a leaf's encoding.
var ErrMalformedLeaf = errors.New("logtree: malformed leaf")

// ParseLeaf reads a leaf's encoding.
func ParseLeaf(b []byte) (Leaf, error) {
	if len(b) < leafFixedLen || b[0] != leafVersion {
		return Leaf{}, fmt.Errorf("%w: %d bytes, version %d", ErrMalformedLeaf, len(b), firstByte(b))
	}
	l := Leaf{
		Position: eventstore.Position{Commit: binary.BigEndian.Uint64(b[1:]), Prepare: binary.BigEndian.Uint64(b[9:])},
		Revision: binary.BigEndian.Uint64(b[17:]),
		Stream:   string(b[leafFixedLen:]),
	}
	copy(l.Chain[:], b[25:leafFixedLen])
	return l, nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// Hash returns the leaf's hash in the tree: SHA-256(0x00 || encoding).
func (l Leaf) Hash() []byte {
	return Hasher.HashLeaf(l.AppendBinary(make([]byte, 0, leafFixedLen+len(l.Stream))))
}

// String describes the leaf for messages.
func (l Leaf) String() string {
	return fmt.Sprintf("%s revision %d at position %s", l.Stream, l.Revision, l.Position)
}
