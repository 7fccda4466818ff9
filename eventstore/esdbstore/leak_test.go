package esdbstore_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them. One
// leak is known and let be: when the EventStoreDB client reconnects (after
// a cut or timed-out call, or when the leader node of a cluster stops), it
// leaves its previous gRPC connection open, whose goroutines go on after the
// client is closed. Only the two goroutines of such a connection are
// ignored.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("google.golang.org/grpc.(*addrConn).resetTransportAndUnlock"),
		goleak.IgnoreTopFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"))
}
