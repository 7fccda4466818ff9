package verify

import (
	"bytes"
	"fmt"

	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
)

var previousHash = eventcodec.PreviousHash

// leafCursor reads the stored tree's leaves in order, a chunk at a time.
type leafCursor struct {
	tree  *merkle.View
	next  uint64   // index of chunk[0]
	chunk [][]byte // leaves next, next+1, ...
	buf   []byte
}

const leafChunk = 4096

// peek returns the leaf the cursor is at, and false past the tree's end.
func (c *leafCursor) peek() (logtree.Leaf, []byte, bool, error) {
	if len(c.chunk) == 0 {
		if c.next >= c.tree.Size {
			return logtree.Leaf{}, nil, false, nil
		}
		if err := c.fill(); err != nil {
			return logtree.Leaf{}, nil, false, err
		}
	}
	l, err := logtree.ParseLeaf(c.chunk[0])
	return l, c.chunk[0], true, err
}

func (c *leafCursor) advance() {
	c.chunk = c.chunk[1:]
	c.next++
}

func (c *leafCursor) fill() error {
	c.buf, c.chunk = c.buf[:0], c.chunk[:0]
	var ends []int
	err := c.tree.Leaves(c.next, c.next+leafChunk, func(_ uint64, leaf []byte) error {
		c.buf = append(c.buf, leaf...)
		ends = append(ends, len(c.buf))
		return nil
	})
	start := 0
	for _, end := range ends {
		c.chunk = append(c.chunk, c.buf[start:end:end])
		start = end
	}
	return err
}

// compareWithTree matches the event with the stored leaf of its position:
// stored leaves of earlier positions are events the log lost; a leaf of
// the same position must be the event's; no leaf at the position means
// the event was added after the fact.
func (s *scanner) compareWithTree(ev *eventstore.RecordedEvent) error {
	for {
		stored, raw, ok, err := s.stored.peek()
		if err != nil {
			return fmt.Errorf("verify: read the stored tree: %w", err)
		}
		if !ok {
			return nil
		}
		switch c := stored.Position.Compare(ev.Position); {
		case c < 0:
			s.missing(stored, s.stored.next, "the tree recorded it when it was appended, and the log no longer has it")
			s.stored.advance()
			continue
		case c == 0:
			if !bytes.Equal(raw, s.leafBuf) {
				s.report(Break{Kind: LeafMismatch, Stream: ev.Stream, Revision: ev.Revision, Position: ev.Position, Leaf: s.index,
					Detail: leafDetail(stored, ev, s.leafBuf)})
			}
			s.stored.advance()
		default:
			s.report(Break{Kind: LeafMismatch, Stream: ev.Stream, Revision: ev.Revision, Position: ev.Position, Leaf: s.index,
				Detail: fmt.Sprintf("the tree has no leaf at this position (its next leaf is at %s): the event was added after the fact", stored.Position)})
		}
		return nil
	}
}

func (s *scanner) missing(l logtree.Leaf, index uint64, why string) {
	s.report(Break{Kind: EventMissing, Stream: l.Stream, Revision: l.Revision, Position: l.Position, Leaf: index, Detail: why})
}

func leafDetail(stored logtree.Leaf, ev *eventstore.RecordedEvent, now []byte) string {
	got, _ := logtree.ParseLeaf(now)
	if stored.Stream != got.Stream || stored.Revision != got.Revision {
		return fmt.Sprintf("the tree recorded %s revision %d at this position when it was appended; the log now has %s revision %d here: events were moved",
			stored.Stream, stored.Revision, got.Stream, got.Revision)
	}
	return fmt.Sprintf("the event's chain value is %x…, but the tree recorded %x… when it was appended: its type, data or metadata changed since",
		got.Chain[:8], stored.Chain[:8])
}

// compareTreeWithAnchors checks the stored tree's roots against the
// signed checkpoints it covers (the scan's, when none is given).
func (s *scanner) compareTreeWithAnchors(anchors ...*Anchor) error {
	if s.stored == nil {
		return nil
	}
	if len(anchors) == 0 {
		for i := range s.anchors {
			anchors = append(anchors, &s.anchors[i])
		}
	}
	for _, a := range anchors {
		if a.Size > s.stored.tree.Size {
			continue
		}
		root, err := s.stored.tree.Root(a.Size)
		if err != nil {
			return fmt.Errorf("verify: the stored tree's root at %d: %w", a.Size, err)
		}
		if !bytes.Equal(root, a.Root) {
			s.report(Break{Kind: TreeMismatch, Position: a.Last, Leaf: a.Size - 1,
				Detail: fmt.Sprintf("the stored tree's root of %d events is %x…, but %s of that size (signed %s) states %x…: the tree was rebuilt from a log that changed",
					a.Size, root[:8], a.Source, a.Time.Format("2006-01-02T15:04:05Z07:00"), a.Root[:8])})
		}
	}
	return nil
}
