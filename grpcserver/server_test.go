package grpcserver

import (
	"context"
	"net"
	"testing"

	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

func TestEachRequestIsLoggedOnceWithItsCorrelationID(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	core, logs := observer.New(zap.InfoLevel)
	srv := New(registry.New(st, registry.Options{}), zap.New(core))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	ctx := metadata.AppendToOutgoingContext(context.Background(), CorrelationHeader, "corr-7", ActorHeader, "office-1")
	var header metadata.MD
	_, err = pb.NewAccountServiceClient(conn).GetAccount(ctx, &pb.GetAccountRequest{AccountId: "NOBODY"}, grpc.Header(&header))
	if err == nil {
		t.Fatal("an unknown account was found")
	}
	if got := header.Get(CorrelationHeader); len(got) != 1 || got[0] != "corr-7" {
		t.Fatalf("correlation header %v, want the client's", got)
	}
	entries := logs.FilterMessage("request").All()
	if len(entries) != 1 {
		t.Fatalf("%d request log lines, want 1", len(entries))
	}
	f := entries[0].ContextMap()
	if f["method"] != "/ecoregistry.v1.AccountService/GetAccount" || f["code"] != "NotFound" || f["correlation_id"] != "corr-7" || f["actor"] != "office-1" || f["duration"] == nil {
		t.Fatalf("log fields %v", f)
	}

	// Without a correlation id the server makes one and sends it back.
	header = nil
	_, _ = pb.NewAccountServiceClient(conn).GetAccount(context.Background(), &pb.GetAccountRequest{AccountId: "NOBODY"}, grpc.Header(&header))
	if got := header.Get(CorrelationHeader); len(got) != 1 || len(got[0]) != 36 {
		t.Fatalf("generated correlation id %v", got)
	}
}
