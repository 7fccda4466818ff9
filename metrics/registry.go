package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecoregistry/ecoregistry/registry"
)

// RegistryStats is what the registry service counts: *registry.Service.
type RegistryStats interface {
	TradeCounts() []registry.TradeCounts
	CacheStats() []registry.CacheStats
}

// WatchRegistry reports the registry's trades by exchange and outcome and
// its stream caches.
func (m *Metrics) WatchRegistry(svc RegistryStats) { m.reg.MustRegister(&registryCollector{svc: svc}) }

var (
	tradesDesc = prometheus.NewDesc(Namespace+"_trades_total",
		"Trades exchanges submitted, by exchange and outcome: settled or refused (first decisions), replayed (a resubmission answered with the recorded outcome), failed (not decided; to be submitted again).",
		[]string{"exchange", "outcome"}, nil)
	cacheEntriesDesc = prometheus.NewDesc(Namespace+"_stream_cache_entries",
		"Streams whose state the registry keeps in memory, by kind (account, right).", []string{"kind"}, nil)
	cacheCapacityDesc = prometheus.NewDesc(Namespace+"_stream_cache_capacity",
		"The most streams of a kind the registry keeps in memory.", []string{"kind"}, nil)
	cacheLookupsDesc = prometheus.NewDesc(Namespace+"_stream_cache_lookups_total",
		"Commands and reads that asked for a stream's state, by kind.", []string{"kind"}, nil)
	cacheLoadsDesc = prometheus.NewDesc(Namespace+"_stream_cache_loads_total",
		"Lookups that had to read the stream from the store (misses), by kind; the hit rate is 1 - loads/lookups.", []string{"kind"}, nil)
)

type registryCollector struct{ svc RegistryStats }

func (c *registryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{tradesDesc, cacheEntriesDesc, cacheCapacityDesc, cacheLookupsDesc, cacheLoadsDesc} {
		ch <- d
	}
}

func (c *registryCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range c.svc.TradeCounts() {
		for outcome, n := range map[string]uint64{"settled": t.Settled, "refused": t.Refused, "replayed": t.Replayed, "failed": t.Failed} {
			ch <- prometheus.MustNewConstMetric(tradesDesc, prometheus.CounterValue, float64(n), t.Exchange, outcome)
		}
	}
	for _, s := range c.svc.CacheStats() {
		ch <- prometheus.MustNewConstMetric(cacheEntriesDesc, prometheus.GaugeValue, float64(s.Entries), s.Kind)
		ch <- prometheus.MustNewConstMetric(cacheCapacityDesc, prometheus.GaugeValue, float64(s.Capacity), s.Kind)
		ch <- prometheus.MustNewConstMetric(cacheLookupsDesc, prometheus.CounterValue, float64(s.Lookups), s.Kind)
		ch <- prometheus.MustNewConstMetric(cacheLoadsDesc, prometheus.CounterValue, float64(s.Loads), s.Kind)
	}
}
