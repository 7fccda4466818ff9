// Command ecoregistryd is the ecoregistry server: a gRPC service that records
// the registration and every later change of carbon-emission, water-use,
// pollutant-discharge and carbon-sink rights as immutable events.
//
// With no flags it listens on 127.0.0.1:50051 and keeps its events in the
// embedded store under ./data. With --store=esdb and --esdb-url it keeps them
// in an EventStoreDB / KurrentDB node or cluster instead. Every flag has an ECOREGISTRY_* environment
// equivalent (--listen and ECOREGISTRY_LISTEN, ...); a flag given on the
// command line wins over the environment.
//
// The read models (holdings, market ledger, statistics) follow the log into
// their own store under <data>/projections, whichever store holds the
// events; a server started on an existing log catches them up in the
// background while it serves.
//
// With --tls-cert, --tls-key, --client-ca and --policy it serves mutual TLS
// 1.3: every call is made by the principal its client certificate names and
// allowed by the policy, which SIGHUP reloads. Without them it serves
// plaintext on a loopback address only, trusting each caller as the actor
// it declares (development mode).
//
// SIGINT or SIGTERM stops it gracefully: it stops accepting calls, finishes
// the calls in flight, and closes the store.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ecoregistry/ecoregistry/access"
	"github.com/ecoregistry/ecoregistry/backup"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/grpcserver"
	"github.com/ecoregistry/ecoregistry/logging"
	"github.com/ecoregistry/ecoregistry/metrics"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
	"github.com/ecoregistry/ecoregistry/projections/market"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
	"github.com/ecoregistry/ecoregistry/projections/statistics"
	"github.com/ecoregistry/ecoregistry/registry"
	"github.com/ecoregistry/ecoregistry/tracing"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := ParseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ecoregistryd:", err)
		os.Exit(2)
	}
	m := NewMain(cfg)
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ecoregistryd:", err)
		os.Exit(1)
	}
	<-ctx.Done()
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "ecoregistryd:", err)
		os.Exit(1)
	}
}

// Config is the server's configuration.
type Config struct {
	// Listen is the TCP address to serve gRPC on.
	Listen string
	// Data is the directory of the embedded event store, and of what the
	// server keeps locally when the events live elsewhere; the read models
	// live in its subdirectory projections.
	Data string
	// Store names the event store: "pebble" (embedded, in Data) or "esdb"
	// (an EventStoreDB / KurrentDB node or cluster at ESDBURL).
	Store string
	// ESDBURL is the EventStoreDB connection string used with Store "esdb".
	ESDBURL string
	// LogLevel is one of debug, info, warn, error.
	LogLevel string
	// LogFormat is json or console; empty chooses console when stderr is a
	// terminal and JSON otherwise.
	LogFormat string
	// SlowRequest is the duration above which a call is logged at warn
	// level; 0 never warns.
	SlowRequest time.Duration
	// MetricsListen is the address to serve Prometheus metrics on, at
	// /metrics; empty serves none.
	MetricsListen string
	// OTLPEndpoint is the OTLP/gRPC collector to send traces to; empty
	// traces nothing.
	OTLPEndpoint string
	// ShutdownTimeout bounds how long Close waits for calls in flight.
	ShutdownTimeout time.Duration
	// WALMinSyncInterval is the least time between two syncs of the
	// embedded store's write-ahead log (pebblestore.Options); 0 syncs at
	// once.
	WALMinSyncInterval time.Duration
	// SigningKey is the file of the ed25519 key that signs checkpoints and
	// certificates; empty means <Data>/signing.key, made on first start.
	SigningKey string
	// CheckpointEvery and CheckpointInterval pace the signed checkpoints:
	// every so many events, and at least every so long while events arrive.
	CheckpointEvery    uint64
	CheckpointInterval time.Duration
	// PprofListen, when set, is the address of an HTTP endpoint serving
	// Go's runtime profiles (net/http/pprof); empty serves none.
	PprofListen string
	// Security is how callers are authenticated, authorized and limited.
	Security
}

// ParseConfig reads the configuration from command-line args, falling back
// to ECOREGISTRY_* variables read through getenv, then to the defaults.
// Usage and errors go to out. It returns flag.ErrHelp for -h.
func ParseConfig(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("ecoregistryd", flag.ContinueOnError)
	fs.SetOutput(out)
	var cfg Config
	fs.StringVar(&cfg.Listen, "listen", env("ECOREGISTRY_LISTEN", "127.0.0.1:50051"), "gRPC listen address (env ECOREGISTRY_LISTEN)")
	fs.StringVar(&cfg.Data, "data", env("ECOREGISTRY_DATA", "./data"), "directory of the embedded event store (env ECOREGISTRY_DATA)")
	fs.StringVar(&cfg.Store, "store", env("ECOREGISTRY_STORE", StorePebble), "event store: pebble (embedded, in --data) or esdb (EventStoreDB / KurrentDB at --esdb-url) (env ECOREGISTRY_STORE)")
	fs.StringVar(&cfg.ESDBURL, "esdb-url", env("ECOREGISTRY_ESDB_URL", ""), "EventStoreDB connection string for --store=esdb, e.g. esdb://host1:2113,host2:2113,host3:2113?tls=true (env ECOREGISTRY_ESDB_URL)")
	fs.StringVar(&cfg.LogLevel, "log-level", env("ECOREGISTRY_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env ECOREGISTRY_LOG_LEVEL)")
	fs.StringVar(&cfg.LogFormat, "log-format", env("ECOREGISTRY_LOG_FORMAT", ""), "log format: json or console; default console when stderr is a terminal, json otherwise (env ECOREGISTRY_LOG_FORMAT)")
	slow := env("ECOREGISTRY_SLOW_REQUEST", grpcserver.DefaultSlowRequest.String())
	fs.StringVar(&slow, "slow-request", slow, "log a call that takes longer than this at warn level; 0 never (env ECOREGISTRY_SLOW_REQUEST)")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", env("ECOREGISTRY_METRICS_LISTEN", ""), "serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9464; empty serves none (env ECOREGISTRY_METRICS_LISTEN)")
	fs.StringVar(&cfg.OTLPEndpoint, "otlp-endpoint", env("ECOREGISTRY_OTLP_ENDPOINT", ""), "send OpenTelemetry traces to this OTLP/gRPC collector, e.g. 127.0.0.1:4317 or https://collector:4317; empty traces nothing (env ECOREGISTRY_OTLP_ENDPOINT)")
	shutdown := env("ECOREGISTRY_SHUTDOWN_TIMEOUT", "30s")
	fs.StringVar(&shutdown, "shutdown-timeout", shutdown, "how long a graceful stop waits for calls in flight (env ECOREGISTRY_SHUTDOWN_TIMEOUT)")
	walSync := env("ECOREGISTRY_WAL_MIN_SYNC_INTERVAL", DefaultWALMinSyncInterval.String())
	fs.StringVar(&walSync, "wal-min-sync-interval", walSync, "least time between two syncs of the embedded store's log; under load one sync then covers more appends; 0 syncs at once (env ECOREGISTRY_WAL_MIN_SYNC_INTERVAL)")
	fs.StringVar(&cfg.SigningKey, "signing-key", env("ECOREGISTRY_SIGNING_KEY", ""), "file of the ed25519 key (ecoctl keys generate) that signs checkpoints and certificates; default <data>/signing.key, made on first start (env ECOREGISTRY_SIGNING_KEY)")
	every := env("ECOREGISTRY_CHECKPOINT_EVERY", "10000")
	fs.StringVar(&every, "checkpoint-every", every, "sign a checkpoint of the log's Merkle tree every so many events (env ECOREGISTRY_CHECKPOINT_EVERY)")
	interval := env("ECOREGISTRY_CHECKPOINT_INTERVAL", "1m")
	fs.StringVar(&interval, "checkpoint-interval", interval, "and at least this often while events arrive (env ECOREGISTRY_CHECKPOINT_INTERVAL)")
	fs.StringVar(&cfg.PprofListen, "pprof-listen", env("ECOREGISTRY_PPROF_LISTEN", ""), "serve Go's runtime profiles (net/http/pprof) over HTTP on this address, e.g. 127.0.0.1:6060; empty (the default) serves none (env ECOREGISTRY_PPROF_LISTEN)")
	sec := defineSecurityFlags(fs, env)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: ecoregistryd [flags]\n\nRuns the ecoregistry gRPC server on the embedded event store, or on\nEventStoreDB / KurrentDB with --store=esdb.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	d, err := time.ParseDuration(shutdown)
	if err != nil || d <= 0 {
		return Config{}, fmt.Errorf("--shutdown-timeout %q: want a positive duration such as 30s", shutdown)
	}
	cfg.ShutdownTimeout = d
	if cfg.WALMinSyncInterval, err = time.ParseDuration(walSync); err != nil || cfg.WALMinSyncInterval < 0 || cfg.WALMinSyncInterval > time.Second {
		return Config{}, fmt.Errorf("--wal-min-sync-interval %q: want a duration from 0 to 1s such as 500us", walSync)
	}
	if cfg.CheckpointEvery, err = strconv.ParseUint(every, 10, 64); err != nil || cfg.CheckpointEvery == 0 {
		return Config{}, fmt.Errorf("--checkpoint-every %q: want a positive number of events such as 10000", every)
	}
	if cfg.CheckpointInterval, err = time.ParseDuration(interval); err != nil || cfg.CheckpointInterval <= 0 {
		return Config{}, fmt.Errorf("--checkpoint-interval %q: want a positive duration such as 1m", interval)
	}
	if cfg.SlowRequest, err = time.ParseDuration(slow); err != nil || cfg.SlowRequest < 0 {
		return Config{}, fmt.Errorf("--slow-request %q: want a duration such as 1s, or 0", slow)
	}
	if err := logging.CheckFormat(cfg.LogFormat); err != nil {
		return Config{}, fmt.Errorf("--log-format: %w", err)
	}
	if _, err := zapcore.ParseLevel(cfg.LogLevel); err != nil {
		return Config{}, fmt.Errorf("--log-level %q: want debug, info, warn or error", cfg.LogLevel)
	}
	if cfg.Security, err = sec(cfg.Listen); err != nil {
		return Config{}, err
	}
	if strings.TrimSpace(cfg.Data) == "" {
		return Config{}, errors.New("--data must name a directory")
	}
	switch cfg.Store {
	case StorePebble:
	case StoreESDB:
		if strings.TrimSpace(cfg.ESDBURL) == "" {
			return Config{}, errors.New("--store=esdb needs --esdb-url (or ECOREGISTRY_ESDB_URL), e.g. esdb://localhost:2113?tls=false")
		}
		if err := esdbstore.CheckURL(cfg.ESDBURL); err != nil {
			return Config{}, fmt.Errorf("--esdb-url: %w", err)
		}
	default:
		return Config{}, fmt.Errorf("--store %q: want %s or %s", cfg.Store, StorePebble, StoreESDB)
	}
	return cfg, nil
}

// DefaultWALMinSyncInterval is the default least time between two syncs of
// the embedded store's log. A sync costs about 80µs of CPU on the 2-core
// machine the registry is measured on, whatever it covers; spacing them by
// 500µs (Pebble's suggestion) lets each cover the appends of many
// concurrent trades, at the cost of at most 500µs of latency under load.
const DefaultWALMinSyncInterval = 500 * time.Microsecond

// The event stores --store can name.
const (
	StorePebble = "pebble"
	StoreESDB   = "esdb"
)

// Main is a running server: the store, the registry service and the gRPC
// server, opened by Run and released by Close.
type Main struct {
	Config Config
	// Logger is built by Run from Config.LogLevel unless set before.
	Logger *zap.Logger
	// Clock tells the registry the time; nil means the system clock. Tests
	// set it to move time, e.g. past a reservation's timeout.
	Clock func() time.Time
	// Ticker paces the rounds of the expiry scheduler; nil means every second.
	Ticker registry.Ticker
	// TracerProvider, when set, traces calls and appends; else Run makes
	// one that exports to Config.OTLPEndpoint, when that is set. Tests set
	// it to see the spans.
	TracerProvider trace.TracerProvider
	// stopTracing flushes and stops the provider Run made.
	stopTracing func(context.Context) error
	// StoreOptions are the embedded store's options, for tests: a file
	// system that injects faults, a smaller cache. Run sets their logger and
	// WAL sync interval from the configuration.
	StoreOptions pebblestore.Options

	store eventstore.Store
	// authorizer applies the access policy; nil in development mode.
	authorizer *access.Authorizer
	// stopReloads ends the reloading of the policy on SIGHUP.
	stopReloads func()
	// stopScheduler ends the expiry scheduler; scheduled is closed when it has.
	stopScheduler context.CancelFunc
	scheduled     chan struct{}
	// projections keeps the read models under <data>/projections.
	projections *projections.Manager
	// metrics, when served, and the server of them.
	metrics       *metrics.Metrics
	metricsServer *metrics.Server
	server        *grpc.Server
	listener      net.Listener
	served        chan error

	closeOnce sync.Once
	closeErr  error

	// integrity signs checkpoints and refuses writes after a break.
	integrity integrityParts
	// pprof serves runtime profiles when Config.PprofListen is set.
	pprof *pprofServer
}

// NewMain returns a server with the given configuration, not yet running.
func NewMain(cfg Config) *Main { return &Main{Config: cfg} }

// Run opens the store, starts listening and serves in the background. It
// returns once the server accepts calls, or with the error that prevented it.
func (m *Main) Run(ctx context.Context) (err error) {
	if m.Logger == nil {
		level, err := zapcore.ParseLevel(m.Config.LogLevel)
		if err != nil {
			return fmt.Errorf("log level: %w", err)
		}
		if m.Logger, err = logging.New(os.Stderr, level, m.logFormat()); err != nil {
			return fmt.Errorf("logger: %w", err)
		}
	}
	if m.Config.Store == StoreESDB {
		m.store, err = esdbstore.Open(ctx, m.Config.ESDBURL, esdbstore.Options{Logger: m.Logger})
		if err != nil {
			return fmt.Errorf("open store: %w", err)
		}
	} else {
		// Pebble logs through slog; its warnings and errors go to stderr in
		// the format of zap's lines, beside them.
		opts := m.StoreOptions
		opts.Logger, opts.WALMinSyncInterval = logging.NewSlog(os.Stderr, m.logFormat()), m.Config.WALMinSyncInterval
		m.store, err = pebblestore.Open(m.Config.Data, opts)
		if err != nil {
			return fmt.Errorf("open store in %s: %w", m.Config.Data, err)
		}
	}
	defer func() {
		if err != nil {
			m.store.Close()
		}
	}()
	// The read models are opened first: the registry asks the holdings
	// model what an account holds across rights (closing an account, its
	// pledges across rights).
	m.projections, err = projections.Open(filepath.Join(m.Config.Data, "projections"), m.store,
		[]projections.Projection{holdings.New(), market.New(), statistics.New(), merkle.New()},
		projections.Options{Logger: m.Logger, Committed: m.committedHook})
	if err != nil {
		return fmt.Errorf("open the projections: %w", err)
	}
	defer func() {
		if err != nil {
			m.closeIntegrity()
			m.projections.Close()
			m.projections = nil
		}
	}()
	if err := m.openIntegrity(ctx); err != nil {
		return err
	}
	held, _ := m.projections.Runner(holdings.Name)
	appends, err := m.instrumentAppends(ctx)
	if err != nil {
		return err
	}
	// Every write goes through the guarded store, which refuses appends
	// once a break in the recorded history was found.
	svc := registry.New(m.integrity.svc.Guard(appends), registry.Options{Logger: m.Logger, Clock: m.Clock,
		HeldRights: holdings.HeldRights(m.store, holdings.NewQueries(held))})
	// Expiries due while the server was down are recorded before it serves.
	sched := registry.NewScheduler(svc, registry.SchedulerOptions{Ticker: m.Ticker})
	// The index of recorded trades is built before serving, so that the
	// first trade does not wait for the scan of the log.
	if err := svc.LoadTradeIndex(ctx); err != nil {
		return fmt.Errorf("index the recorded trades: %w", err)
	}
	if err := m.startScheduler(ctx, sched); err != nil {
		return err
	}
	defer func() {
		// A server that fails to start leaves no scheduler on a closed store.
		if err != nil && m.stopScheduler != nil {
			m.stopScheduler()
			<-m.scheduled
			m.stopScheduler = nil
		}
	}()
	// The read models follow the log in the background; queries wait for
	// the positions they ask for.
	m.projections.Start()
	m.startCheckpointer()
	opts, err := m.serverOptions(svc)
	if err != nil {
		return err
	}
	opts = append(append(m.observerOptions(), opts...), grpcserver.SlowRequest(m.Config.SlowRequest))
	m.server = grpcserver.New(svc, m.Logger, opts...)
	if err = grpcserver.RegisterQueryServices(m.server, m.projections, m.Logger); err != nil {
		return err
	}
	grpcserver.RegisterIntegrityService(m.server, m.integrity.svc, m.Logger)
	if err = m.registerBackups(); err != nil {
		return err
	}
	if err = m.serveMetrics(ctx, svc, holdings.NewQueries(held)); err != nil {
		return err
	}
	defer func() {
		if err != nil && m.metricsServer != nil {
			_ = m.metricsServer.Close()
			m.metricsServer = nil
		}
	}()
	var lc net.ListenConfig
	m.listener, err = lc.Listen(ctx, "tcp", m.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Listen, err)
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(m.listener) }()
	if m.Config.PprofListen != "" {
		if m.pprof, err = startPprof(ctx, m.Config.PprofListen, m.Logger); err != nil {
			m.server.Stop()
			<-m.served
			return fmt.Errorf("pprof on %s: %w", m.Config.PprofListen, err)
		}
	}
	m.Logger.Info("ecoregistryd serving", zap.String("addr", m.listener.Addr().String()), zap.String("store", m.Config.Store), zap.String("data", m.Config.Data),
		zap.Bool("tls", m.Config.TLSCert != ""))
	m.reloadOnHangup()
	return nil
}

// startScheduler records the expiries due while the server was down and
// runs the expiry scheduler, unless writes are refused after a break in the
// recorded history: expiries are writes.
func (m *Main) startScheduler(ctx context.Context, sched *registry.Scheduler) error {
	if m.integrity.svc.Halted() != nil {
		m.Logger.Warn("the expiry scheduler does not run while writes are refused")
		return nil
	}
	if err := sched.Start(ctx); err != nil {
		return fmt.Errorf("start the expiry scheduler: %w", err)
	}
	schedCtx, stop := context.WithCancel(context.Background())
	m.stopScheduler, m.scheduled = stop, make(chan struct{})
	go func() { sched.Run(schedCtx); close(m.scheduled) }()
	return nil
}

// PprofAddr is the address of the profiles endpoint, empty when none.
func (m *Main) PprofAddr() string {
	if m.pprof == nil {
		return ""
	}
	return m.pprof.listener.Addr().String()
}

// registerBackups serves AdminService.Backup: copies of the embedded event
// store and of the read models, staged under the data directory so that
// they hard-link the stores' tables. Copies left by a server that stopped
// while it streamed one are deleted first.
func (m *Main) registerBackups() error {
	staging := filepath.Join(m.Config.Data, "backup-staging")
	if err := backup.ClearStaging(staging); err != nil {
		return fmt.Errorf("clear %s: %w", staging, err)
	}
	var events backup.EventStore
	if st, ok := m.store.(*pebblestore.Store); ok {
		events = st
	}
	grpcserver.RegisterAdminService(m.server, backup.NewTaker(staging, events, m.projections), m.Logger)
	return nil
}

// instrumentAppends prepares the metrics and the tracing asked for, and
// returns the store the registry appends to: timed and traced as asked.
func (m *Main) instrumentAppends(ctx context.Context) (eventstore.Store, error) {
	appends := m.store
	if m.Config.MetricsListen != "" {
		m.metrics = metrics.New(m.Logger)
		appends = m.metrics.InstrumentAppends(appends)
	}
	if m.TracerProvider == nil && m.Config.OTLPEndpoint != "" {
		tp, err := tracing.Exporter(ctx, m.Config.OTLPEndpoint)
		if err != nil {
			return nil, err
		}
		m.TracerProvider, m.stopTracing = tp, tp.Shutdown
		m.Logger.Info("tracing to an OTLP collector", zap.String("endpoint", m.Config.OTLPEndpoint))
	}
	if m.TracerProvider != nil {
		appends = tracing.InstrumentAppends(appends, m.TracerProvider)
	}
	return appends, nil
}

// observerOptions are the gRPC server options that count, time and trace
// calls, as asked.
func (m *Main) observerOptions() []grpc.ServerOption {
	var opts []grpc.ServerOption
	if m.metrics != nil {
		opts = append(opts, m.metrics.ServerOptions()...)
	}
	if m.TracerProvider != nil {
		opts = append(opts, tracing.ServerOptions(m.TracerProvider)...)
	}
	return opts
}

// serveMetrics starts serving the metrics, when asked to: the registry's,
// the read models' and, on the embedded store, Pebble's.
func (m *Main) serveMetrics(ctx context.Context, svc *registry.Service, totals *holdings.Queries) error {
	if m.metrics == nil {
		return nil
	}
	if st, ok := m.store.(*pebblestore.Store); ok {
		m.metrics.WatchPebble(st.Metrics, m.projections.LoggedBytes)
	} else {
		m.metrics.WatchPebble(nil, m.projections.LoggedBytes)
	}
	m.metrics.WatchRegistry(svc)
	m.metrics.WatchReadModels(m.projections, eventstore.PositionUnitOf(m.store), totals)
	m.metrics.InitializeRPC(m.server)
	var err error
	if m.metricsServer, err = m.metrics.Serve(ctx, m.Config.MetricsListen); err != nil {
		return err
	}
	m.Logger.Info("metrics serving", zap.String("addr", "http://"+m.metricsServer.Addr()+"/metrics"))
	return nil
}

// MetricsAddr is the address the metrics are served on; empty when none are.
func (m *Main) MetricsAddr() string {
	if m.metricsServer == nil {
		return ""
	}
	return m.metricsServer.Addr()
}

// logFormat is the configured log format, or the default for stderr.
func (m *Main) logFormat() string {
	if m.Config.LogFormat != "" {
		return m.Config.LogFormat
	}
	return logging.DefaultFormat(os.Stderr)
}

// Addr is the address the server listens on (useful with port 0).
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Close stops the server gracefully: no new calls, calls in flight finish
// (up to Config.ShutdownTimeout, after which they are cancelled), then the
// store is closed so that nothing acknowledged is lost. Calls after the
// first return the first's result.
func (m *Main) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

func (m *Main) close() error {
	if m.stopReloads != nil {
		m.stopReloads()
	}
	if m.pprof != nil {
		_ = m.pprof.close()
	}
	if m.server != nil {
		done := make(chan struct{})
		go func() { m.server.GracefulStop(); close(done) }()
		timeout := m.Config.ShutdownTimeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		select {
		case <-done:
		case <-time.After(timeout):
			m.Logger.Warn("graceful stop timed out; cancelling calls in flight", zap.Duration("timeout", timeout))
			m.server.Stop()
			<-done
		}
		if err := <-m.served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			m.Logger.Error("serve", zap.Error(err))
		}
	}
	if m.metricsServer != nil {
		if err := m.metricsServer.Close(); err != nil {
			m.Logger.Error("stop serving metrics", zap.Error(err))
		}
	}
	if m.stopScheduler != nil {
		m.stopScheduler()
		<-m.scheduled
	}
	// The checkpointer reads the tree: it stops first.
	err := m.closeIntegrity()
	// The projections follow the store: they stop next.
	if m.projections != nil {
		err = errors.Join(err, m.projections.Close())
	}
	if m.store != nil {
		err = errors.Join(err, m.store.Close())
	}
	if m.stopTracing != nil {
		// The last spans are sent before the server says it stopped.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if terr := m.stopTracing(ctx); terr != nil {
			m.Logger.Warn("flush the last traces", zap.Error(terr))
		}
		cancel()
	}
	m.Logger.Info("ecoregistryd stopped")
	_ = m.Logger.Sync()
	return err
}
