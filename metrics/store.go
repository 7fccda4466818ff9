package metrics

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// appendMetrics time the appends of the registry.
type appendMetrics struct {
	latency *prometheus.HistogramVec
	events  prometheus.Histogram
}

func newAppendMetrics() *appendMetrics {
	return &appendMetrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "store", Name: "append_seconds",
			Help:    "Time an append to the event store took, synced to disk included, by result: ok, conflict (another writer got there first) or error.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}}, []string{"result"}),
		events: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "store", Name: "append_events",
			Help:    "Events per successful append: the commands of a right's batch go into one append.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13)}),
	}
}

func (a *appendMetrics) Describe(ch chan<- *prometheus.Desc) {
	a.latency.Describe(ch)
	a.events.Describe(ch)
}
func (a *appendMetrics) Collect(ch chan<- prometheus.Metric) {
	a.latency.Collect(ch)
	a.events.Collect(ch)
}

// InstrumentAppends returns store with its appends timed and their sizes
// counted. It answers the optional interfaces of package eventstore as
// store does (see eventstore.Decorated).
func (m *Metrics) InstrumentAppends(store eventstore.Store) eventstore.Store {
	return &timedStore{Decorated: eventstore.Decorated{Store: store}, m: m.appends}
}

type timedStore struct {
	eventstore.Decorated
	m *appendMetrics
}

func (s *timedStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	start := time.Now()
	res, err := s.Store.Append(ctx, stream, expected, events...)
	result := "ok"
	switch {
	case errors.Is(err, eventstore.ErrWrongExpectedRevision):
		result = "conflict"
	case err != nil:
		result = "error"
	default:
		s.m.events.Observe(float64(len(events)))
	}
	s.m.latency.WithLabelValues(result).Observe(time.Since(start).Seconds())
	return res, err
}

// WatchPebble reports what the embedded event store's Pebble database has
// written: write-ahead log bytes, fsync latencies and disk space; read models
// is the read models' store's log bytes. Either may be nil.
func (m *Metrics) WatchPebble(events func() *pebble.Metrics, readModelLogBytes func() uint64) {
	m.reg.MustRegister(&pebbleCollector{events: events, readModels: readModelLogBytes})
}

var (
	walBytesDesc = prometheus.NewDesc(Namespace+"_store_wal_bytes_written_total",
		"Bytes the event store has written to its write-ahead log since it opened.", nil, nil)
	fsyncDesc = prometheus.NewDesc(Namespace+"_store_wal_fsync_seconds",
		"Latency of the event store's write-ahead log fsyncs since it opened; one fsync covers every append waiting for it.", nil, nil)
	diskDesc = prometheus.NewDesc(Namespace+"_store_disk_bytes",
		"Disk space the event store's files take.", nil, nil)
	readLogDesc = prometheus.NewDesc(Namespace+"_read_store_wal_bytes_written_total",
		"Bytes the read models' store has written to its write-ahead log since it opened.", nil, nil)
)

// fsyncBuckets are the upper bounds, in seconds, of the fsync histogram:
// those of Pebble's own bounds nearest below round figures, so that the
// counts are exact and a scrape carries 17 buckets, not Pebble's 100.
var fsyncBuckets = pebbleBounds([]float64{.0001, .0002, .0005, .001, .002, .004, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10})

// pebbleBounds returns, for each wanted bound in seconds, the largest of
// Pebble's fsync bounds (in nanoseconds) not above it, in seconds, once.
func pebbleBounds(wanted []float64) []float64 {
	var out []float64
	for _, w := range wanted {
		best := -1.0
		for _, b := range pebble.FsyncLatencyBuckets {
			if s := b * 1e-9; s <= w*(1+1e-9) && s > best {
				best = s
			}
		}
		if best > 0 && (len(out) == 0 || best > out[len(out)-1]) {
			out = append(out, best)
		}
	}
	return out
}

type pebbleCollector struct {
	events     func() *pebble.Metrics
	readModels func() uint64
}

func (c *pebbleCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- walBytesDesc
	ch <- fsyncDesc
	ch <- diskDesc
	ch <- readLogDesc
}

func (c *pebbleCollector) Collect(ch chan<- prometheus.Metric) {
	if c.readModels != nil {
		ch <- prometheus.MustNewConstMetric(readLogDesc, prometheus.CounterValue, float64(c.readModels()))
	}
	if c.events == nil {
		return
	}
	pm := c.events()
	if pm == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(walBytesDesc, prometheus.CounterValue, float64(pm.WAL.BytesWritten))
	ch <- prometheus.MustNewConstMetric(diskDesc, prometheus.GaugeValue, float64(pm.DiskSpaceUsage()))
	if h := pm.LogWriter.FsyncLatency; h != nil {
		var d dto.Metric
		if err := h.Write(&d); err == nil && d.Histogram != nil {
			count, sum, buckets := rebucket(d.Histogram, fsyncBuckets, 1e-9)
			ch <- prometheus.MustNewConstHistogram(fsyncDesc, count, sum, buckets)
		}
	}
}

// rebucket reads Pebble's histogram h, whose values are scaled by 1/scale
// (nanoseconds for scale 1e-9), at the given upper bounds in the metric's
// unit. Each bound's cumulative count is that of h's largest bound not above
// it, which is exact when the bounds are among h's.
func rebucket(h *dto.Histogram, bounds []float64, scale float64) (uint64, float64, map[float64]uint64) {
	src := h.GetBucket()
	sort.Slice(src, func(i, j int) bool { return src[i].GetUpperBound() < src[j].GetUpperBound() })
	out := make(map[float64]uint64, len(bounds))
	i := 0
	var cum uint64
	for _, b := range bounds {
		for i < len(src) && src[i].GetUpperBound()*scale <= b*(1+1e-9) {
			cum = src[i].GetCumulativeCount()
			i++
		}
		out[b] = cum
	}
	return h.GetSampleCount(), h.GetSampleSum() * scale, out
}
