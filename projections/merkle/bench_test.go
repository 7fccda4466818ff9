package merkle_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/internal/projtest"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
)

// BenchmarkTreeCatchUp measures the tree's cost per event: building it from
// an empty read store over a log of 1M events (the history of the other
// read models' BenchmarkCatchUp), with the bytes its commits log. Run it
// with
//
//	go test ./projections/merkle -run '^$' -bench TreeCatchUp -benchtime 2x
func BenchmarkTreeCatchUp(b *testing.B) {
	const operations = 1_000_000 - 298
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
	head, _ := projections.Head(context.Background(), store)
	b.Run(fmt.Sprintf("events=%d", total), func(b *testing.B) {
		var cpu time.Duration
		var logged uint64
		for i := 0; b.Loop(); i++ {
			m, err := projections.Open(fmt.Sprintf("%s/read-%d", dir, i), store, []projections.Projection{merkle.New()}, projections.Options{})
			if err != nil {
				b.Fatal(err)
			}
			before := cpuTime()
			m.Start()
			r, _ := m.Runner(merkle.Name)
			if err := r.Wait(context.Background(), head); err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime() - before
			logged += m.LoggedBytes()
			m.Close()
		}
		b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(total*b.N), "cpu-ns/event")
		b.ReportMetric(float64(logged)/float64(total*b.N), "logged-B/event")
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
