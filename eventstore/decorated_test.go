package eventstore_test

import (
	"testing"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// plain is a store that says nothing about its positions or limits.
type plain struct{ eventstore.Store }

// limited is a store with an append limit whose positions count log bytes.
type limited struct{ eventstore.Store }

func (limited) MaxAppendSize() int                            { return 1 << 20 }
func (limited) AppendSize(events ...eventstore.EventData) int { return 100 * len(events) }
func (limited) PositionUnit() eventstore.PositionUnit         { return eventstore.UnitLogBytes }

// dense is a store whose positions are dense.
type dense struct{ eventstore.Store }

func (dense) DensePositions() bool { return true }

func TestADecoratedStoreAnswersAsTheStoreItWraps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store eventstore.Store
	}{{"a plain store", plain{}}, {"a store with a limit", limited{}}, {"a store with dense positions", dense{}}} {
		t.Run(tc.name, func(t *testing.T) {
			var d eventstore.Store = eventstore.Decorated{Store: tc.store}
			if got, want := eventstore.PositionUnitOf(d), eventstore.PositionUnitOf(tc.store); got != want {
				t.Errorf("position unit %s, want %s", got, want)
			}
			_, wantDense := tc.store.(eventstore.DensePositions)
			if got := d.(eventstore.DensePositions).DensePositions(); got != wantDense {
				t.Errorf("dense positions %v, want %v", got, wantDense)
			}
			wantMax, wantSize := 0, 0
			if l, ok := tc.store.(eventstore.AppendLimit); ok {
				wantMax, wantSize = l.MaxAppendSize(), l.AppendSize(eventstore.EventData{}, eventstore.EventData{})
			}
			l := d.(eventstore.AppendLimit)
			if l.MaxAppendSize() != wantMax || l.AppendSize(eventstore.EventData{}, eventstore.EventData{}) != wantSize {
				t.Errorf("append limit %d (size %d), want %d (%d)", l.MaxAppendSize(), l.AppendSize(eventstore.EventData{}, eventstore.EventData{}), wantMax, wantSize)
			}
		})
	}
}
