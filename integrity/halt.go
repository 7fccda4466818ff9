package integrity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/verify"
)

// ErrWritesRefused reports a write refused because the registry found a
// break in its recorded history. The error is a *Halt.
var ErrWritesRefused = errors.New("integrity: writes refused")

// Halt is why the registry refuses writes: the breaks it found.
type Halt struct {
	// When says what found them: "the check at start", "signing a
	// checkpoint".
	When string
	// Breaks are the first breaks found; Total counts them all.
	Breaks []verify.Break
	Total  uint64
	// Found is when.
	Found time.Time
}

func (h *Halt) Error() string {
	return fmt.Sprintf("the registry refuses writes: %s found %d break(s) in its recorded history, the first: %s; reads go on; see ecoctl audit verify",
		h.When, h.Total, h.Breaks[0])
}

// Is makes errors.Is(err, ErrWritesRefused) hold.
func (h *Halt) Is(target error) bool { return target == ErrWritesRefused }

// Halted returns why writes are refused, or nil.
func (s *Service) Halted() *Halt { return s.halt.Load() }

func (s *Service) stopWrites(when string, breaks []verify.Break, total uint64) {
	h := &Halt{When: when, Breaks: breaks, Total: total, Found: s.opts.Clock()}
	s.halt.CompareAndSwap(nil, h)
	for _, b := range breaks {
		s.log.Error("break in the recorded history; the registry refuses writes", zap.String("found_by", when),
			zap.String("kind", b.Kind.String()), zap.String("stream", b.Stream), zap.Uint64("revision", b.Revision),
			zap.Stringer("position", b.Position), zap.String("detail", b.Detail))
	}
}

// CheckAtStart verifies the log after the latest checkpoint (verify.Tail)
// and, when it finds a break, refuses writes from then on (see Guard).
func (s *Service) CheckAtStart(ctx context.Context) (verify.Report, error) {
	var latest *verify.Anchor
	if cp, found, err := s.cps.Latest(); err != nil {
		return verify.Report{}, err
	} else if found {
		latest = &verify.Anchor{Checkpoint: cp.Checkpoint, Source: "the registry's latest checkpoint"}
	}
	v, err := s.tree.View(ctx, nil)
	if err != nil {
		return verify.Report{}, err
	}
	defer v.Close()
	var breaks []verify.Break
	rep, err := verify.Tail(ctx, s.store, latest, verify.Options{Tree: v, Dense: dense(s.store), MaxBreaks: 100,
		OnBreak: func(b verify.Break) { breaks = append(breaks, b) }})
	if err != nil {
		return rep, err
	}
	if rep.Breaks > 0 {
		s.stopWrites("the check at start", breaks, rep.Breaks)
	}
	return rep, nil
}

func dense(store eventstore.Store) bool {
	d, ok := store.(eventstore.DensePositions)
	return ok && d.DensePositions()
}

// Guard returns store with its appends refused, with the *Halt, once the
// service has found a break: give it to the registry, and every write
// (commands, settlements, scheduled expiries) stops while reads go on.
func (s *Service) Guard(store eventstore.Store) eventstore.Store {
	return &guarded{Store: store, s: s}
}

type guarded struct {
	eventstore.Store
	s *Service
}

// Append refuses to write once a break was found.
func (g *guarded) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if h := g.s.halt.Load(); h != nil {
		return eventstore.AppendResult{}, h
	}
	return g.Store.Append(ctx, stream, expected, events...)
}

// DensePositions passes on the store's promise.
func (g *guarded) DensePositions() bool { return dense(g.Store) }
