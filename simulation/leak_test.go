package simulation

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them; a
// simulated crash closes the registry service it throws away.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
