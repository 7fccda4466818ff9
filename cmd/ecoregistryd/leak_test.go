package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them; the
// registry services the tests start are closed when they end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
