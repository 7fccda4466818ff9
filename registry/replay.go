package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// A command whose id its stream recorded before is not decided again. The
// domain answers a retry (the same fields) with a *domain.RecordedBefore
// and a re-used id (other fields) with a *domain.IDReused, both naming the
// revision of the original event; the service reads that event back and
// answers with the recorded outcome, marked as a replay, or refuses the
// command and shows the original.

// IDReusedError refuses a command whose id was recorded before with other
// fields. errors.Is, errors.As and domain.RejectionOf see the domain's
// refusal in it (E3004, E3006 or E3008); Original is what was recorded
// under the id, as the command that recorded it was told.
type IDReusedError struct {
	Refusal  *domain.IDReused
	Original Recorded
}

// Error is the refusal's.
func (e *IDReusedError) Error() string { return e.Refusal.Error() }

// Unwrap returns the refusal.
func (e *IDReusedError) Unwrap() error { return e.Refusal }

// earlier holds what a decision found of a command whose id its stream
// recorded before. The decision then records nothing, and the command's
// request waits for its batch, whose append may hold the original, not
// durable yet; the answer is read once it is.
type earlier struct {
	retry  *domain.RecordedBefore
	reused *domain.IDReused
	// prefix is the serial prefix of the right decided on; empty for an
	// account.
	prefix string
}

// sift keeps aside a decision's answer to an id recorded before, and
// passes any other on. A decision decided again after a conflict starts
// afresh.
func (p *earlier) sift(evs []domain.Event, err error) ([]domain.Event, error) {
	p.retry, p.reused = nil, nil
	if errors.As(err, &p.retry) || errors.As(err, &p.reused) {
		return nil, nil
	}
	return evs, err
}

func (p *earlier) found() bool { return p.retry != nil || p.reused != nil }

// answer reads the original event from stream and returns it as a replay,
// or the refusal of a re-used id with it.
func (p *earlier) answer(ctx context.Context, s *Service, stream string) ([]domain.Event, Commit, error) {
	rev := int64(0)
	if p.retry != nil {
		rev = p.retry.Revision
	} else {
		rev = p.reused.Revision
	}
	ev, commit, err := s.readRecorded(ctx, stream, rev)
	if err != nil {
		return nil, Commit{}, err
	}
	if p.reused != nil {
		return nil, Commit{}, &IDReusedError{Refusal: p.reused, Original: Recorded{Event: ev, SerialPrefix: p.prefix, Commit: commit}}
	}
	commit.Replay = true
	return []domain.Event{ev}, commit, nil
}

// readRecorded reads the event at revision of stream, and where it is.
func (s *Service) readRecorded(ctx context.Context, stream string, revision int64) (domain.Event, Commit, error) {
	recs, err := s.store.ReadStream(ctx, stream, uint64(revision), eventstore.Forwards, 1)
	if err != nil {
		return nil, Commit{}, fmt.Errorf("registry: read %s revision %d: %w", stream, revision, err)
	}
	if len(recs) != 1 {
		return nil, Commit{}, fmt.Errorf("registry: %s has no revision %d, where an operation is recorded", stream, revision)
	}
	rec := recs[0]
	ev, err := eventcodec.Decode(rec.Type, rec.Data)
	if err != nil {
		return nil, Commit{}, fmt.Errorf("registry: %s revision %d: %w", stream, revision, err)
	}
	env, err := eventcodec.DecodeMetadata(rec.Metadata)
	if err != nil {
		return nil, Commit{}, fmt.Errorf("registry: %s revision %d: %w", stream, revision, err)
	}
	return ev, Commit{Stream: stream, Revision: rec.Revision, Position: rec.Position, CorrelationID: env.CorrelationID}, nil
}
