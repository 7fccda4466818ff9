package pebblestore_test

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// Tests that need a second process re-execute the test binary: the child
// runs TestChildProcess, which does what childEnv says and nothing when the
// variable is unset, as in a normal run.
const (
	childEnv    = "PEBBLESTORE_TEST_CHILD"
	childDirEnv = "PEBBLESTORE_TEST_DIR"
)

// childCommand returns the command that runs role in a child process
// against dir, with its stderr collected into the returned buffer.
func childCommand(t *testing.T, role, dir string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+role, childDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

// TestChildProcess is the entry point of child processes; see childCommand.
func TestChildProcess(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	switch os.Getenv(childEnv) {
	case "":
		t.Skip("runs only as a child process of another test")
	case "lock":
		os.Exit(lockChild(dir))
	case "crash":
		os.Exit(crashChild(dir))
	default:
		t.Fatalf("unknown child role %q", os.Getenv(childEnv))
	}
}
