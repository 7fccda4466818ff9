package verify_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/integrity/verify"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
)

// writeLog appends n events over streams streams, 1000 events per append,
// each with a 200-byte payload and a real chained envelope: the size of a
// settled trade as the registry stores it.
func writeLog(b *testing.B, store eventstore.Store, n, streams int) {
	b.Helper()
	heads := make([]eventcodec.Hash, streams)
	revs := make([]int64, streams)
	for i := range revs {
		revs[i] = -1
	}
	data := make([]byte, 200)
	for written := 0; written < n; {
		s := (written / 1000) % streams
		batch := make([]eventstore.EventData, 0, 1000)
		for range min(1000, n-written) {
			md, _ := eventcodec.EncodeMetadata(eventcodec.Envelope{Actor: "exchange.hbex", OccurredAt: time.Unix(1_800_000_000, int64(written)),
				CorrelationID: "5f0c7d2e-8c7b-4a43-9d7e-0d7a6c1b2f3a", CommandID: fmt.Sprintf("T-%d", written), PreviousHash: heads[s]})
			data[0], data[1] = byte(written), byte(written>>8)
			ev := eventstore.EventData{ID: uuid.New(), Type: "TradeSettled", ContentType: eventcodec.ContentType, Data: append([]byte(nil), data...), Metadata: md}
			heads[s] = eventcodec.ChainHash(ev.Type, ev.Data, ev.Metadata)
			batch = append(batch, ev)
			written++
		}
		expected := eventstore.NoStream()
		if revs[s] >= 0 {
			expected = eventstore.Exact(uint64(revs[s]))
		}
		res, err := store.Append(context.Background(), fmt.Sprintf("right-R%04d", s), expected, batch...)
		if err != nil {
			b.Fatal(err)
		}
		revs[s] = int64(res.NextExpectedRevision)
	}
}

// BenchmarkVerify measures a full verification of a 1M-event log on the
// embedded store: every chain, dense positions, every event against the
// stored tree's leaf, and the roots of 100 checkpoints. Run it with
//
//	go test ./integrity/verify -run '^$' -bench Verify -benchtime 3x
func BenchmarkVerify(b *testing.B) {
	const events = 1_000_000
	dir := b.TempDir()
	store, err := pebblestore.Open(dir+"/events", pebblestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	writeLog(b, store, events, 1000)
	m, err := projections.Open(dir+"/read", store, []projections.Projection{merkle.New()}, projections.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	m.Start()
	r, _ := m.Runner(merkle.Name)
	head, _ := projections.Head(context.Background(), store)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	v, err := merkle.NewQueries(r).View(ctx, &head)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	var anchors []verify.Anchor
	for size := uint64(events / 100); size <= events; size += events / 100 {
		root, _ := v.Root(size)
		last, _ := v.Leaf(size - 1)
		anchors = append(anchors, verify.Anchor{Source: "checkpoint"})
		anchors[len(anchors)-1].Size, anchors[len(anchors)-1].Root, anchors[len(anchors)-1].Last = size, root, last.Position
	}
	for _, withTree := range []bool{true, false} {
		b.Run(fmt.Sprintf("events=%d/tree=%v", events, withTree), func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				opts := verify.Options{Anchors: anchors, Dense: true, OnBreak: func(br verify.Break) { b.Fatal(br) }}
				if withTree {
					opts.Tree = v
				}
				before := cpuTime()
				rep, err := verify.Run(context.Background(), store, opts)
				cpu += cpuTime() - before
				if err != nil || rep.Events != events {
					b.Fatalf("%d events, %v", rep.Events, err)
				}
			}
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(cpu.Seconds()*1e9/float64(events*b.N), "cpu-ns/event")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
