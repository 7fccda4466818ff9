package integrity_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them. An
// idle drainer of the registry (it ends by itself after its idle time) and
// the EventStoreDB client's known leak of a reconnected connection, as in
// package esdbstore's tests, are let be.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/ecoregistry/ecoregistry/registry.(*drainers).loop"),
		goleak.IgnoreTopFunction("google.golang.org/grpc.(*addrConn).resetTransportAndUnlock"),
		goleak.IgnoreTopFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"))
}
