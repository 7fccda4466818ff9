package tracing

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/projections"
)

func recorded(t *testing.T) (*Tracer, *tracetest.SpanRecorder, trace.Tracer) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return New(tp), rec, tp.Tracer("test")
}

func value(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

func TestADecisionIsAChildOfItsCall(t *testing.T) {
	tr, rec, calls := recorded(t)
	ctx, call := calls.Start(context.Background(), "call")
	tr.StartDecide(ctx, "right-CEA-1", "corr-1")(1, nil)
	tr.StartDecide(ctx, "right-CEA-1", "corr-1")(0, &domain.Rejection{Check: domain.CheckInsufficientAvailableUnits})
	tr.StartDecide(ctx, "right-CEA-1", "corr-1")(0, errors.New("registry: read right-CEA-1: disk on fire"))
	call.End()
	spans := rec.Ended()
	if len(spans) != 4 {
		t.Fatalf("%d spans", len(spans))
	}
	for i, s := range spans[:3] {
		if s.Name() != "registry.Decide" || s.Parent().SpanID() != call.SpanContext().SpanID() || value(s, "ecoregistry.correlation_id").AsString() != "corr-1" ||
			value(s, "ecoregistry.stream").AsString() != "right-CEA-1" {
			t.Fatalf("decision %d: %s, parent %s, attributes %v", i, s.Name(), s.Parent().SpanID(), s.Attributes())
		}
	}
	if spans[0].Status().Code != codes.Unset || value(spans[0], "ecoregistry.events").AsInt64() != 1 {
		t.Errorf("an accepted decision: %v %v", spans[0].Status(), spans[0].Attributes())
	}
	if spans[1].Status().Code != codes.Unset || value(spans[1], "ecoregistry.refused").AsString() != domain.CheckInsufficientAvailableUnits.Code {
		t.Errorf("a refusal: %v %v", spans[1].Status(), spans[1].Attributes())
	}
	if spans[2].Status().Code != codes.Error {
		t.Errorf("a failure: %v", spans[2].Status())
	}
}

// An append links the calls it writes for, once each; a commit of a read
// model that applied its events links it, with the positions it applied
// and the times it began and committed.
func TestAnAppendLinksItsCallsAndIsLinkedByTheApply(t *testing.T) {
	tr, rec, calls := recorded(t)
	st, err := pebblestore.Open(t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	store := tr.InstrumentAppends(st)
	a, spanA := calls.Start(context.Background(), "call A")
	b, spanB := calls.Start(context.Background(), "call B")
	ctx := tr.Appending(context.Background(), []context.Context{a, b, a, context.Background()})
	ev := func() eventstore.EventData { return eventstore.EventData{ID: uuid.New(), Type: "Tested"} }
	if _, err := store.Append(ctx, "s", eventstore.Any(), ev(), ev()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(context.Background(), "s", eventstore.Any(), ev()); err != nil {
		t.Fatal(err)
	}
	spanA.End()
	spanB.End()
	appended := rec.Ended()[0]
	if appended.Name() != "eventstore.Append" || appended.Parent().IsValid() || len(appended.Links()) != 2 ||
		appended.Links()[0].SpanContext.SpanID() != spanA.SpanContext().SpanID() || appended.Links()[1].SpanContext.SpanID() != spanB.SpanContext().SpanID() {
		t.Fatalf("the append: parent %v, links %v", appended.Parent(), appended.Links())
	}

	started := time.Now().Add(-time.Millisecond)
	tr.Applied(projections.AppliedBatch{Projection: "holdings", Generation: 1, First: eventstore.Position{Commit: 1, Prepare: 1}, Last: eventstore.Position{Commit: 2, Prepare: 2},
		Events: 2, Started: started, Committing: started.Add(500 * time.Microsecond)})
	spans := rec.Ended()
	applied := spans[len(spans)-1]
	if applied.Name() != "projections.Apply" || !applied.StartTime().Equal(started) || len(applied.Events()) != 1 ||
		value(applied, "ecoregistry.position.first").AsInt64() != 1 || value(applied, "ecoregistry.position.last").AsInt64() != 2 ||
		value(applied, "ecoregistry.events").AsInt64() != 2 || len(applied.Links()) != 1 || applied.Links()[0].SpanContext.SpanID() != appended.SpanContext().SpanID() {
		t.Fatalf("the apply: start %v, events %v, attributes %v, links %v", applied.StartTime(), applied.Events(), applied.Attributes(), applied.Links())
	}
}
