package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// config is what the command line asks for.
type config struct {
	server      string
	concurrency int
	conns       int
	stream      bool
	streams     int
	window      int
	batch       int
	duration    time.Duration
	warmup      time.Duration
	rights      int
	accounts    int
	hotRights   int
	hotShare    float64
	json        bool
	actor       string
	data        string
	cpuprofile  string
	memprofile  string
	walSync     time.Duration
	readModels  bool
	integrity   bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("ecobench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.server, "server", "", "address of a running ecoregistryd; empty starts a registry in this process on a temporary embedded store")
	fs.IntVar(&c.concurrency, "concurrency", 64, "callers of the unary SubmitTrade, each with one call in flight")
	fs.IntVar(&c.conns, "conns", 1, "gRPC connections the callers or streams share")
	fs.BoolVar(&c.stream, "stream", false, "submit over SubmitTrades streams instead of unary calls")
	fs.IntVar(&c.streams, "streams", 1, "SubmitTrades streams, with --stream")
	fs.IntVar(&c.window, "window", 4096, "trades in flight per stream, with --stream")
	fs.IntVar(&c.batch, "batch", 64, "most trades per stream message, with --stream; fewer are sent when fewer may be in flight")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long to measure")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "how long to submit before measuring")
	fs.IntVar(&c.rights, "rights", 100, "rights to trade")
	fs.IntVar(&c.accounts, "accounts", 1000, "accounts to open: a tenth (at least 5) sell, the rest buy")
	fs.IntVar(&c.hotRights, "hot-rights", 0, "number of hot rights, which get --hot-share of the trades")
	fs.Float64Var(&c.hotShare, "hot-share", 0, "share of the trades on the hot rights, between 0 and 1")
	fs.BoolVar(&c.json, "json", false, "print one JSON object with trades_per_sec, p50_ms, p95_ms, p99_ms, refused and errors")
	fs.StringVar(&c.actor, "actor", "ecobench", "actor sent with every call")
	fs.StringVar(&c.data, "data", "", "directory of the in-process registry's store; empty means a temporary one, removed at the end")
	fs.DurationVar(&c.walSync, "wal-min-sync-interval", 500*time.Microsecond, "least time between two syncs of the in-process registry's log, as ecoregistryd's flag of that name")
	fs.BoolVar(&c.readModels, "read-models", true, "run the holdings, market and statistics read models in the in-process registry, as ecoregistryd does; false measures the settlement path alone")
	fs.BoolVar(&c.integrity, "integrity", true, "keep the Merkle tree of the log and sign checkpoints in the in-process registry, as ecoregistryd does; false leaves them out")
	fs.StringVar(&c.memprofile, "memprofile", "", "write a memory profile (allocations since the start, load generator and in-process registry) to this file at the end")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the measured window (load generator and in-process registry) to this file")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ecobench [flags]\n\nSubmits matched trades to the registry over gRPC and reports throughput and latency.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	switch {
	case c.concurrency < 1:
		return config{}, errors.New("--concurrency must be at least 1")
	case c.conns < 1:
		return config{}, errors.New("--conns must be at least 1")
	case c.streams < 1:
		return config{}, errors.New("--streams must be at least 1")
	case c.window < 1:
		return config{}, errors.New("--window must be at least 1")
	case c.batch < 1:
		return config{}, errors.New("--batch must be at least 1")
	case c.duration <= 0:
		return config{}, errors.New("--duration must be positive")
	case c.warmup < 0:
		return config{}, errors.New("--warmup must not be negative")
	case c.rights < 1:
		return config{}, errors.New("--rights must be at least 1")
	case c.accounts < 6:
		return config{}, errors.New("--accounts must be at least 6: five sellers and a buyer")
	case c.hotRights < 0 || c.hotRights > c.rights:
		return config{}, fmt.Errorf("--hot-rights must be between 0 and --rights (%d)", c.rights)
	case c.hotShare < 0 || c.hotShare > 1:
		return config{}, errors.New("--hot-share must be between 0 and 1")
	case c.hotShare > 0 && c.hotRights == 0:
		return config{}, errors.New("--hot-share needs --hot-rights")
	case c.hotRights > 0 && c.hotRights < c.rights && c.hotShare == 0:
		return config{}, errors.New("--hot-rights needs --hot-share")
	}
	return c, nil
}

// summary is the JSON object --json prints.
type summary struct {
	TradesPerSec float64 `json:"trades_per_sec"`
	P50ms        float64 `json:"p50_ms"`
	P95ms        float64 `json:"p95_ms"`
	P99ms        float64 `json:"p99_ms"`
	Refused      int64   `json:"refused"`
	Errors       int64   `json:"errors"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "ecobench:", err)
		return 2
	}
	addr := cfg.server
	where := "ecoregistryd at " + addr
	if addr == "" {
		srv, err := startRegistry(cfg.data, cfg.walSync, cfg.readModels, cfg.integrity)
		if err != nil {
			fmt.Fprintln(stderr, "ecobench:", err)
			return 1
		}
		defer srv.close()
		addr = srv.addr
		where = "a registry in this process (embedded store in " + srv.dir + ")"
	}
	conns := make([]*grpc.ClientConn, cfg.conns)
	for i := range conns {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			fmt.Fprintln(stderr, "ecobench:", err)
			return 1
		}
		defer conn.Close()
		conns[i] = conn
	}
	fmt.Fprintf(stderr, "ecobench: setting up %d accounts and %d rights on %s\n", cfg.accounts, cfg.rights, where)
	w, err := setUp(ctx, conns[0], cfg)
	if err != nil {
		fmt.Fprintln(stderr, "ecobench: setup:", err)
		return 1
	}
	mode := fmt.Sprintf("unary SubmitTrade, %d callers", cfg.concurrency)
	if cfg.stream {
		mode = fmt.Sprintf("SubmitTrades, %d stream(s), %d trades in flight per stream, up to %d per message", cfg.streams, cfg.window, cfg.batch)
	}
	spread := "uniformly"
	if cfg.hotRights > 0 {
		spread = fmt.Sprintf("%.0f%% on %d hot rights", 100*cfg.hotShare, cfg.hotRights)
	}
	fmt.Fprintf(stderr, "ecobench: %s over %d connection(s); trades spread over %d rights %s; %s warm-up, %s measured\n",
		mode, cfg.conns, cfg.rights, spread, cfg.warmup, cfg.duration)
	res, err := load(ctx, conns, cfg, w, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ecobench:", err)
		return 1
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "ecobench: interrupted")
		return 1
	}
	if cfg.memprofile != "" {
		if err := writeHeapProfile(cfg.memprofile); err != nil {
			fmt.Fprintln(stderr, "ecobench:", err)
			return 1
		}
	}
	s := summary{TradesPerSec: float64(res.completed) / cfg.duration.Seconds(), P50ms: ms(res.percentile(50)), P95ms: ms(res.percentile(95)),
		P99ms: ms(res.percentile(99)), Refused: res.refused, Errors: res.errors}
	if cfg.json {
		b, _ := json.Marshal(s)
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "mode          %s\n", mode)
	fmt.Fprintf(stdout, "rights        %d, %s\n", cfg.rights, spread)
	fmt.Fprintf(stdout, "measured      %s after a %s warm-up\n", cfg.duration, cfg.warmup)
	fmt.Fprintf(stdout, "trades        %d answered: %d settled, %d refused, %d errors\n", res.completed, res.settled, res.refused, res.errors)
	fmt.Fprintf(stdout, "throughput    %.0f trades/s\n", s.TradesPerSec)
	fmt.Fprintf(stdout, "latency       p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms\n", s.P50ms, s.P95ms, s.P99ms, ms(res.percentile(100)))
	if res.completed > 0 {
		who := "load generator and registry"
		if cfg.server != "" {
			who = "load generator only"
		}
		fmt.Fprintf(stdout, "cpu           %.1f µs per trade (%s), %.2f cores busy\n",
			float64(res.cpu.Microseconds())/float64(res.completed), who, res.cpu.Seconds()/cfg.duration.Seconds())
	}
	if len(res.firstErrors) > 0 {
		fmt.Fprintf(stdout, "first errors  %v\n", res.firstErrors)
	}
	return 0
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
