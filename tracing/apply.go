package tracing

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/ecoregistry/ecoregistry/projections"
)

// Applied records the span of one commit of a read model: the batch of
// events applied since the previous commit, from when its first event was
// taken from the log to the end of the commit, with the positions of its
// first and last events and links to the spans of the appends whose last
// event it applied (those this process made and still remembers).
func (t *Tracer) Applied(b projections.AppliedBatch) {
	_, span := t.tracer.Start(context.Background(), "projections.Apply", trace.WithTimestamp(b.Started),
		trace.WithLinks(t.appends.within(b.First.Commit, b.Last.Commit)...),
		trace.WithAttributes(attribute.String("ecoregistry.projection", b.Projection), attribute.Int64("ecoregistry.generation", int64(b.Generation)),
			attribute.Int64("ecoregistry.position.first", int64(b.First.Commit)), attribute.Int64("ecoregistry.position.last", int64(b.Last.Commit)),
			attribute.Int64("ecoregistry.events", int64(b.Events))))
	span.AddEvent("commit", trace.WithTimestamp(b.Committing))
	span.End()
}

// appendRing is how many appends recentAppends remembers: at a few
// thousand appends a second, the last second or so, which is as far as a
// read model following the log live lags.
const appendRing = 4096

// maxApplyLinks bounds the links of one apply span (OpenTelemetry's SDK
// keeps 128 by default): a batch of a catch-up may hold thousands of
// appends.
const maxApplyLinks = 128

// recentAppends remembers the spans of the latest appends by the position
// of their last event.
type recentAppends struct {
	mu   sync.Mutex
	ring [appendRing]appendSpan
	next int
}

type appendSpan struct {
	last uint64
	span trace.SpanContext
}

func (r *recentAppends) add(last uint64, span trace.SpanContext) {
	r.mu.Lock()
	r.ring[r.next] = appendSpan{last: last, span: span}
	r.next = (r.next + 1) % appendRing
	r.mu.Unlock()
}

// within returns links to the remembered appends whose last event is
// between first and last.
func (r *recentAppends) within(first, last uint64) []trace.Link {
	r.mu.Lock()
	defer r.mu.Unlock()
	var links []trace.Link
	for _, a := range r.ring {
		if a.span.IsValid() && a.last >= first && a.last <= last && len(links) < maxApplyLinks {
			links = append(links, trace.Link{SpanContext: a.span, Attributes: []attribute.KeyValue{linkKind.String("append")}})
		}
	}
	return links
}
