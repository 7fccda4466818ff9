package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// target is a settlement service ecobench loads: the registry or the
// baseline.
type target struct {
	name  string // "registry" or "baseline"
	addr  string
	where string // for the log
	// cpu reads the server's CPU time, nil when unknown; cpuScope says
	// what it counts.
	cpu      cpuMeter
	cpuScope string
	// external is set when the server is a process of its own, so that
	// this process's CPU time is the load generator's alone.
	external bool
	conns    []*grpc.ClientConn
	world    *world
	// total adds up what its phases measured.
	total  *result
	closer func()
}

// Scopes of the server CPU figure.
const (
	scopeServer = "server process"
	scopeSelf   = "ecobench process: load generator and server"
)

// targets are the services of a run: the registry, the baseline or both.
type targets struct {
	registry, baseline *target
}

func (ts *targets) list() []*target {
	var l []*target
	for _, t := range []*target{ts.baseline, ts.registry} {
		if t != nil {
			l = append(l, t)
		}
	}
	return l
}

func (ts *targets) close() {
	for _, t := range ts.list() {
		for _, c := range t.conns {
			_ = c.Close()
		}
		if t.closer != nil {
			t.closer()
		}
	}
}

// openTargets starts or finds the services the run loads, connects to
// them and sets up their accounts and rights. The baseline runs where the
// registry does: in this process, or, beside a --server, in a process of
// its own, so that both CPU figures count the same things.
func openTargets(ctx context.Context, cfg config, stderr io.Writer) (*targets, error) {
	ts := &targets{}
	if !cfg.baseline {
		t, err := registryTarget(cfg, stderr)
		ts.registry = t
		if err != nil {
			return ts, err
		}
	}
	if cfg.baseline || cfg.compare {
		t, err := baselineTarget(cfg, stderr)
		ts.baseline = t
		if err != nil {
			return ts, err
		}
	}
	for _, t := range ts.list() {
		if err := t.connect(cfg); err != nil {
			return ts, err
		}
	}
	if r := ts.registry; r != nil {
		fmt.Fprintf(stderr, "ecobench: setting up %d accounts and %d rights on %s\n", cfg.accounts, cfg.rights, r.where)
		w, err := setUp(ctx, r.conns[0], cfg.runID, cfg)
		if err != nil {
			return ts, fmt.Errorf("setup: %w", err)
		}
		r.world = w
	}
	if b := ts.baseline; b != nil {
		b.world, _, _ = newWorld(cfg.runID, cfg)
	}
	return ts, nil
}

func registryTarget(cfg config, stderr io.Writer) (*target, error) {
	t := &target{name: "registry", total: &result{}}
	if cfg.server != "" {
		t.addr, t.where, t.cpuScope, t.external = cfg.server, "ecoregistryd at "+cfg.server, scopeServer, true
		pid := cfg.serverPID
		if pid == 0 {
			var err error
			if pid, err = pidListeningOn(cfg.server); err != nil {
				fmt.Fprintf(stderr, "ecobench: the server's CPU time will not be known (give --server-pid): %v\n", err)
			}
		}
		if pid != 0 {
			t.cpu = pidCPU(pid)
			t.where += fmt.Sprintf(" (pid %d)", pid)
		}
		return t, nil
	}
	srv, err := startRegistry(cfg.data, cfg.walSync, cfg.readModels, cfg.integrity)
	if err != nil {
		return t, err
	}
	t.closer = srv.close
	t.addr, t.cpu, t.cpuScope = srv.addr, selfCPU{}, scopeSelf
	t.where = "a registry in this process (embedded store in " + srv.dir + ")"
	return t, nil
}

func baselineTarget(cfg config, stderr io.Writer) (*target, error) {
	t := &target{name: "baseline", total: &result{}}
	if cfg.server != "" {
		p, err := spawnBaseline(cfg.walSync, stderr)
		if err != nil {
			return t, err
		}
		t.closer = p.stop
		t.addr, t.cpu, t.cpuScope, t.external = p.addr, pidCPU(p.pid()), scopeServer, true
		t.where = fmt.Sprintf("the baseline at %s (pid %d)", p.addr, p.pid())
		return t, nil
	}
	srv, err := startBaseline("", cfg.data, cfg.walSync)
	if err != nil {
		return t, err
	}
	t.closer = srv.close
	t.addr, t.cpu, t.cpuScope = srv.addr, selfCPU{}, scopeSelf
	t.where = "the baseline in this process (embedded store in " + srv.dir + ")"
	return t, nil
}

func (t *target) connect(cfg config) error {
	t.conns = make([]*grpc.ClientConn, cfg.conns)
	for i := range t.conns {
		conn, err := grpc.NewClient(t.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		t.conns[i] = conn
	}
	return nil
}

// idleLimit bounds the wait for the servers to go idle before a phase.
const idleLimit = 30 * time.Second

// measure loads the targets: each once, or, comparing, rounds times each,
// alternating which goes first. Before each phase it waits for every
// server to go idle, so that no phase pays for the last one's aftermath.
func (ts *targets) measure(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	profiled, serverProfiled := false, false
	for round := range cfg.rounds {
		order := ts.list()
		if round%2 == 1 {
			order[0], order[len(order)-1] = order[len(order)-1], order[0]
		}
		for _, t := range order {
			ts.waitIdle(stderr)
			opts := loadOptions{server: t.cpu}
			// Profiles are of the first phase of the registry (of the
			// baseline when it runs alone).
			if cfg.cpuprofile != "" && !profiled && (t == ts.registry || ts.registry == nil) {
				opts.cpuprofile, profiled = cfg.cpuprofile, true
			}
			if cfg.serverProfile != "" && !serverProfiled && t == ts.registry {
				opts.serverProfile, serverProfiled = serverProfiler(cfg.serverPprof, cfg.serverProfile), true
			}
			fmt.Fprintf(stderr, "ecobench: round %d of %d: %s on %s over %d connection(s); trades spread over %d rights %s; %s warm-up, %s measured\n",
				round+1, cfg.rounds, modeOf(cfg), t.where, cfg.conns, cfg.rights, spreadOf(cfg), cfg.warmup, cfg.duration)
			res, err := load(ctx, t.conns, cfg, t.world, opts, stdout, stderr)
			if err != nil {
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
			t.total.add(res)
			if cfg.rounds > 1 {
				fmt.Fprintf(stderr, "ecobench: round %d, %s: %.0f trades/s\n", round+1, t.name, float64(res.completed)/res.measured.Seconds())
			}
		}
	}
	return nil
}

func (ts *targets) waitIdle(stderr io.Writer) {
	for _, t := range ts.list() {
		if t.cpu == nil {
			continue
		}
		if d := waitIdle(t.cpu, idleLimit); d > time.Second {
			fmt.Fprintf(stderr, "ecobench: waited %.1fs for the %s to go idle\n", d.Seconds(), t.name)
		}
	}
}

func modeOf(cfg config) string {
	if cfg.stream {
		return fmt.Sprintf("SubmitTrades, %d stream(s), %d trades in flight per stream, up to %d per message", cfg.streams, cfg.window, cfg.batch)
	}
	return fmt.Sprintf("unary SubmitTrade, %d callers", cfg.concurrency)
}

func spreadOf(cfg config) string {
	if cfg.hotRights > 0 {
		return fmt.Sprintf("%.0f%% on %d hot rights", 100*cfg.hotShare, cfg.hotRights)
	}
	return "uniformly"
}
