package certificate

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
)

// Sign signs the certificate's text, setting Signed.
func Sign(c *Certificate, s note.Signer) error {
	if c.Registry != s.Name() {
		return fmt.Errorf("certificate: registry %q is not the signing key's name %q", c.Registry, s.Name())
	}
	signed, err := note.Sign(&note.Note{Text: c.Text()}, s)
	if err != nil {
		return fmt.Errorf("certificate: sign: %w", err)
	}
	c.Signed = string(signed)
	return nil
}

// ErrForged reports a certificate whose signature, checkpoint, proof or
// figures do not hold. Errors wrapping checkpoint.ErrOtherKey or
// checkpoint.ErrBadSignature say which signature failed.
var ErrForged = errors.New("certificate: refused")

// Verify checks a certificate offline with the registry's verifier: the
// statement's signature, that every field is what was signed, the
// checkpoint's signature and that it is the one the statement names, the
// inclusion proof of the last change in that checkpoint's tree, and that
// the blocks add up to the totals.
func Verify(c *Certificate, v note.Verifier) error {
	n, err := checkpoint.OpenNote([]byte(c.Signed), v)
	if err != nil {
		return fmt.Errorf("%w: the statement: %w", ErrForged, err)
	}
	if text := c.Text(); n.Text != text {
		return fmt.Errorf("%w: %s", ErrForged, firstDifference(n.Text, text))
	}
	cp, err := checkpoint.Open([]byte(c.Checkpoint), v)
	if err != nil {
		return fmt.Errorf("%w: its checkpoint: %w", ErrForged, err)
	}
	if cp.Origin != c.Registry || cp.Size != c.TreeSize || !bytes.Equal(cp.Root, c.Root) || cp.Last != c.ValidAt {
		return fmt.Errorf("%w: its checkpoint (size %d, to %s) is not the one the statement names (size %d, to %s)", ErrForged, cp.Size, cp.Last, c.TreeSize, c.ValidAt)
	}
	if err := checkBlocks(c); err != nil {
		return fmt.Errorf("%w: %w", ErrForged, err)
	}
	ch := c.LastChange
	if ch == nil {
		return nil
	}
	if c.ValidAt.Before(ch.Position) {
		return fmt.Errorf("%w: the last change at %s comes after the position %s it is valid at", ErrForged, ch.Position, c.ValidAt)
	}
	leaf := logtree.Leaf{Position: ch.Position, Stream: ch.Stream, Revision: ch.Revision, Chain: ch.Chain}
	if err := logtree.VerifyInclusion(leaf.Hash(), ch.Leaf, c.TreeSize, c.InclusionProof, c.Root); err != nil {
		return fmt.Errorf("%w: the last change is not proved in the checkpoint's tree: %v", ErrForged, err)
	}
	return nil
}

// checkBlocks checks that the blocks are well formed, in state order, and
// add up to each state's total.
func checkBlocks(c *Certificate) error {
	sums := map[string]int64{}
	last := -1
	for _, b := range c.Blocks {
		i := slices.Index(States, b.State)
		if i < last || i < 0 || b.Start < 1 || b.End < b.Start {
			return fmt.Errorf("block %s %d-%d is malformed or out of order", b.State, b.Start, b.End)
		}
		last = i
		sums[b.State] += b.Quantity()
	}
	for _, s := range States {
		if sums[s] != c.Total(s) {
			return fmt.Errorf("the %s blocks hold %d units, but the total says %d", s, sums[s], c.Total(s))
		}
	}
	return nil
}

func firstDifference(signed, rendered string) string {
	a, b := strings.Split(signed, "\n"), strings.Split(rendered, "\n")
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("the certificate says %q where the signed statement says %q", b[i], a[i])
		}
	}
	return "the certificate's fields are not what was signed"
}
