package integrity

import (
	"context"
	"fmt"
	"time"

	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/verify"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
)

// VerifyRequest asks for a full verification.
type VerifyRequest struct {
	// Saved, when set, is a signed checkpoint kept outside the registry
	// (ecoctl audit checkpoint save) that the log must still agree with.
	Saved []byte
	// Progress and OnBreak receive the run's progress and breaks.
	Progress func(verify.Progress)
	OnBreak  func(verify.Break)
}

// VerifyReport is the outcome of a full verification.
type VerifyReport struct {
	verify.Report
	// TreeSize is the stored tree's size when the run started.
	TreeSize uint64
	// Saved is the saved checkpoint, when one was given.
	Saved *checkpoint.Checkpoint
}

// Verify reads the whole log and checks it against the stored tree, every
// checkpoint the registry signed and the saved one (see package verify).
// A saved checkpoint that the registry's keys do not verify is refused
// with the error of checkpoint.Open, and nothing is read.
func (s *Service) Verify(ctx context.Context, req VerifyRequest) (VerifyReport, error) {
	var out VerifyReport
	anchors, err := s.anchors()
	if err != nil {
		return out, err
	}
	if req.Saved != nil {
		c, err := s.OpenCheckpoint(req.Saved)
		if err != nil {
			return out, err
		}
		out.Saved = &c
		anchors = append(anchors, verify.Anchor{Checkpoint: c, Source: "the saved checkpoint"})
	}
	v, err := s.currentTree(ctx)
	if err != nil {
		return out, err
	}
	defer v.Close()
	out.TreeSize = v.Size
	out.Report, err = verify.Run(ctx, s.store, verify.Options{Tree: v, Anchors: anchors, Dense: dense(s.store),
		Progress: req.Progress, OnBreak: req.OnBreak})
	return out, err
}

// anchors returns every checkpoint the registry signed, each checked with
// its keys; one that does not verify is compared all the same, and said
// to be the registry's unverified checkpoint.
func (s *Service) anchors() ([]verify.Anchor, error) {
	kept, err := s.cps.List(0, 0, false)
	if err != nil {
		return nil, err
	}
	out := make([]verify.Anchor, 0, len(kept))
	for _, k := range kept {
		source := "the registry's checkpoint"
		if _, err := checkpoint.Open(k.Signed, s.verifiers...); err != nil {
			source = fmt.Sprintf("the registry's checkpoint (whose signature fails: %v)", err)
		}
		out = append(out, verify.Anchor{Checkpoint: k.Checkpoint, Source: source})
	}
	return out, nil
}

// currentTree returns the tree once it has caught up with the log's head,
// or as it stands after a few seconds of waiting (a rebuild under way).
func (s *Service) currentTree(ctx context.Context) (*merkle.View, error) {
	head, err := projections.Head(ctx, s.store)
	if err != nil {
		return nil, err
	}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if v, err := s.tree.View(wait, &head); err == nil {
		return v, nil
	}
	return s.tree.View(ctx, nil)
}
