package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestNothingIsDrawnOffATerminal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, 100, Count, "rebuilding")
	if b != nil {
		t.Fatal("a bar was made for a buffer")
	}
	// A nil bar takes every call and draws nothing.
	b.Set(50)
	b.SetTotal(200)
	b.Describe("x")
	b.Finish()
	b.Abandon()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(w) || New(w, 1, Bytes, "backup") != nil {
		t.Fatal("a pipe was taken for a terminal")
	}
	if buf.Len() != 0 {
		t.Fatalf("drew %q", buf.String())
	}
}

func TestABarShowsItsProgressAndClearsWhenDone(t *testing.T) {
	var buf bytes.Buffer
	b := NewOn(&buf, 4<<20, Bytes, "backup")
	if out := buf.String(); !strings.Contains(out, "backup") || !strings.Contains(out, "0%") || !strings.Contains(out, "0 B/4.0 MiB") {
		t.Fatalf("the new bar shows %q", out)
	}
	b.Set(1 << 20)
	b.Finish()
	// Clearing writes blanks over the bar, between carriage returns.
	if out := buf.String(); !strings.HasSuffix(out, strings.Repeat(" ", 40)+"\r") {
		t.Fatalf("the finished bar was not cleared: %q", out[max(0, len(out)-80):])
	}
}
