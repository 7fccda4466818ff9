package metrics

import (
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestFsyncLatenciesAreRebucketedExactly(t *testing.T) {
	// As Pebble keeps them: nanoseconds, in its own bounds.
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fsync", Buckets: pebble.FsyncLatencyBuckets})
	samples := []time.Duration{50 * time.Microsecond, 150 * time.Microsecond, 450 * time.Microsecond, 900 * time.Microsecond,
		3 * time.Millisecond, 7 * time.Millisecond, 40 * time.Millisecond, 300 * time.Millisecond, 3 * time.Second}
	for _, d := range samples {
		h.Observe(float64(d.Nanoseconds()))
	}
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	count, sum, buckets := rebucket(m.Histogram, fsyncBuckets, 1e-9)
	var total time.Duration
	for _, d := range samples {
		total += d
	}
	if count != uint64(len(samples)) || sum < total.Seconds()*0.999 || sum > total.Seconds()*1.001 {
		t.Fatalf("count %d, sum %v; want %d, %v", count, sum, len(samples), total.Seconds())
	}
	if len(fsyncBuckets) < 10 {
		t.Fatalf("only %d bounds chosen: %v", len(fsyncBuckets), fsyncBuckets)
	}
	for _, b := range fsyncBuckets {
		want := uint64(0)
		for _, d := range samples {
			if d.Seconds() <= b {
				want++
			}
		}
		if buckets[b] != want {
			t.Errorf("bucket le=%v holds %d, want %d", b, buckets[b], want)
		}
	}
}

// limitedStore is a store with an append limit, as EventStoreDB's adapter.
type limitedStore struct{ eventstore.Store }

func (limitedStore) MaxAppendSize() int                            { return 1 << 20 }
func (limitedStore) AppendSize(events ...eventstore.EventData) int { return len(events) }

func TestTimedAppendsKeepTheStoresAppendLimit(t *testing.T) {
	l, ok := New(nil).InstrumentAppends(limitedStore{}).(eventstore.AppendLimit)
	if !ok || l.MaxAppendSize() != 1<<20 {
		t.Fatal("the registry would not see the store's append limit through the timing")
	}
}
