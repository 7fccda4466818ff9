package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Recorded is the outcome of a lifecycle command on a right.
type Recorded struct {
	// Event is the event that records the command, e.g. a domain.UnitsPledged.
	Event domain.Event
	// SerialPrefix begins the serial numbers of the right's units.
	SerialPrefix string
	// Commit tells where the event was written.
	Commit Commit
}

// lifecycleCommand runs a lifecycle command whose decision takes the right,
// the command, the accounts it names and the time: the shape of every
// lifecycle decision of package domain but the correction's. The command's
// own id becomes the envelope's command id unless the caller gave one.
func lifecycleCommand[C any](ctx context.Context, s *Service, meta Meta, rightID, commandID string, cmd C,
	decide func(domain.Right, C, domain.AccountLookup, time.Time) ([]domain.Event, error)) (Recorded, error) {
	if meta.CommandID == "" {
		meta.CommandID = commandID
	}
	return s.onRightWithAccounts(ctx, rightID, meta, func(r *domain.Right, acc domain.AccountLookup, now time.Time) ([]domain.Event, error) {
		return decide(*r, cmd, acc, now)
	})
}

// onRightWithAccounts runs a lifecycle decision on a right, which reads
// the accounts it involves when it asks (knownAccounts), and returns its
// single event.
func (s *Service) onRightWithAccounts(ctx context.Context, rightID string, meta Meta,
	decide func(r *domain.Right, accounts domain.AccountLookup, now time.Time) ([]domain.Event, error)) (Recorded, error) {
	var prefix string
	evs, commit, err := s.onRight(ctx, rightID, meta, func(r *domain.Right, now time.Time) ([]domain.Event, error) {
		prefix = r.SerialPrefix()
		var accounts knownAccounts
		accounts.init(s, ctx)
		evs, err := decide(r, accounts.lookup, now)
		if accounts.err != nil {
			// A refusal for a missing account may only reflect a failed read.
			return nil, accounts.err
		}
		return evs, err
	})
	if err != nil {
		return Recorded{}, err
	}
	if len(evs) == 0 {
		return Recorded{}, errors.New("registry: a lifecycle command was decided without an event")
	}
	if !commit.Replay {
		s.deadlines.noteEvents(evs)
	}
	return Recorded{Event: evs[0], SerialPrefix: prefix, Commit: commit}, nil
}

// PledgeUnits pledges units of a right to a pledgee.
func (s *Service) PledgeUnits(ctx context.Context, meta Meta, cmd domain.PledgeUnits) (Recorded, error) {
	return lifecycleCommand(ctx, s, meta, cmd.RightID, cmd.PledgeID, cmd, domain.DecidePledge)
}

// ReleasePledge releases a pledge: its units are the pledgor's again.
func (s *Service) ReleasePledge(ctx context.Context, meta Meta, cmd domain.ReleasePledge) (Recorded, error) {
	return lifecycleCommand(ctx, s, meta, cmd.RightID, cmd.PledgeID, cmd, domain.DecideReleasePledge)
}

// EnforcePledge transfers pledged units to the pledgee or a buyer it names.
func (s *Service) EnforcePledge(ctx context.Context, meta Meta, cmd domain.EnforcePledge) (Recorded, error) {
	return lifecycleCommand(ctx, s, meta, cmd.RightID, cmd.PledgeID, cmd, domain.DecideEnforcePledge)
}

// FreezeUnits freezes units of one holding under an authority order.
func (s *Service) FreezeUnits(ctx context.Context, meta Meta, cmd domain.FreezeUnits) (Recorded, error) {
	return lifecycleCommand(ctx, s, meta, cmd.RightID, cmd.OrderNumber, cmd, domain.DecideFreezeUnits)
}

// UnfreezeUnits lifts the freeze of an order on a right.
func (s *Service) UnfreezeUnits(ctx context.Context, meta Meta, cmd domain.UnfreezeUnits) (Recorded, error) {
	return lifecycleCommand(ctx, s, meta, cmd.RightID, cmd.OrderNumber, cmd, domain.DecideUnfreezeUnits)
}

// ReserveUnits reserves a seller's units for an exchange order; the
// reservation's timeout is scheduled for expiry.
func (s *Service) ReserveUnits(ctx context.Context, meta Meta, cmd domain.ReserveUnits) (Recorded, error) {
	return lifecycleCommand(ctx, s, meta, cmd.RightID, cmd.ReservationID, cmd, domain.DecideReserve)
}

// SettleReservation delivers reserved units to a buyer.
func (s *Service) SettleReservation(ctx context.Context, meta Meta, cmd domain.SettleReservation) (Recorded, error) {
	return lifecycleCommand(ctx, s, meta, cmd.RightID, cmd.SettlementID, cmd, domain.DecideSettleReservation)
}

// VoidReservation ends a reservation before its timeout.
func (s *Service) VoidReservation(ctx context.Context, meta Meta, cmd domain.VoidReservation) (Recorded, error) {
	return lifecycleCommand(ctx, s, meta, cmd.RightID, cmd.ReservationID, cmd, domain.DecideVoidReservation)
}

// CancelUnits cancels units of a holder or of the buffer pool.
func (s *Service) CancelUnits(ctx context.Context, meta Meta, cmd domain.CancelUnits) (Recorded, error) {
	return lifecycleCommand(ctx, s, meta, cmd.RightID, cmd.CancellationID, cmd, domain.DecideCancel)
}

// errRetryReversal reports that the transaction a correction names was
// recorded between reading its event and deciding; a retry sees it.
var errRetryReversal = fmt.Errorf("%w: the transaction appeared while the correction was being decided", ErrContention)

// ReverseTransaction records a correction that reverses a completed
// transaction. It reads the event that recorded the transaction from the
// right's stream (an immutable fact at a known revision) and decides on it.
func (s *Service) ReverseTransaction(ctx context.Context, meta Meta, cmd domain.ReverseTransaction) (Recorded, error) {
	if meta.CommandID == "" {
		meta.CommandID = cmd.CorrectionID
	}
	var (
		original domain.Event
		readRev  int64 = -1
	)
	if domain.ValidID(cmd.RightID) {
		err := s.rights.read(ctx, domain.RightStream(cmd.RightID), func(r *domain.Right, _ bool, _ uint64) {
			if rev, ok := r.CorrectedRevision(cmd); ok {
				readRev = rev
			}
		})
		if err != nil {
			return Recorded{}, err
		}
		if readRev >= 0 {
			evs, err := s.store.ReadStream(ctx, domain.RightStream(cmd.RightID), uint64(readRev), eventstore.Forwards, 1)
			if err != nil {
				return Recorded{}, fmt.Errorf("registry: read the transaction of correction %s: %w", cmd.CorrectionID, err)
			}
			if len(evs) != 1 {
				return Recorded{}, fmt.Errorf("registry: revision %d of %s is missing", readRev, domain.RightStream(cmd.RightID))
			}
			if original, err = eventcodec.Decode(evs[0].Type, evs[0].Data); err != nil {
				return Recorded{}, err
			}
		}
	}
	return s.onRightWithAccounts(ctx, cmd.RightID, meta, func(r *domain.Right, acc domain.AccountLookup, now time.Time) ([]domain.Event, error) {
		if rev, ok := r.CorrectedRevision(cmd); ok && rev != readRev {
			return nil, errRetryReversal
		}
		return domain.DecideReverse(*r, cmd, original, acc, now)
	})
}

// FreezeAccount freezes a whole account under an authority order. A retry
// of an order recorded before gets the account as it is now and the
// original's Commit, with Replay set; an order number re-used with other
// fields is refused with an *IDReusedError.
func (s *Service) FreezeAccount(ctx context.Context, meta Meta, cmd domain.FreezeAccount) (domain.Account, Commit, error) {
	if !domain.ValidID(cmd.AccountID) {
		_, err := domain.DecideFreezeAccount(domain.Account{}, cmd, s.clock())
		return domain.Account{}, Commit{}, err
	}
	if meta.CommandID == "" {
		meta.CommandID = cmd.OrderNumber
	}
	stream := domain.AccountStream(cmd.AccountID)
	var seen earlier
	_, commit, err := s.accounts.execute(ctx, stream, meta, s.clock,
		func(a *domain.Account, _ bool, now time.Time) ([]domain.Event, error) {
			return seen.sift(domain.DecideFreezeAccount(*a, cmd, now))
		})
	if err == nil && seen.found() {
		_, commit, err = seen.answer(ctx, s, stream)
	}
	if err != nil {
		return domain.Account{}, Commit{}, err
	}
	out, _, err := s.Account(ctx, cmd.AccountID)
	return out, commit, err
}

// UnfreezeAccount lifts an account-wide freeze order.
func (s *Service) UnfreezeAccount(ctx context.Context, meta Meta, cmd domain.UnfreezeAccount) (domain.Account, Commit, error) {
	if !domain.ValidID(cmd.AccountID) {
		_, err := domain.DecideUnfreezeAccount(domain.Account{}, cmd, s.clock())
		return domain.Account{}, Commit{}, err
	}
	if meta.CommandID == "" {
		meta.CommandID = cmd.OrderNumber
	}
	_, commit, err := s.accounts.execute(ctx, domain.AccountStream(cmd.AccountID), meta, s.clock,
		func(a *domain.Account, _ bool, now time.Time) ([]domain.Event, error) {
			return domain.DecideUnfreezeAccount(*a, cmd, now)
		})
	if err != nil {
		return domain.Account{}, Commit{}, err
	}
	out, _, err := s.Account(ctx, cmd.AccountID)
	return out, commit, err
}

// Pledges reads the open pledges of a right whose pledgor or pledgee is the
// account (every open pledge when accountID is empty), consistently with
// every event appended before the call, with the right's serial prefix and
// stream revision. It answers for one right: an account's pledges across
// rights need a projection over all right streams.
func (s *Service) Pledges(ctx context.Context, rightID, accountID string) ([]domain.PledgeView, string, uint64, error) {
	if accountID != "" {
		if _, _, err := s.Account(ctx, accountID); err != nil {
			return nil, "", 0, err
		}
	}
	r, rev, err := s.Right(ctx, rightID)
	if err != nil {
		return nil, "", 0, err
	}
	return r.Pledges(accountID), r.SerialPrefix(), rev, nil
}

// RightPledges are the open pledges of one right that an account list
// found.
type RightPledges struct {
	RightID      string
	SerialPrefix string
	Pledges      []domain.PledgeView
}

// ErrNoHeldRights says that the service was built without Options.HeldRights,
// so it cannot list an account's pledges across rights.
var ErrNoHeldRights = errors.New("registry: listing across rights needs the holdings read model, which this registry was not given")

// AccountPledges lists the open pledges of the units an account holds (as
// pledgor) across every right, each right read from its stream; pledges in
// which the account is only the pledgee are in the lists of the rights
// pledged (see Pledges). The rights come from Options.HeldRights.
func (s *Service) AccountPledges(ctx context.Context, accountID string) ([]RightPledges, error) {
	if _, _, err := s.Account(ctx, accountID); err != nil {
		return nil, err
	}
	if s.heldRights == nil {
		return nil, ErrNoHeldRights
	}
	held, err := s.heldRights(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("registry: list the holdings of %s: %w", accountID, err)
	}
	var out []RightPledges
	for _, h := range held {
		if h.Pledged == 0 {
			continue
		}
		r, _, err := s.Right(ctx, h.RightID)
		if err != nil {
			return nil, err
		}
		var mine []domain.PledgeView
		for _, p := range r.Pledges(accountID) {
			if p.Pledgor == accountID {
				mine = append(mine, p)
			}
		}
		if len(mine) > 0 {
			out = append(out, RightPledges{RightID: h.RightID, SerialPrefix: r.SerialPrefix(), Pledges: mine})
		}
	}
	return out, nil
}

// schedulerMeta is the envelope of the events the server records by itself.
func schedulerMeta(commandID string) Meta {
	return Meta{Actor: SchedulerActor, CorrelationID: "scheduler:" + commandID, CommandID: commandID}
}

// SchedulerActor is the actor recorded on the expiries the server decides by itself.
const SchedulerActor = "ecoregistryd-scheduler"

// ExpireReservation records the expiry of a reservation when it is due and
// still open, and reports whether it recorded one. Deciding on the right's
// state makes it idempotent: a reservation already settled, voided or
// expired, here or by another process, yields nothing.
func (s *Service) ExpireReservation(ctx context.Context, rightID, reservationID string) (bool, error) {
	evs, _, err := s.onRight(ctx, rightID, schedulerMeta(reservationID), func(r *domain.Right, now time.Time) ([]domain.Event, error) {
		return domain.DecideExpireReservation(*r, reservationID, now)
	})
	return len(evs) > 0, err
}

// ExpireRight records the expiry of a time-bounded right when its validity
// has ended and its expiry was not recorded yet, and reports whether it
// recorded it.
func (s *Service) ExpireRight(ctx context.Context, rightID string) (bool, error) {
	evs, _, err := s.onRight(ctx, rightID, schedulerMeta("expiry-"+rightID), func(r *domain.Right, now time.Time) ([]domain.Event, error) {
		return domain.DecideExpireRight(*r, now)
	})
	return len(evs) > 0, err
}
