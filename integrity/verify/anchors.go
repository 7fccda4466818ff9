package verify

import (
	"bytes"
	"fmt"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// reachAnchors compares the log's root with each checkpoint whose size the
// scan has just reached.
func (s *scanner) reachAnchors(ev *eventstore.RecordedEvent) error {
	for s.next < len(s.anchors) && s.anchors[s.next].Size <= s.index {
		a := s.anchors[s.next]
		s.next++
		if a.Size < s.index {
			continue // a checkpoint of size 0
		}
		root, err := s.tree.Root()
		if err != nil {
			return err
		}
		if !bytes.Equal(root, a.Root) || a.Last != ev.Position {
			s.failed[a.Size] = true
			s.report(Break{Kind: CheckpointMismatch, Position: ev.Position, Leaf: s.index - 1, Detail: s.anchorDetail(a, root, ev.Position)})
		}
	}
	return nil
}

func (s *scanner) anchorDetail(a Anchor, root []byte, at eventstore.Position) string {
	what := fmt.Sprintf("the log's first %d events (to %s) hash to %x…, but %s of that size (signed %s, to %s) states %x…",
		a.Size, at, root[:8], a.Source, a.Time.Format("2006-01-02T15:04:05Z07:00"), a.Last, a.Root[:8])
	if prev := s.previousAnchor(a); prev != nil {
		return what + fmt.Sprintf("; the events that changed lie after event %d (%s), where %s agreed", prev.Size, prev.Last, prev.Source)
	}
	return what + "; history was rewritten at or before this position"
}

// previousAnchor returns the largest checkpoint smaller than a that the
// log agreed with, if any.
func (s *scanner) previousAnchor(a Anchor) *Anchor {
	var best *Anchor
	for i := range s.anchors[:s.next] {
		c := &s.anchors[i]
		if c.Size < a.Size && c.Size > 0 && !s.failed[c.Size] {
			best = c
		}
	}
	return best
}

// finish reports what the log lacks: the events the stored tree and the
// checkpoints cover beyond its end.
func (s *scanner) finish() (Report, error) {
	if s.stored != nil {
		for {
			l, _, ok, err := s.stored.peek()
			if err != nil {
				return Report{}, fmt.Errorf("verify: read the stored tree: %w", err)
			}
			if !ok {
				break
			}
			s.missing(l, s.stored.next, fmt.Sprintf("the tree recorded it when it was appended; the log ends at %s", s.last))
			s.stored.advance()
		}
	}
	for _, a := range s.anchors[s.next:] {
		s.report(Break{Kind: EventMissing, Position: a.Last, Leaf: a.Size - 1,
			Detail: fmt.Sprintf("%s (signed %s) covers %d events, to %s; the log has only %d, to %s: the events after it were removed",
				a.Source, a.Time.Format("2006-01-02T15:04:05Z07:00"), a.Size, a.Last, s.index, s.last)})
	}
	var root []byte
	if s.tree != nil {
		var err error
		if root, err = s.tree.Root(); err != nil {
			return Report{}, err
		}
	}
	return Report{Events: s.index, Streams: len(s.streams), Last: s.last, Root: root, Breaks: s.breaks, Anchors: len(s.anchors)}, nil
}
