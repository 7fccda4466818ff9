package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// baselineService is the speed-of-light settlement service: for each trade
// it does only what any registry must, with the registry's own store. gRPC
// decodes the request; the trade is encoded as one event and appended,
// durably, to the embedded store opened with the registry's settings; the
// answer is a settled outcome with the event's place. It checks nothing,
// keeps no state, logs nothing and runs no read model, so the registry's
// throughput divided by its throughput, measured in the same run, is the
// share of the machine the registry spends on settling.
//
// SubmitTrade appends one event to the right's stream. SubmitTrades appends
// the trades of each message as the events of one append: the least a
// stream can cost, one durable write per message.
type baselineService struct {
	pb.UnimplementedSettlementServiceServer
	store *pebblestore.Store
	// ids numbers the events: the store needs an id, and a counter costs
	// less than a random UUID.
	ids atomic.Uint64
	// streams numbers the SubmitTrades streams, each appended to a stream
	// of the store of its own.
	streams atomic.Int64
}

func (b *baselineService) event(t *pb.MatchedTrade) (eventstore.EventData, error) {
	data, err := proto.Marshal(t)
	if err != nil {
		return eventstore.EventData{}, err
	}
	var id uuid.UUID
	binary.BigEndian.PutUint64(id[:8], b.ids.Add(1))
	id[8] = 0x80
	return eventstore.EventData{ID: id, Type: "BaselineTrade", ContentType: "application/protobuf", Data: data}, nil
}

// SubmitTrade appends the trade to its right's stream and answers settled.
func (b *baselineService) SubmitTrade(ctx context.Context, req *pb.SubmitTradeRequest) (*pb.SubmitTradeResponse, error) {
	t := req.GetTrade()
	ev, err := b.event(t)
	if err != nil {
		return nil, err
	}
	stream := "baseline-" + t.GetRightId()
	res, err := b.store.Append(ctx, stream, eventstore.Any(), ev)
	if err != nil {
		return nil, err
	}
	return &pb.SubmitTradeResponse{Outcome: settledOutcome(t, stream, res.NextExpectedRevision, res.Position.Commit)}, nil
}

func settledOutcome(t *pb.MatchedTrade, stream string, rev, pos uint64) *pb.TradeOutcome {
	return &pb.TradeOutcome{ExchangeId: t.GetExchangeId(), TradeId: t.GetTradeId(), RightId: t.GetRightId(),
		Result: &pb.TradeOutcome_Settled{Settled: &pb.TradeSettlement{Quantity: t.GetQuantity(),
			Commit: &pb.Commit{Stream: stream, StreamRevision: rev, Position: &pb.Position{Commit: pos, Prepare: pos}}}}}
}

// baselineWindow bounds the trades of one stream being appended at once,
// as the registry's stream handler does.
const baselineWindow = 4096

// SubmitTrades appends each message's trades in one append, several
// messages at once, and answers each message with one message of outcomes.
func (b *baselineService) SubmitTrades(stream pb.SettlementService_SubmitTradesServer) error {
	ctx := stream.Context()
	name := fmt.Sprintf("baseline-stream-%d", b.streams.Add(1))
	window := make(chan struct{}, baselineWindow)
	var (
		wg     sync.WaitGroup
		sendMu sync.Mutex
		failed atomic.Pointer[error]
	)
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			wg.Wait()
			return err
		}
		trades := req.GetTrades()
		if len(trades) == 0 {
			continue
		}
		// A message larger than the window takes all of it.
		slots := min(len(trades), baselineWindow)
		for range slots {
			window <- struct{}{}
		}
		wg.Go(func() {
			defer func() {
				for range slots {
					<-window
				}
			}()
			out, err := b.appendAll(ctx, name, trades)
			if err == nil {
				sendMu.Lock()
				err = stream.Send(&pb.SubmitTradesResponse{Outcomes: out})
				sendMu.Unlock()
			}
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
	}
	wg.Wait()
	if p := failed.Load(); p != nil {
		return *p
	}
	return nil
}

func (b *baselineService) appendAll(ctx context.Context, stream string, trades []*pb.MatchedTrade) ([]*pb.TradeOutcome, error) {
	events := make([]eventstore.EventData, len(trades))
	for i, t := range trades {
		ev, err := b.event(t)
		if err != nil {
			return nil, err
		}
		events[i] = ev
	}
	res, err := b.store.Append(ctx, stream, eventstore.Any(), events...)
	if err != nil {
		return nil, err
	}
	out := make([]*pb.TradeOutcome, len(trades))
	first := uint64(len(trades) - 1)
	for i, t := range trades {
		back := first - uint64(i)
		out[i] = settledOutcome(t, stream, res.NextExpectedRevision-back, res.Position.Commit-back)
	}
	return out, nil
}

// baselineServer is a baseline service serving on a listener.
type baselineServer struct {
	addr   string
	dir    string
	temp   bool
	store  *pebblestore.Store
	server *grpc.Server
	served chan error
}

// startBaseline serves the baseline on listen (127.0.0.1:0 when empty)
// with the embedded store in dir (a new temporary directory when empty),
// opened with the given least time between syncs of its log, as the
// registry's store is.
func startBaseline(listen, dir string, walSync time.Duration) (*baselineServer, error) {
	st, dir, temp, err := openStore(dir, "ecobench-baseline-", walSync)
	if err != nil {
		return nil, err
	}
	s := &baselineServer{dir: dir, temp: temp, store: st}
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", listen)
	if err != nil {
		s.close()
		return nil, err
	}
	s.addr = lis.Addr().String()
	s.server = grpc.NewServer()
	pb.RegisterSettlementServiceServer(s.server, &baselineService{store: st})
	s.served = make(chan error, 1)
	go func() { s.served <- s.server.Serve(lis) }()
	return s, nil
}

// close stops the server, closes the store and removes a temporary directory.
func (s *baselineServer) close() {
	if s.server != nil {
		s.server.Stop()
		<-s.served
	}
	if s.store != nil {
		_ = s.store.Close()
	}
	if s.temp {
		_ = os.RemoveAll(s.dir)
	}
}

// baselineReady starts the line a baseline process prints once it serves.
const baselineReady = "ecobench baseline serving on "

// serveBaseline is ecobench --serve-baseline: it serves the baseline until
// ctx ends, after printing its address on stdout.
func serveBaseline(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	s, err := startBaseline(cfg.listen, cfg.data, cfg.walSync)
	if err != nil {
		fmt.Fprintln(stderr, "ecobench:", err)
		return 1
	}
	defer s.close()
	fmt.Fprintf(stdout, "%s%s (pid %d, store in %s)\n", baselineReady, s.addr, os.Getpid(), s.dir)
	<-ctx.Done()
	return 0
}

// baselineProcess is a baseline served by a child process of ecobench, so
// that its CPU time is its own, as a separate ecoregistryd's is.
type baselineProcess struct {
	addr string
	cmd  *exec.Cmd
}

// spawnBaseline starts ecobench --serve-baseline as a child process and
// waits for it to serve.
func spawnBaseline(walSync time.Duration, stderr io.Writer) (*baselineProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "--serve-baseline", "--wal-min-sync-interval", walSync.String())
	cmd.Stderr = stderr
	// The child stops with ecobench, however ecobench ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &baselineProcess{cmd: cmd}
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		l, _ := r.ReadString('\n')
		line <- l
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case l := <-line:
		if rest, ok := strings.CutPrefix(l, baselineReady); ok {
			p.addr, _, _ = strings.Cut(rest, " ")
			return p, nil
		}
		p.stop()
		return nil, fmt.Errorf("the baseline process did not start: %q", l)
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, errors.New("the baseline process did not serve within 30s")
	}
}

func (p *baselineProcess) pid() int { return p.cmd.Process.Pid }

// stop ends the child gracefully, so that it removes its store.
func (p *baselineProcess) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
}
