package projections

import (
	"testing"
	"time"
)

// delayer is a projection that asks for its own commit delay.
type delayer struct {
	Projection
	d time.Duration
}

func (d delayer) CommitDelay() time.Duration { return d.d }

func TestAProjectionMayOnlyLengthenTheCommitDelay(t *testing.T) {
	m := &Manager{opts: Options{CommitDelay: time.Millisecond}}
	for _, c := range []struct {
		proj Projection
		want time.Duration
	}{
		{delayer{d: 10 * time.Millisecond}, 10 * time.Millisecond},
		{delayer{d: time.Microsecond}, time.Millisecond},
		{nil, time.Millisecond},
	} {
		r := &Runner{m: m, proj: c.proj}
		if got := r.commitDelay(); got != c.want {
			t.Errorf("%T asking %v: delay %v, want %v", c.proj, c.proj, got, c.want)
		}
	}
}
