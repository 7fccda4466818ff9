package esdbstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
)

// rawClient is the EventStoreDB client itself, to look at what the adapter
// stored or to write as another application would.
func rawClient(t *testing.T, url string) *esdb.Client {
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

func rawRead(t *testing.T, c *esdb.Client, stream string) []*esdb.RecordedEvent {
	t.Helper()
	rs, err := c.ReadStream(t.Context(), stream, esdb.ReadStreamOptions{}, 100)
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

// withTimeout bounds a test's waits so that a stalled subscription fails it.
func withTimeout(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestEventsOnTheServer(t *testing.T) {
	t.Run("JSON is stored as JSON and every content type reads back as written", func(t *testing.T) {
		url := esdbfake.Start(t).URL()
		s := open(t, url)
		defer s.Close()
		want := []eventstore.EventData{
			{ID: uuid.New(), Type: "AccountOpened", ContentType: "application/json", Data: []byte(`{"id":"HB-1"}`), Metadata: []byte(`{"actor":"office"}`)},
			{ID: uuid.New(), Type: "UnitsTransferred", ContentType: "application/vnd.ecoregistry.events.v1+protobuf", Data: []byte{8, 1}, Metadata: []byte{0, 1, 2}},
		}
		if _, err := s.Append(t.Context(), "account-HB-1", eventstore.NoStream(), want...); err != nil {
			t.Fatal(err)
		}
		raw := rawRead(t, rawClient(t, url), "account-HB-1")
		if raw[0].ContentType != "application/json" || raw[1].ContentType != "application/octet-stream" {
			t.Fatalf("the server holds content types %q and %q, want application/json and application/octet-stream", raw[0].ContentType, raw[1].ContentType)
		}
		for i, e := range raw {
			if e.EventID != want[i].ID || e.EventType != want[i].Type || !bytes.Equal(e.Data, want[i].Data) {
				t.Fatalf("the server holds event %d as %s %q %q", i, e.EventID, e.EventType, e.Data)
			}
		}
		got, err := s.ReadStream(t.Context(), "account-HB-1", 0, eventstore.Forwards, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i].ContentType != want[i].ContentType || !bytes.Equal(got[i].Metadata, want[i].Metadata) {
				t.Fatalf("event %d reads back as %q %q, want %q %q", i, got[i].ContentType, got[i].Metadata, want[i].ContentType, want[i].Metadata)
			}
		}
	})

	t.Run("events written by other applications read with the server's content type and their metadata", func(t *testing.T) {
		url := esdbfake.Start(t).URL()
		id := uuid.New()
		if _, err := rawClient(t, url).AppendToStream(t.Context(), "imported-1", esdb.AppendToStreamOptions{},
			esdb.EventData{EventID: id, EventType: "Imported", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`), Metadata: []byte(`{"source":"legacy"}`)}); err != nil {
			t.Fatal(err)
		}
		s := open(t, url)
		defer s.Close()
		got, err := s.ReadStream(t.Context(), "imported-1", 0, eventstore.Forwards, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != id || got[0].ContentType != "application/json" || string(got[0].Metadata) != `{"source":"legacy"}` {
			t.Fatalf("read %+v", got)
		}
	})

	t.Run("an append over the server's size limit is refused with the server's reason, not as a conflict", func(t *testing.T) {
		s := open(t, esdbfake.Start(t).URL())
		defer s.Close()
		big := eventstore.EventData{ID: uuid.New(), Type: "Large", Data: make([]byte, esdbfake.MaxAppendSize)}
		_, err := s.Append(t.Context(), "large", eventstore.Any(), big)
		if err == nil || errors.Is(err, eventstore.ErrWrongExpectedRevision) || !strings.Contains(err.Error(), "Maximum Append Size") {
			t.Fatalf("Append gives %v", err)
		}
	})
}

func TestSystemEvents(t *testing.T) {
	t.Run("the server's own events exist in $all but never reach a reader", func(t *testing.T) {
		srv := esdbfake.Start(t)
		s := open(t, srv.URL())
		defer s.Close()
		raw, err := rawClient(t, srv.URL()).ReadAll(t.Context(), esdb.ReadAllOptions{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		first, err := raw.Recv()
		raw.Close()
		if err != nil || !strings.HasPrefix(first.Event.StreamID, "$") {
			t.Fatalf("the first event of $all is %+v (%v); the test needs a system event there", first, err)
		}

		ctx := withTimeout(t)
		sub, err := s.Subscribe(ctx, eventstore.Start, eventstore.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		a, b := uuid.New(), uuid.New()
		if _, err := s.Append(ctx, "user-1", eventstore.Any(), eventstore.EventData{ID: a, Type: "Happened"}); err != nil {
			t.Fatal(err)
		}
		srv.AppendSystemEvent("$stats-127.0.0.1:2113", "$statsCollected")
		srv.AppendSystemEvent("$$user-1", "$metadata")
		if _, err := s.Append(ctx, "user-1", eventstore.Any(), eventstore.EventData{ID: b, Type: "Happened"}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []uuid.UUID{a, b} {
			e, err := sub.Next()
			if err != nil {
				t.Fatal(err)
			}
			if e.ID != want {
				t.Fatalf("the subscription delivered %s/%d of type %q, want the user's event %s", e.Stream, e.Revision, e.Type, want)
			}
		}
		all, err := s.ReadAll(ctx, eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].ID != a || all[1].ID != b {
			t.Fatalf("ReadAll gives %d events, want only the user's 2", len(all))
		}
	})

	t.Run("subscriptions ask the server to filter", func(t *testing.T) {
		srv := esdbfake.Start(t)
		s := open(t, srv.URL())
		defer s.Close()
		for _, f := range []eventstore.Filter{
			{},
			{StreamPrefixes: []string{"account-", "right-"}, EventTypes: []string{"AccountOpened"}},
			{EventTypes: []string{"AccountOpened", "Units.Transferred"}},
		} {
			sub, err := s.Subscribe(withTimeout(t), eventstore.End, f)
			if err != nil {
				t.Fatal(err)
			}
			sub.Close()
		}
		reqs := srv.SubscriptionRequests()
		if len(reqs) != 3 {
			t.Fatalf("the server received %d subscriptions, want 3", len(reqs))
		}
		checks := []struct {
			what string
			ok   bool
		}{
			{"the zero filter excludes system event types", !reqs[0].OnStreamName && reqs[0].Regex == `^[^\$].*`},
			{"stream prefixes are filtered on the server", reqs[1].OnStreamName && strings.Join(reqs[1].Prefixes, ",") == "account-,right-"},
			{"event types alone are filtered on the server, exactly", !reqs[2].OnStreamName && reqs[2].Regex == `^(?:AccountOpened|Units\.Transferred)$`},
			{"checkpoints are asked for", reqs[0].CheckpointInterval > 0 && reqs[1].CheckpointInterval > 0},
			{"End starts after the last event of $all, not at the server's end", reqs[0].From != "end" && reqs[0].From != "start"},
		}
		for _, c := range checks {
			if !c.ok {
				t.Errorf("%s: the server received %+v", c.what, reqs)
			}
		}
	})
}

func TestResubscription(t *testing.T) {
	cases := []struct {
		name  string
		nodes int
		// disrupt returns how many subscriptions it dropped.
		disrupt func(t *testing.T, srv *esdbfake.Server) int
		times   int
	}{
		{"a subscription the server drops resumes with no gap and no duplicate", 1,
			func(t *testing.T, srv *esdbfake.Server) int { return srv.DropSubscriptions() }, 4},
		{"an election of a new leader loses no event and repeats none", 3,
			func(t *testing.T, srv *esdbfake.Server) int { return srv.ElectNewLeader() }, 4},
		{"when the leader node stops, appends and the subscription go on with the new leader", 3,
			func(t *testing.T, srv *esdbfake.Server) int { return srv.StopLeader(t) }, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := esdbfake.StartCluster(t, c.nodes)
			s := open(t, srv.URL())
			defer s.Close()
			ctx, cancel := context.WithCancel(withTimeout(t))
			defer cancel()
			filter := eventstore.Filter{StreamPrefixes: []string{"wanted-"}}
			sub, err := s.Subscribe(ctx, eventstore.Start, filter)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()

			// Writers interleave wanted and unwanted streams, so that the
			// server sends checkpoints between delivered events.
			const writers, appends = 4, 40
			wanted := writers * appends / 2
			var wg sync.WaitGroup
			for g := range writers {
				wg.Go(func() {
					for i := range appends {
						stream := fmt.Sprintf("unwanted-%d", g)
						if i%2 == 0 {
							stream = fmt.Sprintf("wanted-%d", g)
						}
						if _, err := s.Append(ctx, stream, eventstore.Any(), eventstore.EventData{ID: uuid.New(), Type: "Tested"}); err != nil {
							t.Errorf("writer %d, append %d: %v", g, i, err)
							// The subscription would wait for events that
							// will not come.
							cancel()
							return
						}
					}
				})
			}
			var got []eventstore.RecordedEvent
			disrupted, dropped := 0, 0
			for len(got) < wanted {
				e, err := sub.Next()
				if err != nil {
					t.Fatalf("Next after %d of %d events: %v", len(got), wanted, err)
				}
				got = append(got, e)
				if len(got)%(wanted/(c.times+1)) == 0 && disrupted < c.times {
					// A disruption that comes while the adapter has not yet
					// read the previous drop (events sent before it are
					// still buffered) finds no subscription to drop.
					dropped += c.disrupt(t, srv)
					disrupted++
				}
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			want, err := s.ReadAll(ctx, eventstore.Start, eventstore.Forwards, 0, filter)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) != wanted {
				t.Fatalf("the store holds %d wanted events, the writers wrote %d", len(want), wanted)
			}
			for i := range want {
				if got[i].ID != want[i].ID || got[i].Position != want[i].Position {
					t.Fatalf("event %d delivered is %s at %s, the store has %s at %s", i, got[i].ID, got[i].Position, want[i].ID, want[i].Position)
				}
			}
			// Nothing else is on its way: the next event is a new one.
			marker := eventstore.EventData{ID: uuid.New(), Type: "Marker"}
			if _, err := s.Append(ctx, "wanted-marker", eventstore.NoStream(), marker); err != nil {
				t.Fatal(err)
			}
			if e, err := sub.Next(); err != nil || e.ID != marker.ID {
				t.Fatalf("after every event, Next gives %s/%d (%v) instead of the marker", e.Stream, e.Revision, err)
			}
			// Checked last: events sent before a drop may be read before it.
			reqs := srv.SubscriptionRequests()
			if dropped == 0 || len(reqs) < 1+dropped {
				t.Fatalf("the server saw %d subscriptions after dropping %d", len(reqs), dropped)
			}
			for _, r := range reqs[1:] {
				if r.From == "start" || r.From == "end" {
					t.Fatalf("a resubscription started from %s, not after a position", r.From)
				}
			}
		})
	}
}

func TestOpen(t *testing.T) {
	t.Run("a server that does not answer is an error that says where", func(t *testing.T) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := lis.Addr().String()
		lis.Close()
		// One discovery attempt is enough to know, and keeps the test quick.
		_, err = esdbstore.Open(t.Context(), "esdb://"+addr+"?tls=false&maxDiscoverAttempts=1", esdbstore.Options{})
		if err == nil || !strings.Contains(err.Error(), "connect to esdb://"+addr) {
			t.Fatalf("Open gives %v", err)
		}
	})
	t.Run("a malformed connection string is refused before connecting, without its password", func(t *testing.T) {
		err := esdbstore.CheckURL("http://admin:secret@node1:2113")
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Fatalf("CheckURL gives %v", err)
		}
		if _, err := esdbstore.Open(t.Context(), "http://admin:secret@node1:2113", esdbstore.Options{}); err == nil || strings.Contains(err.Error(), "secret") {
			t.Fatalf("Open gives %v", err)
		}
	})
}
