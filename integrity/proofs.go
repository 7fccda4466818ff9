package integrity

import (
	"context"
	"fmt"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
)

// Inclusion is the proof that one event is in the tree of a size.
type Inclusion struct {
	Leaf     logtree.Leaf
	Index    uint64
	TreeSize uint64
	Root     []byte
	Proof    [][]byte
}

// InclusionProof proves the event at position p in the tree of treeSize
// leaves (0: the latest checkpoint's size).
func (s *Service) InclusionProof(ctx context.Context, p eventstore.Position, treeSize uint64) (Inclusion, error) {
	if treeSize == 0 {
		latest, err := s.Latest()
		if err != nil {
			return Inclusion{}, err
		}
		treeSize = latest.Size
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	v, err := s.tree.View(ctx, nil)
	if err != nil {
		return Inclusion{}, err
	}
	defer v.Close()
	index, found, err := v.FindLeaf(p)
	if err != nil {
		return Inclusion{}, err
	}
	if !found {
		return Inclusion{}, &EventNotFoundError{Position: p}
	}
	out := Inclusion{Index: index, TreeSize: treeSize}
	if out.Leaf, err = v.Leaf(index); err != nil {
		return Inclusion{}, err
	}
	if out.Root, err = v.Root(treeSize); err != nil {
		return Inclusion{}, err
	}
	out.Proof, err = v.InclusionProof(index, treeSize)
	return out, err
}

// Consistency is the proof that a tree is a prefix of a larger one.
type Consistency struct {
	OldSize, NewSize uint64
	OldRoot, NewRoot []byte
	Proof            [][]byte
}

// ConsistencyProof proves that the tree of oldSize leaves is a prefix of
// the tree of newSize leaves (0: the latest checkpoint's size).
func (s *Service) ConsistencyProof(ctx context.Context, oldSize, newSize uint64) (Consistency, error) {
	if newSize == 0 {
		latest, err := s.Latest()
		if err != nil {
			return Consistency{}, err
		}
		newSize = latest.Size
	}
	if oldSize > newSize {
		return Consistency{}, &domain.Rejection{Check: domain.CheckInvalidQueryRange, Field: "old_size",
			Detail: fmt.Sprintf("old size %d is larger than new size %d", oldSize, newSize)}
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	v, err := s.tree.View(ctx, nil)
	if err != nil {
		return Consistency{}, err
	}
	defer v.Close()
	out := Consistency{OldSize: oldSize, NewSize: newSize}
	if out.NewRoot, err = v.Root(newSize); err != nil {
		return Consistency{}, err
	}
	if out.OldRoot, err = v.Root(min(oldSize, newSize)); err != nil {
		return Consistency{}, err
	}
	out.Proof, err = v.ConsistencyProof(oldSize, newSize)
	return out, err
}
