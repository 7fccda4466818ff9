package logtree

import (
	"fmt"

	"github.com/transparency-dev/merkle/compact"
)

// Builder grows the tree one leaf at a time, keeping only its right border
// (a compact range of at most 64 hashes), and reports every node that
// becomes complete, so that a store of nodes can answer proofs.
type Builder struct {
	r *compact.Range
}

// NewBuilder returns a builder of the tree of size leaves whose compact
// range (the roots of the perfect subtrees that cover it, left to right)
// is border; size 0 and no border for an empty tree.
func NewBuilder(size uint64, border [][]byte) (*Builder, error) {
	r, err := Factory.NewRange(0, size, border)
	if err != nil {
		return nil, fmt.Errorf("logtree: tree of size %d: %w", size, err)
	}
	return &Builder{r: r}, nil
}

// Size is the number of leaves appended.
func (b *Builder) Size() uint64 { return b.r.End() }

// Border returns the compact range of the tree: what NewBuilder takes to go
// on from here. The slices must not be changed.
func (b *Builder) Border() [][]byte { return b.r.Hashes() }

// Append adds a leaf hash; visit, when not nil, is called with every node
// that becomes complete, the leaf itself (level 0) first.
func (b *Builder) Append(leafHash []byte, visit func(id compact.NodeID, hash []byte)) error {
	return b.r.Append(leafHash, visit)
}

// Root returns the root hash of the tree as it stands.
func (b *Builder) Root() ([]byte, error) {
	if b.r.End() == 0 {
		return EmptyRoot(), nil
	}
	return b.r.GetRootHash(nil)
}
