package pebblestore_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
)

var (
	crashKills = flag.Int("crash.kills", 50, "how many times TestCrashSafety kills a writing process")
	crashSeed  = flag.Uint64("crash.seed", 0, "seed of TestCrashSafety's random choices; 0 picks one")
)

// The crash child appends from crashWriters goroutines to a stream of its
// own each and to a few shared streams, where they race on exact revisions.
const (
	crashWriters = 16
	crashShared  = 4
)

// crashEvent is the event at revision rev of stream, written as event k of
// an append of n events starting at revision first. Everything in it derives
// from its place, so that the parent can check any event it finds byte for
// byte without having seen it written.
func crashEvent(stream string, rev, first uint64, n, k int) eventstore.EventData {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", stream, rev)
	seed := h.Sum64()
	rng := rand.New(rand.NewPCG(seed, rev))
	data := make([]byte, rng.IntN(1500))
	for i := 0; i < len(data); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		copy(data[i:], w[:])
	}
	return eventstore.EventData{
		ID:          uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "%s/%d", stream, rev)),
		Type:        "CrashTested",
		ContentType: "application/octet-stream",
		Data:        data,
		Metadata:    fmt.Appendf(nil, "first=%d n=%d k=%d", first, n, k),
	}
}

func crashAppend(stream string, first uint64, n int) []eventstore.EventData {
	evs := make([]eventstore.EventData, n)
	for k := range evs {
		evs[k] = crashEvent(stream, first+uint64(k), first, n, k)
	}
	return evs
}

// crashChild appends until it is killed, printing one line per
// acknowledged append: "ack stream first count lastPosition". Stream names
// have no spaces, so that the parent can scan them with %s.
func crashChild(dir string) int {
	// A child whose parent died must not write forever.
	time.AfterFunc(time.Minute, func() { os.Exit(4) })
	s, err := pebblestore.Open(dir, pebblestore.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	ctx := context.Background()
	// heads holds what the writers believe each stream's event count is;
	// on the shared streams the belief can be stale, and a conflict
	// corrects it.
	var mu sync.Mutex
	heads := map[string]uint64{}
	head := func(stream string) uint64 {
		mu.Lock()
		defer mu.Unlock()
		if n, ok := heads[stream]; ok {
			return n
		}
		n := uint64(0)
		if last, err := s.ReadStream(ctx, stream, eventstore.StreamEnd, eventstore.Backwards, 1); err == nil {
			n = last[0].Revision + 1
		} else if !errors.Is(err, eventstore.ErrStreamNotFound) {
			fmt.Fprintln(os.Stderr, "read:", err)
			os.Exit(1)
		}
		heads[stream] = n
		return n
	}
	setHead := func(stream string, n uint64) {
		mu.Lock()
		heads[stream] = n
		mu.Unlock()
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for g := range crashWriters {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(g)))
			for {
				stream := fmt.Sprintf("own-%d", g)
				if rng.IntN(2) == 0 {
					stream = fmt.Sprintf("shared-%d", rng.IntN(crashShared))
				}
				n := 1
				switch r := rng.IntN(10); {
				case r >= 9:
					n = 20 + rng.IntN(30)
				case r >= 5:
					n = 2 + rng.IntN(4)
				}
				first := head(stream)
				expected := eventstore.NoStream()
				if first > 0 {
					expected = eventstore.Exact(first - 1)
				}
				res, err := s.Append(ctx, stream, expected, crashAppend(stream, first, n)...)
				var werr *eventstore.WrongExpectedRevisionError
				switch {
				case errors.As(err, &werr):
					next := uint64(0)
					if werr.Exists {
						next = werr.Actual + 1
					}
					setHead(stream, next)
					continue
				case err != nil:
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(1)
				}
				setHead(stream, res.NextExpectedRevision+1)
				// One write per line keeps lines whole on the pipe.
				out.Lock()
				fmt.Fprintf(os.Stdout, "ack %s %d %d %d\n", stream, first, n, res.Position.Commit)
				out.Unlock()
			}
		})
	}
	wg.Wait()
	return 0
}

// crashAck is an append the child acknowledged.
type crashAck struct {
	stream         string
	first, lastPos uint64
	count          int
}

// runCrashChild starts a child, kills it with SIGKILL at a random moment and
// returns the appends it acknowledged before it died.
func runCrashChild(t *testing.T, dir string, rng *rand.Rand) []crashAck {
	t.Helper()
	cmd, stderr := childCommand(t, "crash", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	acked := make(chan crashAck, 1<<16)
	lines := make(chan []crashAck, 1)
	go func() {
		var all []crashAck
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				// A line cut short by the kill was never acknowledged.
				break
			}
			var a crashAck
			if _, err := fmt.Sscanf(line, "ack %s %d %d %d", &a.stream, &a.first, &a.count, &a.lastPos); err == nil {
				all = append(all, a)
				select {
				case acked <- a:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		lines <- all
	}()

	// Kill at a random moment: most often after a random number of acks,
	// sometimes after a random time, which may fall before the first ack or
	// even during recovery.
	deadline := time.After(30 * time.Second)
	if rng.IntN(4) == 0 {
		select {
		case <-time.After(time.Duration(rng.IntN(60)) * time.Millisecond):
		case <-deadline:
		}
	} else {
		for want := 1 + rng.IntN(300); want > 0; want-- {
			select {
			case <-acked:
			case <-deadline:
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("the child acknowledged too little in 30s; stderr:\n%s", stderr)
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	all := <-lines
	_ = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the child ended on its own (%v) instead of being killed; stderr:\n%s", cmd.ProcessState, stderr)
	}
	return all
}

// crashState is what the parent has verified of the log so far.
type crashState struct {
	// last is the last verified position; heads counts each stream's
	// verified events.
	last  uint64
	heads map[string]uint64
}

// verify checks the events after the verified prefix of the log: positions
// follow one another with no gap, every stream's revisions too, each event
// is byte for byte the one derived from its place, and each append is there
// whole or not at all. It returns where each new event is.
func (c *crashState) verify(t *testing.T, s *pebblestore.Store) map[string]uint64 {
	t.Helper()
	ctx := t.Context()
	at := map[string]uint64{} // "stream/rev" -> position
	// open is the append being read: its stream and how many of its events
	// are still due.
	var open struct {
		stream string
		first  uint64
		n, k   int
	}
	for {
		page, err := s.ReadAll(ctx, eventstore.Position{Commit: c.last, Prepare: c.last}, eventstore.Forwards, 4096, eventstore.Filter{})
		if err != nil {
			t.Fatalf("ReadAll: %v", err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Position.Commit != c.last+1 || e.Position.Prepare != e.Position.Commit {
				t.Fatalf("after position %d comes %s: the log has a gap", c.last, e.Position)
			}
			c.last = e.Position.Commit
			if e.Revision != c.heads[e.Stream] {
				t.Fatalf("position %d holds %s/%d, but the stream's next revision is %d", c.last, e.Stream, e.Revision, c.heads[e.Stream])
			}
			c.heads[e.Stream]++
			var first uint64
			var n, k int
			if _, err := fmt.Sscanf(string(e.Metadata), "first=%d n=%d k=%d", &first, &n, &k); err != nil {
				t.Fatalf("position %d: metadata %q: %v", c.last, e.Metadata, err)
			}
			if open.k < open.n && (e.Stream != open.stream || first != open.first || k != open.k) {
				t.Fatalf("position %d holds %s/%d (event %d of %d), but event %d of the append of %d at %s/%d is due: an append is partly visible",
					c.last, e.Stream, e.Revision, k, n, open.k, open.n, open.stream, open.first)
			}
			if open.k >= open.n {
				if k != 0 {
					t.Fatalf("position %d holds event %d of an append whose first event is missing", c.last, k)
				}
				open.stream, open.first, open.n, open.k = e.Stream, first, n, 0
			}
			open.k++
			if e.Revision != first+uint64(k) {
				t.Fatalf("position %d: event %d of the append at revision %d is at revision %d", c.last, k, first, e.Revision)
			}
			want := crashEvent(e.Stream, e.Revision, first, n, k)
			if e.ID != want.ID || e.Type != want.Type || e.ContentType != want.ContentType ||
				string(e.Data) != string(want.Data) || string(e.Metadata) != string(want.Metadata) {
				t.Fatalf("position %d: %s/%d is not the event that was written", c.last, e.Stream, e.Revision)
			}
			at[fmt.Sprintf("%s/%d", e.Stream, e.Revision)] = c.last
		}
	}
	if open.k < open.n {
		t.Fatalf("the log ends after event %d of the %d-event append at %s/%d: an append is partly visible",
			open.k, open.n, open.stream, open.first)
	}
	return at
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes; skipped in -short mode")
	}
	kills := *crashKills
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "crash.kills" })
	if raceEnabled && !explicit {
		// Race-instrumented children are several times slower; keep the
		// default run short.
		kills = 20
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -crash.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	state := &crashState{heads: map[string]uint64{}}
	start := time.Now()
	totalAcks := 0
	for kill := range kills {
		acks := runCrashChild(t, dir, rng)
		totalAcks += len(acks)

		s := openStore(t, dir)
		at := state.verify(t, s)
		for _, a := range acks {
			for i := range a.count {
				key := fmt.Sprintf("%s/%d", a.stream, a.first+uint64(i))
				pos, ok := at[key]
				if !ok {
					t.Fatalf("kill %d: acknowledged event %s is not in the store", kill, key)
				}
				if want := a.lastPos - uint64(a.count-1-i); pos != want {
					t.Fatalf("kill %d: acknowledged event %s is at position %d, its append reported %d", kill, key, pos, want)
				}
			}
		}

		// The reopened store goes on where the log stopped.
		stream := "parent"
		rev := state.heads[stream]
		expected := eventstore.NoStream()
		if rev > 0 {
			expected = eventstore.Exact(rev - 1)
		}
		res, err := s.Append(t.Context(), stream, expected, crashAppend(stream, rev, 1)...)
		if err != nil {
			t.Fatalf("kill %d: append after reopen: %v", kill, err)
		}
		if res.NextExpectedRevision != rev || res.Position.Commit != state.last+1 {
			t.Fatalf("kill %d: append after reopen went to revision %d at %s, want revision %d at position %d",
				kill, res.NextExpectedRevision, res.Position, rev, state.last+1)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	t.Logf("%d kills in %v: %d acknowledged appends, %d events, all there after every kill",
		kills, time.Since(start).Round(time.Millisecond), totalAcks, state.last)
}
