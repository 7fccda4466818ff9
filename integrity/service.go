// Package integrity is the registry's tamper evidence, as an application
// service: it keeps signed checkpoints of the Merkle tree over the global
// log (every N events or T seconds), serves them with inclusion and
// consistency proofs, verifies the recorded history (the whole log on
// demand, the tail after the last checkpoint at start, refusing writes
// when it finds a break there) and issues signed certificates of what an
// account holds.
//
// It builds on package integrity/logtree (the tree's leaves and proofs),
// projections/merkle (the tree, kept as a read model), integrity/checkpoint
// (signed checkpoints and the store of what was signed), integrity/verify
// (finding breaks) and integrity/certificate (holding certificates).
package integrity

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/mod/sumdb/note"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
)

// Options tune a Service. Zero values take the defaults.
type Options struct {
	// Every is the number of events after which a checkpoint is signed;
	// 0 means 10000.
	Every uint64
	// Interval is the longest time between two checkpoints while events
	// arrive; 0 means one minute.
	Interval time.Duration
	// Logger receives checkpoints signed and breaks found; nil means none.
	Logger *zap.Logger
	// Clock tells the time of checkpoints and certificates; nil means the
	// system clock.
	Clock func() time.Time
}

// Service is the registry's tamper evidence over one event store.
type Service struct {
	store  eventstore.Store
	tree   *merkle.Queries
	cps    *checkpoint.Store
	signer *checkpoint.Signer
	opts   Options
	log    *zap.Logger
	// verifiers check the checkpoints kept: the signer's and every key that
	// signed before it.
	verifiers []note.Verifier

	// mu serialises signing, so that two checkpoints never race.
	mu sync.Mutex
	// signed is the size of the latest checkpoint; wake starts a round of
	// the checkpointer.
	signed atomic.Uint64
	wake   chan struct{}
	halt   atomic.Pointer[Halt]
}

// New returns the service. The tree must follow store; cps keeps what
// signer signs.
func New(store eventstore.Store, tree *merkle.Queries, cps *checkpoint.Store, signer *checkpoint.Signer, opts Options) (*Service, error) {
	if opts.Every == 0 {
		opts.Every = 10000
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	s := &Service{store: store, tree: tree, cps: cps, signer: signer, opts: opts, log: opts.Logger, wake: make(chan struct{}, 1)}
	if err := s.loadVerifiers(); err != nil {
		return nil, err
	}
	if latest, found, err := cps.Latest(); err != nil {
		return nil, err
	} else if found {
		s.signed.Store(latest.Size)
	}
	return s, nil
}

func (s *Service) loadVerifiers() error {
	if err := s.cps.RememberKey(s.signer.VerifierKey); err != nil {
		return err
	}
	keys, err := s.cps.Keys()
	if err != nil {
		return err
	}
	s.verifiers = []note.Verifier{s.signer.Verifier}
	for _, k := range keys {
		v, err := checkpoint.NewVerifier(k)
		if err != nil {
			return err
		}
		if v.KeyHash() != s.signer.KeyHash() || v.Name() != s.signer.Name() {
			s.log.Warn("checkpoints were also signed by an earlier key; they are checked with it", zap.String("verifier_key", k))
			s.verifiers = append(s.verifiers, v)
		}
	}
	return nil
}

// VerifierKey returns the public key that checks the registry's
// checkpoints and certificates.
func (s *Service) VerifierKey() string { return s.signer.VerifierKey }

// Tree returns the queries of the tree read model.
func (s *Service) Tree() *merkle.Queries { return s.tree }

// ErrNoCheckpoint reports that no checkpoint was signed yet.
var ErrNoCheckpoint = errors.New("integrity: no checkpoint was signed yet")

// Latest returns the latest checkpoint, or ErrNoCheckpoint.
func (s *Service) Latest() (checkpoint.Stored, error) {
	latest, found, err := s.cps.Latest()
	if err != nil {
		return checkpoint.Stored{}, err
	}
	if !found {
		return checkpoint.Stored{}, ErrNoCheckpoint
	}
	return latest, nil
}

// List returns up to limit checkpoints of size at most below, newest
// first.
func (s *Service) List(below uint64, limit int) ([]checkpoint.Stored, error) {
	return s.cps.List(below, limit, true)
}

// OpenCheckpoint checks a signed checkpoint with the registry's keys.
func (s *Service) OpenCheckpoint(signed []byte) (checkpoint.Checkpoint, error) {
	return checkpoint.Open(signed, s.verifiers...)
}

// EventNotFoundError reports a position at which the tree has no event.
type EventNotFoundError struct{ Position eventstore.Position }

func (e *EventNotFoundError) Error() string {
	return fmt.Sprintf("integrity: no event of the log is at position %s (or the tree has not reached it)", e.Position)
}

// context bounds the waits of a call that has no deadline.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, 30*time.Second)
}
