// Package tracing sends OpenTelemetry traces of ecoregistryd to an OTLP
// collector:
//
//   - a span for every RPC (otelgrpc), carrying the request's correlation
//     id;
//   - a span for every decision of a command (registry.Decide), a child of
//     its call's span, with the stream and the correlation id;
//   - a span for every append to the event store (eventstore.Append), with
//     the stream, the number of events, the position written and the
//     correlation ids of the commands whose events it holds;
//   - a span for every commit of a read model (projections.Apply): the
//     batch of events applied since the previous commit, with the
//     positions of its first and last events.
//
// The registry gathers the commands of many calls on one right into one
// append, made on a context of its own: an append's span is a root span,
// with a link to the span of each call whose commands it writes. An apply
// span links the appends whose events it applied. So the trace of a call
// leads to the append that wrote its command, and on to the commits of
// the read models that applied it.
//
// Tracing is off unless ecoregistryd is given a collector; then the
// registry and the read models are given no tracer, and their hooks cost a
// comparison with nil.
package tracing

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
)

// InstrumentationName names the tracer of ecoregistry's own spans.
const InstrumentationName = "github.com/ecoregistry/ecoregistry"

// CorrelationIDKey is the span attribute of a request's correlation id.
const CorrelationIDKey = attribute.Key("ecoregistry.correlation_id")

// Exporter returns a provider that batches spans to the OTLP/gRPC collector
// at endpoint: a URL (http://host:4317 sends in clear, https:// over TLS) or
// host:port (in clear, as collectors on the same host or network usually
// listen). Shut it down to flush the last spans.
func Exporter(ctx context.Context, endpoint string) (*sdktrace.TracerProvider, error) {
	opt := otlptracegrpc.WithEndpointURL(endpoint)
	if !hasScheme(endpoint) {
		opt = otlptracegrpc.WithEndpointURL("http://" + endpoint)
	}
	exp, err := otlptracegrpc.New(ctx, opt)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter to %s: %w", endpoint, err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName("ecoregistryd")))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("tracing: %w", err), exp.Shutdown(ctx))
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

func hasScheme(endpoint string) bool {
	for _, s := range []string{"http://", "https://"} {
		if len(endpoint) >= len(s) && endpoint[:len(s)] == s {
			return true
		}
	}
	return false
}

// linkKind says what a link of ecoregistry's spans points at: "call" or
// "append".
const linkKind = attribute.Key("ecoregistry.link")

// Tracer makes ecoregistry's own spans from one provider: the decisions
// and appends of the registry (it is a registry.Tracer), the appends to
// the store (InstrumentAppends) and the commits of the read models
// (Applied, for projections.Options).
type Tracer struct {
	tracer  trace.Tracer
	appends recentAppends
}

// New returns a Tracer that makes its spans with tp.
func New(tp trace.TracerProvider) *Tracer {
	return &Tracer{tracer: tp.Tracer(InstrumentationName)}
}

// ServerOptions are the gRPC server options that make a span of every call
// with tp.
func ServerOptions(tp trace.TracerProvider) []grpc.ServerOption {
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(tp)))}
}
