package registry

import (
	"context"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
)

// Tracer is told of each command's decision and of each append of a batch,
// so that they can be traced (ecoregistryd's is package tracing's). With
// Options.Tracer nil nothing is traced, and nothing is spent on it.
type Tracer interface {
	// StartDecide is called as a command on stream is about to be decided,
	// with the context of the call that made it and its correlation id; the
	// function it returns is called once, after the decision, with the
	// number of events decided and the refusal or error.
	StartDecide(ctx context.Context, stream, correlationID string) (end func(events int, err error))
	// Appending returns the context of an append that writes the events of
	// the commands of the calls whose contexts are requests (one context
	// per command; a call with several commands repeats its context). The
	// append's context is the batch's own, not any call's: a call that
	// gives up must not abort the others' write.
	Appending(ctx context.Context, requests []context.Context) context.Context
}

// decide decides r on state, telling the tracer when there is one.
func (c *streams[S, P]) decide(stream string, r *request[S], state *S, exists bool, now time.Time) ([]domain.Event, error) {
	if c.tracer == nil {
		return r.decide(state, exists, now)
	}
	end := c.tracer.StartDecide(r.ctx, stream, r.meta.CorrelationID)
	evs, err := r.decide(state, exists, now)
	end(len(evs), err)
	return evs, err
}

// appendContext is the context of an append of the commands made with the
// contexts traced: ctx, as the tracer sees it when there is one.
func (c *streams[S, P]) appendContext(ctx context.Context, traced []context.Context) context.Context {
	if c.tracer == nil {
		return ctx
	}
	return c.tracer.Appending(ctx, traced)
}
