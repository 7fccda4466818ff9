// Package progress draws progress bars for the long work of ecoregistry's
// commands (a backup, a rebuild, a warm-up), with
// github.com/schollz/progressbar, and only where a person watches: on a
// terminal. Written to a file or a pipe, a bar would be noise in the output
// a program reads, so there it draws nothing.
package progress

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Kind says what a bar counts.
type Kind int

// The kinds of bars.
const (
	// Count counts items: events, trades.
	Count Kind = iota
	// Bytes counts bytes, shown in KiB, MiB, ...
	Bytes
)

// Bar is a progress bar, or nothing: every method of a nil *Bar does
// nothing, so that callers need not ask whether one is drawn.
type Bar struct{ bar *progressbar.ProgressBar }

// New returns a bar of total units of kind, described by description, drawn
// on w when w is a terminal, else nil. The bar clears itself when it
// finishes, so that what the command prints next starts on a clean line.
func New(w io.Writer, total int64, kind Kind, description string) *Bar {
	if !IsTerminal(w) {
		return nil
	}
	return NewOn(w, total, kind, description)
}

// NewOn is New without the terminal check: it draws on w whatever w is.
// Tests use it to see what a terminal would show.
func NewOn(w io.Writer, total int64, kind Kind, description string) *Bar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(description),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSetTheme(progressbar.ThemeASCII),
	}
	if kind == Bytes {
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionUseIECUnits(true))
	}
	return &Bar{bar: progressbar.NewOptions64(total, opts...)}
}

// Set moves the bar to n of its total.
func (b *Bar) Set(n int64) {
	if b != nil {
		_ = b.bar.Set64(n)
	}
}

// SetTotal changes the bar's total, for work whose end moves (the head of a
// log that is still written).
func (b *Bar) SetTotal(total int64) {
	if b != nil && b.bar.GetMax64() != total {
		b.bar.ChangeMax64(total)
	}
}

// Describe changes the bar's description.
func (b *Bar) Describe(description string) {
	if b != nil {
		b.bar.Describe(description)
	}
}

// Finish fills the bar and clears it.
func (b *Bar) Finish() {
	if b != nil {
		_ = b.bar.Finish()
	}
}

// Abandon clears the bar without filling it, when the work failed.
func (b *Bar) Abandon() {
	if b != nil {
		_ = b.bar.Clear()
		_ = b.bar.Exit()
	}
}
