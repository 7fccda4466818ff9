package integrity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
	"github.com/ecoregistry/ecoregistry/integrity/verify"
)

// Committed tells the checkpointer that the tree has size leaves; wire it
// to the projections' Committed hook for the tree. It never blocks, and
// wakes the checkpointer only when a checkpoint of that size is due by
// count.
func (s *Service) Committed(size uint64) {
	if size >= s.signed.Load()+s.opts.Every {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Run signs checkpoints until ctx ends: every Options.Every events, and
// at least every Options.Interval while events arrive.
func (s *Service) Run(ctx context.Context) {
	timer := time.NewTimer(s.opts.Interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
		latest, found, err := s.checkpoint(ctx, false, nil)
		if err != nil && ctx.Err() == nil {
			s.log.Error("signing a checkpoint failed", zap.Error(err))
		}
		next := s.opts.Interval
		if found {
			if left := latest.Time.Add(s.opts.Interval).Sub(s.opts.Clock()); left > 0 {
				next = left
			}
		}
		timer.Stop()
		timer.Reset(next)
	}
}

// CheckpointCovering returns a checkpoint that covers the event at p:
// the latest one when it does, else one signed now, once the tree has
// reached p.
func (s *Service) CheckpointCovering(ctx context.Context, p eventstore.Position) (checkpoint.Stored, error) {
	latest, found, err := s.cps.Latest()
	if err != nil {
		return checkpoint.Stored{}, err
	}
	if found && !latest.Last.Before(p) {
		return latest, nil
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	latest, found, err = s.checkpoint(ctx, true, &p)
	if err == nil && (!found || latest.Last.Before(p)) {
		err = fmt.Errorf("integrity: the tree does not reach position %s", p)
	}
	return latest, err
}

// ErrHistoryDiverged reports that the tree no longer extends the latest
// signed checkpoint: history changed after it was signed. The registry
// then refuses writes.
var ErrHistoryDiverged = errors.New("integrity: the tree does not extend the latest signed checkpoint")

// checkpoint signs a checkpoint of the tree as it stands (once it has
// reached min, when given) if one is due, or force is set and the tree
// grew, and returns the latest checkpoint. A tree that does not extend the
// latest checkpoint is not signed: the registry stops writing.
func (s *Service) checkpoint(ctx context.Context, force bool, min *eventstore.Position) (checkpoint.Stored, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	latest, found, err := s.cps.Latest()
	if err != nil {
		return latest, found, err
	}
	v, err := s.tree.View(ctx, min)
	if err != nil {
		return latest, found, err
	}
	defer v.Close()
	now := s.opts.Clock()
	grew := !found || v.Size > latest.Size
	due := !found || v.Size >= latest.Size+s.opts.Every || now.Sub(latest.Time) >= s.opts.Interval
	if v.Size == 0 || !grew || !(due || force) {
		return latest, found, nil
	}
	root, err := v.Root(v.Size)
	if err != nil {
		return latest, found, err
	}
	if found {
		if err := s.extends(v.ConsistencyProof, latest, v.Size, root); err != nil {
			return latest, found, err
		}
	}
	c := checkpoint.Checkpoint{Origin: s.signer.Name(), Size: v.Size, Root: root, Last: v.Last, Time: now.UTC()}
	signed, err := checkpoint.Sign(s.signer, c)
	if err != nil {
		return latest, found, err
	}
	if err := s.cps.Add(signed); err != nil {
		return latest, found, err
	}
	s.signed.Store(c.Size)
	s.log.Info("checkpoint signed", zap.Uint64("tree_size", c.Size), zap.Stringer("position", c.Last))
	return checkpoint.Stored{Checkpoint: c, Signed: signed}, true, nil
}

// extends checks that the tree of size leaves with root extends the latest
// checkpoint, and stops writes when it does not.
func (s *Service) extends(prove func(uint64, uint64) ([][]byte, error), latest checkpoint.Stored, size uint64, root []byte) error {
	proof, err := prove(latest.Size, size)
	if err != nil {
		return err
	}
	if err := logtree.VerifyConsistency(latest.Size, size, proof, latest.Root, root); err == nil {
		return nil
	}
	b := verify.Break{Kind: verify.TreeMismatch, Position: latest.Last, Leaf: latest.Size - 1,
		Detail: fmt.Sprintf("the tree of %d events does not extend the checkpoint of %d events signed %s: history up to %s changed after it was signed",
			size, latest.Size, latest.Time.Format(time.RFC3339), latest.Last)}
	s.stopWrites("signing a checkpoint", []verify.Break{b}, 1)
	return fmt.Errorf("%w: %s", ErrHistoryDiverged, b)
}
