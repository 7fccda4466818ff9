package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/projections"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// bench runs ecobench with args and returns its exit code, stdout and stderr.
func bench(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// testRegistry starts a registry in this process, with or without its
// read models, for the test's length.
func testRegistry(t *testing.T, readModels bool) *registryServer {
	t.Helper()
	srv, err := startRegistry(t.TempDir(), 0, readModels, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.close)
	return srv
}

// small makes a run quick: a few accounts and rights, a short window.
var small = []string{"--accounts", "12", "--rights", "4", "--warmup", "200ms", "--duration", "1s"}

func TestLoad(t *testing.T) {
	for name, args := range map[string][]string{
		"unary calls":                    {"--concurrency", "8"},
		"one stream":                     {"--stream", "--window", "64", "--batch", "8"},
		"two streams, hot rights":        {"--stream", "--streams", "2", "--window", "32", "--hot-rights", "1", "--hot-share", "0.9"},
		"unary calls on two connections": {"--concurrency", "4", "--conns", "2", "--hot-rights", "2", "--hot-share", "0.5"},
	} {
		t.Run(name+" print one JSON object with the figures", func(t *testing.T) {
			got, stderr := figuresAndLog(t, args...)
			stdout := fmt.Sprint(got)
			for _, k := range []string{"target", "trades_per_sec", "p50_ms", "p95_ms", "p99_ms", "refused", "errors", "server_cpu_us_per_trade", "cpu_scope"} {
				if _, ok := got[k]; !ok {
					t.Errorf("no %s in %s", k, stdout)
				}
			}
			if len(got) != 9 {
				t.Errorf("keys beyond the nine in %s", stdout)
			}
			if got["target"] != "registry" || got["cpu_scope"] != scopeSelf || got["server_cpu_us_per_trade"].(float64) <= 0 {
				t.Errorf("the in-process registry's CPU figure: %s", stdout)
			}
			if got["trades_per_sec"].(float64) <= 0 || got["errors"].(float64) != 0 || got["refused"].(float64) != 0 {
				t.Errorf("figures %s\n%s", stdout, stderr)
			}
			if p50, p95, p99 := got["p50_ms"].(float64), got["p95_ms"].(float64), got["p99_ms"].(float64); !(0 < p50 && p50 <= p95 && p95 <= p99) {
				t.Errorf("percentiles out of order: %s", stdout)
			}
			if !strings.Contains(stderr, "measuring") {
				t.Errorf("no progress on stderr:\n%s", stderr)
			}
		})
	}

	t.Run("the text report names throughput, latency, refusals and errors", func(t *testing.T) {
		code, stdout, stderr := bench(t, small...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		for _, want := range []string{"throughput", "trades/s", "p50", "p95", "p99", "refused", "errors", "µs per settled trade"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("report lacks %q:\n%s", want, stdout)
			}
		}
	})

	t.Run("a running registry is loaded with --server", func(t *testing.T) {
		srv := testRegistry(t, true)
		code, stdout, stderr := bench(t, append([]string{"--json", "--server", srv.addr, "--concurrency", "4"}, small...)...)
		if code != 0 || !strings.Contains(stdout, "trades_per_sec") || !strings.Contains(stderr, "ecoregistryd at "+srv.addr) {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		// The in-process registry runs the read models, as ecoregistryd
		// does: the market ledger has the trades.
		head, err := projections.Head(t.Context(), srv.store)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		trades, err := pb.NewMarketQueryServiceClient(conn).ListTrades(t.Context(), &pb.ListTradesRequest{PageSize: 5,
			MinPosition: &pb.Position{Commit: head.Commit, Prepare: head.Prepare}})
		if err != nil || len(trades.GetTrades()) != 5 || trades.GetTrades()[0].GetExchange() == "" {
			t.Fatalf("the market ledger after the run: %v, %v", trades, err)
		}
	})
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--hot-share", "0.9"},
		{"--hot-rights", "3", "--rights", "10"},
		{"--hot-rights", "11", "--rights", "10", "--hot-share", "0.5"},
		{"--hot-rights", "1", "--hot-share", "1.5"},
		{"--concurrency", "0"},
		{"--duration", "0s"},
		{"--accounts", "5"},
		{"stray"},
		{"--baseline", "--compare-baseline"},
		{"--baseline", "--server", "127.0.0.1:1"},
		{"--rounds", "2"},
		{"--compare-baseline", "--rounds", "0"},
		{"--server-pid", "1"},
		{"--server", "127.0.0.1:1", "--server-pprof", "127.0.0.1:2"},
		{"--setup-only"},
	} {
		t.Run(strings.Join(args, " ")+" is refused before anything runs", func(t *testing.T) {
			code, stdout, stderr := bench(t, args...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, "ecobench:") {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
		})
	}
}
