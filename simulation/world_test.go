package simulation

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/memstore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
	"github.com/ecoregistry/ecoregistry/projections/market"
	"github.com/ecoregistry/ecoregistry/projections/statistics"
	"github.com/ecoregistry/ecoregistry/registry"
	"go.uber.org/zap"
)

// simStart is the simulated clock's first reading, the same for every seed.
var simStart = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// world is one run of the simulation: the log, the simulated process over
// it (store, service, scheduler, read models), the clients, and what they
// were told.
type world struct {
	t    testing.TB
	seed uint64
	ctx  context.Context
	// rng draws the commands and everything the world does; the faults and
	// the subscribers' pauses have generators of their own.
	rng   *rand.Rand
	now   time.Time
	log   *memstore.Log
	f     *faults
	slow  *slowness
	dir   string
	proc  *process
	known known
	// clients issue the commands; ledger holds what they were told.
	clients []*client
	ledger  *ledger
	// trace digests every step and outcome; recent keeps the last lines for
	// a failure message.
	trace  hash.Hash
	recent []string
	step   int
	stats  stats
}

// stats are the figures of a run.
type stats struct {
	steps, attempts, retries, restarts, crashes, checks int
	outcomes                                            map[string]int
}

// process is the simulated ecoregistryd: what a crash throws away.
type process struct {
	store *faultyStore
	reads eventstore.Store
	svc   *registry.Service
	sched *registry.Scheduler
	proj  *projections.Manager
}

// idleTicker never ticks: the world runs the scheduler's rounds itself.
type idleTicker struct{}

func (idleTicker) C() <-chan time.Time { return nil }
func (idleTicker) Stop()               {}

func newWorld(t testing.TB, seed uint64) *world {
	w := &world{t: t, seed: seed, ctx: context.Background(), rng: rand.New(rand.NewPCG(seed, 1)), now: simStart,
		dir: t.TempDir(), trace: sha256.New(), known: newKnown(), ledger: newLedger(), stats: stats{outcomes: map[string]int{}}}
	w.log = memstore.NewLog(w.clock)
	w.f = &faults{rng: rand.New(rand.NewPCG(seed, 2)), note: w.note,
		perMille: [numFaults]int{failBefore: 20, timeoutAfter: 25, crashAfter: 12, stopWrites: 4}}
	w.slow = &slowness{rng: rand.New(rand.NewPCG(seed, 3))}
	for i := range 6 {
		w.clients = append(w.clients, &client{name: fmt.Sprintf("client-%d", i)})
	}
	return w
}

// clock is the registry's clock: the simulated time, never the wall's.
func (w *world) clock() time.Time { return w.now }

// note adds a line to the trace.
func (w *world) note(line string) {
	line = fmt.Sprintf("%d %s", w.step, line)
	w.trace.Write([]byte(line + "\n"))
	if *simTrace {
		w.t.Log(line)
	}
	if w.recent = append(w.recent, line); len(w.recent) > 30 {
		w.recent = w.recent[1:]
	}
}

// fatalf fails the run, with the last steps and the command that reruns it.
func (w *world) fatalf(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("seed %d, step %d: %s\nlast steps:\n%s\nrerun: go test ./simulation -run 'TestSimulation$' -sim.seed=%d -sim.seeds=1 -sim.steps=%d -v",
		w.seed, w.step, fmt.Sprintf(format, args...), strings.Join(w.recent, "\n"), w.seed, *simSteps)
}

// start starts a process over the log: a new service with empty caches, its
// trade index and scheduler loaded from the log, and the read models
// following the log from their checkpoints. Starting can meet the faults
// too (the scheduler records the expiries that fell due); a start that
// fails is tried again, as an operator would.
func (w *world) start() {
	for attempt := 0; ; attempt++ {
		if attempt == 100 {
			w.fatalf("the process did not start in 100 attempts")
		}
		w.f.crashed, w.f.stopped = false, false
		p := &process{store: &faultyStore{Decorated: eventstore.Decorated{Store: w.log.Open()}, f: w.f}}
		p.reads = slowStore{Decorated: eventstore.Decorated{Store: w.log.Open()}, slow: w.slow}
		var err error
		p.proj, err = projections.Open(w.dir, p.reads, []projections.Projection{holdings.New(), market.New(), statistics.New()},
			projections.Options{Logger: zap.NewNop(), MaxWait: 20 * time.Second})
		if err != nil {
			w.fatalf("open the read models: %v", err)
		}
		held, _ := p.proj.Runner(holdings.Name)
		p.svc = registry.New(p.store, registry.Options{Clock: w.clock, HeldRights: holdings.HeldRights(p.reads, holdings.NewQueries(held))})
		p.sched = registry.NewScheduler(p.svc, registry.SchedulerOptions{Ticker: idleTicker{}, Logger: zap.NewNop()})
		p.proj.Start()
		w.proc = p
		if err = p.svc.LoadTradeIndex(w.ctx); err == nil {
			err = p.sched.Start(w.ctx)
		}
		if err == nil {
			return
		}
		w.expectUnknown("start", err)
		w.note(fmt.Sprintf("start failed: %v", err))
		w.stop()
	}
}

// stop throws the process away, as a crash does: nothing it held in memory
// survives. The read models keep what they committed.
func (w *world) stop() {
	if w.proc == nil {
		return
	}
	if err := w.proc.proj.Close(); err != nil {
		w.fatalf("close the read models: %v", err)
	}
	// Its goroutines end with it; no command of its is in flight.
	w.proc.svc.Close()
	_ = w.proc.store.Close()
	_ = w.proc.reads.Close()
	w.proc = nil
}

// restart crashes the process and starts another.
func (w *world) restart(why string) {
	w.note("restart: " + why)
	w.stats.restarts++
	w.stop()
	w.start()
}

// run runs the simulation for steps steps, then lets every client learn the
// outcome of its last command with the faults off, and checks everything.
func (w *world) run(steps int) {
	w.start()
	defer w.stop()
	w.setUp()
	w.f.on = true
	for w.step = 1; w.step <= steps; w.step++ {
		w.act()
		w.stats.steps++
		switch {
		case w.f.crashed:
			w.stats.crashes++
			w.restart("crashed after an append")
		case w.f.stopped && w.rng.IntN(4) == 0:
			w.restart("the store stopped taking writes")
		}
		if w.step%100 == 0 {
			w.check()
		}
	}
	w.f.on = false
	if w.f.stopped {
		w.restart("the store stopped taking writes")
	}
	w.settle()
	w.check()
}

// act does one random thing: most often a client's command, sometimes a
// move of the clock, a scheduler round or a restart of the process.
func (w *world) act() {
	switch roll := w.rng.IntN(100); {
	case roll < 4:
		w.moveClock()
	case roll < 8:
		w.runDue()
	case roll < 9:
		w.restart("an operator restarted it")
	default:
		w.clients[w.rng.IntN(len(w.clients))].act(w)
	}
}

// moveClock moves the simulated time forward, now and then a little back.
func (w *world) moveClock() {
	d := time.Duration(1+w.rng.IntN(240)) * time.Minute
	if w.rng.IntN(10) == 0 {
		d = -time.Duration(1+w.rng.IntN(30)) * time.Minute
	}
	w.now = w.now.Add(d)
	w.note(fmt.Sprintf("clock %s", w.now.Format(time.RFC3339)))
}

// runDue runs a scheduler round: the expiries due are recorded.
func (w *world) runDue() {
	n, err := w.proc.sched.RunDue(w.ctx)
	if err != nil {
		w.expectUnknown("expiries", err)
	}
	w.stats.outcomes["expiry recorded"] += n
	w.note(fmt.Sprintf("expiries: %d recorded, error %v", n, err))
}

// settle lets every client resolve its last command, with no faults.
func (w *world) settle() {
	for _, c := range w.clients {
		for i := 0; c.pending != nil; i++ {
			if i == 10 {
				w.fatalf("%s could not learn the outcome of %s in 10 attempts with no faults", c.name, c.pending.describe())
			}
			c.retry(w)
		}
	}
}
