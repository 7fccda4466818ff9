package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"
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
	// serverPID is the process of the --server, for its CPU time; 0 finds
	// it by the port it listens on.
	serverPID int
	// serverPprof and serverProfile take the server's CPU profile.
	serverPprof   string
	serverProfile string
	// baseline loads the baseline alone; compare loads the registry and
	// the baseline, rounds times each, alternating.
	baseline bool
	compare  bool
	rounds   int
	// serveBaseline serves the baseline on listen instead of loading.
	serveBaseline bool
	listen        string
	// runID names the run's accounts and rights; setupOnly stops after
	// setting them up.
	runID     string
	setupOnly bool
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
	fs.IntVar(&c.serverPID, "server-pid", 0, "process id of the --server, for its CPU time per trade; 0 finds the process listening on the --server port on this machine")
	fs.StringVar(&c.serverPprof, "server-pprof", "", "address of the --server's pprof endpoint (ecoregistryd --pprof-listen), with --server-cpuprofile")
	fs.StringVar(&c.serverProfile, "server-cpuprofile", "", "write the --server's CPU profile of the (first) measured window to this file, taken from --server-pprof")
	fs.BoolVar(&c.baseline, "baseline", false, "load the baseline alone instead of the registry: a bare settlement service that decodes each trade, appends it durably to the embedded store and answers")
	fs.BoolVar(&c.compare, "compare-baseline", false, "load the baseline and the registry one after the other with the same load, and report the registry's ratio to the baseline")
	fs.IntVar(&c.rounds, "rounds", 1, "with --compare-baseline, how many times to load each, alternating (baseline first in odd rounds, registry first in even ones)")
	fs.BoolVar(&c.serveBaseline, "serve-baseline", false, "serve the baseline on --listen until interrupted, instead of loading anything (ecobench runs itself so beside a --server)")
	fs.StringVar(&c.listen, "listen", "127.0.0.1:0", "address the baseline serves on, with --serve-baseline")
	fs.StringVar(&c.runID, "run-id", "", "prefix of the run's account and right ids; empty makes one unique to the run")
	fs.BoolVar(&c.setupOnly, "setup-only", false, "open the accounts and register the rights on the --server, print the run id and stop (for another load generator)")
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
	return c, checkModes(c)
}

// checkModes refuses flags that do not go together.
func checkModes(c config) error {
	switch {
	case c.baseline && c.compare:
		return errors.New("--baseline and --compare-baseline exclude each other")
	case c.baseline && c.server != "":
		return errors.New("--server names the registry, which --baseline does not load (see --compare-baseline)")
	case c.rounds < 1:
		return errors.New("--rounds must be at least 1")
	case c.rounds > 1 && !c.compare:
		return errors.New("--rounds needs --compare-baseline")
	case (c.serverPID != 0 || c.serverPprof != "") && c.server == "":
		return errors.New("--server-pid and --server-pprof need --server")
	case (c.serverPprof == "") != (c.serverProfile == ""):
		return errors.New("--server-pprof and --server-cpuprofile go together")
	case c.setupOnly && (c.server == "" || c.baseline || c.compare):
		return errors.New("--setup-only needs --server and no baseline")
	}
	return nil
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
	if cfg.serveBaseline {
		return serveBaseline(ctx, cfg, stdout, stderr)
	}
	if cfg.runID == "" {
		cfg.runID = newRunID()
	}
	ts, err := openTargets(ctx, cfg, stderr)
	defer ts.close()
	if err != nil {
		fmt.Fprintln(stderr, "ecobench:", err)
		return 1
	}
	if cfg.setupOnly {
		printWorld(stdout, cfg)
		return 0
	}
	if err := ts.measure(ctx, cfg, stdout, stderr); err != nil {
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
	report(stdout, cfg, ts)
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
