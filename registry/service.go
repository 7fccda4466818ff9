// Package registry is ecoregistry's application service: for each command it
// loads the state of the stream it concerns, asks package domain to decide,
// and appends the resulting events at the exact revision it decided on,
// deciding again on fresh state when another writer got there first.
//
// The state of recently used streams stays in memory, so a command on a busy
// right does not replay the right's history: it decides on the cached state
// and appends. Commands of this process on one stream are serialised by the
// stream's cache entry; writers elsewhere are caught by the expected
// revision of every append, so no update is ever lost.
package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"go.uber.org/zap"
)

// ErrContention reports a command that lost the race for its stream more
// often than the service retries. The command was not recorded; the client
// may retry it.
var ErrContention = errors.New("registry: too much contention on the stream")

// Meta is what the service records about who made a command and why.
type Meta struct {
	// Actor is who made the command: the authenticated principal, or in
	// development mode the actor the client names in its request metadata.
	Actor string
	// Organisation and Role are the authenticated principal's organisation
	// and the role under which the policy allowed the command; empty in
	// development mode.
	Organisation, Role string
	// CorrelationID ties the events to the request that caused them.
	CorrelationID string
	// CommandID is the command's own id (a transfer id, ...), if any.
	CommandID string
}

// Commit tells where a command's events were written.
type Commit struct {
	// Stream is the stream the events were appended to.
	Stream string
	// Revision is the stream revision of the last event written.
	Revision uint64
	// Position is the global position of the command's last event.
	Position eventstore.Position
	// CorrelationID is the correlation id recorded in the envelope.
	CorrelationID string
	// Replay is true when the events were recorded for an earlier request
	// with the same command id (a retry) and this one recorded nothing.
	Replay bool
}

// Options tune a Service. The zero value is usable.
type Options struct {
	// Logger receives the service's logs; nil means no logs.
	Logger *zap.Logger
	// Clock tells the time of decisions; nil means time.Now.
	Clock func() time.Time
	// MaxRetries bounds how often a command is decided again after losing
	// a race for its stream; 0 means 16.
	MaxRetries int
	// CacheSize bounds how many streams of each kind stay in memory; 0
	// means 100000.
	CacheSize int
	// HeldRights, when set, lists what an account holds across rights.
	// Closing an account that still holds units is then refused, and the
	// pledges of an account can be listed across rights. Nil leaves both
	// out: the right streams alone cannot say which rights an account holds.
	HeldRights HeldRights
	// Tracer, when set, is told of every decision and append, to trace
	// them; nil traces nothing.
	Tracer Tracer
}

// HeldRights lists the rights of which an account holds units in a state it
// can still act on or that others hold a claim on: available, pledged,
// frozen or reserved (retired units stay with a holding for ever and do not
// count). It must reflect at least every command committed before the call.
// ecoregistryd answers it from the holdings read model.
type HeldRights func(ctx context.Context, accountID string) ([]domain.AccountHolding, error)

// Service runs the registry's commands and consistent reads.
type Service struct {
	store    eventstore.Store
	log      *zap.Logger
	clock    func() time.Time
	accounts *streams[domain.Account, *domain.Account]
	rights   *streams[domain.Right, *domain.Right]
	// deadlines indexes the expiries a Scheduler is to record.
	deadlines *deadlines
	// trades indexes on which right each recorded trade is.
	trades *tradeIndex
	// heldRights lists an account's holdings across rights; nil when the
	// wiring provides none.
	heldRights HeldRights
	// tradeCounts feed TradeCounts.
	tradeCounts tradeCounter
}

// New returns a service over store.
func New(store eventstore.Store, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 16
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 100_000
	}
	s := &Service{
		store:    store,
		log:      opts.Logger,
		clock:    func() time.Time { return opts.Clock().UTC() },
		accounts: newStreams[domain.Account, *domain.Account](store, opts.CacheSize, opts.MaxRetries),
		rights:   newStreams[domain.Right, *domain.Right](store, opts.CacheSize, opts.MaxRetries),

		deadlines:  newDeadlines(),
		trades:     newTradeIndex(),
		heldRights: opts.HeldRights,
	}
	s.accounts.tracer, s.rights.tracer = opts.Tracer, opts.Tracer
	return s
}

// Close stops the service's background goroutines, which run the batches
// of commands, and waits for those in a batch to finish it. Call it once no
// more commands come (ecoregistryd does after its gRPC server stopped); a
// command made after Close still runs, on a goroutine that ends with it. It
// does not close the store.
func (s *Service) Close() {
	s.accounts.drainers.close()
	s.rights.drainers.close()
}

// OpenAccount opens an account and returns it as opened.
func (s *Service) OpenAccount(ctx context.Context, meta Meta, cmd domain.OpenAccount) (domain.Account, Commit, error) {
	if !domain.ValidID(cmd.AccountID) {
		// Decide reports the malformed id; there is no stream to load for it.
		_, err := domain.DecideOpenAccount(domain.Account{}, cmd, s.clock())
		return domain.Account{}, Commit{}, err
	}
	var out domain.Account
	_, commit, err := s.accounts.execute(ctx, domain.AccountStream(cmd.AccountID), meta, s.clock,
		func(a *domain.Account, _ bool, now time.Time) ([]domain.Event, error) {
			return domain.DecideOpenAccount(*a, cmd, now)
		})
	if err != nil {
		return domain.Account{}, Commit{}, err
	}
	out, _, err = s.Account(ctx, cmd.AccountID)
	return out, commit, err
}

// ChangeAccountStatus changes an account's status and returns the account
// after the change.
func (s *Service) ChangeAccountStatus(ctx context.Context, meta Meta, cmd domain.ChangeAccountStatus) (domain.Account, Commit, error) {
	if !domain.ValidID(cmd.AccountID) {
		_, err := domain.DecideChangeAccountStatus(domain.Account{}, cmd, s.clock())
		return domain.Account{}, Commit{}, err
	}
	if cmd.To == domain.AccountStatusClosed && s.heldRights != nil {
		if err := s.refuseClosingWithUnits(ctx, cmd.AccountID); err != nil {
			return domain.Account{}, Commit{}, err
		}
	}
	_, commit, err := s.accounts.execute(ctx, domain.AccountStream(cmd.AccountID), meta, s.clock,
		func(a *domain.Account, _ bool, now time.Time) ([]domain.Event, error) {
			return domain.DecideChangeAccountStatus(*a, cmd, now)
		})
	if err != nil {
		return domain.Account{}, Commit{}, err
	}
	out, _, err := s.Account(ctx, cmd.AccountID)
	return out, commit, err
}

// Account reads an account from its stream, including every event appended
// before the call. It returns a rejection by domain.CheckAccountNotFound
// when there is no such account.
func (s *Service) Account(ctx context.Context, id string) (domain.Account, uint64, error) {
	if !domain.ValidID(id) {
		return domain.Account{}, 0, &domain.ValidationError{Violations: []domain.Rejection{{Check: domain.CheckInvalidAccountID, Field: "account_id", Detail: "not a valid account id"}}}
	}
	var (
		out    domain.Account
		found  bool
		revOut uint64
	)
	err := s.accounts.read(ctx, domain.AccountStream(id), func(a *domain.Account, exists bool, rev uint64) {
		out, found, revOut = *a, exists && a.Opened(), rev
	})
	if err != nil {
		return domain.Account{}, 0, err
	}
	if !found {
		return domain.Account{}, 0, &domain.Rejection{Check: domain.CheckAccountNotFound, Field: "account_id", Detail: "no account " + quote(id)}
	}
	return out, revOut, nil
}

// RegisterRight registers a right and returns it as registered.
func (s *Service) RegisterRight(ctx context.Context, meta Meta, cmd domain.RegisterRight) (domain.Right, Commit, error) {
	accounts, err := s.accountViews(ctx, cmd.HolderAccountID)
	if err != nil {
		return domain.Right{}, Commit{}, err
	}
	if !domain.ValidID(cmd.RightID) {
		_, err := domain.DecideRegisterRight(domain.Right{}, cmd, accounts, s.clock())
		return domain.Right{}, Commit{}, err
	}
	evs, commit, err := s.rights.execute(ctx, domain.RightStream(cmd.RightID), meta, s.clock,
		func(r *domain.Right, _ bool, now time.Time) ([]domain.Event, error) {
			return domain.DecideRegisterRight(*r, cmd, accounts, now)
		})
	if err != nil {
		return domain.Right{}, Commit{}, err
	}
	// A right with a validity end waits for its expiry.
	s.deadlines.noteEvents(evs)
	out, _, err := s.Right(ctx, cmd.RightID)
	return out, commit, err
}

// Transferred is the outcome of a transfer.
type Transferred struct {
	// Event is the event that records the transfer.
	Event domain.UnitsTransferred
	// SerialPrefix begins the serial numbers of the right's units.
	SerialPrefix string
	// Commit tells where the event was written.
	Commit Commit
}

// TransferUnits moves units of a right between accounts.
func (s *Service) TransferUnits(ctx context.Context, meta Meta, cmd domain.TransferUnits) (Transferred, error) {
	accounts, err := s.accountViews(ctx, cmd.From, cmd.To)
	if err != nil {
		return Transferred{}, err
	}
	if meta.CommandID == "" {
		meta.CommandID = cmd.TransferID
	}
	var prefix string
	evs, commit, err := s.onRight(ctx, cmd.RightID, meta, func(r *domain.Right, now time.Time) ([]domain.Event, error) {
		prefix = r.SerialPrefix()
		return domain.DecideTransfer(*r, cmd, accounts, now)
	})
	if err != nil {
		return Transferred{}, err
	}
	for _, ev := range evs {
		if t, ok := ev.(domain.UnitsTransferred); ok {
			return Transferred{Event: t, SerialPrefix: prefix, Commit: commit}, nil
		}
	}
	return Transferred{}, errors.New("registry: transfer decided without a UnitsTransferred event")
}

// Retired is the outcome of a retirement.
type Retired struct {
	// Event is the event that records the retirement.
	Event domain.UnitsRetired
	// SerialPrefix begins the serial numbers of the right's units.
	SerialPrefix string
	// Commit tells where the event was written.
	Commit Commit
}

// RetireUnits retires units of a right.
func (s *Service) RetireUnits(ctx context.Context, meta Meta, cmd domain.RetireUnits) (Retired, error) {
	accounts, err := s.accountViews(ctx, cmd.Holder)
	if err != nil {
		return Retired{}, err
	}
	if meta.CommandID == "" {
		meta.CommandID = cmd.RetirementID
	}
	var prefix string
	evs, commit, err := s.onRight(ctx, cmd.RightID, meta, func(r *domain.Right, now time.Time) ([]domain.Event, error) {
		prefix = r.SerialPrefix()
		return domain.DecideRetire(*r, cmd, accounts, now)
	})
	if err != nil {
		return Retired{}, err
	}
	for _, ev := range evs {
		if t, ok := ev.(domain.UnitsRetired); ok {
			return Retired{Event: t, SerialPrefix: prefix, Commit: commit}, nil
		}
	}
	return Retired{}, errors.New("registry: retirement decided without a UnitsRetired event")
}

// onRight runs a decision on an existing right. A command whose id the
// right recorded before gets the recorded event back, with Commit.Replay
// set, or an *IDReusedError (see earlier).
func (s *Service) onRight(ctx context.Context, rightID string, meta Meta, decide func(*domain.Right, time.Time) ([]domain.Event, error)) ([]domain.Event, Commit, error) {
	if !domain.ValidID(rightID) {
		// Let the domain describe the malformed command on an empty right.
		evs, err := decide(&domain.Right{}, s.clock())
		if err == nil && len(evs) > 0 {
			err = errors.New("registry: domain accepted a command with an invalid right id")
		}
		return nil, Commit{}, err
	}
	stream := domain.RightStream(rightID)
	var seen earlier
	evs, commit, err := s.rights.execute(ctx, stream, meta, s.clock,
		func(r *domain.Right, _ bool, now time.Time) ([]domain.Event, error) {
			seen.prefix = r.SerialPrefix()
			return seen.sift(decide(r, now))
		})
	if err != nil || !seen.found() {
		return evs, commit, err
	}
	return seen.answer(ctx, s, stream)
}

// Right reads a right, with all its holdings, from its stream, including
// every event appended before the call. The result is a copy the caller may
// keep. It returns a rejection by domain.CheckRightNotFound when there is no
// such right.
func (s *Service) Right(ctx context.Context, id string) (domain.Right, uint64, error) {
	if !domain.ValidID(id) {
		return domain.Right{}, 0, &domain.ValidationError{Violations: []domain.Rejection{{Check: domain.CheckInvalidRightID, Field: "right_id", Detail: "not a valid right id"}}}
	}
	var (
		out    domain.Right
		found  bool
		revOut uint64
	)
	err := s.rights.read(ctx, domain.RightStream(id), func(r *domain.Right, exists bool, rev uint64) {
		found, revOut = exists && r.Registered(), rev
		if found {
			out = r.Clone()
		}
	})
	if err != nil {
		return domain.Right{}, 0, err
	}
	if !found {
		return domain.Right{}, 0, &domain.Rejection{Check: domain.CheckRightNotFound, Field: "right_id", Detail: "no right " + quote(id)}
	}
	return out, revOut, nil
}

// ReadRight calls look with the current state of a registered right (every
// event appended before the call applied), without copying it: look must
// neither keep nor change it. It returns false, without calling look, when
// the right was never registered or id cannot name one.
func (s *Service) ReadRight(ctx context.Context, id string, look func(*domain.Right)) (bool, error) {
	if !domain.ValidID(id) {
		return false, nil
	}
	found := false
	err := s.rights.read(ctx, domain.RightStream(id), func(r *domain.Right, exists bool, _ uint64) {
		if found = exists && r.Registered(); found {
			look(r)
		}
	})
	return found, err
}

// HoldingRead is one account's holding of one right, as Holding read it.
type HoldingRead struct {
	// Holding is what the account holds, by state, with its serial blocks.
	Holding domain.HoldingView
	// SerialPrefix begins the serial numbers of the right's units.
	SerialPrefix string
	// Revision is the revision of the right's stream the holding reflects.
	Revision uint64
}

// Holding reads what one account holds of one right, consistently with
// every event appended before the call, copying only that holding rather
// than the whole right. An account that holds nothing of the right gets an
// empty holding; an unknown right or account is refused, the right first.
func (s *Service) Holding(ctx context.Context, rightID, accountID string) (HoldingRead, error) {
	if !domain.ValidID(rightID) {
		return HoldingRead{}, &domain.ValidationError{Violations: []domain.Rejection{{Check: domain.CheckInvalidRightID, Field: "right_id", Detail: "not a valid right id"}}}
	}
	var (
		out   HoldingRead
		found bool
	)
	err := s.rights.read(ctx, domain.RightStream(rightID), func(r *domain.Right, exists bool, rev uint64) {
		found, out.Revision = exists && r.Registered(), rev
		if found {
			out.Holding, out.SerialPrefix = r.Holding(accountID), r.SerialPrefix()
		}
	})
	if err != nil {
		return HoldingRead{}, err
	}
	if !found {
		return HoldingRead{}, &domain.Rejection{Check: domain.CheckRightNotFound, Field: "right_id", Detail: "no right " + quote(rightID)}
	}
	if _, _, err := s.Account(ctx, accountID); err != nil {
		return HoldingRead{}, err
	}
	out.Holding.AccountID = accountID
	return out, nil
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return "\"" + s + "\""
}

// refuseClosingWithUnits refuses to close an account that still holds
// units (domain.CheckClosable). Units received between this check and the
// close are not caught; a closed account receives nothing after it.
func (s *Service) refuseClosingWithUnits(ctx context.Context, accountID string) error {
	held, err := s.heldRights(ctx, accountID)
	if err != nil {
		return fmt.Errorf("registry: list the holdings of %s: %w", accountID, err)
	}
	return domain.CheckClosable(accountID, held)
}
