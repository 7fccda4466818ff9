// Package merkle is the read model that keeps the Merkle tree of the whole
// global log (package integrity/logtree): one leaf per event, in log order,
// built incrementally as events are appended, so that roots, inclusion
// proofs and consistency proofs of any size up to the log's are a few key
// lookups away.
//
// It needs nothing of an event but its place in the log and its stored
// bytes (for the hash-chain value): it decodes no payload and handles every
// event type, so it never skips one.
//
// # Keys
//
//	'g' GROUP(8)           the encodings (logtree.Leaf.AppendBinary) of leaves
//	                       16*GROUP .. 16*GROUP+15, each preceded by its
//	                       length as a uvarint; the last group may be partial
//	'n' LEVEL(1) INDEX(8)  the hash of a complete node of level 4 or above
//	's'                    the tree: its size, the position of its last
//	                       leaf and its right border (a compact range)
//
// Leaves are kept 16 to a key, and the nodes below level 4 (the subtrees of
// at most 16 leaves) are hashed again from their leaves when a proof needs
// them: a live registry then writes about one key per 8 events instead of
// two per event, and the read store's writes are what the tree costs most.
package merkle

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/internal/enc"
)

// Name is the projection's name.
const Name = "merkle"

// SchemaVersion is the version of the projection's layout and leaf
// encoding. Version 2 keeps leaves in groups of 16.
const SchemaVersion = 2

// GroupLeaves is the number of leaves kept under one key, and GroupLevel
// the level of the node that covers a group: nodes below it are not stored.
const (
	GroupLeaves = 16
	GroupLevel  = 4
)

var stateKey = []byte{'s'}

func groupKey(group uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{'g'}, group)
}

func nodeKey(id compact.NodeID) []byte {
	return binary.BigEndian.AppendUint64([]byte{'n', byte(id.Level)}, id.Index)
}

// Projection is the Merkle tree read model.
type Projection struct{}

// New returns the projection.
func New() *Projection { return &Projection{} }

// Name implements projections.Projection.
func (*Projection) Name() string { return Name }

// SchemaVersion implements projections.Projection.
func (*Projection) SchemaVersion() uint32 { return SchemaVersion }

// CommitDelay implements projections.CommitDelayer: the tree's readers
// (proofs, checkpoints, certificates) are few and can wait 10ms for live
// events, so it commits a tenth as often as the other read models.
func (*Projection) CommitDelay() time.Duration { return 10 * time.Millisecond }

// Decodes implements projections.Projection: the tree reads no payload.
func (*Projection) Decodes() []string { return nil }

// NewBuilder implements projections.Projection.
func (*Projection) NewBuilder(state projections.Keyspace) projections.Builder {
	return &builder{state: state}
}

// treeState is what the 's' key holds.
type treeState struct {
	size   uint64
	last   eventstore.Position
	border [][]byte
}

func (s treeState) encode() []byte {
	b := enc.Uvarint(nil, s.size)
	b = enc.Uvarint(b, s.last.Commit)
	b = enc.Uvarint(b, s.last.Prepare)
	b = enc.Uvarint(b, uint64(len(s.border)))
	for _, h := range s.border {
		b = append(b, h...)
	}
	return b
}

func decodeTreeState(b []byte) (treeState, error) {
	r := enc.NewReader(b)
	s := treeState{size: r.Uvarint()}
	s.last.Commit, s.last.Prepare = r.Uvarint(), r.Uvarint()
	n := r.Uvarint()
	if err := r.Err(); err != nil {
		return treeState{}, fmt.Errorf("merkle: tree state: %w", err)
	}
	rest := b[len(b)-int(min(n*logtree.HashSize, uint64(len(b)))):]
	if n > 64 || uint64(len(rest)) != n*logtree.HashSize || compact.RangeSize(0, s.size) != int(n) {
		return treeState{}, fmt.Errorf("merkle: tree state: %d border hashes for a tree of %d leaves", n, s.size)
	}
	for i := range n {
		s.border = append(s.border, rest[i*logtree.HashSize:(i+1)*logtree.HashSize])
	}
	return s, nil
}

// builder appends each event's leaf to the tree, keeping the new leaves and
// nodes in memory until Flush.
type builder struct {
	state  projections.Keyspace
	tree   *logtree.Builder
	last   eventstore.Position
	loaded bool

	// group holds the encoded leaves of the last group, which is partial
	// unless the tree's size is a multiple of GroupLeaves.
	group []byte
	// pending holds the keys and values written since the last Flush, in
	// one buffer: key length, key, value length, value.
	pending []byte
	leafBuf []byte
}

func (b *builder) load() error {
	v, ok, err := b.state.Get(stateKey)
	if err != nil {
		return err
	}
	var s treeState
	if ok {
		if s, err = decodeTreeState(v); err != nil {
			return err
		}
	}
	if b.tree, err = logtree.NewBuilder(s.size, s.border); err != nil {
		return err
	}
	if s.size%GroupLeaves != 0 {
		g, ok, err := b.state.Get(groupKey(s.size / GroupLeaves))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("merkle: the partial group of leaves of a tree of %d is missing", s.size)
		}
		b.group = g
	}
	b.last, b.loaded = s.last, true
	return nil
}

// Apply implements projections.Builder: every event is a leaf.
func (b *builder) Apply(ev *eventstore.RecordedEvent, _ domain.Event) (bool, error) {
	if !b.loaded {
		if err := b.load(); err != nil {
			return false, err
		}
	}
	if b.tree.Size() > 0 && !b.last.Before(ev.Position) {
		return false, fmt.Errorf("merkle: event at %s comes after the tree's last leaf at %s", ev.Position, b.last)
	}
	leaf := logtree.LeafOf(ev)
	b.leafBuf = leaf.AppendBinary(b.leafBuf[:0])
	b.group = binary.AppendUvarint(b.group, uint64(len(b.leafBuf)))
	b.group = append(b.group, b.leafBuf...)
	err := b.tree.Append(logtree.Hasher.HashLeaf(b.leafBuf), func(id compact.NodeID, h []byte) {
		if id.Level >= GroupLevel {
			b.put(nodeKey(id), h)
		}
	})
	if err != nil {
		return false, err
	}
	if size := b.tree.Size(); size%GroupLeaves == 0 {
		b.put(groupKey(size/GroupLeaves-1), b.group)
		b.group = b.group[:0]
	}
	b.last = ev.Position
	return true, nil
}

func (b *builder) put(key, value []byte) {
	b.pending = binary.AppendUvarint(b.pending, uint64(len(key)))
	b.pending = append(b.pending, key...)
	b.pending = binary.AppendUvarint(b.pending, uint64(len(value)))
	b.pending = append(b.pending, value...)
}

// Flush implements projections.Builder.
func (b *builder) Flush(w *projections.Writer) error {
	if !b.loaded {
		return nil
	}
	for p := b.pending; len(p) > 0; {
		k, rest := cut(p)
		v, rest := cut(rest)
		if err := w.Set(k, v); err != nil {
			return err
		}
		p = rest
	}
	b.pending = b.pending[:0]
	if size := b.tree.Size(); size%GroupLeaves != 0 {
		if err := w.Set(groupKey(size/GroupLeaves), b.group); err != nil {
			return err
		}
	}
	s := treeState{size: b.tree.Size(), last: b.last, border: b.tree.Border()}
	return w.Set(stateKey, s.encode())
}

func cut(b []byte) (field, rest []byte) {
	n, k := binary.Uvarint(b)
	return b[k : k+int(n)], b[k+int(n):]
}

// splitGroup returns the leaf encodings of a group's value.
func splitGroup(v []byte) ([][]byte, error) {
	var out [][]byte
	for len(v) > 0 {
		n, k := binary.Uvarint(v)
		if k <= 0 || uint64(len(v)-k) < n {
			return nil, fmt.Errorf("merkle: a group of leaves does not decode")
		}
		out = append(out, v[k:k+int(n)])
		v = v[k+int(n):]
	}
	return out, nil
}
