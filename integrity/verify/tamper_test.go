package verify_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/integrity/verify"
)

// In the fixture's log, position p holds revision (p-1)/3 of stream
// streams[(p-1)%3].

func flipByte(t *testing.T, pos uint64) func(tp *pebblestore.Tamperer) {
	return func(tp *pebblestore.Tamperer) {
		ev, err := tp.Event(pos)
		if err != nil {
			t.Fatal(err)
		}
		ev.Data[0] ^= 0x01
		if err := tp.Rewrite(pos, ev); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnIntactLogHasNoBreak(t *testing.T) {
	f, saved := newTampered(t)
	defer f.close(t)
	breaks, rep := f.run(t, true, saved)
	if len(breaks) > 0 || rep.Events != 60 || rep.Streams != 3 {
		t.Fatalf("%d events, %d streams, breaks:\n%s", rep.Events, rep.Streams, describe(breaks))
	}
	root, _ := f.view(t).Root(60)
	if !bytes.Equal(rep.Root, root) {
		t.Fatalf("the log's root %x differs from the tree's %x", rep.Root, root)
	}
}

func TestOneByteFlippedIsFoundAtItsEvent(t *testing.T) {
	f, saved := newTampered(t)
	f.tamper(t, flipByte(t, 20))
	breaks, _ := f.run(t, true, saved)
	if b := breaks[0]; b.Kind != verify.LeafMismatch || b.Stream != "right-CEA-HB-2025" || b.Revision != 6 || b.Position.Commit != 20 {
		t.Fatalf("first break %s, want the altered event right-CEA-HB-2025 revision 6 at 20", b)
	}
	expectBreak(t, breaks, verify.ChainBroken, "right-CEA-HB-2025", 7, 23)
	t.Run("without the tree, the chain and the checkpoint find it", func(t *testing.T) {
		breaks, _ := f.run(t, false, saved)
		expectBreak(t, breaks, verify.ChainBroken, "right-CEA-HB-2025", 7, 23)
		expectKind(t, breaks, verify.CheckpointMismatch)
	})
}

func TestAStreamRewrittenWithARecomputedChainIsFound(t *testing.T) {
	f, saved := newTampered(t)
	f.tamper(t, func(tp *pebblestore.Tamperer) {
		prev := eventcodec.GenesisHash
		for pos := uint64(3); pos <= 60; pos += 3 {
			ev, err := tp.Event(pos)
			if err != nil {
				t.Fatal(err)
			}
			env, _ := eventcodec.DecodeMetadata(ev.Metadata)
			env.PreviousHash = prev
			ev.Metadata, _ = eventcodec.EncodeMetadata(env)
			ev.Data = append([]byte("forged "), ev.Data...)
			prev = eventcodec.ChainHash(ev.Type, ev.Data, ev.Metadata)
			if err := tp.Rewrite(pos, ev); err != nil {
				t.Fatal(err)
			}
		}
	})
	breaks, _ := f.run(t, true, saved)
	if b := breaks[0]; b.Kind != verify.LeafMismatch || b.Stream != "right-WUR-HB-2026" || b.Revision != 0 || b.Position.Commit != 3 {
		t.Fatalf("first break %s, want right-WUR-HB-2026 revision 0 at 3", b)
	}
	expectBreak(t, breaks, verify.LeafMismatch, "right-WUR-HB-2026", 19, 60)
	expectKind(t, breaks, verify.CheckpointMismatch)
	for _, b := range breaks {
		if b.Kind == verify.ChainBroken {
			t.Fatalf("the recomputed chain verifies, yet %s", b)
		}
	}
	t.Run("a tree rebuilt from the rewritten log disagrees with the saved checkpoint", func(t *testing.T) {
		for _, v := range f.views {
			v.Close()
		}
		f.views = nil
		f.m.Close()
		if err := os.RemoveAll(f.dir + "/read"); err != nil {
			t.Fatal(err)
		}
		f.openTree(t)
		f.view(t)
		breaks, _ := f.run(t, true, saved)
		expectKind(t, breaks, verify.TreeMismatch)
		expectKind(t, breaks, verify.CheckpointMismatch)
	})
}

func TestTheLastEventsRemovedAreNamed(t *testing.T) {
	f, saved := newTampered(t)
	f.tamper(t, func(tp *pebblestore.Tamperer) {
		if err := tp.Truncate(55); err != nil {
			t.Fatal(err)
		}
	})
	breaks, rep := f.run(t, true, saved)
	if rep.Events != 55 {
		t.Fatalf("the log has %d events, want 55", rep.Events)
	}
	expectBreak(t, breaks, verify.EventMissing, "right-CEA-HB-2025", 18, 56)
	expectBreak(t, breaks, verify.EventMissing, "right-WUR-HB-2026", 19, 60)
	t.Run("against the saved checkpoint alone", func(t *testing.T) {
		breaks, _ := f.run(t, false, saved)
		if len(breaks) != 1 || breaks[0].Kind != verify.EventMissing || breaks[0].Position.Commit != 60 {
			t.Fatalf("breaks:\n%s", describe(breaks))
		}
	})
	t.Run("the check of the tail at start finds it", func(t *testing.T) {
		breaks := f.tail(t, saved)
		expectBreak(t, breaks, verify.EventMissing, "right-CEA-HB-2025", 18, 56)
		expectBreak(t, breaks, verify.EventMissing, "right-WUR-HB-2026", 19, 60)
	})
}

func TestTwoEventsSwappedAreFoundAtBothPlaces(t *testing.T) {
	f, saved := newTampered(t)
	f.tamper(t, func(tp *pebblestore.Tamperer) {
		a, err := tp.Event(10)
		if err != nil {
			t.Fatal(err)
		}
		b, err := tp.Event(30)
		if err != nil {
			t.Fatal(err)
		}
		if tp.Rewrite(10, b) != nil || tp.Rewrite(30, a) != nil {
			t.Fatal("rewrite failed")
		}
	})
	breaks, _ := f.run(t, true, saved)
	expectBreak(t, breaks, verify.LeafMismatch, "right-WUR-HB-2026", 9, 10)
	expectBreak(t, breaks, verify.LeafMismatch, "account-HB-STEEL", 3, 30)
	expectBreak(t, breaks, verify.RevisionOutOfOrder, "right-WUR-HB-2026", 9, 10)
	expectKind(t, breaks, verify.CheckpointMismatch)
}

func TestTheTailAfterTheLastCheckpoint(t *testing.T) {
	setUp := func(t *testing.T) (*fixture, verify.Anchor) {
		f, _ := newTampered(t)
		return f, f.checkpoint(t, 40)
	}
	t.Run("an intact tail has no break", func(t *testing.T) {
		f, last := setUp(t)
		defer f.close(t)
		if breaks := f.tail(t, last); len(breaks) > 0 {
			t.Fatalf("breaks:\n%s", describe(breaks))
		}
	})
	t.Run("an event after the checkpoint altered", func(t *testing.T) {
		f, last := setUp(t)
		f.tamper(t, flipByte(t, 50))
		breaks := f.tail(t, last)
		expectBreak(t, breaks, verify.LeafMismatch, "right-CEA-HB-2025", 16, 50)
		expectBreak(t, breaks, verify.ChainBroken, "right-CEA-HB-2025", 17, 53)
	})
	t.Run("the checkpoint's own last event altered", func(t *testing.T) {
		f, last := setUp(t)
		f.tamper(t, flipByte(t, 40))
		breaks := f.tail(t, last)
		expectBreak(t, breaks, verify.LeafMismatch, "account-HB-STEEL", 13, 40)
	})
}

func (f *fixture) tail(t *testing.T, last verify.Anchor) []verify.Break {
	t.Helper()
	var breaks []verify.Break
	_, err := verify.Tail(t.Context(), f.store, &last, verify.Options{Tree: f.currentView(t), Dense: isPebble(f.store),
		OnBreak: func(b verify.Break) { breaks = append(breaks, b) }})
	if err != nil {
		t.Fatal(err)
	}
	return breaks
}

func expectKind(t *testing.T, breaks []verify.Break, kind verify.Kind) {
	t.Helper()
	for _, b := range breaks {
		if b.Kind == kind {
			return
		}
	}
	t.Fatalf("no %q break among:\n%s", kind, describe(breaks))
}

func TestVerificationOnEventStoreDB(t *testing.T) {
	store, err := esdbstore.Open(t.Context(), esdbfake.Start(t).URL(), esdbstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, store, t.TempDir())
	defer f.close(t)
	f.appendEvents(t, 30)
	f.view(t)
	saved := f.checkpoint(t, 30)
	mid := f.checkpoint(t, 12)
	breaks, rep := f.run(t, true, saved, mid)
	if len(breaks) > 0 || rep.Events != 30 || rep.Anchors != 2 {
		t.Fatalf("%d events, %d anchors, breaks:\n%s", rep.Events, rep.Anchors, describe(breaks))
	}
	if breaks := f.tail(t, mid); len(breaks) > 0 {
		t.Fatalf("tail breaks:\n%s", describe(breaks))
	}
	_ = eventstore.Start
}
