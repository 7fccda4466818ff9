package projections_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
	"github.com/ecoregistry/ecoregistry/projections/internal/projtest"
	"github.com/ecoregistry/ecoregistry/projections/market"
	"github.com/ecoregistry/ecoregistry/projections/statistics"
	"github.com/ecoregistry/ecoregistry/registry"
)

// BenchmarkCatchUp measures how fast each projection, and all three at
// once, catch up from an empty read store over a log of 1M stored events:
// 200 accounts, 40 rights of the four types, then transfers (six in ten with
// a trade price and reference) and retirements, generated once before the
// clock starts. Run it with
//
//	go test ./projections -run '^$' -bench BenchmarkCatchUp -benchtime 3x
func BenchmarkCatchUp(b *testing.B) {
	const operations = 1_000_000 - 298 // 200 accounts (58 with 2 status changes) and 40 registrations make it 1M events
	dir := b.TempDir()
	store, err := pebblestore.Open(dir+"/events", pebblestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	total, err := projtest.Generate(context.Background(), store, projtest.Config{Seed: 1, Accounts: 200, Rights: 40, Operations: operations,
		Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Step: time.Minute, RunLength: 1000})
	if err != nil {
		b.Fatal(err)
	}
	head, err := projections.Head(context.Background(), store)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		projs func() []projections.Projection
	}{
		{"holdings", func() []projections.Projection { return []projections.Projection{holdings.New()} }},
		{"market", func() []projections.Projection { return []projections.Projection{market.New()} }},
		{"statistics", func() []projections.Projection { return []projections.Projection{statistics.New()} }},
		{"all three", all},
	} {
		b.Run(fmt.Sprintf("%s/events=%d", c.name, total), func(b *testing.B) {
			var elapsed, cpu time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				m, err := projections.Open(fmt.Sprintf("%s/read-%s-%d", b.TempDir(), c.name, i), store, c.projs(), projections.Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime()
				m.Start()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				for _, name := range m.Names() {
					r, _ := m.Runner(name)
					if err := r.Wait(ctx, head); err != nil {
						b.Fatal(err)
					}
				}
				elapsed += time.Since(start)
				cpu += cpuTime() - cpu0
				cancel()
				b.StopTimer()
				if err := m.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(total)*float64(b.N)/elapsed.Seconds(), "events/s")
			// The CPU time per event tells how much of the figure a busy
			// machine took away: on two idle cores the catch-up can use
			// about twice its wall time.
			b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(total)/float64(b.N), "cpu-µs/event")
		})
	}
}

// BenchmarkHoldingsQueryWhileWriting measures the latency of a holdings
// query (one account's holdings: a page of up to 100 rights with their
// serial blocks) while four writers transfer units through the registry
// service as fast as it accepts them, and the holdings projection follows.
// It reports the 50th and 99th percentile in milliseconds and the write
// rate. Run it with
//
//	go test ./projections -run '^$' -bench BenchmarkHoldingsQueryWhileWriting -benchtime 20000x
func BenchmarkHoldingsQueryWhileWriting(b *testing.B) {
	dir := b.TempDir()
	store, err := pebblestore.Open(dir+"/events", pebblestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	// 100 accounts that each hold some of 60 rights.
	_, err = projtest.Generate(context.Background(), store, projtest.Config{Seed: 2, Accounts: 100, Rights: 60, Operations: 50_000,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Step: time.Minute, RunLength: 100})
	if err != nil {
		b.Fatal(err)
	}
	m, err := projections.Open(dir+"/read", store, []projections.Projection{holdings.New()}, projections.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	m.Start()
	r, _ := m.Runner(holdings.Name)
	head, err := projections.Head(context.Background(), store)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Wait(context.Background(), head); err != nil {
		b.Fatal(err)
	}
	q := holdings.NewQueries(r)
	svc := registry.New(store, registry.Options{})
	defer svc.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var writes atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() { writeTransfers(ctx, svc, w, &writes) })
	}
	rng := rand.New(rand.NewPCG(3, 3))
	lat := make([]time.Duration, 0, b.N)
	rows := 0
	start := time.Now()
	for b.Loop() {
		acct := fmt.Sprintf("ACC-%04d", rng.IntN(100))
		t0 := time.Now()
		pg, err := q.AccountHoldings(context.Background(), holdings.AccountHoldingsQuery{AccountID: acct})
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		rows += len(pg.Items)
	}
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(writes.Load())/elapsed.Seconds(), "writes/s")
	b.ReportMetric(float64(rows)/float64(len(lat)), "holdings/query")
}

// cpuTime returns the CPU time the process has used, in user and system
// mode.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
}

// writeTransfers moves units between the generated accounts until ctx
// ends, counting the transfers recorded.
func writeTransfers(ctx context.Context, svc *registry.Service, w int, writes *atomic.Int64) {
	rng := rand.New(rand.NewPCG(uint64(w), 9))
	meta := registry.Meta{Actor: "bench"}
	for i := 0; ctx.Err() == nil; i++ {
		right := fmt.Sprintf("R-%04d", rng.IntN(60))
		hr, err := svc.Holding(ctx, right, fmt.Sprintf("ACC-%04d", rng.IntN(100)))
		from := hr.Holding
		if err != nil || from.Available == 0 {
			continue
		}
		to := fmt.Sprintf("ACC-%04d", rng.IntN(100))
		_, err = svc.TransferUnits(ctx, meta, domain.TransferUnits{RightID: right, TransferID: fmt.Sprintf("BW-%d-%d", w, i), From: from.AccountID, To: to,
			Quantity: 1 + rng.Int64N(max(1, from.Available/10))})
		if err == nil {
			writes.Add(1)
		}
	}
}

// BenchmarkFollowLive measures what following live appends costs the three
// projections once their caches are large: a history of 2,000 accounts
// holding 40 rights is caught up first, then 16 writers transfer units
// through the registry service, each transfer its own durable append, and
// the projections commit as they keep up (every few events, not every
// 65,536 as in a catch-up). It reports the transfers per second of wall
// time, the process's CPU time per transfer, which includes the registry's
// own work, and the bytes the read models' commits logged per transfer; run
// it with
//
//	go test ./projections -run '^$' -bench BenchmarkFollowLive -benchtime 20000x
func BenchmarkFollowLive(b *testing.B) {
	dir := b.TempDir()
	store, err := pebblestore.Open(dir+"/events", pebblestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	const accounts, rights = 2000, 40
	_, err = projtest.Generate(context.Background(), store, projtest.Config{Seed: 4, Accounts: accounts, Rights: rights, Operations: 200_000,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Step: time.Second, RunLength: 64})
	if err != nil {
		b.Fatal(err)
	}
	m, err := projections.Open(dir+"/read", store, all(), projections.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	m.Start()
	waitAll := func() {
		head, err := projections.Head(context.Background(), store)
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range m.Names() {
			r, _ := m.Runner(name)
			if err := r.Wait(context.Background(), head); err != nil {
				b.Fatal(err)
			}
		}
	}
	waitAll()
	svc := registry.New(store, registry.Options{})
	defer svc.Close()
	b.ResetTimer()
	start, cpu0, logged0 := time.Now(), cpuTime(), m.LoggedBytes()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 11))
			meta := registry.Meta{Actor: "bench"}
			for i := 0; next.Load() < int64(b.N); i++ {
				right := fmt.Sprintf("R-%04d", rng.IntN(rights))
				hr, err := svc.Holding(context.Background(), right, fmt.Sprintf("ACC-%04d", rng.IntN(accounts)))
				if err != nil || hr.Holding.Available == 0 {
					continue
				}
				_, err = svc.TransferUnits(context.Background(), meta, domain.TransferUnits{RightID: right, TransferID: fmt.Sprintf("FL-%d-%d", w, i),
					From: hr.Holding.AccountID, To: fmt.Sprintf("ACC-%04d", rng.IntN(accounts)), Quantity: 1})
				if err == nil {
					next.Add(1)
				}
			}
		})
	}
	wg.Wait()
	waitAll()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	n := float64(next.Load())
	b.ReportMetric(n/elapsed.Seconds(), "transfers/s")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/transfer")
	b.ReportMetric(float64(m.LoggedBytes()-logged0)/n, "read-store-B/transfer")
}
