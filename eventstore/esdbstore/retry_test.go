package esdbstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
)

// TestUnknownOutcomes makes the server write an append and then lose,
// delay or cut its reply. The client then cannot know whether the append
// happened: it is sent again with the same event ids and expected revision,
// which the server takes as a repeat, and its position is read back.
func TestUnknownOutcomes(t *testing.T) {
	cases := []struct {
		name   string
		inject func(*esdbfake.Server)
	}{
		{"a lost reply", func(s *esdbfake.Server) { s.LoseAppendReplies(1) }},
		{"a reply later than the client's deadline", func(s *esdbfake.Server) { s.DelayAppendReplies(1, time.Minute) }},
		{"a connection cut before the reply", func(s *esdbfake.Server) { s.CutAppendReplies(1) }},
		{"two lost replies in a row", func(s *esdbfake.Server) { s.LoseAppendReplies(2) }},
	}
	for _, c := range cases {
		t.Run(c.name+" leaves the append written once, at the position reported", func(t *testing.T) {
			srv := esdbfake.Start(t)
			// The client's deadline for one append, 10 s by default.
			s := open(t, srv.URL()+"&defaultDeadline=200")
			defer s.Close()
			evs := []eventstore.EventData{{ID: uuid.New(), Type: "Tested"}, {ID: uuid.New(), Type: "Tested"}}
			c.inject(srv)
			res, err := s.Append(t.Context(), "unknown", eventstore.NoStream(), evs...)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			stored, err := s.ReadStream(t.Context(), "unknown", 0, eventstore.Forwards, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) != 2 || stored[0].ID != evs[0].ID || stored[1].ID != evs[1].ID {
				t.Fatalf("the stream holds %d events after the append, want its 2", len(stored))
			}
			if res.NextExpectedRevision != 1 || res.Position != stored[1].Position {
				t.Fatalf("Append reports %+v, the last event is at revision 1, position %s", res, stored[1].Position)
			}
		})
	}
}

func TestRetriesDuringAnElection(t *testing.T) {
	ev := func() eventstore.EventData { return eventstore.EventData{ID: uuid.New(), Type: "Tested"} }
	// Short pauses keep the test quick; the defaults wait seconds in all.
	quick := esdbstore.Retry{First: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	openQuick := func(t *testing.T, srv *esdbfake.Server, r esdbstore.Retry) *esdbstore.Store {
		t.Helper()
		s, err := esdbstore.Open(t.Context(), srv.URL(), esdbstore.Options{Retry: r})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("an election that outlasts four quick attempts is waited out", func(t *testing.T) {
		srv := esdbfake.Start(t)
		s := openQuick(t, srv, quick)
		defer s.Close()
		srv.RefuseRequests(5)
		if _, err := s.Append(t.Context(), "electing", eventstore.NoStream(), ev()); err != nil {
			t.Fatalf("Append during an election: %v", err)
		}
		srv.RefuseRequests(5)
		if _, err := s.ReadStream(t.Context(), "electing", 0, eventstore.Forwards, 0); err != nil {
			t.Fatalf("ReadStream during an election: %v", err)
		}
	})

	t.Run("the caller's context bounds the attempts, and its error is returned", func(t *testing.T) {
		srv := esdbfake.Start(t)
		s := openQuick(t, srv, quick)
		defer s.Close()
		srv.RefuseRequests(1 << 20)
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		_, err := s.Append(ctx, "electing", eventstore.NoStream(), ev())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Append gives %v, want the context's deadline", err)
		}
	})

	t.Run("without a deadline the attempts stop when the retry budget is spent", func(t *testing.T) {
		srv := esdbfake.Start(t)
		budget := quick
		budget.Budget = 100 * time.Millisecond
		s := openQuick(t, srv, budget)
		defer s.Close()
		srv.RefuseRequests(1 << 20)
		_, err := s.Append(context.Background(), "electing", eventstore.NoStream(), ev())
		if err == nil || !strings.Contains(err.Error(), "Server Is Not Ready") || !strings.Contains(err.Error(), "gave up") {
			t.Fatalf("Append gives %v, want the server's refusal and that the adapter gave up", err)
		}
		if srv.Refused() < 5 {
			t.Fatalf("the adapter gave up after %d attempts", srv.Refused())
		}
	})
}
