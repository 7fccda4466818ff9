// Command ecobench is a load generator for exchange settlement: it opens
// accounts and registers rights, then submits matched trades over gRPC as
// an exchange would, and reports the throughput, the latency percentiles
// and how many trades were refused or failed.
//
// Usage:
//
//	ecobench [flags]
//
// Without --server it starts a registry itself, in this process, on a
// temporary embedded (Pebble) store on 127.0.0.1:0, wired as ecoregistryd
// wires it (the store, the registry service, the read models unless
// --read-models=false, the Merkle tree and its signed checkpoints unless
// --integrity=false, and the gRPC server with its request logging); with
// --server ADDR it loads a running ecoregistryd. It submits trades with
// --concurrency callers of the unary SubmitTrade (default 64), or over
// --streams SubmitTrades streams with --stream, for --duration (default
// 10s) after a --warmup (default 2s). --hot-rights K --hot-share P puts the
// share P of the trades on K of the --rights rights, the rest on the others.
//
// The baseline. --baseline loads, instead of the registry, a bare
// settlement service that does only what the machine must do for a trade:
// gRPC decodes the request, the trade is appended as one event, durably, to
// the embedded store opened with the registry's settings, and the answer
// says settled. --compare-baseline loads the baseline and the registry one
// after the other with the same load (--rounds N times each, alternating
// which goes first) and reports the registry's ratio to the baseline. The
// baseline runs where the registry does: in this process, or, beside a
// --server, in a child process (ecobench --serve-baseline).
//
// CPU per trade. ecobench reports the server's CPU time per settled trade
// over the measured window. For a --server it is the server process's own,
// read from /proc/<pid>/stat (--server-pid, or the process listening on the
// --server port of this machine), and ecobench's own CPU per trade (the
// load generator's) is printed beside it; for the in-process registry it is
// the whole ecobench process, load generator included. --server-pprof ADDR
// --server-cpuprofile FILE writes the server's CPU profile of the measured
// window, taken from ecoregistryd --pprof-listen.
//
// Every second it prints its progress to stderr. At the end it prints the
// trades per second, the p50, p95 and p99 latency from submission to
// answer, the refused and error counts and the CPU per trade; with --json,
// stdout carries exactly one JSON object with the keys target,
// trades_per_sec, p50_ms, p95_ms, p99_ms, refused and errors, and when
// known server_cpu_us_per_trade with cpu_scope and
// load_generator_cpu_us_per_trade; with --compare-baseline also baseline
// (an object of the same keys), throughput_ratio and cpu_ratio (registry
// divided by baseline). It exits 1 when the setup fails and 2 on a wrong
// command line.
//
// Setup: --accounts accounts are opened, a tenth of them (at least five)
// sellers and the rest buyers. Each right is a carbon allowance of 10^12
// units registered to one seller, who passes a fifth to each of four more;
// a trade sells 1 to 10 units from one of a right's five holders to a
// random buyer, so that refusals stay rare. All ids carry a prefix unique
// to the run (--run-id), so runs against one server do not collide.
// --setup-only sets up on the --server, prints what it made and stops, for
// another load generator to trade on.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
