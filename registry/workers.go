package registry

import "time"

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
}

func newDrainers() *drainers { return &drainers{work: make(chan func())} }

// run runs f on an idle drainer goroutine, or on a new one when none is idle.
func (d *drainers) run(f func()) {
	select {
	case d.work <- f:
	default:
		go d.loop(f)
	}
}

func (d *drainers) loop(f func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(workerIdle)
		select {
		case f = <-d.work:
		case <-idle.C:
			return
		}
	}
}
