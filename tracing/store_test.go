package tracing

import (
	"testing"

	"go.opentelemetry.io/otel/trace/noop"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// limitedStore is a store with an append limit, as EventStoreDB's adapter.
type limitedStore struct{ eventstore.Store }

func (limitedStore) MaxAppendSize() int                            { return 1 << 20 }
func (limitedStore) AppendSize(events ...eventstore.EventData) int { return len(events) }

func TestTracedAppendsKeepTheStoresAppendLimit(t *testing.T) {
	l, ok := New(noop.NewTracerProvider()).InstrumentAppends(limitedStore{}).(eventstore.AppendLimit)
	if !ok || l.MaxAppendSize() != 1<<20 {
		t.Fatal("the registry would not see the store's append limit through the tracing")
	}
}

func TestEndpointsWithoutASchemeAreSentInClear(t *testing.T) {
	for endpoint, want := range map[string]bool{"127.0.0.1:4317": false, "http://collector:4317": true, "https://collector:4317": true} {
		if hasScheme(endpoint) != want {
			t.Errorf("hasScheme(%q) = %v", endpoint, !want)
		}
	}
}
