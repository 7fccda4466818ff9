package verify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/verify"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
)

// fixture is a log of a few interleaved streams with valid chains, its
// Merkle tree read model, and a signing key.
type fixture struct {
	dir    string
	store  eventstore.Store
	m      *projections.Manager
	tree   *merkle.Queries
	signer *checkpoint.Signer
	heads  map[string]eventcodec.Hash
	revs   map[string]uint64
	// views are closed before the tree's store.
	views []*merkle.View
}

var streams = []string{"account-HB-STEEL", "right-CEA-HB-2025", "right-WUR-HB-2026"}

func newFixture(t *testing.T, store eventstore.Store, dir string) *fixture {
	t.Helper()
	skey, _, err := checkpoint.GenerateKey("registry.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := checkpoint.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: dir, store: store, signer: signer, heads: map[string]eventcodec.Hash{}, revs: map[string]uint64{}}
	f.openTree(t)
	return f
}

func openPebble(t *testing.T, dir string) eventstore.Store {
	t.Helper()
	s, err := pebblestore.Open(dir+"/events", pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) openTree(t *testing.T) {
	t.Helper()
	m, err := projections.Open(f.dir+"/read", f.store, []projections.Projection{merkle.New()}, projections.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	r, _ := m.Runner(merkle.Name)
	f.m, f.tree = m, merkle.NewQueries(r)
}

// appendEvents appends n events, one per append, to the streams in turn.
func (f *fixture) appendEvents(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		stream := streams[i%len(streams)]
		md, _ := eventcodec.EncodeMetadata(eventcodec.Envelope{Actor: "office", OccurredAt: time.Unix(1_800_000_000+int64(i), 0), PreviousHash: f.heads[stream]})
		ev := eventstore.EventData{ID: uuid.New(), Type: "UnitsTransferred", ContentType: eventcodec.ContentType,
			Data: []byte(fmt.Sprintf("quantity=%d", 100+i)), Metadata: md}
		expected := eventstore.NoStream()
		if rev, ok := f.revs[stream]; ok {
			expected = eventstore.Exact(rev)
		}
		res, err := f.store.Append(t.Context(), stream, expected, ev)
		if err != nil {
			t.Fatal(err)
		}
		f.revs[stream] = res.NextExpectedRevision
		f.heads[stream] = eventcodec.ChainHash(ev.Type, ev.Data, ev.Metadata)
	}
}

// view waits for the tree to reach the log's head and returns it.
func (f *fixture) view(t *testing.T) *merkle.View {
	t.Helper()
	head, err := projections.Head(t.Context(), f.store)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	v, err := f.tree.View(ctx, &head)
	if err != nil {
		t.Fatal(err)
	}
	f.views = append(f.views, v)
	return v
}

// checkpoint signs a checkpoint of the tree's first size leaves and
// returns it as a verified anchor, as a regulator's saved copy would be.
func (f *fixture) checkpoint(t *testing.T, size uint64) verify.Anchor {
	t.Helper()
	v := f.view(t)
	root, err := v.Root(size)
	if err != nil {
		t.Fatal(err)
	}
	last, err := v.Leaf(size - 1)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := checkpoint.Sign(f.signer, checkpoint.Checkpoint{Origin: f.signer.Name(), Size: size, Root: root, Last: last.Position, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := checkpoint.Open(signed, f.signer.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	return verify.Anchor{Checkpoint: c, Source: "the saved checkpoint"}
}

func (f *fixture) close(t *testing.T) {
	t.Helper()
	for _, v := range f.views {
		v.Close()
	}
	f.views = nil
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
}

// tamper closes the fixture, changes the embedded store's directory with
// change, and opens it all again.
func (f *fixture) tamper(t *testing.T, change func(tp *pebblestore.Tamperer)) {
	t.Helper()
	f.close(t)
	tp, err := pebblestore.OpenTamperer(f.dir + "/events")
	if err != nil {
		t.Fatal(err)
	}
	change(tp)
	if err := tp.Close(); err != nil {
		t.Fatal(err)
	}
	f.store = openPebble(t, f.dir)
	f.openTree(t)
	t.Cleanup(func() { f.close(t) })
}

func (f *fixture) run(t *testing.T, withTree bool, anchors ...verify.Anchor) ([]verify.Break, verify.Report) {
	t.Helper()
	_, dense := f.store.(*pebblestore.Store)
	opts := verify.Options{Anchors: anchors, Dense: dense}
	if withTree {
		opts.Tree = f.currentView(t)
	}
	var breaks []verify.Break
	opts.OnBreak = func(b verify.Break) { breaks = append(breaks, b) }
	rep, err := verify.Run(t.Context(), f.store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return breaks, rep
}

// currentView is the tree as committed, without waiting for the log's head
// (which a truncated log no longer reaches).
func (f *fixture) currentView(t *testing.T) *merkle.View {
	t.Helper()
	v, err := f.tree.View(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.views = append(f.views, v)
	return v
}

func expectBreak(t *testing.T, breaks []verify.Break, kind verify.Kind, stream string, rev, pos uint64) {
	t.Helper()
	for _, b := range breaks {
		if b.Kind == kind && b.Stream == stream && b.Revision == rev && b.Position.Commit == pos {
			return
		}
	}
	t.Fatalf("no %q break at %s revision %d position %d among:\n%s", kind, stream, rev, pos, describe(breaks))
}

func describe(breaks []verify.Break) string {
	var lines []string
	for _, b := range breaks {
		lines = append(lines, "  "+b.String())
	}
	return strings.Join(lines, "\n")
}

func newTampered(t *testing.T) (*fixture, verify.Anchor) {
	t.Helper()
	dir := t.TempDir()
	f := newFixture(t, openPebble(t, dir), dir)
	f.appendEvents(t, 60)
	f.view(t)
	return f, f.checkpoint(t, 60)
}

func isPebble(s eventstore.Store) bool {
	_, ok := s.(*pebblestore.Store)
	return ok
}
