package grpcserver

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them; the
// tests close the registry services they make.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
