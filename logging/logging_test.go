package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// iso8601 matches a timestamp such as 2026-11-30T20:43:39.123+0800 or
// 2026-11-30T12:43:39.123Z.
var iso8601 = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:?\d{2})$`)

func TestJSONLinesCarryISO8601Times(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, zapcore.InfoLevel, FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("request", zap.String("method", "/m"), zap.Duration("duration", 1500*time.Microsecond))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	ts, _ := line["ts"].(string)
	if !iso8601.MatchString(ts) {
		t.Fatalf("ts %v is not an ISO 8601 time", line["ts"])
	}
	if line["duration"] != "1.5ms" || line["level"] != "info" || line["msg"] != "request" {
		t.Fatalf("line %v", line)
	}
}

func TestConsoleLinesStartWithAnISO8601Time(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, zapcore.InfoLevel, FormatConsole)
	if err != nil {
		t.Fatal(err)
	}
	log.Warn("slow request", zap.String("method", "/m"))
	cols := strings.Split(strings.TrimSpace(buf.String()), "\t")
	if len(cols) < 4 || !iso8601.MatchString(cols[0]) || cols[1] != "WARN" || cols[3] != "slow request" {
		t.Fatalf("console line %q", buf.String())
	}
	if !strings.Contains(cols[len(cols)-1], `"method": "/m"`) {
		t.Fatalf("console line %q lacks its fields", buf.String())
	}
}

func TestSlogLinesCarryISO8601Times(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatConsole} {
		var buf bytes.Buffer
		NewSlog(&buf, format).Warn("compaction slow", "component", "pebble")
		NewSlog(&buf, format).Info("dropped: below warn")
		out := strings.TrimSpace(buf.String())
		if strings.Count(out, "\n") != 0 {
			t.Fatalf("%s: want one line, got %q", format, out)
		}
		var ts string
		if format == FormatJSON {
			var line map[string]any
			if err := json.Unmarshal([]byte(out), &line); err != nil {
				t.Fatal(err)
			}
			ts, _ = line["time"].(string)
		} else {
			ts = strings.TrimPrefix(strings.Fields(out)[0], "time=")
		}
		if !iso8601.MatchString(ts) {
			t.Fatalf("%s: time %q is not ISO 8601 in %q", format, ts, out)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, f := range []string{"", FormatJSON, FormatConsole} {
		if err := CheckFormat(f); err != nil {
			t.Errorf("%q refused: %v", f, err)
		}
	}
	if err := CheckFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
	if _, err := New(&bytes.Buffer{}, zapcore.InfoLevel, "xml"); err == nil {
		t.Error("New accepted xml")
	}
	// A pipe is not a terminal: a program reads it, so JSON.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if got := DefaultFormat(w); got != FormatJSON {
		t.Errorf("DefaultFormat(pipe) = %q, want json", got)
	}
}
