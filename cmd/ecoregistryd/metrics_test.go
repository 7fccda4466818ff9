package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// scrape reads the server's metrics, as Prometheus would.
func scrape(t *testing.T, m *Main) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + m.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value returns the value of the series of family name whose labels include
// labels ("k=v" pairs): a counter's or gauge's value, a histogram's count.
// It fails the test when there is no such series.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
series:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			if have[k] != v {
				continue series
			}
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

func TestMetricsMoveWithTheWorkload(t *testing.T) {
	m, c, sc := startMeasuredExchange(t)
	ctx := as(t, "office-hubei")
	before := scrape(t, m)

	var last *pb.TradeOutcome
	for i := range 20 {
		last = submit(t, ctx, sc, matched("CEA-HB-1", fmt.Sprintf("M-%d", i), 10))
	}
	first := matched("WUR-NX-1", "M-W", 5)
	submit(t, ctx, sc, first)
	submit(t, ctx, sc, first)                                              // replayed
	refused := submit(t, ctx, sc, matched("PDR-ZJ-1", "M-BIG", 1_000_000)) // more than held
	if refused.GetRefused().GetCommit() == nil || !positionBefore(last.GetSettled().GetCommit().GetPosition(), refused.GetRefused().GetCommit().GetPosition()) {
		t.Fatalf("the refusal %v is not recorded after the last settlement", refused)
	}
	// The refusal is the last event written: once the read models have it,
	// they have everything.
	waitProjections(t, queriesOf(c), refused.GetRefused().GetCommit().GetPosition())
	after := scrape(t, m)

	moved := func(name string, by float64, labels ...string) {
		t.Helper()
		if d := value(t, after, name, labels...) - value(t, before, name, labels...); d < by {
			t.Errorf("%s%v moved by %v, want at least %v", name, labels, d, by)
		}
	}
	moved("grpc_server_handled_total", 23, "grpc_method=SubmitTrade", "grpc_code=OK")
	moved("grpc_server_handling_seconds", 23, "grpc_method=SubmitTrade")
	moved("ecoregistry_store_append_seconds", 21, "result=ok")
	moved("ecoregistry_store_append_events", 21)
	moved("ecoregistry_store_wal_fsync_seconds", 1)
	moved("ecoregistry_store_wal_bytes_written_total", 1000)
	moved("ecoregistry_read_store_wal_bytes_written_total", 1000)
	moved("ecoregistry_stream_cache_lookups_total", 21, "kind=right")
	moved("ecoregistry_stream_cache_lookups_total", 21, "kind=account")
	moved("ecoregistry_projection_events_applied_total", 21, "projection=holdings")
	moved("ecoregistry_projection_position", 21, "projection=market", "generation=active")
	moved("process_cpu_seconds_total", 0.001)
	if v := value(t, after, "ecoregistry_trades_total", "exchange=HBEX", "outcome=settled"); v != 21 {
		t.Errorf("%v trades settled, want 21", v)
	}
	for outcome, want := range map[string]float64{"replayed": 1, "refused": 1, "failed": 0} {
		if v := value(t, after, "ecoregistry_trades_total", "exchange=HBEX", "outcome="+outcome); v != want {
			t.Errorf("%v trades %s, want %v", v, outcome, want)
		}
	}
	// 20 trades of 10 units of the allowance went to BUYER: still available.
	if v := value(t, after, "ecoregistry_units", "right_type=carbon-allowance", "state=available"); v != 100000 {
		t.Errorf("%v carbon-allowance units available, want 100000", v)
	}
	if v := value(t, after, "ecoregistry_units", "right_type=carbon-sink", "state=buffer"); v != 1000 {
		t.Errorf("%v carbon-sink units in the buffer, want 1000", v)
	}
	if v := value(t, after, "ecoregistry_projection_lag", "projection=holdings", "unit=events"); v != 0 {
		t.Errorf("holdings lag %v after waiting for it", v)
	}
	if value(t, after, "go_goroutines") == 0 {
		t.Error("no goroutines counted")
	}
}

// startMeasuredExchange runs ecoregistryd with metrics on 127.0.0.1:0 and
// sets up what startExchangeServer does.
func startMeasuredExchange(t *testing.T) (*Main, *client, *settlementClient) {
	t.Helper()
	m, c := startServerWith(t, Config{Store: StorePebble, Data: t.TempDir(), MetricsListen: "127.0.0.1:0"})
	sc := &settlementClient{lifecycleClient: withLifecycle(c), settlement: pb.NewSettlementServiceClient(c.conn)}
	ctx := as(t, "office-hubei")
	openAccounts(t, ctx, sc.lifecycleClient, "SELLER", "BUYER", "OTHER")
	for _, req := range registrations("SELLER") {
		if _, err := c.rights.RegisterRight(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	return m, c, sc
}

func TestMetricsAreOffByDefault(t *testing.T) {
	m, _ := startServer(t, t.TempDir())
	if m.MetricsAddr() != "" {
		t.Fatalf("metrics served on %s without --metrics-listen", m.MetricsAddr())
	}
}

// TestTheDashboardAsksForServedMetrics checks that every metric the Grafana
// dashboard's queries name is one the server serves.
func TestTheDashboardAsksForServedMetrics(t *testing.T) {
	b, err := os.ReadFile("../../deploy/grafana/ecoregistry.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	m, c, sc := startMeasuredExchange(t)
	out := submit(t, as(t, "hbex-gateway"), sc, matched("CEA-HB-1", "D-1", 1))
	waitProjections(t, queriesOf(c), out.GetSettled().GetCommit().GetPosition())
	served := scrape(t, m)
	name := regexp.MustCompile(`\b(ecoregistry|grpc_server|process|go)_[a-z_]+\b`)
	asked := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, n := range name.FindAllString(target.Expr, -1) {
				asked++
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
				if served[n] == nil && served[base] == nil {
					t.Errorf("panel %q asks for %s, which the server does not serve", p.Title, n)
				}
			}
		}
	}
	if len(dash.Panels) < 10 || asked < 20 {
		t.Fatalf("%d panels naming %d metrics", len(dash.Panels), asked)
	}
}

func TestMetricsOnEventStoreDBCountLagInLogBytes(t *testing.T) {
	cfg := backends[1].config(t)
	cfg.MetricsListen = "127.0.0.1:0"
	m, c := startServerWith(t, cfg)
	openAccounts(t, as(t, "office-hubei"), withLifecycle(c), "SELLER")
	fams := scrape(t, m)
	value(t, fams, "ecoregistry_projection_lag", "projection=holdings", "unit=bytes")
	if value(t, fams, "ecoregistry_store_append_seconds", "result=ok") < 1 {
		t.Error("the account's append was not timed")
	}
	if _, ok := fams["ecoregistry_store_wal_fsync_seconds"]; ok {
		t.Error("Pebble's fsync latencies reported for EventStoreDB")
	}
}
