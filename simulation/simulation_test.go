package simulation

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

var (
	simSeeds = flag.Int("sim.seeds", 0, "how many seeds TestSimulation runs instead of its fixed set (from -sim.seed, else from a random one)")
	simSeed  = flag.Uint64("sim.seed", 0, "the first seed TestSimulation runs; alone, the only one")
	simSteps = flag.Int("sim.steps", 300, "how many steps each seed of TestSimulation runs")
	simTrace = flag.Bool("sim.trace", false, "log every step of the simulation, with its outcome")
)

// ciSeeds are the seeds every test run simulates.
var ciSeeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8}

// seeds returns the seeds to run, as the flags ask.
func seeds(t *testing.T) []uint64 {
	n, first := *simSeeds, *simSeed
	switch {
	case n == 0 && first == 0:
		return ciSeeds
	case n == 0:
		n = 1
	case first == 0:
		first = uint64(time.Now().UnixNano())
		t.Logf("seeds from %d (rerun with -sim.seed=%d -sim.seeds=%d)", first, first, n)
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = first + uint64(i)
	}
	return out
}

// TestSimulation runs the simulation for each seed: -sim.steps steps of
// random commands by six clients over a store that injects faults, with
// every invariant checked every 100 steps and at the end. See the package
// documentation.
func TestSimulation(t *testing.T) {
	var total stats
	total.outcomes = map[string]int{}
	var injected [numFaults]int
	paused := 0
	start := time.Now()
	list := seeds(t)
	for _, seed := range list {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			w := newWorld(t, seed)
			w.run(*simSteps)
			total.add(w.stats)
			for k, n := range w.f.injected {
				injected[k] += n
			}
			paused += w.slow.count()
		})
	}
	var faults []string
	for k := failBefore; k < numFaults; k++ {
		faults = append(faults, fmt.Sprintf("%s %d", k, injected[k]))
	}
	t.Logf("%d seeds of %d steps in %v: %d command attempts (%d retries), outcomes %s; faults injected: %s; %d restarts (%d after a crash); %d subscriber pauses; %d checks passed",
		len(list), *simSteps, time.Since(start).Round(time.Millisecond), total.attempts, total.retries, counts(total.outcomes),
		strings.Join(faults, ", "), total.restarts, total.crashes, paused, total.checks)
}

func (s *stats) add(o stats) {
	s.steps += o.steps
	s.attempts += o.attempts
	s.retries += o.retries
	s.restarts += o.restarts
	s.crashes += o.crashes
	s.checks += o.checks
	for k, n := range o.outcomes {
		s.outcomes[k] += n
	}
}

func counts(m map[string]int) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(out, ", ")
}

// TestSimulationIsDeterministic runs seeds twice and checks that every
// step, every outcome and every recorded event come out the same: what a
// failing seed shows is what its rerun shows.
func TestSimulationIsDeterministic(t *testing.T) {
	for _, seed := range []uint64{11, 12} {
		var digests [2][32]byte
		for i := range digests {
			w := newWorld(t, seed)
			w.run(150)
			digests[i] = w.digest()
		}
		if digests[0] != digests[1] {
			t.Fatalf("seed %d ran twice gave two different runs", seed)
		}
	}
}

// digest sums up a run: the trace of its steps and outcomes and the events
// of its log (all but their ids, which are random by design and which no
// decision reads).
func (w *world) digest() [32]byte {
	h := sha256.New()
	h.Write(w.trace.Sum(nil))
	st := w.log.Open()
	defer st.Close()
	all, err := st.ReadAll(w.ctx, eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
	if err != nil {
		w.fatalf("read the log: %v", err)
	}
	for _, e := range all {
		fmt.Fprintf(h, "%s %d %d %s %x %x\n", e.Stream, e.Revision, e.Position.Commit, e.Type, e.Data, e.Metadata)
	}
	return [32]byte(h.Sum(nil))
}
