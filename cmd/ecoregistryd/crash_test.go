package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The whole-server crash test runs ecoregistryd as a child process (this
// test binary, re-executed, calling main), puts settlement and transfer load
// on it from many clients, and kills it with SIGKILL at random moments. The
// test keeps its own ledger of what every client was told. After each kill
// it reads the dead server's log directly, and after each restart it asks
// the new server, and checks that nothing acknowledged was lost or applied
// twice (see crash_ledger_test.go).

var (
	crashKills = flag.Int("crash.kills", 5, "how many times TestCrashesLoseNothing kills ecoregistryd")
	crashSeed  = flag.Uint64("crash.seed", 0, "seed of TestCrashesLoseNothing's random choices; 0 picks one")
)

// crashChildEnv names the data directory of a child server; the test binary
// run with it set is ecoregistryd.
const crashChildEnv = "ECOREGISTRYD_CRASH_TEST_DATA"

// TestCrashChild is the child process of TestCrashesLoseNothing: it runs
// ecoregistryd's main over the directory its parent names, until it is
// killed, stopped by SIGTERM, or its parent goes away.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("runs only as the child process of TestCrashesLoseNothing")
	}
	// A parent that died closes the pipe; the server must not outlive it.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	os.Args = []string{"ecoregistryd", "--listen=127.0.0.1:0", "--data=" + dir, "--store=pebble", "--log-level=info", "--log-format=json"}
	main()
	os.Exit(0)
}

// crashServer is one run of the child server.
type crashServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// addr receives the address the server listens on, once it serves.
	addr chan string
	// stderrDone is closed when the child's stderr is closed.
	stderrDone chan struct{}

	mu   sync.Mutex
	tail []string // the last lines the child logged, for failure messages
}

// startCrashServer starts ecoregistryd over dir in a child process.
func startCrashServer(t *testing.T, dir string) *crashServer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	for _, kv := range os.Environ() {
		// The child's configuration is its flags alone.
		if !strings.HasPrefix(kv, "ECOREGISTRY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, crashChildEnv+"="+dir)
	s := &crashServer{cmd: cmd, addr: make(chan string, 1), stderrDone: make(chan struct{})}
	var err error
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ecoregistryd: %v", err)
	}
	t.Cleanup(func() {
		// A test that failed half-way leaves no server behind.
		_ = cmd.Process.Kill()
		<-s.stderrDone
		_ = cmd.Wait()
	})
	go s.readLog(stderr)
	return s
}

// readLog follows the child's log: it passes on the address the server
// serves on and keeps the last lines.
func (s *crashServer) readLog(stderr io.Reader) {
	defer close(s.stderrDone)
	r := bufio.NewReaderSize(stderr, 1<<16)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			s.note(line)
		}
		if err != nil {
			return
		}
	}
}

func (s *crashServer) note(line string) {
	var entry struct{ Msg, Addr string }
	if strings.Contains(line, `"ecoregistryd serving"`) && json.Unmarshal([]byte(line), &entry) == nil && entry.Addr != "" {
		s.addr <- entry.Addr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tail = append(s.tail, strings.TrimSpace(line)); len(s.tail) > 40 {
		s.tail = s.tail[1:]
	}
}

// log returns the last lines the child logged.
func (s *crashServer) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.tail, "\n")
}

// serving waits for the server to serve and returns a client of it.
func (s *crashServer) serving(t *testing.T) *settlementClient {
	t.Helper()
	var addr string
	select {
	case addr = <-s.addr:
	case <-s.stderrDone:
		t.Fatalf("ecoregistryd ended before serving:\n%s", s.log())
	case <-time.After(time.Minute):
		t.Fatalf("ecoregistryd did not serve within a minute:\n%s", s.log())
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &settlementClient{lifecycleClient: withLifecycle(clientOf(conn)), settlement: pb.NewSettlementServiceClient(conn)}
}

// kill ends the server with SIGKILL, as a power cut would, and waits until
// it is gone.
func (s *crashServer) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill ecoregistryd: %v", err)
	}
	<-s.stderrDone
	_ = s.cmd.Wait()
	if ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("ecoregistryd ended by itself (%v) before it was killed:\n%s", s.cmd.ProcessState, s.log())
	}
}

// stop ends the server with SIGTERM and checks that it stops cleanly.
func (s *crashServer) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop ecoregistryd: %v", err)
	}
	<-s.stderrDone
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("ecoregistryd stopped with %v:\n%s", err, s.log())
	}
}

// crashPlan is when one run of the server is killed: a moment after its
// start, which may fall while it recovers, or after a number of
// acknowledgements under load.
type crashPlan struct {
	early time.Duration
	acks  int
}

func planCrash(rng *rand.Rand, first bool) crashPlan {
	if !first && rng.IntN(4) == 0 {
		return crashPlan{early: time.Duration(rng.IntN(150)) * time.Millisecond}
	}
	return crashPlan{acks: 1 + rng.IntN(400)}
}

// TestCrashesLoseNothing kills ecoregistryd with SIGKILL, under settlement
// and transfer load from many clients, -crash.kills times (a few by
// default; hundreds with -crash.kills=300), and checks after each kill and
// restart that every acknowledged trade and transfer is recorded exactly
// once and where the client was told, that resubmitting them records
// nothing, that every chain verifies, and that the holdings read model and
// every account's balance equal a replay of the log.
func TestCrashesLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes; skipped in -short mode")
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with go test ./cmd/ecoregistryd -run TestCrashesLoseNothing -crash.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	l := newCrashLedger()
	start, early := time.Now(), 0
	for round := 0; round < *crashKills; round++ {
		plan := planCrash(rng, round == 0)
		s := startCrashServer(t, dir)
		if plan.early > 0 {
			early++
			time.Sleep(plan.early) // the kill's moment, not a wait for state
			s.kill(t)
			l.checkLog(t, dir)
			continue
		}
		c := s.serving(t)
		if round == 0 {
			l.setUp(t, c)
		} else {
			l.checkServer(t, c, rng)
		}
		l.load(t, c, s, round, rng.Uint64(), plan.acks)
		l.checkLog(t, dir)
	}
	s := startCrashServer(t, dir)
	l.checkServer(t, s.serving(t), rng)
	s.stop(t)
	l.checkLog(t, dir)
	t.Logf("%d kills (%d of them %s or less after the start, the rest under load) in %v: %d trades and %d transfers acknowledged, %d answers lost to a kill and resolved by resubmitting; all recorded exactly once",
		*crashKills, early, 150*time.Millisecond, time.Since(start).Round(time.Millisecond), l.count(true), l.count(false), l.resolved)
}
