package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

type ctxKey string

// recordingTracer records what the service tells a Tracer, and marks the
// contexts it returns for appends.
type recordingTracer struct {
	mu        sync.Mutex
	decisions []string
	appends   [][]context.Context
}

func (r *recordingTracer) StartDecide(ctx context.Context, stream, correlationID string) func(int, error) {
	return func(events int, err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.decisions = append(r.decisions, fmt.Sprintf("%v %s %s %d %v", ctx.Value(ctxKey("call")), stream, correlationID, events, err != nil))
	}
}

func (r *recordingTracer) Appending(ctx context.Context, requests []context.Context) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.appends = append(r.appends, requests)
	return context.WithValue(ctx, ctxKey("append"), len(r.appends))
}

// appendContexts records the append number each append's context carries.
type appendContexts struct {
	eventstore.Store
	mu   sync.Mutex
	seen []any
}

func (a *appendContexts) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	a.mu.Lock()
	a.seen = append(a.seen, ctx.Value(ctxKey("append")))
	a.mu.Unlock()
	return a.Store.Append(ctx, stream, expected, events...)
}

// A tracer is told of every decision, with the call's context and
// correlation id, refused or not, and of every append, with the contexts of
// the calls whose commands it writes; the append gets the context the
// tracer returned.
func TestATracerSeesEveryDecisionAndWhichCallsAnAppendWrites(t *testing.T) {
	st := &appendContexts{Store: openStore(t)}
	tr := &recordingTracer{}
	s := newService(t, st, Options{Tracer: tr})
	setup(t, s, 2, 1000)
	tr.decisions, tr.appends, st.seen = nil, nil, nil

	call := context.WithValue(context.Background(), ctxKey("call"), "settle")
	_, errs := s.SettleTrades(call, meta, []domain.SettleTrade{trade("CEA1", "X1", 10), trade("CEA1", "X2", 10), trade("CEA1", "X3", 10)})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	refused := context.WithValue(context.Background(), ctxKey("call"), "overdraw")
	if _, err := s.TransferUnits(refused, meta, domain.TransferUnits{RightID: "CEA1", TransferID: "T-1", From: "ACC1", To: "ACC0", Quantity: 1000}); !errors.Is(err, domain.CheckInsufficientAvailableUnits) {
		t.Fatalf("an overdrawing transfer: %v", err)
	}

	want := []string{"settle right-CEA1 corr 1 false", "settle right-CEA1 corr 1 false", "settle right-CEA1 corr 1 false", "overdraw right-CEA1 corr 0 true"}
	if fmt.Sprint(tr.decisions) != fmt.Sprint(want) {
		t.Fatalf("decisions traced %v, want %v", tr.decisions, want)
	}
	written := 0
	for _, reqs := range tr.appends {
		for _, r := range reqs {
			if r.Value(ctxKey("call")) != "settle" {
				t.Fatalf("an append names a call %v that wrote nothing", r.Value(ctxKey("call")))
			}
			written++
		}
	}
	if written != 3 || len(st.seen) != len(tr.appends) || st.seen[len(st.seen)-1] != len(tr.appends) {
		t.Fatalf("appends traced %v, seen by the store with %v", tr.appends, st.seen)
	}
}
