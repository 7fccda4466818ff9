package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
)

// scrapeTimeout bounds the reads a scrape makes of the log and the holdings.
const scrapeTimeout = 5 * time.Second

// ProjectionStatus is what reports the read models: *projections.Manager.
type ProjectionStatus interface {
	Status(ctx context.Context) (projections.Report, error)
}

// WatchReadModels reports each read model's position, lag and events
// applied, the head of the log, and, from the holdings read model when
// totals is not nil, the units by state per right type. unit is what the
// event store's positions count (events on the embedded store, log bytes on
// EventStoreDB), and so the lag.
func (m *Metrics) WatchReadModels(status ProjectionStatus, unit eventstore.PositionUnit, totals *holdings.Queries) {
	m.reg.MustRegister(&readModelCollector{status: status, unit: unit.String(), totals: totals, log: m.log})
}

var (
	headDesc = prometheus.NewDesc(Namespace+"_log_head_position",
		"Position of the last event in the log.", nil, nil)
	positionDesc = prometheus.NewDesc(Namespace+"_projection_position",
		"Position of the last event a read model has applied, by projection and generation (active answers queries; rebuild is being built).", []string{"projection", "generation"}, nil)
	lagDesc = prometheus.NewDesc(Namespace+"_projection_lag",
		"How far a read model's active generation is behind the head of the log, in unit: events not yet applied on the embedded store, bytes of the log on EventStoreDB.", []string{"projection", "unit"}, nil)
	appliedDesc = prometheus.NewDesc(Namespace+"_projection_events_applied_total",
		"Events a read model's active generation has applied (skipped types included); its rate is the apply rate.", []string{"projection"}, nil)
	unitsDesc = prometheus.NewDesc(Namespace+"_units",
		"Units held by state (available, pledged, frozen, reserved, retired) or out of the holdings (buffer, cancelled, expired), per right type, from the holdings read model.", []string{"right_type", "state"}, nil)
	issuedDesc = prometheus.NewDesc(Namespace+"_units_issued",
		"Units registered, per right type, from the holdings read model.", []string{"right_type"}, nil)
)

type readModelCollector struct {
	status ProjectionStatus
	unit   string
	totals *holdings.Queries
	log    *zap.Logger
}

func (c *readModelCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{headDesc, positionDesc, lagDesc, appliedDesc, unitsDesc, issuedDesc} {
		ch <- d
	}
}

func (c *readModelCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	rep, err := c.status.Status(ctx)
	if err != nil {
		c.log.Warn("metrics: read the projections' status", zap.Error(err))
	} else {
		ch <- prometheus.MustNewConstMetric(headDesc, prometheus.GaugeValue, float64(rep.Head.Commit))
		for _, st := range rep.Projections {
			a := st.Active.Checkpoint
			ch <- prometheus.MustNewConstMetric(positionDesc, prometheus.GaugeValue, float64(a.Position.Commit), st.Name, "active")
			ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(projections.Lag(a.Position, rep.Head)), st.Name, c.unit)
			ch <- prometheus.MustNewConstMetric(appliedDesc, prometheus.CounterValue, float64(a.Applied), st.Name)
			if st.Rebuild != nil {
				ch <- prometheus.MustNewConstMetric(positionDesc, prometheus.GaugeValue, float64(st.Rebuild.Checkpoint.Position.Commit), st.Name, "rebuild")
			}
		}
	}
	if c.totals != nil {
		if err := c.collectUnits(ctx, ch); err != nil {
			c.log.Warn("metrics: read the holdings totals", zap.Error(err))
		}
	}
}

// collectUnits sums the holdings read model's totals over jurisdictions.
func (c *readModelCollector) collectUnits(ctx context.Context, ch chan<- prometheus.Metric) error {
	type sums struct {
		issued, buffer, cancelled, expired int64
		held                               map[holdings.State]int64
	}
	byType := map[domain.RightType]*sums{}
	q := holdings.TotalsQuery{PageRequest: projections.PageRequest{PageSize: 1000}}
	for {
		page, err := c.totals.Totals(ctx, q)
		if err != nil {
			return err
		}
		for _, t := range page.Items {
			s := byType[t.Type]
			if s == nil {
				s = &sums{held: map[holdings.State]int64{}}
				byType[t.Type] = s
			}
			s.issued += t.Issued
			s.buffer += t.Buffer
			s.cancelled += t.Cancelled
			s.expired += t.Expired
			for _, st := range holdings.States() {
				s.held[st] += t.Total(st)
			}
		}
		if page.NextPageToken == "" {
			break
		}
		q.PageToken = page.NextPageToken
	}
	for typ, s := range byType {
		// CARBON_ALLOWANCE reads carbon-allowance, as ecoctl prints it.
		name := strings.ToLower(strings.ReplaceAll(typ.String(), "_", "-"))
		ch <- prometheus.MustNewConstMetric(issuedDesc, prometheus.GaugeValue, float64(s.issued), name)
		for st, n := range s.held {
			ch <- prometheus.MustNewConstMetric(unitsDesc, prometheus.GaugeValue, float64(n), name, st.String())
		}
		for state, n := range map[string]int64{"buffer": s.buffer, "cancelled": s.cancelled, "expired": s.expired} {
			ch <- prometheus.MustNewConstMetric(unitsDesc, prometheus.GaugeValue, float64(n), name, state)
		}
	}
	return nil
}
