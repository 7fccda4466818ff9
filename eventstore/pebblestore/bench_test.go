package pebblestore_test

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
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
			b.ResetTimer()
			start := time.Now()
			appendConcurrently(b, s, writers, 0, int64(b.N))
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

// appendConcurrently appends events from..to-1 (one 256-byte event per
// append) from writers goroutines, each on a stream of its own, and
// returns when all are durable. Events from earlier calls on the same
// store must have numbers below from.
func appendConcurrently(b *testing.B, s *pebblestore.Store, writers int, from, to int64) {
	ctx := b.Context()
	var taken atomic.Int64
	taken.Store(from)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			stream := fmt.Sprint("writer-", w)
			expected := eventstore.Any()
			for {
				n := taken.Add(1) - 1
				if n >= to {
					return
				}
				if _, err := s.Append(ctx, stream, expected, benchEvent(uint64(n))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// applyConcurrently writes keys from..to-1 to db from writers goroutines,
// each key as a batch of its own holding one 256-byte value, applied with
// a sync: what an append of one event must at least cost.
func applyConcurrently(b *testing.B, db *pebble.DB, writers int, from, to int64) {
	var taken atomic.Int64
	taken.Store(from)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			var key [9]byte
			key[0] = 'z' // outside the store's keyspace
			for {
				n := taken.Add(1) - 1
				if n >= to {
					return
				}
				binary.BigEndian.PutUint64(key[1:], uint64(n))
				batch := db.NewBatch()
				_ = batch.Set(key[:], benchPayload, nil)
				err := db.Apply(batch, pebble.Sync)
				_ = batch.Close()
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkAppendVsPebble puts the store beside the bound Pebble sets it:
// 64 writers each appending one 256-byte event at a time through the store
// (as BenchmarkAppend/writers=64), and 64 writers each applying one synced
// batch of one 256-byte value to a Pebble database opened with the store's
// own settings. The two alternate, eight times each (store, Pebble, store,
// ..., b.N operations each in all), so that a disk that another process
// keeps busy for a moment slows both alike. It reports both rates, their
// ratio (store-vs-pebble; 1 would mean the store costs nothing beyond its
// one synced batch) and the CPU time of each per event, which a busy
// machine disturbs less than the rates.
func BenchmarkAppendVsPebble(b *testing.B) {
	const writers, alternations = 64, 8
	for _, interval := range []time.Duration{0, 500 * time.Microsecond} {
		name := fmt.Sprintf("writers=%d", writers)
		if interval > 0 {
			name += fmt.Sprintf("/sync-interval=%s", interval)
		}
		b.Run(name, func(b *testing.B) {
			opts := pebblestore.Options{WALMinSyncInterval: interval}
			s := openStoreWith(b, opts)
			raw := pebblestore.DBForTest(openStoreWith(b, opts))
			var storeWall, rawWall, storeCPU, rawCPU time.Duration
			b.ResetTimer()
			for k := range int64(alternations) {
				from, to := int64(b.N)*k/alternations, int64(b.N)*(k+1)/alternations
				storeWall, storeCPU = addMeasured(storeWall, storeCPU, func() { appendConcurrently(b, s, writers, from, to) })
				rawWall, rawCPU = addMeasured(rawWall, rawCPU, func() { applyConcurrently(b, raw, writers, from, to) })
			}
			b.StopTimer()
			storeRate, rawRate := float64(b.N)/storeWall.Seconds(), float64(b.N)/rawWall.Seconds()
			b.ReportMetric(storeRate, "store-events/s")
			b.ReportMetric(rawRate, "pebble-events/s")
			b.ReportMetric(storeRate/rawRate, "store-vs-pebble")
			b.ReportMetric(float64(storeCPU.Microseconds())/float64(b.N), "store-cpu-µs/event")
			b.ReportMetric(float64(rawCPU.Microseconds())/float64(b.N), "pebble-cpu-µs/event")
		})
	}
}

// addMeasured runs f and adds its wall time and the process's CPU time to
// wall and cpu.
func addMeasured(wall, cpu time.Duration, f func()) (time.Duration, time.Duration) {
	c0, t0 := processCPU(), time.Now()
	f()
	return wall + time.Since(t0), cpu + processCPU() - c0
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func openStoreWith(b *testing.B, opts pebblestore.Options) *pebblestore.Store {
	b.Helper()
	s, err := pebblestore.Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
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
