package esdbstore_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them. One
// leak is known and let be: after the leader node of a cluster stops
// (TestResubscription), the EventStoreDB client keeps a gRPC connection to
// that node, whose goroutines go on trying to reconnect after the store is
// closed. Only the two goroutines of such a connection are ignored.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("google.golang.org/grpc.(*addrConn).resetTransportAndUnlock"),
		goleak.IgnoreTopFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"))
}
