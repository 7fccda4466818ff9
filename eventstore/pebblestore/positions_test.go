package pebblestore_test

import (
	"context"
	"testing"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/google/uuid"
)

// The store claims dense positions; the events it reads back must be where
// AppendedPositions says they are, for appends of any size to any stream.
func TestAppendedPositionsAreWhereTheEventsAre(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for i, n := range []int{1, 3, 1, 7, 2} {
		stream := []string{"right-A", "right-B"}[i%2]
		evs := make([]eventstore.EventData, n)
		for j := range evs {
			evs[j] = eventstore.EventData{ID: uuid.New(), Type: "Tested", Data: []byte{byte(j)}}
		}
		res, err := st.Append(ctx, stream, eventstore.Any(), evs...)
		if err != nil {
			t.Fatal(err)
		}
		positions, ok := eventstore.AppendedPositions(st, res, n)
		if !ok {
			t.Fatal("the store does not tell the positions of its appends")
		}
		back, err := st.ReadStream(ctx, stream, res.NextExpectedRevision+1-uint64(n), eventstore.Forwards, n)
		if err != nil {
			t.Fatal(err)
		}
		for j := range back {
			if back[j].Position != positions[j] || back[j].ID != evs[j].ID {
				t.Fatalf("append %d, event %d: stored at %v, AppendedPositions says %v", i, j, back[j].Position, positions[j])
			}
		}
	}
}

func TestPositionsCountEvents(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if u := eventstore.PositionUnitOf(st); u != eventstore.UnitEvents {
		t.Fatalf("a distance between positions counts %s, want events", u)
	}
}
