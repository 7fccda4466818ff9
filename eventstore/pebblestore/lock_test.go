package pebblestore_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
)

// lockChild tries to open dir and reports the outcome on stdout: "opened",
// or "refused: " and the error. Its exit status tells whether the error
// was ErrDirectoryInUse.
func lockChild(dir string) int {
	s, err := pebblestore.Open(dir, pebblestore.Options{})
	if err != nil {
		fmt.Printf("refused: %v\n", err)
		if errors.Is(err, pebblestore.ErrDirectoryInUse) {
			return 3
		}
		return 2
	}
	fmt.Println("opened")
	if err := s.Close(); err != nil {
		fmt.Printf("close: %v\n", err)
		return 1
	}
	return 0
}

func TestDirectoryLock(t *testing.T) {
	t.Run("another process cannot open a directory in use", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir)
		defer s.Close()
		cmd, stderr := childCommand(t, "lock", dir)
		out, err := cmd.Output()
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 3 {
			t.Fatalf("child: %v\nstdout: %s\nstderr: %s", err, out, stderr)
		}
		if !strings.Contains(string(out), "in use by another process") {
			t.Fatalf("the child's error does not say the directory is in use by another process: %s", out)
		}
		t.Logf("child: %s", strings.TrimSpace(string(out)))
	})

	t.Run("another process opens the directory once it is closed", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		cmd, stderr := childCommand(t, "lock", dir)
		out, err := cmd.Output()
		if err != nil || strings.TrimSpace(string(out)) != "opened" {
			t.Fatalf("child: %v\nstdout: %s\nstderr: %s", err, out, stderr)
		}
	})

	t.Run("a second Open in the same process is refused", func(t *testing.T) {
		dir := t.TempDir()
		s := openStore(t, dir)
		defer s.Close()
		_, err := pebblestore.Open(dir, pebblestore.Options{})
		if !errors.Is(err, pebblestore.ErrDirectoryInUse) {
			t.Fatalf("second Open gives %v, want ErrDirectoryInUse", err)
		}
	})
}
