package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// exchangeID is the exchange the load generator poses as.
const exchangeID = "ECOBENCH"

// result is what the measured part of a run saw.
type result struct {
	completed, settled, refused, errors int64
	// latencies of every trade answered while measuring, sorted.
	latencies   []time.Duration
	firstErrors []string
	// measured is the length of the measured window (of all the windows,
	// once results are added up).
	measured time.Duration
	// cpu is the CPU time this process used during the measured window.
	cpu time.Duration
	// serverCPU is the CPU time the server used during the measured
	// window, when serverKnown.
	serverCPU   time.Duration
	serverKnown bool
}

// add adds the figures of o, measured in another window, to r.
func (r *result) add(o *result) {
	r.completed += o.completed
	r.settled += o.settled
	r.refused += o.refused
	r.errors += o.errors
	r.latencies = append(r.latencies, o.latencies...)
	slices.Sort(r.latencies)
	if len(r.firstErrors) < 3 {
		r.firstErrors = append(r.firstErrors, o.firstErrors...)
	}
	r.serverKnown = (r.measured == 0 || r.serverKnown) && o.serverKnown
	r.measured += o.measured
	r.cpu += o.cpu
	r.serverCPU += o.serverCPU
}

// loadOptions is what a phase measures beyond the trades.
type loadOptions struct {
	// server reads the server's CPU time; nil when it is not known.
	server cpuMeter
	// cpuprofile is where to write a CPU profile of this process over the
	// measured window; empty for none.
	cpuprofile string
	// serverProfile, when set, takes the server's CPU profile over the
	// measured window; the function it returns waits for it.
	serverProfile func(clock) func() error
}

// percentile returns the p-th percentile of the latencies (nearest rank).
func (r *result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies))*p/100+0.5) - 1
	return r.latencies[min(max(i, 0), len(r.latencies)-1)]
}

// clock tells the phases of a run apart.
type clock struct {
	from, to time.Time // the measured window
}

func (c clock) measuring(t time.Time) bool { return !t.Before(c.from) && t.Before(c.to) }

// recorder collects what the workers see. Each worker keeps its own
// latencies; counters are shared.
type recorder struct {
	clock clock
	// all counts every answer, for progress; the others only measured ones.
	all                    atomic.Int64
	settled, refused, errs atomic.Int64
	mu                     sync.Mutex
	latencies              [][]time.Duration
	firstErrors            []string
}

func (r *recorder) worker() *workerLog { return &workerLog{rec: r} }

// workerLog is one worker's share of the recorder.
type workerLog struct {
	rec       *recorder
	latencies []time.Duration
}

// answer records an outcome answered at done for a trade sent at sent;
// err is set when the trade was not decided.
func (w *workerLog) answer(sent, done time.Time, o *pb.TradeOutcome, err error) {
	r := w.rec
	r.all.Add(1)
	if !r.clock.measuring(done) {
		return
	}
	switch {
	case err != nil:
		r.errs.Add(1)
		r.noteError(err.Error())
		return
	case o.GetSettled() != nil:
		r.settled.Add(1)
	case o.GetRefused() != nil:
		r.refused.Add(1)
		r.noteError("refused " + o.GetRefused().GetCheckCode() + ": " + o.GetRefused().GetMessage())
	default:
		r.errs.Add(1)
		r.noteError("failed: " + o.GetFailed().GetMessage())
	}
	w.latencies = append(w.latencies, done.Sub(sent))
}

func (r *recorder) noteError(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.firstErrors) < 3 {
		r.firstErrors = append(r.firstErrors, msg)
	}
}

func (w *workerLog) done() {
	w.rec.mu.Lock()
	defer w.rec.mu.Unlock()
	w.rec.latencies = append(w.rec.latencies, w.latencies)
}

// generator makes the trades of one worker.
type generator struct {
	w      *world
	cfg    config
	rnd    *rand.Rand
	prefix string
	seq    int
	// prices are the prices trades pick from, made once: messages only
	// read them. matched is the current matching time, renewed every
	// millisecond, as an exchange's matching engine stamps its trades.
	prices  []*pb.Price
	matched *timestamppb.Timestamp
	stamped time.Time
}

func newGenerator(w *world, cfg config, worker int) *generator {
	g := &generator{w: w, cfg: cfg, rnd: rand.New(rand.NewPCG(uint64(worker), uint64(time.Now().UnixNano()))),
		prefix: w.run + "." + strconv.Itoa(w.loads) + "." + strconv.Itoa(worker) + "."}
	for p := int64(5000); p < 6000; p++ {
		g.prices = append(g.prices, &pb.Price{AmountMinor: p, Currency: "CNY"})
	}
	return g
}

// right picks the right of the next trade: a hot one with probability
// hot-share, else one of the others.
func (g *generator) right() int {
	k, n := g.cfg.hotRights, g.cfg.rights
	switch {
	case k == 0 || k == n:
		return g.rnd.IntN(n)
	case g.rnd.Float64() < g.cfg.hotShare:
		return g.rnd.IntN(k)
	default:
		return k + g.rnd.IntN(n-k)
	}
}

// next makes a trade whose id ends with suffix.
func (g *generator) next(suffix string) *pb.MatchedTrade {
	r := g.right()
	g.seq++
	return &pb.MatchedTrade{
		ExchangeId:      exchangeID,
		TradeId:         g.prefix + strconv.Itoa(g.seq) + suffix,
		RightId:         g.w.rights[r],
		SellerAccountId: g.w.holders[r][g.rnd.IntN(len(g.w.holders[r]))],
		BuyerAccountId:  g.w.buyers[g.rnd.IntN(len(g.w.buyers))],
		Amount:          &pb.MatchedTrade_Quantity{Quantity: 1 + g.rnd.Int64N(10)},
		Price:           g.prices[g.rnd.IntN(len(g.prices))],
		MatchedAt:       g.matchedAt(),
	}
}

func (g *generator) matchedAt() *timestamppb.Timestamp {
	if now := time.Now(); now.Sub(g.stamped) >= time.Millisecond {
		g.stamped, g.matched = now, timestamppb.New(now)
	}
	return g.matched
}

// load runs the warm-up and the measured window and returns what was
// measured. On a terminal stdout, the warm-up shows a progress bar instead
// of its lines on stderr.
func load(ctx context.Context, conns []*grpc.ClientConn, cfg config, w *world, opts loadOptions, stdout, stderr io.Writer) (*result, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, "x-ecoregistry-actor", cfg.actor)
	w.loads++
	start := time.Now()
	rec := &recorder{clock: clock{from: start.Add(cfg.warmup), to: start.Add(cfg.warmup + cfg.duration)}}
	stop := make(chan struct{})
	progressDone := make(chan struct{})
	barShown, barDone := warmUpBar(stdout, rec, start, stop)
	go func() { progress(rec, start, cfg, stop, barShown, barDone, stderr); close(progressDone) }()
	if opts.cpuprofile != "" {
		stopProfile, err := profileWindow(opts.cpuprofile, rec.clock)
		if err != nil {
			return nil, err
		}
		defer stopProfile()
	}
	serverProfiled := func() error { return nil }
	if opts.serverProfile != nil {
		serverProfiled = opts.serverProfile(rec.clock)
	}
	cpu := cpuWindow(rec.clock, selfCPU{}, opts.server)
	runCtx, cancel := context.WithDeadline(ctx, rec.clock.to)
	defer cancel()
	var wg sync.WaitGroup
	if cfg.stream {
		for i := range cfg.streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				streamTrades(ctx, runCtx, conns[i%len(conns)], cfg, newGenerator(w, cfg, i), rec)
			}()
		}
	} else {
		for i := range cfg.concurrency {
			wg.Add(1)
			go func() { defer wg.Done(); unaryTrades(ctx, runCtx, conns[i%len(conns)], newGenerator(w, cfg, i), rec) }()
		}
	}
	wg.Wait()
	close(stop)
	<-progressDone
	used := cpu()
	res := &result{settled: rec.settled.Load(), refused: rec.refused.Load(), errors: rec.errs.Load(), firstErrors: rec.firstErrors,
		measured: cfg.duration, cpu: used[0], serverCPU: used[1], serverKnown: opts.server != nil && used[1] >= 0}
	if err := serverProfiled(); err != nil {
		return nil, fmt.Errorf("the server's CPU profile: %w", err)
	}
	for _, l := range rec.latencies {
		res.latencies = append(res.latencies, l...)
	}
	slices.Sort(res.latencies)
	res.completed = res.settled + res.refused + res.errors
	return res, nil
}

// cpuWindow measures the CPU time each meter reports during the measured
// window; the returned function waits for its end. A nil meter, or one
// that failed, gives -1.
func cpuWindow(c clock, meters ...cpuMeter) func() []time.Duration {
	used := make(chan []time.Duration, 1)
	read := func() []time.Duration {
		t := make([]time.Duration, len(meters))
		for i, m := range meters {
			t[i] = -1
			if m != nil {
				if d, err := m.cpuTime(); err == nil {
					t[i] = d
				}
			}
		}
		return t
	}
	go func() {
		time.Sleep(time.Until(c.from))
		start := read()
		time.Sleep(time.Until(c.to))
		end := read()
		for i := range end {
			if start[i] < 0 || end[i] < 0 {
				end[i] = -1
			} else {
				end[i] -= start[i]
			}
		}
		used <- end
	}()
	return func() []time.Duration { return <-used }
}

// profileWindow writes a CPU profile of the measured window to path. The
// returned function waits for the profile to be written.
func profileWindow(path string, c clock) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer f.Close()
		time.Sleep(time.Until(c.from))
		if err := pprof.StartCPUProfile(f); err != nil {
			return
		}
		time.Sleep(time.Until(c.to))
		pprof.StopCPUProfile()
	}()
	return func() { <-done }, nil
}

// progress prints a line a second until stop is closed; during the warm-up
// only when no bar shows it, and after it only once the bar is cleared.
func progress(rec *recorder, start time.Time, cfg config, stop <-chan struct{}, warmUpBar bool, barCleared <-chan struct{}, stderr io.Writer) {
	defer func() { <-barCleared }()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := int64(0)
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			all := rec.all.Load()
			phase := "warm-up"
			switch {
			case now.After(rec.clock.to):
				phase = "finishing"
			case rec.clock.measuring(now):
				phase = "measuring"
			case warmUpBar:
				last = all
				continue
			}
			<-barCleared
			fmt.Fprintf(stderr, "ecobench: %5.1fs %-9s %7d trades/s  (measured so far: %d settled, %d refused, %d errors)\n",
				now.Sub(start).Seconds(), phase, all-last, rec.settled.Load(), rec.refused.Load(), rec.errs.Load())
			last = all
		}
	}
}

// unaryTrades submits one trade at a time until runCtx ends.
func unaryTrades(ctx, runCtx context.Context, conn *grpc.ClientConn, g *generator, rec *recorder) {
	client := pb.NewSettlementServiceClient(conn)
	log := rec.worker()
	defer log.done()
	for runCtx.Err() == nil {
		t := g.next("")
		sent := time.Now()
		// The call itself runs on ctx: a call in flight at the end of the
		// window finishes rather than counting as an error.
		resp, err := client.SubmitTrade(ctx, &pb.SubmitTradeRequest{Trade: t})
		if ctx.Err() != nil {
			return
		}
		log.answer(sent, time.Now(), resp.GetOutcome(), err)
	}
}

// streamTrades submits trades over one stream, up to cfg.window in flight,
// until runCtx ends, then waits for the answers still due. Each trade in
// flight holds a slot, whose number ends its trade id, so that the answer
// finds its sending time without a map.
func streamTrades(ctx, runCtx context.Context, conn *grpc.ClientConn, cfg config, g *generator, rec *recorder) {
	log := rec.worker()
	defer log.done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := pb.NewSettlementServiceClient(conn).SubmitTrades(ctx)
	if err != nil {
		log.answer(time.Now(), time.Now(), nil, err)
		return
	}
	free := make(chan int, cfg.window)
	for i := range cfg.window {
		free <- i
	}
	sentAt := make([]atomic.Int64, cfg.window)
	received := make(chan struct{})
	go func() {
		defer close(received)
		for {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			now := time.Now()
			if err != nil {
				if ctx.Err() == nil {
					log.answer(now, now, nil, err)
				}
				cancel()
				return
			}
			for _, o := range resp.GetOutcomes() {
				slot := slotOf(o.GetTradeId())
				if slot < 0 || slot >= len(sentAt) {
					log.answer(now, now, nil, fmt.Errorf("an answer for trade %q, which was not sent", o.GetTradeId()))
					continue
				}
				log.answer(time.Unix(0, sentAt[slot].Load()), now, o, nil)
				free <- slot
			}
		}
	}()
	batch := make([]*pb.MatchedTrade, 0, cfg.batch)
send:
	for runCtx.Err() == nil {
		batch = batch[:0]
		// Wait for one slot, then take whatever else is free, up to a batch.
		select {
		case slot := <-free:
			batch = append(batch, g.next("."+strconv.Itoa(slot)))
			sentAt[slot].Store(time.Now().UnixNano())
		case <-runCtx.Done():
			break send
		case <-received:
			break send
		}
	more:
		for len(batch) < cfg.batch {
			select {
			case slot := <-free:
				batch = append(batch, g.next("."+strconv.Itoa(slot)))
				sentAt[slot].Store(time.Now().UnixNano())
			default:
				break more
			}
		}
		if err := stream.Send(&pb.SubmitTradesRequest{Trades: batch}); err != nil {
			break
		}
	}
	_ = stream.CloseSend()
	select {
	case <-received:
	case <-time.After(time.Minute):
		log.answer(time.Now(), time.Now(), nil, errors.New("the stream did not answer every trade within a minute of the end"))
	}
}

// slotOf reads the slot number that ends a trade id, or -1.
func slotOf(id string) int {
	i := strings.LastIndexByte(id, '.')
	if i < 0 {
		return -1
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil {
		return -1
	}
	return n
}
