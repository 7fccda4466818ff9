package main

import (
	"context"
	"io"
	"time"

	"google.golang.org/grpc"

	"github.com/ecoregistry/ecoregistry/progress"
	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

type progressKey struct{}

// withProgress lets the commands that take long draw progress bars on w
// while they run: run sets it when stdout is a terminal and --json is off.
func withProgress(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, progressKey{}, w)
}

// progressOut is where a command draws its progress bar: io.Discard when
// nothing should be drawn, which progress.New draws nothing on.
func progressOut(ctx context.Context) io.Writer {
	if w, ok := ctx.Value(progressKey{}).(io.Writer); ok {
		return w
	}
	return io.Discard
}

// drawsOn reports whether progress bars are drawn on w: only on a
// terminal. Tests replace it to see the bars.
var drawsOn = progress.IsTerminal

// newBar returns a bar drawn on ctx's progress writer, or nil when nothing
// is to be drawn there.
func newBar(ctx context.Context, total int64, kind progress.Kind, description string) *progress.Bar {
	out := progressOut(ctx)
	if !drawsOn(out) {
		return nil
	}
	return progress.NewOn(out, total, kind, description)
}

// rebuildPollInterval is how often a rebuild's progress is asked for.
const rebuildPollInterval = 200 * time.Millisecond

// showRebuildProgress draws, while a rebuild of projection name runs, a bar
// of the rebuilt generation's position against the head of the log, asking
// the registry every rebuildPollInterval; nothing when ctx draws no bars.
// The returned function stops it and clears the bar.
func showRebuildProgress(ctx context.Context, cc grpc.ClientConnInterface, name string) (stop func()) {
	if !drawsOn(progressOut(ctx)) {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var bar *progress.Bar
		defer func() { bar.Abandon() }()
		client := ecov1.NewProjectionAdminServiceClient(cc)
		tick := time.NewTicker(rebuildPollInterval)
		defer tick.Stop()
		for {
			if resp, err := client.GetProjectionStatus(ctx, &ecov1.GetProjectionStatusRequest{}); err == nil && resp.GetHead().GetCommit() > 0 {
				// A bar is made once the head is known: one of total 0
				// would be finished from the start.
				if bar == nil {
					bar = newBar(ctx, int64(resp.GetHead().GetCommit()), progress.Count, "rebuilding "+name)
				}
				bar.SetTotal(int64(resp.GetHead().GetCommit()))
				if pos, ok := rebuildPosition(resp, name); ok {
					bar.Set(int64(pos))
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// rebuildPosition is the position of projection name's rebuild in resp;
// false when none is under way (any more).
func rebuildPosition(resp *ecov1.GetProjectionStatusResponse, name string) (uint64, bool) {
	for _, st := range resp.GetProjections() {
		if st.GetName() == name && st.GetRebuild() != nil {
			return st.GetRebuild().GetPosition().GetCommit(), true
		}
	}
	return 0, false
}
