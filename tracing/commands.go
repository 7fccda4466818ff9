package tracing

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/registry"
)

var _ registry.Tracer = (*Tracer)(nil)

// StartDecide starts the span of a command's decision on stream, a child
// of the span of the call that made it, with its correlation id. A refusal
// is an answer, not a failure: its check code goes on the span, whose
// status stays unset; any other error marks the span failed.
func (t *Tracer) StartDecide(ctx context.Context, stream, correlationID string) func(events int, err error) {
	_, span := t.tracer.Start(ctx, "registry.Decide", trace.WithAttributes(attribute.String("ecoregistry.stream", stream), CorrelationIDKey.String(correlationID)))
	return func(events int, err error) {
		span.SetAttributes(attribute.Int("ecoregistry.events", events))
		if code := checkCode(err); code != "" {
			span.SetAttributes(attribute.String("ecoregistry.refused", code))
		} else if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// checkCode is the check code of a refusal, or "" when err is none.
func checkCode(err error) string {
	var (
		rej *domain.Rejection
		inv *domain.ValidationError
	)
	switch {
	case errors.As(err, &rej):
		return rej.Check.Code
	case errors.As(err, &inv):
		return inv.Violations[0].Check.Code
	}
	return ""
}

type callLinksKey struct{}

// Appending returns ctx carrying links to the spans of the calls whose
// contexts are requests, once each, for the span of the append made with
// it: the append is the batch's, made on a context of its own, and a
// link, not parenthood, ties it to each call it writes for.
func (t *Tracer) Appending(ctx context.Context, requests []context.Context) context.Context {
	links := make([]trace.Link, 0, len(requests))
	seen := make(map[trace.SpanID]bool, len(requests))
	for _, r := range requests {
		sc := trace.SpanContextFromContext(r)
		if !sc.IsValid() || seen[sc.SpanID()] {
			continue
		}
		seen[sc.SpanID()] = true
		links = append(links, trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{linkKind.String("call")}})
	}
	return context.WithValue(ctx, callLinksKey{}, links)
}

// callLinks returns the links Appending put in ctx.
func callLinks(ctx context.Context) []trace.Link {
	links, _ := ctx.Value(callLinksKey{}).([]trace.Link)
	return links
}
