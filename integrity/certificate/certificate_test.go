package certificate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
)

func signer(t *testing.T, name string) *checkpoint.Signer {
	t.Helper()
	skey, _, err := checkpoint.GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := checkpoint.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// issue builds a tree of 9 events, the 7th of which last changed the
// holding, and a certificate signed by s.
func issue(t *testing.T, s *checkpoint.Signer) *Certificate {
	t.Helper()
	nodes := map[compact.NodeID][]byte{}
	tree, _ := logtree.NewBuilder(0, nil)
	var leaves []logtree.Leaf
	for i := range 9 {
		l := logtree.Leaf{Position: eventstore.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}, Stream: "right-CEA-HB-2025", Revision: uint64(i)}
		l.Chain[0] = byte(i)
		leaves = append(leaves, l)
		if err := tree.Append(l.Hash(), func(id compact.NodeID, h []byte) { nodes[id] = h }); err != nil {
			t.Fatal(err)
		}
	}
	read := func(id compact.NodeID) ([]byte, error) { return nodes[id], nil }
	root, _ := tree.Root()
	signedCP, err := checkpoint.Sign(s, checkpoint.Checkpoint{Origin: s.Name(), Size: 9, Root: root, Last: leaves[8].Position, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	proof, err := logtree.InclusionProof(read, 6, 9)
	if err != nil {
		t.Fatal(err)
	}
	c := &Certificate{Registry: s.Name(), Account: "HB-POWER", Right: "CEA-HB-2025", RightType: "carbon-allowance", Unit: "tCO2e",
		Available: 1500, Retired: 1000,
		Blocks: []Block{
			{State: "available", Start: 1001, End: 2500, Serial: "CEA-420000-2025-CEA-HB-2025-000001001-000002500"},
			{State: "retired", Start: 1, End: 1000, Serial: "CEA-420000-2025-CEA-HB-2025-000000001-000001000"},
		},
		ValidAt: leaves[8].Position, StreamRevision: 8, IssuedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		LastChange: &Change{Stream: leaves[6].Stream, Revision: 6, Position: leaves[6].Position, Leaf: 6, Type: "UnitsRetired", Chain: leaves[6].Chain},
		TreeSize:   9, Root: root, Checkpoint: string(signedCP), InclusionProof: proof}
	if err := Sign(c, s); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAnIssuedCertificateVerifiesOffline(t *testing.T) {
	s := signer(t, "registry.test")
	c := issue(t, s)
	if err := Verify(c, s.Verifier); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Text(), "Block: available 1001-2500 1500 CEA-420000-2025-CEA-HB-2025-000001001-000002500\n") {
		t.Fatalf("text:\n%s", c.Text())
	}
}

func TestForgedCertificatesAreRefused(t *testing.T) {
	s := signer(t, "registry.test")
	for _, c := range []struct {
		name   string
		forge  func(c *Certificate)
		target error
	}{
		{"an altered quantity", func(c *Certificate) { c.Available, c.Blocks[0].End = 2500, 3500 }, ErrForged},
		{"an altered quantity in the signed text too", func(c *Certificate) {
			c.Available, c.Blocks[0].End = 2500, 3500
			c.Signed = strings.Replace(strings.Replace(c.Signed, "Available: 1500", "Available: 2500", 1), "1001-2500 1500", "1001-3500 2500", 1)
		}, checkpoint.ErrBadSignature},
		{"altered serials", func(c *Certificate) {
			c.Blocks[0].Start, c.Blocks[0].End, c.Blocks[0].Serial = 5001, 6500, "CEA-420000-2025-CEA-HB-2025-000005001-000006500"
		}, ErrForged},
		{"another key", func(c *Certificate) {
			other := signer(t, "registry.test")
			if err := Sign(c, other); err != nil {
				t.Fatal(err)
			}
		}, checkpoint.ErrOtherKey},
		{"another account", func(c *Certificate) { c.Account = "HB-STEEL" }, ErrForged},
		{"a proof of another event", func(c *Certificate) { c.InclusionProof[0][0] ^= 1 }, ErrForged},
	} {
		t.Run(c.name, func(t *testing.T) {
			cert := issue(t, s)
			c.forge(cert)
			err := Verify(cert, s.Verifier)
			if !errors.Is(err, c.target) || !errors.Is(err, ErrForged) {
				t.Fatalf("err = %v, want %v", err, c.target)
			}
		})
	}
	t.Run("blocks that do not add up are refused even when signed", func(t *testing.T) {
		cert := issue(t, s)
		cert.Available = 1499
		if err := Sign(cert, s); err != nil {
			t.Fatal(err)
		}
		if err := Verify(cert, s.Verifier); !errors.Is(err, ErrForged) {
			t.Fatalf("err = %v", err)
		}
	})
}
