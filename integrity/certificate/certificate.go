// Package certificate makes and checks holding certificates: a statement,
// signed by the registry's key, of what one account holds of one right at
// one position of the log, with the serial blocks in each state, backed by
// a signed checkpoint and the Merkle inclusion proof of the last event that
// changed the holding. A bank or a court checks one offline with the
// registry's public key alone (Verify).
//
// The statement is the certificate's Text, signed as a note
// (golang.org/x/mod/sumdb/note); every other field of the certificate
// restates it, and Verify renders the text again from the fields and
// insists it is exactly what was signed, so that no field can be changed
// without the signature failing.
package certificate

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Title is the first line of every certificate's text; it changes with the
// format.
const Title = "ecoregistry holding certificate v1"

// The states of a block, in the order certificates list them.
var States = []string{"available", "pledged", "frozen", "reserved", "retired"}

// Block is a run of serial numbers the account holds in one state.
type Block struct {
	State      string
	Start, End int64
	// Serial is the block's serial number, e.g.
	// CEA-420000-2025-CEA-HB-2025-000001001-000002500.
	Serial string
}

// Quantity is the number of units in the block.
func (b Block) Quantity() int64 { return b.End - b.Start + 1 }

// Change is the last event that changed the holding before the position
// the certificate is valid at.
type Change struct {
	Stream   string
	Revision uint64
	Position eventstore.Position
	// Leaf is the event's index in the log: its leaf in the Merkle tree.
	Leaf uint64
	// Type is the event's type, e.g. UnitsTransferred.
	Type string
	// Chain is the event's hash-chain value.
	Chain eventcodec.Hash
}

// Certificate is a signed statement of one holding.
type Certificate struct {
	// Registry is the registry's name: its key's name and its checkpoints'
	// origin.
	Registry  string
	Account   string
	Right     string
	RightType string
	Unit      string
	// Totals by state, and the blocks of each state.
	Available, Pledged, Frozen, Reserved, Retired int64
	Blocks                                        []Block
	// ValidAt is the position of the log the holding is stated at: the last
	// event the checkpoint covers. StreamRevision is the right stream's
	// revision there.
	ValidAt        eventstore.Position
	StreamRevision uint64
	IssuedAt       time.Time
	// LastChange is nil when the account never held units of the right.
	LastChange *Change
	// TreeSize and Root restate the checkpoint; Checkpoint is its signed
	// note.
	TreeSize   uint64
	Root       []byte
	Checkpoint string
	// InclusionProof proves LastChange's leaf in the tree of TreeSize.
	InclusionProof [][]byte
	// Signed is the signed note of Text.
	Signed string
}

// Total returns the total of a state.
func (c *Certificate) Total(state string) int64 {
	switch state {
	case "available":
		return c.Available
	case "pledged":
		return c.Pledged
	case "frozen":
		return c.Frozen
	case "reserved":
		return c.Reserved
	case "retired":
		return c.Retired
	}
	return 0
}

// Text renders the statement that is signed: one fact per line.
func (c *Certificate) Text() string {
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	line("%s", Title)
	line("Registry: %s", c.Registry)
	line("Account: %s", c.Account)
	line("Right: %s", c.Right)
	line("Right type: %s", c.RightType)
	line("Unit: %s", c.Unit)
	for _, s := range States {
		line("%s: %d", strings.ToUpper(s[:1])+s[1:], c.Total(s))
	}
	for _, bl := range c.Blocks {
		line("Block: %s %d-%d %d %s", bl.State, bl.Start, bl.End, bl.Quantity(), bl.Serial)
	}
	line("Valid at: position %s, revision %d of right-%s", c.ValidAt, c.StreamRevision, c.Right)
	if ch := c.LastChange; ch != nil {
		line("Last change: %s revision %d at position %s, event %d, %s, chain value %s",
			ch.Stream, ch.Revision, ch.Position, ch.Leaf, ch.Type, hex.EncodeToString(ch.Chain[:]))
	} else {
		line("Last change: none (the account never held units of this right)")
	}
	line("Checkpoint: %s size %d root %s", c.Registry, c.TreeSize, base64.StdEncoding.EncodeToString(c.Root))
	line("Issued at: %s", c.IssuedAt.UTC().Format(time.RFC3339Nano))
	return b.String()
}
