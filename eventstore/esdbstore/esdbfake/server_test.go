package esdbfake_test

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
)

// These tests hold the fake to EventStoreDB's documented behaviour, through
// the real client, so that what the adapter's tests show on the fake says
// something about a real server.

func newClient(t *testing.T, url string) *esdb.Client {
	t.Helper()
	cfg, err := esdb.ParseConnectionString(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func appendOne(t *testing.T, c *esdb.Client, stream string) *esdb.WriteResult {
	t.Helper()
	res, err := c.AppendToStream(t.Context(), stream, esdb.AppendToStreamOptions{},
		esdb.EventData{EventID: uuid.New(), EventType: "Tested", Data: []byte("data")})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readAll(t *testing.T, c *esdb.Client, opts esdb.ReadAllOptions, count uint64) []*esdb.RecordedEvent {
	t.Helper()
	rs, err := c.ReadAll(t.Context(), opts, count)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []*esdb.RecordedEvent
	for {
		e, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Event)
	}
}

func TestPositions(t *testing.T) {
	srv := esdbfake.Start(t)
	c := newClient(t, srv.URL())
	var results []*esdb.WriteResult
	for range 3 {
		results = append(results, appendOne(t, c, "positions"))
	}
	all := readAll(t, c, esdb.ReadAllOptions{}, 100)
	if !strings.HasPrefix(all[0].StreamID, "$") {
		t.Fatalf("a new server's $all starts with %q, want a system stream", all[0].StreamID)
	}
	mine := all[len(all)-3:]
	for i, e := range mine {
		if e.Position.Commit != e.Position.Prepare {
			t.Fatalf("event %d is at %v: commit and prepare differ", i, e.Position)
		}
		if e.Position.Commit != results[i].CommitPosition || e.Position.Prepare != results[i].PreparePosition {
			t.Fatalf("event %d is at %v, its append reported %d/%d", i, e.Position, results[i].CommitPosition, results[i].PreparePosition)
		}
		if i > 0 && e.Position.Commit <= mine[i-1].Position.Commit+1 {
			t.Fatalf("positions %v and %v are not byte offsets of a log", mine[i-1].Position, e.Position)
		}
	}

	t.Run("reading forwards from an event's position includes it", func(t *testing.T) {
		got := readAll(t, c, esdb.ReadAllOptions{From: mine[1].Position}, 10)
		if len(got) != 2 || got[0].EventID != mine[1].EventID {
			t.Fatalf("got %d events from %v", len(got), mine[1].Position)
		}
	})
	t.Run("reading backwards from an event's position excludes it", func(t *testing.T) {
		got := readAll(t, c, esdb.ReadAllOptions{Direction: esdb.Backwards, From: mine[1].Position}, 1)
		if len(got) != 1 || got[0].EventID != mine[0].EventID {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("a subscription from an event's position starts after it", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: mine[1].Position})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		ev := sub.Recv()
		if ev.EventAppeared == nil || ev.EventAppeared.Event.EventID != mine[2].EventID {
			t.Fatalf("first delivery is %+v, want the event after the start", ev)
		}
		if ev := sub.Recv(); ev.CaughtUp == nil {
			t.Fatalf("after the stored events came %+v, want caught-up", ev)
		}
	})
}

func TestFilteredSubscriptionSendsCheckpoints(t *testing.T) {
	srv := esdbfake.Start(t)
	c := newClient(t, srv.URL())
	for range 10 {
		appendOne(t, c, "other")
	}
	want := appendOne(t, c, "wanted")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{
		From: esdb.Start{}, MaxSearchWindow: 4, CheckpointInterval: 1,
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"wanted"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var checkpoints []esdb.Position
	for {
		ev := sub.Recv()
		if ev.CheckPointReached != nil {
			checkpoints = append(checkpoints, *ev.CheckPointReached)
			continue
		}
		if ev.EventAppeared == nil {
			t.Fatalf("got %+v before the wanted event", ev)
		}
		if ev.EventAppeared.Event.Position.Commit != want.CommitPosition {
			t.Fatalf("the filter let through %s", ev.EventAppeared.Event.StreamID)
		}
		break
	}
	// 3 system events and 10 others, every 4 considered: 3 checkpoints.
	if len(checkpoints) != 3 {
		t.Fatalf("got %d checkpoints before the wanted event, want 3: %v", len(checkpoints), checkpoints)
	}
	for _, p := range checkpoints {
		if p.Commit >= want.CommitPosition {
			t.Fatalf("checkpoint %v is not before the undelivered event at %d", p, want.CommitPosition)
		}
	}
}

func TestAppends(t *testing.T) {
	srv := esdbfake.Start(t)
	c := newClient(t, srv.URL())
	ev := esdb.EventData{EventID: uuid.New(), EventType: "Tested"}

	t.Run("a conflict reports the current revision", func(t *testing.T) {
		appendOne(t, c, "conflict")
		_, err := c.AppendToStream(t.Context(), "conflict", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev)
		var e *esdb.Error
		if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeWrongExpectedVersion || !strings.Contains(err.Error(), "but got '0'") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("repeating an append with the same event ids is idempotent and comes back without a position", func(t *testing.T) {
		opts := esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}
		first, err := c.AppendToStream(t.Context(), "idempotent", opts, ev)
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.AppendToStream(t.Context(), "idempotent", opts, ev)
		// The v4 client turns the reply's NoPosition into 0/0.
		if err != nil || again.NextExpectedVersion != first.NextExpectedVersion || again.CommitPosition != 0 || again.PreparePosition != 0 {
			t.Fatalf("the repeat gives %+v (%v), the first %+v", again, err, first)
		}
		rs, _ := c.ReadStream(t.Context(), "idempotent", esdb.ReadStreamOptions{}, 10)
		defer rs.Close()
		n := 0
		for _, err := rs.Recv(); err == nil; _, err = rs.Recv() {
			n++
		}
		if n != 1 {
			t.Fatalf("the stream holds %d events after a repeated append", n)
		}
	})
	t.Run("a missing stream is reported as not found", func(t *testing.T) {
		rs, err := c.ReadStream(t.Context(), "missing", esdb.ReadStreamOptions{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		_, err = rs.Recv()
		var e *esdb.Error
		if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeResourceNotFound {
			t.Fatalf("got %v", err)
		}
	})
}

func TestCluster(t *testing.T) {
	srv := esdbfake.StartCluster(t, 3)
	follower := strings.Split(strings.TrimSuffix(strings.TrimPrefix(srv.URL(), "esdb://"), "?tls=false"), ",")[1]
	conn, err := grpc.NewClient(follower, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	t.Run("a follower refuses a call that requires the leader and names the leader", func(t *testing.T) {
		ctx := metadata.AppendToOutgoingContext(t.Context(), "requires-leader", "true")
		var trailer metadata.MD
		app, err := streams.NewStreamsClient(conn).Append(ctx, grpc.Trailer(&trailer))
		if err != nil {
			t.Fatal(err)
		}
		_ = app.Send(&streams.AppendReq{Content: &streams.AppendReq_Options_{Options: &streams.AppendReq_Options{
			StreamIdentifier:       &shared.StreamIdentifier{StreamName: []byte("s")},
			ExpectedStreamRevision: &streams.AppendReq_Options_Any{Any: &shared.Empty{}},
		}}})
		_, err = app.CloseAndRecv()
		host := trailer.Get("leader-endpoint-host")
		port := trailer.Get("leader-endpoint-port")
		if status.Code(err) != codes.NotFound || len(trailer.Get("exception")) == 0 || trailer.Get("exception")[0] != "not-leader" ||
			len(host) == 0 || len(port) == 0 || host[0]+":"+port[0] != srv.Leader() {
			t.Fatalf("got %v with trailer %v; the leader is %s", err, trailer, srv.Leader())
		}
	})
	t.Run("gossip shows the stopped leader and the new one", func(t *testing.T) {
		old := srv.Leader()
		srv.StopLeader(t)
		info, err := gossip.NewGossipClient(conn).Read(t.Context(), &shared.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]gossip.MemberInfo_VNodeState{}
		for _, m := range info.GetMembers() {
			states[m.GetHttpEndPoint().GetAddress()+":"+strconv.Itoa(int(m.GetHttpEndPoint().GetPort()))] = m.GetState()
		}
		if states[old] != gossip.MemberInfo_Shutdown || states[srv.Leader()] != gossip.MemberInfo_Leader || old == srv.Leader() {
			t.Fatalf("gossip says %v; old leader %s, new %s", states, old, srv.Leader())
		}
	})
}
