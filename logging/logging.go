// Package logging builds the loggers of ecoregistry's commands: zap for the
// server's own lines (requests, errors, lifecycle) and slog for Pebble's,
// both with ISO 8601 timestamps and in one of two formats: JSON lines for
// machines and log shippers, or aligned console lines for a person at a
// terminal.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"
)

// The formats a logger writes.
const (
	// FormatJSON writes one JSON object per line.
	FormatJSON = "json"
	// FormatConsole writes tab-separated lines: time, level, message, then
	// the fields as JSON.
	FormatConsole = "console"
)

// CheckFormat returns an error unless format is "" (chosen by DefaultFormat),
// FormatJSON or FormatConsole.
func CheckFormat(format string) error {
	switch format {
	case "", FormatJSON, FormatConsole:
		return nil
	}
	return fmt.Errorf("log format %q: want %s or %s", format, FormatJSON, FormatConsole)
}

// DefaultFormat is the format for logs written to f: console when f is a
// terminal, where a person reads them, JSON otherwise (a file, a pipe, a
// journal), where a program does.
func DefaultFormat(f *os.File) string {
	if f != nil && term.IsTerminal(int(f.Fd())) {
		return FormatConsole
	}
	return FormatJSON
}

// Sampling of the server's logger: per second and per message, the first
// SampleFirst lines are written, then every SampleThereafter-th. Under load
// most request lines are dropped, so that logging does not cost throughput;
// errors are sampled the same way, but by their own message.
const (
	SampleFirst      = 100
	SampleThereafter = 100
)

// encoderConfig is zap's production encoding with ISO 8601 times
// ("2026-11-30T20:43:39.123+0800") instead of seconds since 1970.
func encoderConfig() zapcore.EncoderConfig {
	ec := zap.NewProductionEncoderConfig()
	ec.EncodeTime = zapcore.ISO8601TimeEncoder
	ec.EncodeDuration = zapcore.StringDurationEncoder
	return ec
}

// Encoder returns the zap encoder of format ("" means JSON).
func Encoder(format string) zapcore.Encoder {
	if format == FormatConsole {
		ec := encoderConfig()
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		return zapcore.NewConsoleEncoder(ec)
	}
	return zapcore.NewJSONEncoder(encoderConfig())
}

// New returns the server's logger: lines at level and above, in format
// ("" means JSON), written to w and sampled as SampleFirst and
// SampleThereafter say. Errors of the logger itself go to w too.
func New(w io.Writer, level zapcore.Level, format string) (*zap.Logger, error) {
	if err := CheckFormat(format); err != nil {
		return nil, err
	}
	ws := zapcore.Lock(zapcore.AddSync(w))
	core := zapcore.NewSamplerWithOptions(zapcore.NewCore(Encoder(format), ws, level), time.Second, SampleFirst, SampleThereafter)
	return zap.New(core, zap.ErrorOutput(ws), zap.AddCaller(), zap.AddStacktrace(zapcore.ErrorLevel)), nil
}

// NewSlog returns a slog logger for libraries that log through slog
// (Pebble): warnings and errors, in format, written to w. Its times are
// RFC 3339 with milliseconds, a profile of ISO 8601.
func NewSlog(w io.Writer, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			a.Value = slog.StringValue(a.Value.Time().Format("2006-01-02T15:04:05.000Z07:00"))
		}
		return a
	}}
	if format == FormatConsole {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
