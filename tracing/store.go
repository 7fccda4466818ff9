package tracing

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// InstrumentAppends returns store with a span for every append. The span
// links the spans of the calls whose commands it writes, when the registry
// says which (Appending), and is remembered for the spans of the read
// models that apply its events. It answers the optional interfaces of
// package eventstore as store does (see eventstore.Decorated).
func (t *Tracer) InstrumentAppends(store eventstore.Store) eventstore.Store {
	return &tracedStore{Decorated: eventstore.Decorated{Store: store}, t: t}
}

type tracedStore struct {
	eventstore.Decorated
	t *Tracer
}

func (s *tracedStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	ctx, span := s.t.tracer.Start(ctx, "eventstore.Append", trace.WithSpanKind(trace.SpanKindClient), trace.WithLinks(callLinks(ctx)...),
		trace.WithAttributes(attribute.String("ecoregistry.stream", stream), attribute.Int("ecoregistry.events", len(events))))
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attribute.StringSlice("ecoregistry.correlation_ids", correlationIDs(events)))
	}
	res, err := s.Store.Append(ctx, stream, expected, events...)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return res, err
	}
	span.SetAttributes(attribute.Int64("ecoregistry.position", int64(res.Position.Commit)), attribute.Int64("ecoregistry.revision", int64(res.NextExpectedRevision)))
	s.t.appends.add(res.Position.Commit, span.SpanContext())
	return res, nil
}

// correlationIDs lists, once each, the correlation ids in the envelopes of
// events.
func correlationIDs(events []eventstore.EventData) []string {
	var ids []string
	for i := range events {
		env, err := eventcodec.DecodeMetadata(events[i].Metadata)
		if err == nil && env.CorrelationID != "" && !slices.Contains(ids, env.CorrelationID) {
			ids = append(ids, env.CorrelationID)
		}
	}
	return ids
}
