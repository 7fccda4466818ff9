package registry

import (
	"sync"
	"time"
)

// workerIdle is how long a drainer goroutine waits for more work before it
// exits.
const workerIdle = 10 * time.Second

// drainers runs the drains of stream queues on goroutines that outlive one
// drain. A drain goes deep (deciding, encoding, Pebble's commit), and a new
// goroutine would grow its stack by copying on every drain; a reused one
// has grown it already.
type drainers struct {
	// work hands a drain to an idle goroutine; it is unbuffered, so a send
	// succeeds only when one is waiting.
	work chan func()
	// quit is closed by close: idle goroutines exit, busy ones after their
	// drain.
	quit chan struct{}

	// mu orders the start of kept goroutines with close, so that close
	// waits for every one of them.
	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup
}

func newDrainers() *drainers { return &drainers{work: make(chan func()), quit: make(chan struct{})} }

// run runs f on an idle drainer goroutine, or on a new one when none is idle.
func (d *drainers) run(f func()) {
	select {
	case d.work <- f:
		return
	default:
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		// After close nothing is kept: the drain gets a goroutine that ends
		// with it.
		go f()
		return
	}
	d.running.Add(1)
	go d.loop(f)
}

func (d *drainers) loop(f func()) {
	defer d.running.Done()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(workerIdle)
		select {
		case f = <-d.work:
		case <-idle.C:
			return
		case <-d.quit:
			return
		}
	}
}

// close makes the kept goroutines exit once their drain is done and waits
// for them.
func (d *drainers) close() {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.quit)
	}
	d.mu.Unlock()
	d.running.Wait()
}
