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
// wires it (the store, the registry service and the gRPC server with its
// request logging), with the read-model projections (--read-models=false
// leaves them out) and the Merkle tree with its signed checkpoints
// (--integrity=false leaves them out); with --server ADDR
// it loads a running ecoregistryd. It submits trades with --concurrency
// callers of the unary SubmitTrade (default 64), or over --streams
// SubmitTrades streams with --stream, for --duration (default 10s) after a
// --warmup (default 2s). --hot-rights K --hot-share P puts the share P of
// the trades on K of the --rights rights, the rest on the others.
//
// Every second it prints its progress to stderr. At the end it prints the
// trades per second, the p50, p95 and p99 latency from submission to
// answer, and the refused and error counts; with --json, stdout carries
// exactly one JSON object with the keys trades_per_sec, p50_ms, p95_ms,
// p99_ms, refused and errors. It exits 1 when the setup fails and 2 on a
// wrong command line.
//
// Setup: --accounts accounts are opened, a tenth of them (at least five)
// sellers and the rest buyers. Each right is a carbon allowance of 10^12
// units registered to one seller, who passes a fifth to each of four more;
// a trade sells 1 to 10 units from one of a right's five holders to a
// random buyer, so that refusals stay rare. All ids carry a prefix unique
// to the run, so runs against one server do not collide.
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
