package merkle

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
	"github.com/ecoregistry/ecoregistry/projections"
)

// Queries reads the tree from the projection's active state.
type Queries struct{ r *projections.Runner }

// NewQueries returns the queries of the projection run by r.
func NewQueries(r *projections.Runner) *Queries { return &Queries{r: r} }

// Runner returns the runner of the projection.
func (q *Queries) Runner() *projections.Runner { return q.r }

// View returns a consistent view of the tree, once the projection has
// applied min when min is not nil. The caller must close it.
func (q *Queries) View(ctx context.Context, min *eventstore.Position) (*View, error) {
	v, err := q.r.View(ctx, min)
	if err != nil {
		return nil, err
	}
	tv := &View{v: v, Position: v.Position}
	b, ok, err := v.Get(stateKey)
	if err == nil && ok {
		var s treeState
		if s, err = decodeTreeState(b); err == nil {
			tv.Size, tv.Last = s.size, s.last
		}
	}
	if err != nil {
		v.Close()
		return nil, err
	}
	return tv, nil
}

// View is the tree at one position of the log.
type View struct {
	v *projections.View
	// Position is the position of the last event the projection applied:
	// the position of the tree's last leaf.
	Position eventstore.Position
	// Size is the number of leaves.
	Size uint64
	// Last is the position of the last leaf; eventstore.Start when there
	// is none.
	Last eventstore.Position
}

// Close releases the view.
func (t *View) Close() error { return t.v.Close() }

// ErrBeyondTree reports a size or leaf the tree does not have (yet). The
// error is a *BeyondTreeError.
var ErrBeyondTree = errors.New("merkle: beyond the tree")

// BeyondTreeError says how far the tree reaches.
type BeyondTreeError struct {
	// Wanted is the size or leaf count asked for; Size is the tree's.
	Wanted, Size uint64
}

func (e *BeyondTreeError) Error() string {
	return fmt.Sprintf("merkle: the tree has %d leaves, %d were asked for", e.Size, e.Wanted)
}

// Is makes errors.Is(err, ErrBeyondTree) hold.
func (e *BeyondTreeError) Is(target error) bool { return target == ErrBeyondTree }

func (t *View) within(size uint64) error {
	if size > t.Size {
		return &BeyondTreeError{Wanted: size, Size: t.Size}
	}
	return nil
}

// Leaf returns leaf index.
func (t *View) Leaf(index uint64) (logtree.Leaf, error) {
	b, err := t.leafBytes(index)
	if err != nil {
		return logtree.Leaf{}, err
	}
	return logtree.ParseLeaf(b)
}

func (t *View) leafBytes(index uint64) ([]byte, error) {
	if err := t.within(index + 1); err != nil {
		return nil, err
	}
	leaves, err := t.group(index / GroupLeaves)
	if err != nil {
		return nil, err
	}
	if i := int(index % GroupLeaves); i < len(leaves) {
		return leaves[i], nil
	}
	return nil, fmt.Errorf("merkle: leaf %d of a tree of %d is missing from the read store", index, t.Size)
}

// group returns the leaves of a group.
func (t *View) group(g uint64) ([][]byte, error) {
	v, ok, err := t.v.Get(groupKey(g))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("merkle: leaves %d to %d of a tree of %d are missing from the read store", g*GroupLeaves, (g+1)*GroupLeaves-1, t.Size)
	}
	return splitGroup(v)
}

// Node returns the hash of a complete node: a logtree.NodeReader. Nodes
// below GroupLevel are hashed from their leaves.
func (t *View) Node(id compact.NodeID) ([]byte, error) {
	begin, end := id.Coverage()
	if end > t.Size {
		return nil, &BeyondTreeError{Wanted: end, Size: t.Size}
	}
	if id.Level < GroupLevel {
		leaves, err := t.group(begin / GroupLeaves)
		if err != nil {
			return nil, err
		}
		lo, hi := int(begin%GroupLeaves), int(end-begin)+int(begin%GroupLeaves)
		if hi > len(leaves) {
			return nil, fmt.Errorf("merkle: leaf %d of a tree of %d is missing from the read store", begin+uint64(len(leaves)), t.Size)
		}
		return subtreeHash(leaves[lo:hi]), nil
	}
	h, ok, err := t.v.Get(nodeKey(id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("merkle: node %d/%d of a tree of %d is missing from the read store", id.Level, id.Index, t.Size)
	}
	return h, nil
}

// subtreeHash returns the root of the perfect subtree over leaves, whose
// number is a power of two.
func subtreeHash(leaves [][]byte) []byte {
	level := make([][]byte, len(leaves))
	for i, l := range leaves {
		level[i] = logtree.Hasher.HashLeaf(l)
	}
	for len(level) > 1 {
		for i := 0; i < len(level)/2; i++ {
			level[i] = logtree.Hasher.HashChildren(level[2*i], level[2*i+1])
		}
		level = level[:len(level)/2]
	}
	return level[0]
}

// Root returns the root hash of the tree's first size leaves.
func (t *View) Root(size uint64) ([]byte, error) {
	if err := t.within(size); err != nil {
		return nil, err
	}
	return logtree.RootAt(t.Node, size)
}

// InclusionProof returns the proof of leaf index in the tree of size leaves.
func (t *View) InclusionProof(index, size uint64) ([][]byte, error) {
	if err := t.within(size); err != nil {
		return nil, err
	}
	return logtree.InclusionProof(t.Node, index, size)
}

// ConsistencyProof returns the proof that the tree of size1 leaves is a
// prefix of the tree of size2 leaves.
func (t *View) ConsistencyProof(size1, size2 uint64) ([][]byte, error) {
	if err := t.within(size2); err != nil {
		return nil, err
	}
	return logtree.ConsistencyProof(t.Node, size1, size2)
}

// FindLeaf returns the index of the leaf of the event at position p, and
// false when no leaf has that position. On a store with dense positions
// the leaf of position n is leaf n-1, found with one lookup; elsewhere it
// is found by binary search, the leaves being in log order.
func (t *View) FindLeaf(p eventstore.Position) (uint64, bool, error) {
	if t.Size == 0 || p.Commit == 0 {
		return 0, false, nil
	}
	if guess := p.Commit - 1; guess < t.Size {
		l, err := t.Leaf(guess)
		if err != nil {
			return 0, false, err
		}
		if l.Position == p {
			return guess, true, nil
		}
	}
	lo, hi := uint64(0), t.Size
	for lo < hi {
		mid := lo + (hi-lo)/2
		l, err := t.Leaf(mid)
		if err != nil {
			return 0, false, err
		}
		switch c := l.Position.Compare(p); {
		case c == 0:
			return mid, true, nil
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0, false, nil
}

// Leaves calls fn with the encoding of each leaf from index from (inclusive)
// to to (exclusive), in order, until fn returns an error. The slice is
// valid only during the call.
func (t *View) Leaves(from, to uint64, fn func(index uint64, leaf []byte) error) error {
	to = min(to, t.Size)
	if from >= to {
		return nil
	}
	next := from
	first := from / GroupLeaves
	err := t.v.Scan(groupKey(first), groupKey((to-1)/GroupLeaves+1), func(key, value []byte) (bool, error) {
		g := decodeGroup(key)
		leaves, err := splitGroup(value)
		if err != nil {
			return false, err
		}
		for i, l := range leaves {
			index := g*GroupLeaves + uint64(i)
			if index < next || index >= to {
				continue
			}
			if index != next {
				return false, fmt.Errorf("merkle: leaf %d is missing from the read store", next)
			}
			next++
			if err := fn(index, l); err != nil {
				return false, err
			}
		}
		return next < to, nil
	})
	if err == nil && next != to {
		err = fmt.Errorf("merkle: leaf %d is missing from the read store", next)
	}
	return err
}

func decodeGroup(key []byte) uint64 {
	if len(key) != 9 || !bytes.HasPrefix(key, []byte{'g'}) {
		return ^uint64(0) / GroupLeaves
	}
	return binary.BigEndian.Uint64(key[1:])
}
