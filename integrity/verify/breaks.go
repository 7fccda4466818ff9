// Package verify checks the registry's recorded history: every stream's
// hash chain and dense revisions, the global log's dense positions where
// the store promises them, the log against the leaves the Merkle tree
// recorded when each event was appended, and the log's Merkle root against
// signed checkpoints. It reports every break it finds, each with the
// stream, revision and position it concerns and what is wrong there.
//
// Run reads the whole log; Tail reads only what was appended after the
// last checkpoint, which a server does at start.
package verify

import (
	"fmt"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Kind says what is wrong at a break.
type Kind int

// The kinds of break.
const (
	// ChainBroken: the event does not record the chain value of the event
	// before it in its stream (that event, or this one's metadata, was
	// altered, removed or moved).
	ChainBroken Kind = iota + 1
	// RevisionOutOfOrder: the stream's revisions do not follow 0, 1, 2, ...
	// in the order of the log.
	RevisionOutOfOrder
	// PositionGap: on a store whose positions are dense, a position is
	// missing or repeated.
	PositionGap
	// MetadataMalformed: the event's envelope does not decode.
	MetadataMalformed
	// LeafMismatch: the event is not the one the tree recorded at its place
	// in the log when it was appended.
	LeafMismatch
	// EventMissing: the tree or a signed checkpoint covers an event the log
	// no longer has.
	EventMissing
	// CheckpointMismatch: the Merkle root of the log's first N events is
	// not the root a signed checkpoint of size N states.
	CheckpointMismatch
	// TreeMismatch: the stored tree's root disagrees with a signed
	// checkpoint.
	TreeMismatch
)

var kindNames = map[Kind]string{
	ChainBroken: "chain broken", RevisionOutOfOrder: "revision out of order", PositionGap: "position gap",
	MetadataMalformed: "metadata malformed", LeafMismatch: "event differs from the tree",
	EventMissing: "event missing", CheckpointMismatch: "checkpoint mismatch", TreeMismatch: "tree mismatch",
}

// String names the kind.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind %d", int(k))
}

// Break is one thing found wrong with the recorded history.
type Break struct {
	Kind Kind
	// Stream, Revision and Position locate the event concerned; Stream is
	// empty when no one event can be named (a checkpoint covering a range).
	Stream   string
	Revision uint64
	Position eventstore.Position
	// Leaf is the event's index in the log (its leaf in the tree).
	Leaf uint64
	// Detail says what is wrong, in a sentence.
	Detail string
}

// String describes the break on one line.
func (b Break) String() string {
	if b.Stream == "" {
		return fmt.Sprintf("%s at position %s (event %d): %s", b.Kind, b.Position, b.Leaf, b.Detail)
	}
	return fmt.Sprintf("%s: %s revision %d at position %s (event %d): %s", b.Kind, b.Stream, b.Revision, b.Position, b.Leaf, b.Detail)
}
