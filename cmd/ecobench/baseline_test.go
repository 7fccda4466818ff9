package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/eventstore"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// serveBaselineForTest is the test binary run as ecobench --serve-baseline
// (see TestMain): it serves until SIGTERM and returns the exit code.
func serveBaselineForTest() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return run(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// figures runs a small ecobench with --json and args and returns its object.
func figures(t *testing.T, args ...string) map[string]any {
	t.Helper()
	got, _ := figuresAndLog(t, args...)
	return got
}

// figuresAndLog is figures with what ecobench printed on stderr.
func figuresAndLog(t *testing.T, args ...string) (map[string]any, string) {
	t.Helper()
	code, stdout, stderr := bench(t, append(append([]string{"--json"}, small...), args...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	return got, stderr
}

// positive says whether o[key] is a number above zero.
func positive(o map[string]any, key string) bool {
	v, ok := o[key].(float64)
	return ok && v > 0
}

func TestBaseline(t *testing.T) {
	t.Run("--baseline loads the bare service alone, every trade settled", func(t *testing.T) {
		got := figures(t, "--baseline", "--concurrency", "4", "--warmup", "100ms", "--duration", "300ms")
		if got["target"] != "baseline" || !positive(got, "trades_per_sec") || got["errors"].(float64) != 0 || got["refused"].(float64) != 0 {
			t.Fatalf("%v", got)
		}
	})
	t.Run("--compare-baseline reports the registry, the baseline and the ratios", func(t *testing.T) {
		got := figures(t, "--compare-baseline", "--stream", "--window", "32", "--batch", "8", "--rounds", "2", "--warmup", "100ms", "--duration", "300ms")
		b, _ := got["baseline"].(map[string]any)
		if got["target"] != "registry" || b == nil || b["target"] != "baseline" || !positive(b, "trades_per_sec") || !positive(b, "server_cpu_us_per_trade") {
			t.Fatalf("%v", got)
		}
		// A second round submits new trades, not the first round's again.
		if got["refused"].(float64) != 0 || got["errors"].(float64) != 0 {
			t.Errorf("refused or failed trades over two rounds: %v", got)
		}
		tr, cr := got["throughput_ratio"].(float64), got["cpu_ratio"].(float64)
		if r, _ := got["trades_per_sec"].(float64); tr != r/b["trades_per_sec"].(float64) {
			t.Errorf("throughput ratio %v, figures %v and %v", tr, r, b["trades_per_sec"])
		}
		if cr != got["server_cpu_us_per_trade"].(float64)/b["server_cpu_us_per_trade"].(float64) {
			t.Errorf("CPU ratio %v of %v", cr, got)
		}
	})
	t.Run("beside a --server, the baseline runs in a process of its own and both CPU figures are the servers'", func(t *testing.T) {
		srv := testRegistry(t, false)
		got := figures(t, "--compare-baseline", "--server", srv.addr, "--server-pid", strconv.Itoa(os.Getpid()), "--concurrency", "4", "--warmup", "100ms", "--duration", "300ms")
		b, _ := got["baseline"].(map[string]any)
		if b == nil || b["cpu_scope"] != scopeServer || got["cpu_scope"] != scopeServer || !positive(b, "server_cpu_us_per_trade") ||
			!positive(b, "load_generator_cpu_us_per_trade") || !positive(got, "load_generator_cpu_us_per_trade") {
			t.Fatalf("%v", got)
		}
	})
}

func TestSetupOnly(t *testing.T) {
	srv := testRegistry(t, false)
	code, stdout, stderr := bench(t, "--setup-only", "--server", srv.addr, "--run-id", "GHZ", "--accounts", "12", "--rights", "3")
	if code != 0 || !strings.Contains(stdout, "GHZ-R0000 to GHZ-R0002") || !strings.Contains(stdout, "GHZ-A00005 to GHZ-A00011") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// What it printed is there: seller r sells right r to a buyer.
	conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(t.Context(), "x-ecoregistry-actor", "test")
	resp, err := pb.NewSettlementServiceClient(conn).SubmitTrade(ctx, &pb.SubmitTradeRequest{Trade: &pb.MatchedTrade{ExchangeId: exchangeID, TradeId: "T-1",
		RightId: "GHZ-R0002", SellerAccountId: "GHZ-A00002", BuyerAccountId: "GHZ-A00011", Amount: &pb.MatchedTrade_Quantity{Quantity: 3},
		Price: &pb.Price{AmountMinor: 5000, Currency: "CNY"}, MatchedAt: timestamppb.Now()}})
	if err != nil || resp.GetOutcome().GetSettled() == nil {
		t.Fatalf("a trade on what --setup-only printed: %v, %v", resp, err)
	}
}

func TestBaselineStreamAnswersEveryTradeInItsMessage(t *testing.T) {
	s, err := startBaseline("", t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	svc := &baselineService{store: s.store}
	w, _, _ := newWorld("T", config{accounts: 12, rights: 3})
	g := newGenerator(w, config{rights: 3}, 0)
	trades := []*pb.MatchedTrade{g.next(""), g.next(""), g.next("")}
	out, err := svc.appendAll(t.Context(), "baseline-stream-x", trades)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.store.ReadStream(t.Context(), "baseline-stream-x", 0, eventstore.Forwards, 10)
	if err != nil || len(evs) != 3 {
		t.Fatalf("stored %d events, %v", len(evs), err)
	}
	for i, o := range out {
		c := o.GetSettled().GetCommit()
		if o.GetTradeId() != trades[i].GetTradeId() || c.GetStreamRevision() != evs[i].Revision || c.GetPosition().GetCommit() != evs[i].Position.Commit {
			t.Errorf("outcome %d %v, event at revision %d position %v", i, o, evs[i].Revision, evs[i].Position)
		}
	}
}

func TestProcessCPU(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	t.Run("the process listening on a port is found", func(t *testing.T) {
		pid, err := pidListeningOn(lis.Addr().String())
		if err != nil || pid != os.Getpid() {
			t.Fatalf("pid %d, %v; want %d", pid, err, os.Getpid())
		}
	})
	t.Run("a port nobody listens on, or another machine, finds no process", func(t *testing.T) {
		if pid, err := pidListeningOn("192.0.2.1:50051"); err == nil {
			t.Errorf("found %d for another machine", pid)
		}
		free, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := free.Addr().String()
		free.Close()
		if pid, err := pidListeningOn(addr); err == nil {
			t.Errorf("found %d for a closed port", pid)
		}
	})
	t.Run("a process's CPU time from /proc agrees with getrusage", func(t *testing.T) {
		self, err := selfCPU{}.cpuTime()
		if err != nil {
			t.Fatal(err)
		}
		proc, err := pidCPU(os.Getpid()).cpuTime()
		if err != nil {
			t.Fatal(err)
		}
		// /proc counts in ticks of 10 ms, and time passes between the reads.
		if proc <= 0 || proc > self+50*time.Millisecond || proc < self-100*time.Millisecond {
			t.Errorf("/proc says %v, getrusage %v", proc, self)
		}
	})
}
