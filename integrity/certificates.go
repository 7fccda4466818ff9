package integrity

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/certificate"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
)

// IssueHoldingCertificate states, signed, what account holds of right at
// the position of a checkpoint that covers the right's every event so far
// (the latest one, or one signed now): the holding's blocks by state, the
// last event that changed it with its inclusion proof, and the checkpoint.
//
// The holding is rebuilt from the right's stream up to the checkpoint's
// position, which is what a certificate as of a past position will do
// with a checkpoint that covers that position.
func (s *Service) IssueHoldingCertificate(ctx context.Context, accountID, rightID string) (*certificate.Certificate, error) {
	if err := s.checkParties(ctx, accountID, rightID); err != nil {
		return nil, err
	}
	stream := domain.RightStream(rightID)
	last, err := s.store.ReadStream(ctx, stream, eventstore.StreamEnd, eventstore.Backwards, 1)
	if err != nil {
		return nil, err
	}
	cp, err := s.CheckpointCovering(ctx, last[0].Position)
	if err != nil {
		return nil, err
	}
	h, err := s.holdingAt(ctx, stream, accountID, cp.Last)
	if err != nil {
		return nil, err
	}
	c := &certificate.Certificate{Registry: s.signer.Name(), Account: accountID, Right: rightID,
		RightType: strings.ToLower(strings.ReplaceAll(h.right.Type().String(), "_", "-")), Unit: h.right.Unit().Symbol(),
		ValidAt: cp.Last, StreamRevision: h.revision, IssuedAt: s.opts.Clock().UTC(),
		TreeSize: cp.Size, Root: cp.Root, Checkpoint: string(cp.Signed)}
	fillHolding(c, h.right.SerialPrefix(), h.view)
	if h.change != nil {
		if err := s.proveChange(ctx, c, h.change, cp); err != nil {
			return nil, err
		}
	}
	if err := certificate.Sign(c, s.signer); err != nil {
		return nil, err
	}
	return c, nil
}

// checkParties refuses malformed ids and an unknown account or right.
func (s *Service) checkParties(ctx context.Context, accountID, rightID string) error {
	var bad []domain.Rejection
	if !domain.ValidID(accountID) {
		bad = append(bad, domain.Rejection{Check: domain.CheckInvalidAccountID, Field: "account_id", Detail: "not a valid account id"})
	}
	if !domain.ValidID(rightID) {
		bad = append(bad, domain.Rejection{Check: domain.CheckInvalidRightID, Field: "right_id", Detail: "not a valid right id"})
	}
	if len(bad) > 0 {
		return &domain.ValidationError{Violations: bad}
	}
	for _, p := range []struct {
		stream, field string
		check         domain.Check
	}{{domain.RightStream(rightID), "right_id", domain.CheckRightNotFound}, {domain.AccountStream(accountID), "account_id", domain.CheckAccountNotFound}} {
		_, err := s.store.ReadStream(ctx, p.stream, 0, eventstore.Forwards, 1)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return &domain.Rejection{Check: p.check, Field: p.field, Detail: fmt.Sprintf("no %s %q", strings.TrimSuffix(p.field, "_id"), strings.TrimPrefix(strings.TrimPrefix(p.stream, domain.RightStreamPrefix), domain.AccountStreamPrefix))}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// holding is an account's holding of a right as of a position.
type holding struct {
	right    domain.Right
	view     domain.HoldingView
	revision uint64
	change   *eventstore.RecordedEvent
}

// holdingAt replays the right's stream up to position at and remembers the
// last event after which the account's holding differed.
func (s *Service) holdingAt(ctx context.Context, stream, accountID string, at eventstore.Position) (holding, error) {
	var h holding
	h.view = domain.HoldingView{AccountID: accountID}
	for from := uint64(0); ; {
		evs, err := s.store.ReadStream(ctx, stream, from, eventstore.Forwards, 1024)
		if err != nil {
			return h, err
		}
		for i := range evs {
			ev := &evs[i]
			if at.Before(ev.Position) {
				return h, nil
			}
			if err := h.apply(ev, accountID); err != nil {
				return h, err
			}
		}
		if len(evs) < 1024 {
			return h, nil
		}
		from = evs[len(evs)-1].Revision + 1
	}
}

func (h *holding) apply(ev *eventstore.RecordedEvent, accountID string) error {
	decoded, err := eventcodec.Decode(ev.Type, ev.Data)
	if err != nil {
		return fmt.Errorf("integrity: %s revision %d: %w", ev.Stream, ev.Revision, err)
	}
	if err := h.right.Apply(decoded); err != nil {
		return fmt.Errorf("integrity: %s revision %d: %w", ev.Stream, ev.Revision, err)
	}
	h.revision = ev.Revision
	if now := h.right.Holding(accountID); !reflect.DeepEqual(now, h.view) {
		h.view, h.change = now, ev
	}
	return nil
}

func fillHolding(c *certificate.Certificate, prefix string, v domain.HoldingView) {
	c.Available, c.Pledged, c.Frozen, c.Reserved, c.Retired = v.Available, v.Pledged, v.Frozen, v.Reserved, v.Retired
	for i, blocks := range [][]domain.Block{v.AvailableBlocks, v.PledgedBlocks, v.FrozenBlocks, v.ReservedBlocks, v.RetiredBlocks} {
		for _, b := range blocks {
			c.Blocks = append(c.Blocks, certificate.Block{State: certificate.States[i], Start: b.Start, End: b.End,
				Serial: domain.FormatSerialWithPrefix(prefix, b)})
		}
	}
}

// proveChange names the last change and proves it in the checkpoint's tree.
func (s *Service) proveChange(ctx context.Context, c *certificate.Certificate, ev *eventstore.RecordedEvent, cp checkpoint.Stored) error {
	v, err := s.tree.View(ctx, &cp.Last)
	if err != nil {
		return err
	}
	defer v.Close()
	index, found, err := v.FindLeaf(ev.Position)
	if err != nil {
		return err
	}
	if !found {
		return &EventNotFoundError{Position: ev.Position}
	}
	leaf := logtree.LeafOf(ev)
	c.LastChange = &certificate.Change{Stream: ev.Stream, Revision: ev.Revision, Position: ev.Position, Leaf: index, Type: ev.Type, Chain: leaf.Chain}
	c.InclusionProof, err = v.InclusionProof(index, cp.Size)
	return err
}
