// Package metrics exposes ecoregistry's Prometheus metrics on a listener of
// their own: RPC counts and latencies by method and code (go-grpc-middleware's
// Prometheus provider), the event store's appends, log bytes and fsync
// latencies, trades by exchange and outcome, units by state per right type,
// the read models' positions, lag and apply counts, the registry's stream
// caches, and the Go runtime and process.
//
// Apart from the appends, which are timed where the registry calls the
// store, every figure is read when Prometheus scrapes, from small Stats-like
// methods of the packages that keep them: nothing is added to the paths a
// command takes beyond a few counters.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// Namespace begins the name of every metric of ecoregistry's own.
const Namespace = "ecoregistry"

// Metrics is the registry of one server's metrics.
type Metrics struct {
	reg     *prometheus.Registry
	rpc     *grpcprom.ServerMetrics
	appends *appendMetrics
	log     *zap.Logger
}

// New returns the metrics of a server, with the Go runtime's and the
// process's already registered; log receives scrape errors.
func New(log *zap.Logger) *Metrics {
	if log == nil {
		log = zap.NewNop()
	}
	reg := prometheus.NewRegistry()
	rpc := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
		grpcprom.WithHistogramBuckets([]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10})))
	m := &Metrics{reg: reg, rpc: rpc, appends: newAppendMetrics(), log: log}
	reg.MustRegister(rpc, m.appends, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the Prometheus registry the metrics are gathered from.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ServerOptions are the gRPC server options that count and time every call.
func (m *Metrics) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(m.rpc.UnaryServerInterceptor()), grpc.ChainStreamInterceptor(m.rpc.StreamServerInterceptor())}
}

// InitializeRPC makes every method of s appear in the RPC metrics with zero
// counts before its first call, so that rates and alerts see it.
func (m *Metrics) InitializeRPC(s *grpc.Server) { m.rpc.InitializeMetrics(s) }

// Server serves the metrics over HTTP at /metrics.
type Server struct {
	srv    *http.Server
	lis    net.Listener
	served chan error
}

// Serve starts serving the metrics on addr (host:port; port 0 picks one).
func (m *Metrics) Serve(ctx context.Context, addr string) (*Server, error) {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorLog: zap.NewStdLog(m.log)}))
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, lis: lis, served: make(chan error, 1)}
	go func() { s.served <- s.srv.Serve(lis) }()
	return s, nil
}

// Addr is the address the metrics are served on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Close stops serving, waiting up to five seconds for scrapes in flight.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
