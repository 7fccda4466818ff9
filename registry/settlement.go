package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// TradeOutcome is what became of a trade an exchange submitted: settled or
// refused, and, when it is recorded, where.
type TradeOutcome struct {
	// Trade is the trade this outcome answers: as submitted in the call, or,
	// for an Original, as first submitted.
	Trade domain.SettleTrade
	// Settled is the event that settled the trade; nil when it was refused.
	Settled *domain.TradeSettled
	// Refusal says why the trade was refused: a *domain.Rejection, or a
	// *domain.ValidationError listing every malformed field; nil when it
	// settled.
	Refusal error
	// Recorded tells whether the outcome is recorded in the right's stream,
	// as TradeSettled or TradeRefused. Refusals of malformed trades, of
	// trades on rights that do not exist and of re-used trade ids are not:
	// a retry is decided afresh.
	Recorded bool
	// Commit tells where a recorded outcome is: the right's stream, the
	// revision and the global position of its event, and the correlation id
	// of the request that recorded it.
	Commit Commit
	// At is when the registry recorded the outcome; zero when it is not recorded.
	At time.Time
	// SerialPrefix begins the serial numbers of the right's units.
	SerialPrefix string
	// Replay is true when the outcome was recorded for an earlier
	// submission of the same trade: nothing new was recorded.
	Replay bool
	// Original is, for a refusal by domain.CheckTradeIDReused, the outcome
	// recorded for the trade first submitted under the same ids, when it
	// could be read; nil otherwise.
	Original *TradeOutcome
}

// LoadTradeIndex scans the store for the trades recorded before this
// process started, so that the first trade submitted does not wait for the
// scan. SettleTrade calls it itself when it was not called.
func (s *Service) LoadTradeIndex(ctx context.Context) error { return s.trades.load(ctx, s.store) }

// SettleTrade decides a trade an exchange matched, with TigerBeetle's
// idempotency: the first submission of (exchange id, trade id) records its
// outcome, settled or refused, in the right's stream; any later submission
// with the same fields, also racing the first or after a restart, records
// nothing and gets that outcome back with Replay set; one with other fields
// is refused with domain.CheckTradeIDReused and shows the original.
//
// Trades on one right are decided in order against the right's state and
// appended together (see execute); trades on different rights share the
// store's group commit. It returns an error only when the trade could not be
// decided (the store failed, the stream was contended, ctx ended); the
// trade may then be retried as it is.
func (s *Service) SettleTrade(ctx context.Context, meta Meta, cmd domain.SettleTrade) (TradeOutcome, error) {
	p := s.startTrade(ctx, meta, cmd)
	out, err := s.finishTrade(ctx, p)
	s.tradeCounts.count(cmd.ExchangeID, &out, err)
	return out, err
}

// SettleTrades is SettleTrade for several trades at once, as an exchange's
// stream delivers them: each is queued for its right's next batch before
// the first is waited for, so that one caller fills the batches of many
// rights. It returns each trade's outcome, or the error that kept it from
// being decided, in the order of cmds.
func (s *Service) SettleTrades(ctx context.Context, meta Meta, cmds []domain.SettleTrade) ([]TradeOutcome, []error) {
	pending := make([]*pendingTrade, len(cmds))
	for i, cmd := range cmds {
		pending[i] = s.startTrade(ctx, meta, cmd)
	}
	outs, errs := make([]TradeOutcome, len(cmds)), make([]error, len(cmds))
	for i, p := range pending {
		outs[i], errs[i] = s.finishTrade(ctx, p)
		s.tradeCounts.count(cmds[i].ExchangeID, &outs[i], errs[i])
	}
	return outs, errs
}

// pendingTrade is a trade between startTrade and finishTrade. It holds its
// request and what its decision needs, so that a trade costs few
// allocations.
type pendingTrade struct {
	s   *Service
	cmd domain.SettleTrade
	key domain.TradeKey
	// early is set when the outcome or error (out, err) was known before
	// the trade reached its right's batch.
	early bool
	out   *TradeOutcome
	err   error
	req   request[domain.Right]
	// accounts are the seller's and the buyer's, read before the batch.
	accounts knownAccounts
	// Set by the decision, in the batch.
	prior   *domain.PriorTrade
	reused  error
	prefix  string
	decided bool
}

// startTrade checks a trade, claims its ids and queues it for its right's
// batch.
func (s *Service) startTrade(ctx context.Context, meta Meta, cmd domain.SettleTrade) *pendingTrade {
	p := &pendingTrade{s: s, cmd: cmd, early: true}
	if err := domain.ValidateSettleTrade(cmd, s.clock()); err != nil && !s.recordedOnItsRight(ctx, cmd) {
		p.out = &TradeOutcome{Trade: cmd, Refusal: err}
		return p
	}
	if p.err = s.trades.load(ctx, s.store); p.err != nil {
		return p
	}
	p.key = domain.TradeKeyOf(cmd.ExchangeID, cmd.TradeID)
	other, claimed, err := s.trades.claim(ctx, p.key, cmd.RightID)
	if err != nil {
		p.err = err
		return p
	}
	if other != "" {
		out, err := s.reusedElsewhere(ctx, cmd, other)
		p.out, p.err = &out, err
		return p
	}
	p.accounts.init(s, ctx)
	if err := p.accounts.load(cmd.Seller, cmd.Buyer); err != nil {
		if claimed {
			s.trades.release(p.key, cmd.RightID, false)
		}
		p.err = err
		return p
	}
	if meta.CommandID == "" {
		meta.CommandID = cmd.ExchangeID + "/" + cmd.TradeID
	}
	p.early = false
	p.req = request[domain.Right]{ctx: ctx, meta: meta, exactPosition: true, decide: p.decide}
	if claimed {
		p.req.finished = p.release
	}
	s.rights.start(ctx, domain.RightStream(cmd.RightID), &p.req, s.clock)
	return p
}

// recordedOnItsRight reports whether the trade's ids are recorded on the
// right it names. Such a trade goes to its right even when it fails a check
// of the time (matched_at ahead of a clock that went back), so that a retry
// is answered with its outcome: its fields were valid when it was recorded.
func (s *Service) recordedOnItsRight(ctx context.Context, cmd domain.SettleTrade) bool {
	if !domain.ValidID(cmd.ExchangeID) || !domain.ValidID(cmd.TradeID) || s.trades.load(ctx, s.store) != nil {
		return false
	}
	right, ok := s.trades.recordedOn(domain.TradeKeyOf(cmd.ExchangeID, cmd.TradeID))
	return ok && right == cmd.RightID
}

// decide decides the trade on its right's state, in the batch.
func (p *pendingTrade) decide(r *domain.Right, _ bool, now time.Time) ([]domain.Event, error) {
	p.prefix = r.SerialPrefix()
	evs, prior, err := domain.DecideSettleTrade(*r, p.cmd, p.accounts.lookup, now)
	p.decided, p.prior, p.reused = true, prior, nil
	if prior != nil {
		// A retry or a re-used id: nothing to record, and the answer waits
		// for the batch in case the first submission is in it.
		p.reused = err
		return nil, nil
	}
	return evs, err
}

// release gives back the trade's claim once its decision is known.
func (p *pendingTrade) release(evs []domain.Event, err error) {
	p.s.trades.release(p.key, p.cmd.RightID, recordedBy(p.decided, evs, p.prior, err))
}

// finishTrade waits for a started trade and returns its outcome.
func (s *Service) finishTrade(ctx context.Context, p *pendingTrade) (TradeOutcome, error) {
	if p.early {
		if p.out != nil {
			return *p.out, p.err
		}
		return TradeOutcome{}, p.err
	}
	cmd := p.cmd
	evs, commit, err := s.rights.wait(ctx, &p.req)
	switch {
	case err != nil && len(domain.ViolationsOf(err)) > 0:
		// The right does not exist (or the trade turned malformed as the
		// clock moved): nothing identifies a stream to record it in.
		return TradeOutcome{Trade: cmd, Refusal: err, SerialPrefix: p.prefix}, nil
	case err != nil:
		return TradeOutcome{}, err
	case len(evs) == 1:
		out := outcomeOf(evs[0], commit, p.prefix)
		if out.Commit.Position == (eventstore.Position{}) {
			// The batch could not read its positions back; read this one.
			again, err := s.readTrade(ctx, cmd.RightID, int64(commit.Revision), p.prefix)
			if err != nil {
				return TradeOutcome{}, err
			}
			out.Commit.Position = again.Commit.Position
		}
		out.Trade = cmd
		return out, nil
	case p.prior == nil:
		return TradeOutcome{}, errors.New("registry: a trade was decided without an outcome")
	}
	first, err := s.readTrade(ctx, p.prior.RightID, p.prior.Revision, p.prefix)
	if err != nil {
		return TradeOutcome{}, err
	}
	first.Replay = true
	if p.reused == nil {
		first.Trade = cmd
		return first, nil
	}
	return TradeOutcome{Trade: cmd, Refusal: p.reused, SerialPrefix: p.prefix, Original: &first}, nil
}

// recordedBy tells whether a decision of a trade left its outcome recorded
// on the right: a new outcome appended, or a prior one found. When its
// append failed without saying whether it was written, the outcome may be
// recorded, so the trade stays tied to the right rather than risk a second
// settlement elsewhere; that includes a store's own timeout, which comes as
// the context's error although the caller's context never reaches the
// append. Any other failure came before an append or instead of one.
func recordedBy(decided bool, evs []domain.Event, prior *domain.PriorTrade, err error) bool {
	if err == nil {
		return len(evs) > 0 || prior != nil
	}
	var unknown *appendFailed
	return decided && errors.As(err, &unknown)
}

// reusedElsewhere answers a trade whose ids are recorded on another right.
func (s *Service) reusedElsewhere(ctx context.Context, cmd domain.SettleTrade, other string) (TradeOutcome, error) {
	var (
		prior  domain.PriorTrade
		found  bool
		prefix string
	)
	err := s.rights.cached(ctx, domain.RightStream(other), func(r *domain.Right, exists bool) {
		if exists {
			prior, found = r.Trade(cmd.ExchangeID, cmd.TradeID)
			prefix = r.SerialPrefix()
		}
	})
	if err != nil {
		return TradeOutcome{}, err
	}
	out := TradeOutcome{Trade: cmd, Refusal: &domain.Rejection{Check: domain.CheckTradeIDReused, Field: "trade_id",
		Detail: fmt.Sprintf("trade %s of exchange %s was submitted before on right %s", cmd.TradeID, cmd.ExchangeID, other)}}
	if !found {
		return out, nil
	}
	first, err := s.readTrade(ctx, other, prior.Revision, prefix)
	if err != nil {
		return TradeOutcome{}, err
	}
	first.Replay = true
	out.Original = &first
	out.Refusal = &domain.Rejection{Check: domain.CheckTradeIDReused, Field: "trade_id",
		Detail: fmt.Sprintf("trade %s of exchange %s was submitted before on right %s; its outcome is recorded at revision %d of that right",
			cmd.TradeID, cmd.ExchangeID, other, prior.Revision)}
	return out, nil
}

// readTrade reads the outcome of a trade recorded at revision of a right's
// stream, with the trade as it was first submitted.
func (s *Service) readTrade(ctx context.Context, rightID string, revision int64, prefix string) (TradeOutcome, error) {
	stream := domain.RightStream(rightID)
	ev, commit, err := s.readRecorded(ctx, stream, revision)
	if err != nil {
		return TradeOutcome{}, err
	}
	out := outcomeOf(ev, commit, prefix)
	if out.Settled == nil && out.Refusal == nil {
		return TradeOutcome{}, fmt.Errorf("registry: %s revision %d is a %s, not the outcome of a trade", stream, revision, ev.EventType())
	}
	return out, nil
}

// outcomeOf turns the event that records a trade's outcome into the outcome.
func outcomeOf(ev domain.Event, commit Commit, prefix string) TradeOutcome {
	switch e := ev.(type) {
	case domain.TradeSettled:
		return TradeOutcome{Trade: e.Trade(), Settled: &e, Recorded: true, Commit: commit, At: e.SettledAt, SerialPrefix: prefix}
	case domain.TradeRefused:
		return TradeOutcome{Trade: e.Trade(), Refusal: e.Rejection(), Recorded: true, Commit: commit, At: e.RefusedAt, SerialPrefix: prefix}
	}
	return TradeOutcome{}
}
