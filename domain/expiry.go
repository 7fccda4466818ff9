package domain

import (
	"fmt"
	"slices"
	"time"
)

// Expiry: a time-bounded right reaches the end of its validity, and every
// unit still outstanding expires with it.

// RightExpired records that a time-bounded right reached its ValidUntil:
// every unit not retired or cancelled (available, pledged, frozen, reserved
// or in the buffer pool) became expired, and every pledge, freeze and
// reservation of the right ended with it.
type RightExpired struct {
	// RightID is the right's id.
	RightID string
	// ValidUntil is the end of the right's validity.
	ValidUntil time.Time
	// Blocks are the serial blocks that expired; empty when nothing was left.
	Blocks []Block
	// Quantity is the number of units that expired.
	Quantity int64
	// ExpiredAt is when the expiry was recorded (at or after ValidUntil).
	ExpiredAt time.Time
}

// EventType returns EventTypeRightExpired.
func (RightExpired) EventType() string { return EventTypeRightExpired }

// StreamID returns the right's stream.
func (e RightExpired) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns ExpiredAt.
func (e RightExpired) OccurredAt() time.Time { return e.ExpiredAt }

func (RightExpired) isEvent() {}

// DecideExpireRight decides whether the right has expired: it yields one
// RightExpired event when the right has a ValidUntil, now is at or after
// it, and its expiry was not recorded yet; no event otherwise.
func DecideExpireRight(r Right, now time.Time) ([]Event, error) {
	if now.IsZero() {
		return nil, errZeroTime
	}
	if !r.Registered() || r.validUntil.IsZero() || now.Before(r.validUntil) || !r.expiredAt.IsZero() {
		return nil, nil
	}
	left := r.outstandingBlocks()
	return []Event{RightExpired{RightID: r.id, ValidUntil: r.validUntil, Blocks: left, Quantity: BlocksTotal(left), ExpiredAt: utc(now)}}, nil
}

// outstandingBlocks returns every serial that is neither retired,
// cancelled nor expired: what an expiry turns into expired units.
func (r *Right) outstandingBlocks() []Block {
	var all []Block
	for _, u := range r.holdings {
		for s := StateAvailable; s < StateRetired; s++ {
			all = append(all, u.Blocks(s)...)
		}
	}
	all = append(all, r.ownList(StateBuffer).blocks...)
	out, err := NormalizeBlocks(all)
	if err != nil {
		// The invariants keep the lists disjoint; report nothing rather than
		// a wrong answer, and let the event check fail.
		return nil
	}
	return out
}

func (r *Right) applyRightExpired(e RightExpired, moves []Movement) error {
	if err := r.checkRightEvent("expiry", "", e.RightID); err != nil {
		return err
	}
	left := r.outstandingBlocks()
	if !slices.Equal(left, e.Blocks) && !(len(left) == 0 && len(e.Blocks) == 0) || e.ExpiredAt.IsZero() {
		return fmt.Errorf("%w: expiry of right %s expires %v (%d units), but %v are left", ErrEventDoesNotApply, r.id, e.Blocks, e.Quantity, left)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.pledges = make(map[string]*pledge)
	r.freezes = make(map[string]*freeze)
	r.reservations = make(map[string]*reservation)
	r.expiredAt = e.ExpiredAt
	return nil
}

// ExpiredBlocks returns the serials that expired with the right.
func (r *Right) ExpiredBlocks() []Block { return slices.Clone(r.ownList(StateExpired).blocks) }

// ExpiredAt returns when the right's expiry was recorded; zero while it was not.
func (r *Right) ExpiredAt() time.Time { return r.expiredAt }
