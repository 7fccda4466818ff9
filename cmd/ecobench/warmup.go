package main

import (
	"fmt"
	"io"
	"time"

	bars "github.com/ecoregistry/ecoregistry/progress"
)

// warmUpBar draws on stdout, when it is a terminal, a bar of the warm-up's
// elapsed time, with the trades answered so far, until the warm-up ends or
// stop is closed. It reports whether it draws; the returned channel is
// closed when it has cleared its bar.
func warmUpBar(stdout io.Writer, rec *recorder, start time.Time, stop <-chan struct{}) (bool, <-chan struct{}) {
	done := make(chan struct{})
	total := rec.clock.from.Sub(start)
	bar := bars.New(stdout, total.Milliseconds(), bars.Count, "warm-up")
	if bar == nil || total <= 0 {
		close(done)
		return false, done
	}
	go func() {
		defer close(done)
		defer bar.Finish()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				if !now.Before(rec.clock.from) {
					return
				}
				bar.Describe(fmt.Sprintf("warm-up, %d trades answered", rec.all.Load()))
				bar.Set(now.Sub(start).Milliseconds())
			}
		}
	}()
	return true, done
}
