package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
)

// Tail checks the part of the log after the latest signed checkpoint,
// quickly enough to run at every start: the checkpoint's last event is
// still where it was and is the one the checkpoint signed (proved by the
// stored tree's inclusion proof, when the tree reaches it); the events
// after it continue their streams' chains and revisions (from each
// stream's event before them, read from the store), have dense positions
// where the store promises them, and match the leaves the tree recorded;
// and no event the tree recorded is missing. With no checkpoint the whole
// log is the tail. Breaks go to opts.OnBreak; opts.Anchors are ignored.
func Tail(ctx context.Context, store eventstore.Store, latest *Anchor, opts Options) (Report, error) {
	if latest == nil || latest.Size == 0 {
		opts.Anchors = nil
		return Run(ctx, store, opts)
	}
	opts.Anchors = nil
	s, err := newScanner(opts)
	if err != nil {
		return Report{}, err
	}
	s.tree, s.index, s.last, s.total = nil, latest.Size, latest.Last, 0
	s.seed = func(ev *eventstore.RecordedEvent, st *streamState) { s.seedStream(ctx, store, ev, st) }
	if s.stored != nil {
		s.stored.next = min(latest.Size, s.stored.tree.Size)
	}
	// The first page is read alone: the checkpoint's last event is found
	// from it.
	first, err := store.ReadAll(ctx, latest.Last, eventstore.Forwards, 1, eventstore.Filter{})
	if err != nil {
		return Report{}, fmt.Errorf("verify: read the log after %s: %w", latest.Last, err)
	}
	if err := s.checkAnchorEvent(ctx, store, latest, first); err != nil {
		return Report{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for pg := range readPages(ctx, store, latest.Last, s.opts.PageSize) {
		if pg.err != nil {
			return Report{}, pg.err
		}
		for i := range pg.events {
			if err := s.event(&pg.events[i], pg.chains[i], pg.leaves[i], pg.hashes[i]); err != nil {
				return Report{}, err
			}
		}
	}
	return s.finish()
}

// checkAnchorEvent finds the checkpoint's last event, the one just before
// the tail, and checks that the checkpoint signed it.
func (s *scanner) checkAnchorEvent(ctx context.Context, store eventstore.Store, a *Anchor, tail []eventstore.RecordedEvent) error {
	before := eventstore.End
	if len(tail) > 0 {
		before = tail[0].Position
	}
	evs, err := store.ReadAll(ctx, before, eventstore.Backwards, 1, eventstore.Filter{})
	if err != nil {
		return fmt.Errorf("verify: read the event before %s: %w", before, err)
	}
	if len(evs) == 0 || evs[0].Position != a.Last {
		s.anchorEventMissing(a, evs)
		return nil
	}
	if s.stored == nil || s.stored.tree.Size < a.Size {
		// The tree has not reached the checkpoint (it is being rebuilt, or
		// lost its last commits in a crash): the full check covers it.
		return nil
	}
	ev := &evs[0]
	leaf := logtree.LeafOf(ev)
	proof, err := s.stored.tree.InclusionProof(a.Size-1, a.Size)
	if err != nil {
		return fmt.Errorf("verify: inclusion proof of event %d: %w", a.Size-1, err)
	}
	if logtree.VerifyInclusion(leaf.Hash(), a.Size-1, a.Size, proof, a.Root) == nil {
		return nil
	}
	if err := s.compareTreeWithAnchors(a); err != nil {
		return err
	}
	s.report(Break{Kind: LeafMismatch, Stream: ev.Stream, Revision: ev.Revision, Position: ev.Position, Leaf: a.Size - 1,
		Detail: fmt.Sprintf("%s signed a different event %d at this position: it was altered since", a.Source, a.Size-1)})
	return nil
}

// anchorEventMissing reports a log that no longer reaches the checkpoint's
// last event, naming the events the tree knew there.
func (s *scanner) anchorEventMissing(a *Anchor, evs []eventstore.RecordedEvent) {
	end := "the log is empty"
	if len(evs) > 0 {
		end = fmt.Sprintf("the event before the tail is at %s", evs[0].Position)
	}
	s.report(Break{Kind: EventMissing, Position: a.Last, Leaf: a.Size - 1,
		Detail: fmt.Sprintf("%s (signed %s) covers %d events, to %s, and %s: the events after it were removed",
			a.Source, a.Time.Format("2006-01-02T15:04:05Z07:00"), a.Size, a.Last, end)})
	if s.stored == nil || len(evs) == 0 {
		return
	}
	// The tree's leaves after the log's last event name what was removed;
	// the rest of the scan (finish) names the leaves from the checkpoint on.
	for i := s.firstLeafAfter(evs[0].Position); i < min(a.Size, s.stored.tree.Size); i++ {
		if l, err := s.stored.tree.Leaf(i); err == nil {
			s.missing(l, i, fmt.Sprintf("%s covers it, and the log no longer has it", a.Source))
		}
	}
}

// firstLeafAfter returns the index of the stored tree's first leaf after
// position p.
func (s *scanner) firstLeafAfter(p eventstore.Position) uint64 {
	lo, hi := uint64(0), s.stored.tree.Size
	for lo < hi {
		mid := lo + (hi-lo)/2
		l, err := s.stored.tree.Leaf(mid)
		if err != nil {
			return hi
		}
		if l.Position.Compare(p) <= 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// seedStream reads the event before ev in its stream, so that the chain
// and revision of a stream that began before the tail can be checked.
func (s *scanner) seedStream(ctx context.Context, store eventstore.Store, ev *eventstore.RecordedEvent, st *streamState) {
	prev, err := store.ReadStream(ctx, ev.Stream, ev.Revision-1, eventstore.Forwards, 1)
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		s.report(Break{Kind: ChainBroken, Stream: ev.Stream, Revision: ev.Revision, Position: ev.Position, Leaf: s.index,
			Detail: fmt.Sprintf("the stream's revision %d could not be read to check the chain: %v", ev.Revision-1, err)})
		return
	}
	if len(prev) == 0 || prev[0].Revision != ev.Revision-1 {
		// Leave the state empty: the checks report the gap and the chain.
		return
	}
	st.next, st.chain, st.last = ev.Revision, logtree.LeafOf(&prev[0]).Chain, prev[0].Position
}
