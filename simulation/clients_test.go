package simulation

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/registry"
)

// known is what the clients know exists: accounts, rights, and the ids of
// commands, so that later commands name them.
type known struct {
	accounts, rights []string
	// ids lists, by kind of command, the ids of the commands that record
	// something (whether it was recorded or not); where tells the right or
	// account each is on.
	ids   map[string][]string
	where map[string]string
	// trades and transfers are those sent, by trade and transfer id, for
	// clients that reuse an id with other content; taken holds the ids
	// under which such other content was sent.
	trades    map[string]domain.SettleTrade
	transfers map[string]domain.TransferUnits
	taken     map[string]bool
	seq       int
}

func newKnown() known {
	return known{ids: map[string][]string{}, where: map[string]string{}, trades: map[string]domain.SettleTrade{}, transfers: map[string]domain.TransferUnits{},
		taken: map[string]bool{}}
}

// fresh returns an id nobody used.
func (w *world) fresh(prefix string) string {
	w.known.seq++
	return fmt.Sprintf("%s%d", prefix, w.known.seq)
}

// right returns a right, now and then one that does not exist.
func (w *world) right() string {
	if w.rng.IntN(40) == 0 {
		return "NO-SUCH-RIGHT"
	}
	return w.known.rights[w.rng.IntN(len(w.known.rights))]
}

// account returns an account, now and then one that does not exist.
func (w *world) account() string {
	if w.rng.IntN(40) == 0 {
		return "NO-SUCH-ACCOUNT"
	}
	return w.known.accounts[w.rng.IntN(len(w.known.accounts))]
}

// holder returns, most often, an account with units of the right
// available, as the service tells; else any account.
func (w *world) holder(right string) string {
	if w.rng.IntN(4) == 0 {
		return w.account()
	}
	var held []string
	_, err := w.proc.svc.ReadRight(w.ctx, right, func(r *domain.Right) {
		for _, h := range r.Holdings() {
			if h.Available > 0 {
				held = append(held, h.AccountID)
			}
		}
	})
	if err != nil || len(held) == 0 {
		return w.account()
	}
	return held[w.rng.IntN(len(held))]
}

// other returns an account other than a, most often.
func (w *world) other(a string) string {
	for range 3 {
		if b := w.account(); b != a {
			return b
		}
	}
	return a
}

// pickID returns an id of a command of the kind, or "" when none is known.
func (w *world) pickID(kind string) string {
	ids := w.known.ids[kind]
	if len(ids) == 0 {
		return ""
	}
	return ids[w.rng.IntN(len(ids))]
}

// pick returns an id of a command of the kind and where it is, most often;
// now and then, and when none is known, an id never used; now and then the
// right place of a known id is swapped for another.
func (w *world) pick(kind, prefix string, other func(*world) string) (id, place string) {
	id = w.pickID(kind)
	if id == "" || w.rng.IntN(10) == 0 {
		return w.fresh(prefix), other(w)
	}
	if w.rng.IntN(10) == 0 {
		return id, other(w)
	}
	return id, w.known.where[id]
}

// client is a simulated client: it issues one command at a time and, when
// an attempt ends without an outcome, issues it again, with the same id and
// content, until it learns the outcome.
type client struct {
	name    string
	pending *command
}

// act issues a new command, or retries the pending one; a client with a
// pending command sometimes waits a step, as a client backing off does.
func (c *client) act(w *world) {
	if c.pending == nil {
		cmd := w.newCommand()
		if cmd.creates && cmd.ref != "" {
			w.known.ids[cmd.kind] = append(w.known.ids[cmd.kind], cmd.ref)
			w.known.where[cmd.ref] = cmd.place
		}
		if cmd.remember != nil {
			cmd.remember(&w.known)
		}
		if cmd.reuses {
			// From now on the id may hold this other content.
			w.known.taken[cmd.id] = true
		}
		c.pending = cmd
		c.attempt(w)
		return
	}
	if w.rng.IntN(3) == 0 {
		w.note(c.name + " backs off")
		return
	}
	c.retry(w)
}

func (c *client) retry(w *world) {
	w.stats.retries++
	c.attempt(w)
}

// attempt sends the pending command and judges the answer as the API says
// a client should: a success or a refusal is the outcome; any other error
// leaves the outcome unknown, and the command is sent again later.
func (c *client) attempt(w *world) {
	cmd := c.pending
	cmd.attempts++
	w.stats.attempts++
	meta := registry.Meta{Actor: c.name, CorrelationID: fmt.Sprintf("%s-%d", c.name, w.stats.attempts)}
	a := cmd.run(w.ctx, w.proc.svc, meta)
	switch {
	case a.err == nil:
		w.note(fmt.Sprintf("%s %s (attempt %d): %s at %s/%d position %d, replay %v", c.name, cmd.describe(), cmd.attempts,
			a.eventType, a.commit.Stream, a.commit.Revision, a.commit.Position.Commit, a.replay))
		w.judgeSuccess(cmd, a)
	case refusal(a.err) != "":
		w.note(fmt.Sprintf("%s %s (attempt %d): refused %s", c.name, cmd.describe(), cmd.attempts, refusal(a.err)))
		w.judgeRefusal(cmd, refusal(a.err))
	default:
		w.expectUnknown(cmd.describe(), a.err)
		w.note(fmt.Sprintf("%s %s (attempt %d): no outcome: %v", c.name, cmd.describe(), cmd.attempts, a.err))
		w.stats.outcomes["unknown"]++
		cmd.unknown = true
		return
	}
	c.pending = nil
}

// refusal returns the check code of a refusal, "" for any other error.
func refusal(err error) string {
	if r, ok := domain.RejectionOf(err); ok {
		return r.Check.Code
	}
	return ""
}

// expectUnknown fails the run unless err is one the faults cause: an error
// of any other kind is a bug, whatever the command.
func (w *world) expectUnknown(what string, err error) {
	w.t.Helper()
	for _, cause := range []error{errInjected, errCrashed, eventstore.ErrWritesStopped, registry.ErrContention} {
		if errors.Is(err, cause) {
			return
		}
	}
	// A timeout after an append comes back as the context's error.
	if strings.Contains(err.Error(), "context deadline exceeded") {
		return
	}
	w.fatalf("%s failed with an error no fault explains: %v", what, err)
}

// Check codes that say "this id was used before": with the same content
// (a duplicate; since every command with an id replays its outcome, only an
// account or a right opened or registered before is still refused so) or
// with other content.
var (
	duplicateChecks = map[string]bool{domain.CheckAccountAlreadyExists.Code: true, domain.CheckRightAlreadyExists.Code: true,
		domain.CheckDuplicateTransferID.Code: true, domain.CheckDuplicateRetirementID.Code: true, domain.CheckDuplicateOperationID.Code: true}
	reusedChecks = map[string]bool{domain.CheckTransferIDReused.Code: true, domain.CheckRetirementIDReused.Code: true,
		domain.CheckOperationIDReused.Code: true, domain.CheckTradeIDReused.Code: true}
)

// judgeSuccess records an answer, after checking it: only a command sent
// before (a retry, a resend) may be a replay, and a command acknowledged
// before and sent again gets exactly its first answer back.
func (w *world) judgeSuccess(cmd *command, a answer) {
	// A re-used id's content may be one sent under it before: its replay.
	first := cmd.attempts == 1 && cmd.resends == nil && !cmd.reuses
	switch {
	case a.replay && first:
		w.fatalf("%s, sent for the first time, was answered as a replay", cmd.describe())
	case cmd.resends != nil:
		got, want := a.commit, cmd.resends.commit
		got.Replay, want.Replay = false, false
		if !a.replay || got != want || a.eventType != cmd.resends.eventType {
			w.fatalf("%s, acknowledged as %s at %+v, was answered %s at %+v (replay %v) when sent again", cmd.describe(),
				cmd.resends.eventType, want, a.eventType, got, a.replay)
		}
		w.stats.outcomes["resent and replayed"]++
		return
	case a.replay:
		w.stats.outcomes["retried and replayed"]++
	default:
		w.stats.outcomes["recorded"]++
	}
	w.ledger.ack(cmd, a.eventType, a.commit)
	w.learn(cmd)
}

// judgeRefusal records a refusal, after checking that it makes sense: a
// new id is never taken already, a command sent again unchanged is never
// refused for changing what its id stands for, and one whose earlier
// attempt was recorded is never refused at all: it gets its outcome
// replayed. Only an account opened or a right registered by an attempt
// whose outcome was unknown is learnt from the log, by the refusal of its
// id as taken.
func (w *world) judgeRefusal(cmd *command, code string) {
	switch {
	case cmd.resends != nil:
		w.fatalf("%s, acknowledged before, was refused with %s when sent again, instead of replayed", cmd.describe(), code)
	case duplicateChecks[code] && cmd.id != "":
		w.fatalf("%s was refused with %s: a retry must get its outcome replayed", cmd.describe(), code)
	case cmd.creates && !cmd.unknown && (duplicateChecks[code] || reusedChecks[code]):
		w.fatalf("%s, on a new id, was refused with %s", cmd.describe(), code)
	case cmd.unknown && !cmd.reuses && reusedChecks[code] && !w.known.taken[cmd.id]:
		w.fatalf("%s, sent again unchanged, was refused with %s", cmd.describe(), code)
	case cmd.unknown && cmd.creates && !w.known.taken[cmd.id]:
		typ, commit, found := w.findRecorded(cmd)
		switch {
		case found && cmd.id != "":
			w.fatalf("%s was recorded by an earlier attempt (%s at %s/%d), but sent again it was refused with %s instead of replayed",
				cmd.describe(), typ, commit.Stream, commit.Revision, code)
		case found:
			w.stats.outcomes["learned from the log"]++
			w.ledger.ack(cmd, typ, commit)
			w.learn(cmd)
			return
		case duplicateChecks[code]:
			w.fatalf("%s was refused with %s, but nothing is recorded under its id", cmd.describe(), code)
		}
	}
	w.stats.outcomes["refused "+code]++
	w.ledger.refuse(cmd, code)
}

// learn notes what a recorded command made known.
func (w *world) learn(cmd *command) {
	switch cmd.kind {
	case "open":
		w.known.accounts = append(w.known.accounts, cmd.place)
	case "register":
		w.known.rights = append(w.known.rights, cmd.place)
	}
}

// recordedTypes are the event types that record each kind of command.
var recordedTypes = map[string][]string{
	"transfer": {domain.EventTypeUnitsTransferred}, "retire": {domain.EventTypeUnitsRetired}, "pledge": {domain.EventTypeUnitsPledged},
	"release": {domain.EventTypePledgeReleased}, "enforce": {domain.EventTypePledgeEnforced}, "freeze": {domain.EventTypeUnitsFrozen},
	"unfreeze": {domain.EventTypeUnitsUnfrozen}, "freeze-account": {domain.EventTypeAccountFrozen}, "unfreeze-account": {domain.EventTypeAccountUnfrozen},
	"reserve": {domain.EventTypeUnitsReserved}, "settle": {domain.EventTypeReservationSettled}, "void": {domain.EventTypeReservationVoided},
	"cancel": {domain.EventTypeUnitsCancelled}, "reverse": {domain.EventTypeTransactionReversed},
	"trade": {domain.EventTypeTradeSettled, domain.EventTypeTradeRefused}, "open": {domain.EventTypeAccountOpened},
	"register": {domain.EventTypeRightRegistered}, "status": {domain.EventTypeAccountStatusChanged},
}

// findRecorded looks in the log for the event that records cmd: one of its
// kind's types, on its stream, under its id.
func (w *world) findRecorded(cmd *command) (string, registry.Commit, bool) {
	st := w.log.Open()
	defer st.Close()
	evs, err := st.ReadStream(w.ctx, cmd.stream, 0, eventstore.Forwards, 0)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return "", registry.Commit{}, false
	}
	if err != nil {
		w.fatalf("read %s: %v", cmd.stream, err)
	}
	for _, e := range evs {
		if !recordsKind(cmd.kind, e.Type) {
			continue
		}
		env, err := eventcodec.DecodeMetadata(e.Metadata)
		if err != nil {
			w.fatalf("%s revision %d: %v", e.Stream, e.Revision, err)
		}
		if env.CommandID == cmd.id {
			return e.Type, registry.Commit{Stream: e.Stream, Revision: e.Revision, Position: e.Position}, true
		}
	}
	return "", registry.Commit{}, false
}

func recordsKind(kind, eventType string) bool {
	for _, t := range recordedTypes[kind] {
		if t == eventType {
			return true
		}
	}
	return false
}

// ledger is what the clients were told.
type ledger struct {
	acked   []acked
	refused []refused
}

// acked is a command the client knows recorded, by an answer or, after an
// unknown outcome, by reading the log.
type acked struct {
	cmd       *command
	eventType string
	commit    registry.Commit
}

// refused is a command refused with a check code.
type refused struct {
	cmd  *command
	code string
}

func newLedger() *ledger { return &ledger{} }

func (l *ledger) ack(cmd *command, eventType string, commit registry.Commit) {
	l.acked = append(l.acked, acked{cmd: cmd, eventType: eventType, commit: commit})
}

func (l *ledger) refuse(cmd *command, code string) {
	l.refused = append(l.refused, refused{cmd: cmd, code: code})
}
