package esdbstore_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
)

func TestServerVersion(t *testing.T) {
	for _, v := range []string{"21.10.9", "22.2.1"} {
		t.Run(v+" is refused at connect, saying why", func(t *testing.T) {
			srv := esdbfake.StartWith(t, esdbfake.Options{Version: v})
			s, err := esdbstore.Open(t.Context(), srv.URL(), esdbstore.Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open accepted a %s server", v)
			}
			for _, want := range []string{v, "22.6", "positions"} {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("Open gives %q, which does not say %q", err, want)
				}
			}
		})
	}
	t.Run("22.6.0 is accepted", func(t *testing.T) {
		srv := esdbfake.StartWith(t, esdbfake.Options{Version: "22.6.0"})
		open(t, srv.URL()).Close()
	})
}

func TestAppendPositions(t *testing.T) {
	t.Run("a repeated append reports where its events are, though the server's answer has no position", func(t *testing.T) {
		s := open(t, esdbfake.Start(t).URL())
		defer s.Close()
		evs := []eventstore.EventData{{ID: uuid.New(), Type: "Tested"}, {ID: uuid.New(), Type: "Tested"}}
		first, err := s.Append(t.Context(), "repeated", eventstore.NoStream(), evs...)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Append(t.Context(), "repeated", eventstore.NoStream(), evs...)
		if err != nil {
			t.Fatal(err)
		}
		if again != first {
			t.Fatalf("the repeat reports %+v, the first append %+v", again, first)
		}
	})
}

func TestPositionsCountLogBytes(t *testing.T) {
	s := open(t, esdbfake.Start(t).URL())
	defer s.Close()
	if u := eventstore.PositionUnitOf(s); u != eventstore.UnitLogBytes {
		t.Fatalf("a distance between positions counts %s, want bytes of the log", u)
	}
}

// TestAppendSize holds the adapter's count of an append's size to the
// server's: an append that counts exactly the limit is written, one byte
// more is refused.
func TestAppendSize(t *testing.T) {
	s := open(t, esdbfake.Start(t).URL())
	defer s.Close()
	events := func(dataLen int) []eventstore.EventData {
		return []eventstore.EventData{
			{ID: uuid.New(), Type: "SerialBlocksMoved", ContentType: "application/vnd.ecoregistry.events.v1+protobuf", Data: make([]byte, dataLen), Metadata: []byte("envelope")},
			{ID: uuid.New(), Type: "TradeSettled", ContentType: "application/json", Data: []byte("{}")},
		}
	}
	var limit eventstore.AppendLimit = s
	fill := limit.MaxAppendSize() - limit.AppendSize(events(0)...)
	at := events(fill)
	if got := limit.AppendSize(at...); got != esdbfake.MaxAppendSize {
		t.Fatalf("the events count %d, want the limit %d", got, esdbfake.MaxAppendSize)
	}
	if _, err := s.Append(t.Context(), "sized", eventstore.NoStream(), at...); err != nil {
		t.Fatalf("an append of exactly the limit: %v", err)
	}
	over := events(fill + 1)
	if _, err := s.Append(t.Context(), "sized", eventstore.Any(), over...); err == nil || !strings.Contains(err.Error(), "Maximum Append Size") {
		t.Fatalf("an append one byte over the limit gives %v", err)
	}
}
