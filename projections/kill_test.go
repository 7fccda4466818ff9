package projections_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/internal/projtest"
)

// The kill test re-executes the test binary: the child runs
// TestChildProcess, which does what childEnv says, and nothing in a normal
// run.
const (
	childEnv    = "PROJECTIONS_TEST_CHILD"
	childDirEnv = "PROJECTIONS_TEST_DIR"
	// killBatch is the child's commit size: small, so that a catch-up
	// takes many commits and a kill lands between two of them.
	killBatch = 400
)

// TestChildProcess is the entry point of child processes.
func TestChildProcess(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "":
		t.Skip("runs only as a child process of another test")
	case "catch-up":
		os.Exit(catchUpChild(os.Getenv(childDirEnv)))
	default:
		t.Fatalf("unknown child role %q", os.Getenv(childEnv))
	}
}

// catchUpChild runs the projections over the store in dir and prints a
// line per commit, "committed NAME APPLIED", until it is killed, or
// "caught-up" and exits once every projection has applied every event.
func catchUpChild(dir string) int {
	// A child whose parent died must not run forever.
	time.AfterFunc(time.Minute, func() { os.Exit(4) })
	store, err := pebblestore.Open(dir+"/events", pebblestore.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open events:", err)
		return 1
	}
	head, err := projections.Head(context.Background(), store)
	if err != nil {
		fmt.Fprintln(os.Stderr, "head:", err)
		return 1
	}
	var mu sync.Mutex
	done := map[string]bool{}
	finished := make(chan struct{})
	m, err := projections.Open(dir+"/projections", store, all(), projections.Options{BatchEvents: killBatch,
		Committed: func(name string, _ uint64, c *projections.Checkpoint) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Printf("committed %s %d\n", name, c.Applied)
			if c.Position == head && !done[name] {
				done[name] = true
				if len(done) == len(all()) {
					close(finished)
				}
			}
		}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open projections:", err)
		return 1
	}
	m.Start()
	<-finished
	fmt.Println("caught-up")
	return 0
}

func TestCatchUpResumesExactlyAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a store of 60k events and kills child processes")
	}
	// The invariants are checked by the other tests; checking them after
	// each of 60k events, in four catch-ups and four replays of the
	// oracle, would take minutes.
	domain.VerifyEveryApply(false)
	defer domain.VerifyEveryApply(true)
	dir := t.TempDir()
	store, err := pebblestore.Open(dir+"/events", pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	total, err := projtest.Generate(context.Background(), store, projtest.Config{Seed: 7, Accounts: 40, Rights: 12, Operations: 60_000,
		Start: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), Step: 20 * time.Minute, RunLength: 200})
	if err != nil {
		t.Fatal(err)
	}
	head, err := projections.Head(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	full := replay(t, store, eventstore.End)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for kill := 1; kill <= 3; kill++ {
		// The projections commit about total/killBatch times each; kill
		// after a few of the commits still to come, well before the end.
		after := 3 + rng.IntN(12)
		t.Run(fmt.Sprintf("kill %d after %d commits", kill, after), func(t *testing.T) {
			killChild(t, dir, after)
			checkCommittedState(t, dir, head)
		})
	}
	t.Run("finishing the catch-up counts every event once", func(t *testing.T) {
		store := openEventStore(t, dir+"/events")
		p := openProjections(t, dir+"/projections", store, projections.Options{})
		p.waitAll(t, head)
		if full.events != total {
			t.Fatalf("the oracle saw %d events, the generator wrote %d", full.events, total)
		}
		compareAll(t, p, full)
	})
}

// killChild runs a catch-up child and kills it with SIGKILL once it has
// reported the given number of commits.
func killChild(t *testing.T, dir string, commits int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=catch-up", childDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	seen := 0
	for seen < commits && sc.Scan() {
		line := sc.Text()
		if line == "caught-up" {
			cmd.Wait()
			t.Fatalf("the child caught up before %d commits; the store is too small to kill it in the middle", commits)
		}
		if strings.HasPrefix(line, "committed ") {
			seen++
		}
	}
	if seen < commits {
		cmd.Wait()
		t.Fatalf("the child stopped after %d commits: %v\n%s", seen, sc.Err(), stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended with %v before the kill\n%s", err, stderr.String())
	}
}

// checkCommittedState opens what a killed child left and checks that each
// projection's state is exactly the oracle's at the projection's own
// checkpoint: the state and the checkpoint were committed together.
func checkCommittedState(t *testing.T, dir string, head eventstore.Position) {
	t.Helper()
	store := openEventStore(t, dir+"/events")
	m, err := projections.Open(dir+"/projections", store, all(), projections.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p := &env{m: m}
	for _, name := range m.Names() {
		r, _ := m.Runner(name)
		p.attach(name, r)
	}
	midway := false
	for _, name := range m.Names() {
		r, _ := m.Runner(name)
		at := r.Status().Active.Checkpoint.Position
		if at.Before(head) {
			midway = true
		}
		o := replay(t, store, at)
		if o.position != at {
			t.Fatalf("%s's checkpoint %s is not the position of an event", name, at)
		}
		t.Run(fmt.Sprintf("%s at its checkpoint %s", name, at), func(t *testing.T) { compareProjection(t, p, o, name) })
	}
	if !midway {
		t.Fatal("every projection had caught up before the kill; the test proves nothing")
	}
	m.Close()
	store.Close()
}
