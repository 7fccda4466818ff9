package logtree

import (
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// NodeReader returns the hash of a node of the tree: leaf hashes at level 0,
// the roots of perfect subtrees above. A tree of size n has every node
// whose leaves all lie below n; readers are asked for no other.
type NodeReader func(id compact.NodeID) ([]byte, error)

// EmptyRoot is the root hash of the tree with no leaf.
func EmptyRoot() []byte { return Hasher.EmptyRoot() }

// RootAt returns the root hash of the tree's first size leaves.
func RootAt(read NodeReader, size uint64) ([]byte, error) {
	if size == 0 {
		return EmptyRoot(), nil
	}
	ids := compact.RangeNodes(0, size, nil)
	hashes, err := readAll(read, ids)
	if err != nil {
		return nil, err
	}
	r, err := Factory.NewRange(0, size, hashes)
	if err != nil {
		return nil, err
	}
	return r.GetRootHash(nil)
}

// InclusionProof returns the proof that leaf index is in the tree of size
// leaves, as RFC 6962 section 2.1.1 defines it.
func InclusionProof(read NodeReader, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("logtree: inclusion proof: %w", err)
	}
	return rehash(read, nodes)
}

// ConsistencyProof returns the proof that the tree of size1 leaves is a
// prefix of the tree of size2 leaves, as RFC 6962 section 2.1.2 defines it.
func ConsistencyProof(read NodeReader, size1, size2 uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("logtree: consistency proof: %w", err)
	}
	return rehash(read, nodes)
}

func rehash(read NodeReader, nodes proof.Nodes) ([][]byte, error) {
	hashes, err := readAll(read, nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hashes, Hasher.HashChildren)
}

func readAll(read NodeReader, ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, err := read(id)
		if err != nil {
			return nil, err
		}
		if len(h) != HashSize {
			return nil, fmt.Errorf("logtree: node %d/%d has %d bytes, want %d", id.Level, id.Index, len(h), HashSize)
		}
		out[i] = h
	}
	return out, nil
}

// VerifyInclusion checks that leafHash is leaf index of the tree of size
// leaves whose root is root.
func VerifyInclusion(leafHash []byte, index, size uint64, p [][]byte, root []byte) error {
	return proof.VerifyInclusion(Hasher, index, size, leafHash, p, root)
}

// VerifyConsistency checks that the tree of size1 leaves with root1 is a
// prefix of the tree of size2 leaves with root2.
func VerifyConsistency(size1, size2 uint64, p [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(Hasher, size1, size2, p, root1, root2)
}
