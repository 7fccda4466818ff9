package main

import (
	"context"
	"io"
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
