package esdbstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
)

// TestLeaderAfterAnElection runs a workload that reads its own writes, as
// the registry does (append at an expected revision, read the stream back),
// on a cluster whose followers lag behind the leader, and elects a new
// leader in the middle of it. The v4 client does not send the
// requires-leader header; a connection left on the deposed leader then
// reads stale streams and follows a stale $all.
func TestLeaderAfterAnElection(t *testing.T) {
	srv := esdbfake.StartCluster(t, 3)
	srv.LagFollowers()
	s := open(t, srv.URL())
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	filter := eventstore.Filter{StreamPrefixes: []string{"leader-"}}
	sub, err := s.Subscribe(ctx, eventstore.End, filter)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	const writers, appends = 4, 30
	var elect sync.Once
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			stream := fmt.Sprintf("leader-%d", g)
			for i := range appends {
				if g == 0 && i == appends/2 {
					elect.Do(func() { srv.ElectNewLeader() })
				}
				if err := appendAndReadBack(ctx, s, stream, i); err != nil {
					t.Errorf("writer %d, append %d: %v", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for n := range writers * appends {
		if _, err := sub.Next(); err != nil {
			t.Fatalf("the subscription delivered %d of %d events, then: %v", n, writers*appends, err)
		}
	}
	if n := srv.FollowerRequests(); n != 0 {
		t.Fatalf("followers served %d appends and reads that required the leader", n)
	}
}

// appendAndReadBack appends the event of revision i to stream, expecting
// revision i-1, and reads the stream's last event back.
func appendAndReadBack(ctx context.Context, s eventstore.Store, stream string, i int) error {
	expected := eventstore.NoStream()
	if i > 0 {
		expected = eventstore.Exact(uint64(i - 1))
	}
	ev := eventstore.EventData{ID: uuid.New(), Type: "Tested"}
	if _, err := s.Append(ctx, stream, expected, ev); err != nil {
		return err
	}
	last, err := s.ReadStream(ctx, stream, eventstore.StreamEnd, eventstore.Backwards, 1)
	if err != nil {
		return err
	}
	if last[0].ID != ev.ID {
		return fmt.Errorf("the stream read back ends at revision %d, not at the event just appended (revision %d): a stale read", last[0].Revision, i)
	}
	return nil
}
