package pebblestore_test

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
)

// benchPayload is the data of every benchmark event.
var benchPayload = func() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i * 31)
	}
	return b
}()

// benchEvent returns a 256-byte event with an id made from n: drawing
// random ids would measure the random source rather than the store.
func benchEvent(n uint64) eventstore.EventData {
	var id uuid.UUID
	binary.BigEndian.PutUint64(id[:8], n+1)
	binary.BigEndian.PutUint64(id[8:], 0x8000_0000_0000_0000)
	return eventstore.EventData{ID: id, Type: "BenchmarkEvent", ContentType: "application/octet-stream", Data: benchPayload}
}

// reportRate reports events per second of wall time since start.
func reportRate(b *testing.B, events int, start time.Time) {
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkAppend measures durable appends: one 256-byte event per append
// from 1 or 64 writers, each on a stream of its own, and appends of 1000
// events from one writer.
//
// The sync-interval variants run with Options.WALMinSyncInterval as
// ecoregistryd does by default, so that one sync covers more appends.
func BenchmarkAppend(b *testing.B) {
	cases := []struct {
		writers  int
		interval time.Duration
	}{{1, 0}, {64, 0}, {64, 500 * time.Microsecond}}
	for _, c := range cases {
		writers := c.writers
		name := fmt.Sprintf("writers=%d", writers)
		if c.interval > 0 {
			name += fmt.Sprintf("/sync-interval=%s", c.interval)
		}
		b.Run(name, func(b *testing.B) {
			s, err := pebblestore.Open(b.TempDir(), pebblestore.Options{WALMinSyncInterval: c.interval})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := b.Context()
			var taken atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := range writers {
				wg.Go(func() {
					stream := fmt.Sprint("writer-", w)
					expected := eventstore.NoStream()
					for {
						n := taken.Add(1)
						if n > int64(b.N) {
							return
						}
						res, err := s.Append(ctx, stream, expected, benchEvent(uint64(n)))
						if err != nil {
							b.Error(err)
							return
						}
						expected = eventstore.Exact(res.NextExpectedRevision)
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			reportRate(b, b.N, start)
		})
	}
	b.Run("batch=1000", func(b *testing.B) {
		const size = 1000
		s := openStore(b, b.TempDir())
		defer s.Close()
		ctx := b.Context()
		batch := make([]eventstore.EventData, size)
		expected := eventstore.NoStream()
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			for k := range batch {
				batch[k] = benchEvent(uint64(i*size + k))
			}
			res, err := s.Append(ctx, "batches", expected, batch...)
			if err != nil {
				b.Fatal(err)
			}
			expected = eventstore.Exact(res.NextExpectedRevision)
		}
		b.StopTimer()
		reportRate(b, b.N*size, start)
	})
}

// BenchmarkReadAll measures reading the whole global log of 1M events, in
// pages of 1000, as a projection rebuilding from the start would. The store
// is built once, in batches of 1000, and compacted before the clock starts:
// on two cores, the compactions that building leaves behind would otherwise
// make the figure swing by a factor of three from run to run.
func BenchmarkReadAll(b *testing.B) {
	const total, page = 1_000_000, 1000
	s := openStore(b, b.TempDir())
	defer s.Close()
	ctx := b.Context()
	batch := make([]eventstore.EventData, page)
	for i := 0; i < total; i += page {
		for k := range batch {
			batch[k] = benchEvent(uint64(i + k))
		}
		if _, err := s.Append(ctx, fmt.Sprint("stream-", i/page%100), eventstore.Any(), batch...); err != nil {
			b.Fatal(err)
		}
	}
	if err := pebblestore.CompactForTest(ctx, s); err != nil {
		b.Fatal(err)
	}
	b.Run("events=1M", func(b *testing.B) {
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			read, from := 0, eventstore.Start
			for {
				evs, err := s.ReadAll(ctx, from, eventstore.Forwards, page, eventstore.Filter{})
				if err != nil {
					b.Fatal(err)
				}
				if len(evs) == 0 {
					break
				}
				read += len(evs)
				from = evs[len(evs)-1].Position
			}
			if read != total {
				b.Fatalf("read %d events, want %d", read, total)
			}
		}
		b.StopTimer()
		reportRate(b, b.N*total, start)
	})
}
