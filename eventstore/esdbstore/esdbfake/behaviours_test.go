package esdbfake_test

import (
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
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

// These tests hold the behaviours a test switches on to what the servers
// they imitate did, seen through the real client.

// subscribeWanted subscribes to $all with a stream-prefix filter that
// checkpoints after every event considered.
func subscribeWanted(t *testing.T, c *esdb.Client) *esdb.Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{
		From: esdb.Start{}, MaxSearchWindow: 1, CheckpointInterval: 1,
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"wanted"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

// nextCheckpointAfterCaughtUp skips to the caught-up message and returns
// the checkpoint that follows it.
func nextCheckpointAfterCaughtUp(t *testing.T, sub *esdb.Subscription) esdb.Position {
	t.Helper()
	caughtUp := false
	for {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			t.Fatalf("dropped: %v", ev.SubscriptionDropped.Error)
		case ev.CaughtUp != nil:
			caughtUp = true
		case caughtUp && ev.CheckPointReached != nil:
			return *ev.CheckPointReached
		}
	}
}

func TestCheckpointStyles(t *testing.T) {
	t.Run("ahead at the end: the checkpoint names the position the next event takes", func(t *testing.T) {
		srv := esdbfake.Start(t)
		srv.SetCheckpoints(esdbfake.CheckpointsAheadAtEnd)
		c := newClient(t, srv.URL())
		appendOne(t, c, "other")
		sub := subscribeWanted(t, c)
		cp := nextCheckpointAfterCaughtUp(t, sub)
		next := appendOne(t, c, "wanted-1")
		if cp.Commit != next.CommitPosition || cp.Prepare != next.PreparePosition {
			t.Fatalf("checkpoint %v, the next event went to %d/%d", cp, next.CommitPosition, next.PreparePosition)
		}
		for {
			ev := sub.Recv()
			if ev.EventAppeared != nil {
				if ev.EventAppeared.Event.Position != cp {
					t.Fatalf("the event delivered after the checkpoint is at %v, not at the checkpoint %v", ev.EventAppeared.Event.Position, cp)
				}
				return
			}
		}
	})
	t.Run("commit only: checkpoints carry a prepare position of 0", func(t *testing.T) {
		srv := esdbfake.Start(t)
		srv.SetCheckpoints(esdbfake.CheckpointsCommitOnly)
		c := newClient(t, srv.URL())
		last := appendOne(t, c, "other")
		sub := subscribeWanted(t, c)
		for {
			ev := sub.Recv()
			if ev.CheckPointReached != nil && ev.CheckPointReached.Commit == last.CommitPosition {
				if ev.CheckPointReached.Prepare != 0 {
					t.Fatalf("checkpoint %v", *ev.CheckPointReached)
				}
				return
			}
		}
	})
}

func TestOldServers(t *testing.T) {
	srv := esdbfake.StartWith(t, esdbfake.Options{Version: "21.10.9"})
	c := newClient(t, srv.URL())
	res := appendOne(t, c, "old")
	v, err := c.GetServerVersion()
	if err != nil || v.Major != 21 || v.Minor != 10 {
		t.Fatalf("the server version is %+v (%v)", v, err)
	}
	rs, err := c.ReadStream(t.Context(), "old", esdb.ReadStreamOptions{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	e, err := rs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if e.Event.Position.Commit != math.MaxUint64 {
		t.Fatalf("a stream read of a 21.10 server gives position %v, want the maximum value", e.Event.Position)
	}
	all := readAll(t, c, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if all[0].Position.Commit != res.CommitPosition {
		t.Fatalf("a read of $all gives position %v, the append said %d", all[0].Position, res.CommitPosition)
	}
}

// rawRead reads one stream through conn with or without the requires-leader
// header and returns how many events it got, or the error.
func rawRead(t *testing.T, conn *grpc.ClientConn, stream string, leader bool) (int, error) {
	t.Helper()
	ctx := t.Context()
	if leader {
		ctx = metadata.AppendToOutgoingContext(ctx, "requires-leader", "true")
	}
	rs, err := streams.NewStreamsClient(conn).Read(ctx, &streams.ReadReq{Options: &streams.ReadReq_Options{
		StreamOption: &streams.ReadReq_Options_Stream{Stream: &streams.ReadReq_Options_StreamOptions{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(stream)},
			RevisionOption:   &streams.ReadReq_Options_StreamOptions_Start{Start: &shared.Empty{}}}},
		CountOption:  &streams.ReadReq_Options_Count{Count: 100},
		FilterOption: &streams.ReadReq_Options_NoFilter{NoFilter: &shared.Empty{}},
		UuidOption:   &streams.ReadReq_Options_UUIDOption{Content: &streams.ReadReq_Options_UUIDOption_String_{String_: &shared.Empty{}}},
	}})
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		resp, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if resp.GetEvent() != nil {
			n++
		}
	}
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestLaggingFollowers(t *testing.T) {
	srv := esdbfake.StartCluster(t, 3)
	oldLeader := srv.Leader()
	c := newClient(t, srv.URL())
	appendOne(t, c, "lagging")
	srv.LagFollowers()
	appendOne(t, c, "lagging")

	follower := dial(t, strings.Split(strings.TrimSuffix(strings.TrimPrefix(srv.URL(), "esdb://"), "?tls=false"), ",")[2])
	if n, err := rawRead(t, follower, "lagging", false); err != nil || n != 1 {
		t.Fatalf("a lagging follower serves %d events (%v), want the 1 it had", n, err)
	}
	if _, err := rawRead(t, follower, "lagging", true); status.Code(err) != codes.NotFound {
		t.Fatalf("a follower answers a read that requires the leader with %v, want not-leader", err)
	}
	if got := srv.FollowerRequests(); got != 1 {
		t.Fatalf("FollowerRequests is %d, want 1", got)
	}

	srv.ElectNewLeader()
	appendOne(t, c, "lagging") // forwarded by the old leader, now a follower
	deposed := dial(t, oldLeader)
	if n, err := rawRead(t, deposed, "lagging", false); err != nil || n != 2 {
		t.Fatalf("the deposed leader serves %d events (%v), want the 2 written before the election", n, err)
	}
	srv.CatchUpFollowers()
	if n, err := rawRead(t, deposed, "lagging", false); err != nil || n != 3 {
		t.Fatalf("after catching up, the old leader serves %d events (%v), want 3", n, err)
	}
}

func TestAppendReplyFaults(t *testing.T) {
	cases := []struct {
		name   string
		inject func(*esdbfake.Server)
		want   esdb.ErrorCode
	}{
		{"a lost reply ends at the client's deadline, the events written", func(s *esdbfake.Server) { s.LoseAppendReplies(1) }, esdb.ErrorCodeDeadlineExceeded},
		{"a reply later than the client's deadline ends there, the events written", func(s *esdbfake.Server) { s.DelayAppendReplies(1, time.Minute) }, esdb.ErrorCodeDeadlineExceeded},
		{"a cut connection reports Unavailable, the events written", func(s *esdbfake.Server) { s.CutAppendReplies(1) }, esdb.ErrorUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := esdbfake.Start(t)
			c := newClient(t, srv.URL())
			tc.inject(srv)
			deadline := 200 * time.Millisecond
			ev := esdb.EventData{EventID: uuid.New(), EventType: "Tested"}
			_, err := c.AppendToStream(t.Context(), "faulty", esdb.AppendToStreamOptions{Deadline: &deadline}, ev)
			var e *esdb.Error
			if !errors.As(err, &e) || e.Code() != tc.want {
				t.Fatalf("the append gives %v, want code %d", err, tc.want)
			}
			again, err := c.AppendToStream(t.Context(), "faulty", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev)
			if err != nil || again.NextExpectedVersion != 0 || again.CommitPosition != 0 {
				t.Fatalf("the repeat gives %+v (%v), want the idempotent answer for revision 0 without a position", again, err)
			}
		})
	}
	t.Run("a delay shorter than the deadline only delays the reply", func(t *testing.T) {
		srv := esdbfake.Start(t)
		c := newClient(t, srv.URL())
		srv.DelayAppendReplies(1, 10*time.Millisecond)
		if res := appendOne(t, c, "delayed"); res.CommitPosition == 0 {
			t.Fatalf("the delayed append gives %+v", res)
		}
	})
}

func TestSecurity(t *testing.T) {
	srv := esdbfake.StartWith(t, esdbfake.Options{TLS: true, Users: []esdbfake.User{
		{Name: "admin", Password: "changeit", Admin: true},
		{Name: "writer", Password: "w-secret"},
	}})
	if !strings.Contains(srv.URL(), "tls=true&tlsCAFile=") {
		t.Fatalf("the URL %s does not name the CA", srv.URL())
	}
	code := func(err error) esdb.ErrorCode {
		var e *esdb.Error
		if errors.As(err, &e) {
			return e.Code()
		}
		return -1
	}
	readAllErr := func(c *esdb.Client) error {
		rs, err := c.ReadAll(t.Context(), esdb.ReadAllOptions{}, 1)
		if err != nil {
			return err
		}
		defer rs.Close()
		_, err = rs.Recv()
		return err
	}
	ev := esdb.EventData{EventID: uuid.New(), EventType: "Tested"}

	admin := newClient(t, srv.URLAs("admin", "changeit"))
	if err := readAllErr(admin); err != nil {
		t.Fatalf("an admin reads $all over TLS: %v", err)
	}
	writer := newClient(t, srv.URLAs("writer", "w-secret"))
	if _, err := writer.AppendToStream(t.Context(), "written", esdb.AppendToStreamOptions{}, ev); err != nil {
		t.Fatalf("a user outside $admins appends to a user stream: %v", err)
	}
	if err := readAllErr(writer); code(err) != esdb.ErrorCodeAccessDenied {
		t.Fatalf("a user outside $admins reads $all: %v, want access denied", err)
	}
	if err := readAllErr(newClient(t, srv.URLAs("admin", "wrong"))); code(err) != esdb.ErrorCodeUnauthenticated {
		t.Fatalf("a wrong password gives %v, want unauthenticated", err)
	}
	if err := readAllErr(newClient(t, srv.URL())); code(err) != esdb.ErrorCodeAccessDenied {
		t.Fatalf("no credentials give %v, want access denied", err)
	}
	noCA := strings.Split(srv.URLAs("admin", "changeit"), "&tlsCAFile=")[0] + "&maxDiscoverAttempts=1"
	if err := readAllErr(newClient(t, noCA)); err == nil {
		t.Fatal("a client that does not trust the test CA connected")
	}
}

func TestRefusedRequests(t *testing.T) {
	srv := esdbfake.Start(t)
	c := newClient(t, srv.URL())
	srv.RefuseRequests(2)
	var e *esdb.Error
	for range 2 {
		if _, err := c.AppendToStream(t.Context(), "refused", esdb.AppendToStreamOptions{}, esdb.EventData{EventID: uuid.New(), EventType: "Tested"}); !errors.As(err, &e) || e.Code() != esdb.ErrorUnavailable {
			t.Fatalf("a refused append gives %v, want Unavailable", err)
		}
	}
	appendOne(t, c, "refused")
	if srv.Refused() != 2 {
		t.Fatalf("Refused is %d, want 2", srv.Refused())
	}
}
