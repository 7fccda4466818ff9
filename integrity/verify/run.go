package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
)

// Anchor is a signed checkpoint the log must agree with.
type Anchor struct {
	checkpoint.Checkpoint
	// Source says whose checkpoint it is, for messages: "the registry's
	// checkpoint", "the saved checkpoint".
	Source string
}

// Options shape a run of Run.
type Options struct {
	// Tree is the stored tree whose leaves the log is compared with; nil
	// compares none.
	Tree *merkle.View
	// Anchors are signed checkpoints (already checked for their signature)
	// that the log's Merkle roots must match.
	Anchors []Anchor
	// Dense requires positions 1, 2, 3, ... (the store promises them).
	Dense bool
	// Progress, when set, is called after each page of events.
	Progress func(Progress)
	// OnBreak, when set, receives each break as it is found, up to
	// MaxBreaks of them; the rest are only counted.
	OnBreak func(Break)
	// MaxBreaks bounds the breaks reported; 0 means 1000.
	MaxBreaks int
	// PageSize is the number of events read at once; 0 means 4096.
	PageSize int
}

// Progress tells how far a run has come.
type Progress struct {
	// Events is the number of events checked.
	Events uint64
	// Total is the number of events expected (the stored tree's size, or
	// the largest checkpoint's), 0 when unknown; the log may hold more.
	Total uint64
	// Position is the position of the last event checked.
	Position eventstore.Position
}

// Report is the outcome of a run.
type Report struct {
	// Events and Streams are how many were checked.
	Events  uint64
	Streams int
	// Last is the position of the last event; Root the Merkle root of the
	// whole log.
	Last eventstore.Position
	Root []byte
	// Breaks counts every break found, reported or not.
	Breaks uint64
	// Anchors counts the checkpoints the log was compared with.
	Anchors int
}

// Run reads the whole log and checks it (see the package documentation),
// reporting breaks through opts.OnBreak. It returns an error only when it
// could not read the log or the tree.
func Run(ctx context.Context, store eventstore.Store, opts Options) (Report, error) {
	s, err := newScanner(opts)
	if err != nil {
		return Report{}, err
	}
	if err := s.compareTreeWithAnchors(); err != nil {
		return Report{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for pg := range readPages(ctx, store, eventstore.Start, s.opts.PageSize) {
		if pg.err != nil {
			return Report{}, pg.err
		}
		for i := range pg.events {
			if err := s.event(&pg.events[i], pg.chains[i], pg.leaves[i], pg.hashes[i]); err != nil {
				return Report{}, err
			}
		}
		if opts.Progress != nil {
			opts.Progress(Progress{Events: s.index, Total: s.total, Position: s.last})
		}
	}
	return s.finish()
}

// streamState is what the scan remembers of a stream: the revision it
// expects next and the chain value of its last event.
type streamState struct {
	next  uint64
	chain [32]byte
	last  eventstore.Position
}

type scanner struct {
	opts    Options
	streams map[string]*streamState
	tree    *logtree.Builder
	stored  *leafCursor
	anchors []Anchor
	next    int // the next anchor to reach
	// failed holds the sizes of the checkpoints the log disagreed with.
	failed  map[uint64]bool
	index   uint64
	last    eventstore.Position
	total   uint64
	breaks  uint64
	leafBuf []byte
	// seed, when set, fills in the state of a stream whose first event
	// read is not its first: a check of the log's tail starts mid-way.
	seed func(ev *eventstore.RecordedEvent, st *streamState)
}

func newScanner(opts Options) (*scanner, error) {
	if opts.MaxBreaks <= 0 {
		opts.MaxBreaks = 1000
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 4096
	}
	tree, err := logtree.NewBuilder(0, nil)
	if err != nil {
		return nil, err
	}
	s := &scanner{opts: opts, streams: map[string]*streamState{}, tree: tree, anchors: slices.Clone(opts.Anchors), failed: map[uint64]bool{}}
	slices.SortStableFunc(s.anchors, func(a, b Anchor) int { return compareUint(a.Size, b.Size) })
	if opts.Tree != nil {
		s.stored = &leafCursor{tree: opts.Tree}
		s.total = opts.Tree.Size
	}
	if n := len(s.anchors); n > 0 {
		s.total = max(s.total, s.anchors[n-1].Size)
	}
	return s, nil
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *scanner) report(b Break) {
	s.breaks++
	if s.opts.OnBreak != nil && s.breaks <= uint64(s.opts.MaxBreaks) {
		s.opts.OnBreak(b)
	}
}

// event checks one event of the log, the index-th, whose chain value,
// leaf encoding and leaf hash are given.
func (s *scanner) event(ev *eventstore.RecordedEvent, chain eventcodec.Hash, leaf, leafHash []byte) error {
	s.checkPosition(ev)
	s.checkStream(ev, chain)
	s.leafBuf = leaf
	if s.stored != nil {
		if err := s.compareWithTree(ev); err != nil {
			return err
		}
	}
	s.index++
	s.last = ev.Position
	if s.tree == nil {
		return nil
	}
	if err := s.tree.Append(leafHash, nil); err != nil {
		return err
	}
	return s.reachAnchors(ev)
}

func (s *scanner) checkPosition(ev *eventstore.RecordedEvent) {
	p := ev.Position
	switch {
	case s.opts.Dense && (p.Commit != s.index+1 || p.Prepare != p.Commit):
		detail := fmt.Sprintf("the store's positions are dense, so event %d should be at %d/%d", s.index, s.index+1, s.index+1)
		if p.Commit > s.index+1 {
			detail += fmt.Sprintf("; positions %d to %d are missing", s.index+1, p.Commit-1)
		}
		s.report(Break{Kind: PositionGap, Stream: ev.Stream, Revision: ev.Revision, Position: p, Leaf: s.index, Detail: detail})
	case s.index > 0 && !s.last.Before(p):
		s.report(Break{Kind: PositionGap, Stream: ev.Stream, Revision: ev.Revision, Position: p, Leaf: s.index,
			Detail: fmt.Sprintf("the position does not come after the previous event's, %s", s.last)})
	}
}

// checkStream checks the event's revision and chain link against what
// its stream showed so far, then remembers the event.
func (s *scanner) checkStream(ev *eventstore.RecordedEvent, chain [32]byte) {
	st := s.streams[ev.Stream]
	if st == nil {
		st = &streamState{}
		if s.seed != nil && ev.Revision > 0 {
			// The stream began before the part of the log being read.
			s.seed(ev, st)
		}
		// The name is copied: the store's read buffers must not be kept
		// alive by the map.
		s.streams[strings.Clone(ev.Stream)] = st
	}
	at := Break{Stream: ev.Stream, Revision: ev.Revision, Position: ev.Position, Leaf: s.index}
	if ev.Revision != st.next {
		at.Kind, at.Detail = RevisionOutOfOrder, s.revisionDetail(ev, st)
		s.report(at)
	}
	prev, err := previousHash(ev.Metadata)
	switch {
	case err != nil:
		at.Kind, at.Detail = MetadataMalformed, err.Error()
		s.report(at)
	case prev != st.chain:
		at.Kind, at.Detail = ChainBroken, chainDetail(prev, st)
		s.report(at)
	}
	st.next, st.chain, st.last = ev.Revision+1, chain, ev.Position
}

func (s *scanner) revisionDetail(ev *eventstore.RecordedEvent, st *streamState) string {
	if st.next == 0 {
		return fmt.Sprintf("the stream's first event in the log has revision %d, not 0", ev.Revision)
	}
	return fmt.Sprintf("it follows revision %d (at %s), so it should be revision %d", st.next-1, st.last, st.next)
}

func chainDetail(prev [32]byte, st *streamState) string {
	if st.next == 0 {
		return fmt.Sprintf("the stream's first event records previous chain value %x, not the genesis value (zeros)", prev[:8])
	}
	return fmt.Sprintf("it records previous chain value %x…, but the stream's event before it (revision %d at %s) hashes to %x…: that event or this one was altered, removed or moved",
		prev[:8], st.next-1, st.last, st.chain[:8])
}

// page is a page of the log with the chain value, leaf encoding and leaf
// hash of each of its events.
type page struct {
	events []eventstore.RecordedEvent
	chains []eventcodec.Hash
	leaves [][]byte
	hashes [][]byte
	err    error
}

// hash computes the page's chain values, leaves and leaf hashes.
func (pg *page) hash() {
	n := len(pg.events)
	pg.chains, pg.leaves, pg.hashes = make([]eventcodec.Hash, n), make([][]byte, n), make([][]byte, n)
	var buf []byte
	for i := range pg.events {
		ev := &pg.events[i]
		pg.chains[i] = eventcodec.ChainHash(ev.Type, ev.Data, ev.Metadata)
		start := len(buf)
		buf = logtree.Leaf{Position: ev.Position, Stream: ev.Stream, Revision: ev.Revision, Chain: pg.chains[i]}.AppendBinary(buf)
		pg.leaves[i] = buf[start:len(buf):len(buf)]
		pg.hashes[i] = logtree.Hasher.HashLeaf(pg.leaves[i])
	}
}

// readPages reads the log after from in a goroutine of its own, which also
// hashes each event: reading and hashing the next page overlap with the
// checks of this one, on the other core. The channel closes after the last
// page, or after a page with an error.
func readPages(ctx context.Context, store eventstore.Store, from eventstore.Position, size int) <-chan page {
	out := make(chan page, 1)
	go func() {
		defer close(out)
		for {
			evs, err := store.ReadAll(ctx, from, eventstore.Forwards, size, eventstore.Filter{})
			pg := page{events: evs}
			if err != nil {
				pg.err = fmt.Errorf("verify: read the log after %s: %w", from, err)
			}
			pg.hash()
			select {
			case out <- pg:
			case <-ctx.Done():
				return
			}
			if err != nil || len(evs) < size {
				return
			}
			from = evs[len(evs)-1].Position
		}
	}()
	return out
}
