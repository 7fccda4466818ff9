package domain

import (
	"fmt"
	"slices"
	"time"
)

// Corrections: a regulator reverses a completed transaction by a new,
// compensating movement.

// ReverseTransaction is the command by which a regulator reverses a
// completed transaction of a right, named by its kind and id.
type ReverseTransaction struct {
	// RightID is the right.
	RightID string
	// CorrectionID is the regulator's id of the correction, unique within the right.
	CorrectionID string
	// Kind is the kind of the transaction to reverse.
	Kind TransactionKind
	// OriginalID is the transaction's id (transfer, retirement, settlement, cancellation or trade id).
	OriginalID string
	// ExchangeID is, for TransactionKindTrade, the exchange whose trade id
	// OriginalID is; it must be empty for the other kinds.
	ExchangeID string
	// Authority is the regulator; required.
	Authority string
	// Reason says why; required.
	Reason string
}

// TransactionKind names a kind of completed transaction that a correction
// may reverse.
type TransactionKind int32

// The kinds of reversible transaction.
const (
	// TransactionKindUnspecified is the invalid zero value.
	TransactionKindUnspecified TransactionKind = iota
	// TransactionKindTransfer is a transfer (UnitsTransferred), named by its transfer id.
	TransactionKindTransfer
	// TransactionKindRetirement is a retirement (UnitsRetired), named by its retirement id.
	TransactionKindRetirement
	// TransactionKindSettlement is a settlement of a reservation (ReservationSettled), named by its settlement id.
	TransactionKindSettlement
	// TransactionKindCancellation is a cancellation (UnitsCancelled), named by its cancellation id.
	TransactionKindCancellation
	// TransactionKindTrade is a trade an exchange submitted for settlement
	// (TradeSettled), named by its exchange and trade id.
	TransactionKindTrade
)

var transactionKindNames = []string{"UNSPECIFIED", "TRANSFER", "RETIREMENT", "SETTLEMENT", "CANCELLATION", "TRADE"}

// String returns the kind's UPPER_SNAKE name.
func (k TransactionKind) String() string { return enumString(transactionKindNames, int32(k)) }

// Valid reports whether k is a specified, known kind.
func (k TransactionKind) Valid() bool { return enumValid(transactionKindNames, int32(k)) }

// TransactionReversed records a regulator's correction of a completed
// transaction: a new, compensating movement of the same units back where
// they came from. The original event stays as it was.
type TransactionReversed struct {
	// RightID is the right's id.
	RightID string
	// CorrectionID is the regulator's id of the correction, unique within the right.
	CorrectionID string
	// OriginalKind is the kind of the reversed transaction.
	OriginalKind TransactionKind
	// OriginalID is the id of the reversed transaction (transfer, retirement, settlement, cancellation or trade id).
	OriginalID string
	// ExchangeID is, for a trade, the exchange whose trade id OriginalID is;
	// empty for the other kinds.
	ExchangeID string
	// From is the account the units are taken back from; empty when they come
	// from the retired state of To (a retirement) or from the cancelled units.
	From string
	// To is the account the units return to.
	To string
	// Blocks are the serial blocks moved back.
	Blocks []Block
	// Quantity is the number of units moved back.
	Quantity int64
	// Authority is the regulator that ordered the correction.
	Authority string
	// Reason says why; required.
	Reason string
	// ReversedAt is when the reversal was recorded.
	ReversedAt time.Time
}

// EventType returns EventTypeTransactionReversed.
func (TransactionReversed) EventType() string { return EventTypeTransactionReversed }

// StreamID returns the right's stream.
func (e TransactionReversed) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns ReversedAt.
func (e TransactionReversed) OccurredAt() time.Time { return e.ReversedAt }

func (TransactionReversed) isEvent() {}

// DecideReverse decides whether a regulator may reverse a completed
// transaction: the units it moved go back where they came from, as a new
// TransactionReversed event. original is the event that recorded the
// transaction; the caller reads it from the right's stream at
// CorrectedRevision(cmd). The accounts involved may
// have any status but closed.
//
// A transfer or settlement is reversed only while its recipient still has
// every unit it received available: when some have moved on since
// (transferred, pledged, frozen, reserved, retired, cancelled), it is
// refused with CheckReversalBlocked, whose detail names the blocking serial
// blocks and where they are now. Retired and cancelled units never move, so
// retirements and cancellations of a holder's units can always be reversed
// once; buffer-pool cancellations cannot.
//
// It returns one TransactionReversed event, a *RecordedBefore (a retry), a
// *ValidationError, or a *Rejection: CheckRightNotFound,
// CheckOperationIDReused (an *IDReused), CheckTransactionNotFound,
// CheckTransactionAlreadyReversed, CheckTransactionNotReversible,
// CheckRightExpired, CheckAccountNotFound, CheckAccountClosed or
// CheckReversalBlocked.
func DecideReverse(r Right, cmd ReverseTransaction, original Event, accounts AccountLookup, now time.Time) ([]Event, error) {
	if err := r.open(now, cmd.RightID, cmd.check, cmd.seen); err != nil {
		return nil, err
	}
	rec, ok := r.transactionOf(cmd.Kind, cmd.ExchangeID, cmd.OriginalID)
	if !ok {
		if t, found := r.trades[TradeKeyOf(cmd.ExchangeID, cmd.OriginalID)]; found && cmd.Kind == TransactionKindTrade && !t.settled {
			return nil, reject(CheckTransactionNotFound, "original_id", "trade %s of exchange %s was refused on right %s: nothing moved, nothing to reverse", cmd.OriginalID, cmd.ExchangeID, r.id)
		}
		return nil, reject(CheckTransactionNotFound, "original_id", "right %s has no %s %s", r.id, cmd.Kind, describeOriginal(cmd.Kind, cmd.ExchangeID, cmd.OriginalID))
	}
	if rec.reversed {
		return nil, reject(CheckTransactionAlreadyReversed, "original_id", "%s %s of right %s was already reversed", cmd.Kind, cmd.OriginalID, r.id)
	}
	if !r.expiredAt.IsZero() {
		return nil, r.checkValidAt(now)
	}
	// What moved, from where to where, read from the original event.
	var blocks []Block
	var from, to string
	var fromState UnitState
	switch e := original.(type) {
	case UnitsTransferred:
		if cmd.Kind != TransactionKindTransfer || e.TransferID != cmd.OriginalID {
			return nil, fmt.Errorf("domain: reversal of %s %s given %s %s", cmd.Kind, cmd.OriginalID, e.EventType(), e.TransferID)
		}
		blocks, from, to, fromState = e.Blocks, e.To, e.From, StateAvailable
	case ReservationSettled:
		if cmd.Kind != TransactionKindSettlement || e.SettlementID != cmd.OriginalID {
			return nil, fmt.Errorf("domain: reversal of %s %s given %s %s", cmd.Kind, cmd.OriginalID, e.EventType(), e.SettlementID)
		}
		blocks, from, to, fromState = e.Blocks, e.Buyer, e.Seller, StateAvailable
	case TradeSettled:
		if cmd.Kind != TransactionKindTrade || e.TradeID != cmd.OriginalID || e.ExchangeID != cmd.ExchangeID {
			return nil, fmt.Errorf("domain: reversal of %s %s given %s %s of %s", cmd.Kind, cmd.OriginalID, e.EventType(), e.TradeID, e.ExchangeID)
		}
		blocks, from, to, fromState = e.Blocks, e.Buyer, e.Seller, StateAvailable
	case UnitsRetired:
		if cmd.Kind != TransactionKindRetirement || e.RetirementID != cmd.OriginalID {
			return nil, fmt.Errorf("domain: reversal of %s %s given %s %s", cmd.Kind, cmd.OriginalID, e.EventType(), e.RetirementID)
		}
		blocks, to, fromState = e.Blocks, e.Holder, StateRetired
	case UnitsCancelled:
		if cmd.Kind != TransactionKindCancellation || e.CancellationID != cmd.OriginalID {
			return nil, fmt.Errorf("domain: reversal of %s %s given %s %s", cmd.Kind, cmd.OriginalID, e.EventType(), e.CancellationID)
		}
		if e.Holder == "" {
			return nil, reject(CheckTransactionNotReversible, "original_id", "cancellation %s took units of the buffer pool of right %s, which is not refilled", cmd.OriginalID, r.id)
		}
		blocks, to, fromState = e.Blocks, e.Holder, StateCancelled
	default:
		return nil, fmt.Errorf("domain: reversal of %s %s given %T", cmd.Kind, cmd.OriginalID, original)
	}
	if rec.quantity >= 0 && BlocksTotal(blocks) != rec.quantity {
		return nil, fmt.Errorf("domain: reversal of %s %s given an event of %d units, %d were recorded", cmd.Kind, cmd.OriginalID, BlocksTotal(blocks), rec.quantity)
	}
	for _, acct := range []struct{ id, field string }{{from, "original_id"}, {to, "original_id"}} {
		if acct.id == "" {
			continue
		}
		if rej := checkAccount(accounts, acct.id, acct.field, roleAuthorityTarget); rej != nil {
			return nil, rej
		}
	}
	// Retired units stay in their holder's holding; cancelled ones in the right's list.
	source := from
	if fromState == StateRetired {
		source = to
	}
	var have []Block
	if l := r.list(Place{Account: source, State: fromState}, false); l != nil {
		have = l.blocks
	}
	if blocking := missingBlocks(have, blocks); len(blocking) > 0 {
		where := "are no longer available to " + from
		switch fromState {
		case StateRetired:
			where = "are no longer retired by " + to
		case StateCancelled:
			where = "are no longer cancelled"
		}
		return nil, reject(CheckReversalBlocked, "original_id", "%s %s of right %s cannot be reversed: serial blocks %s %s (%s)",
			cmd.Kind, cmd.OriginalID, r.id, formatBlocks(blocking), where, r.whereAre(blocking))
	}
	return []Event{TransactionReversed{RightID: r.id, CorrectionID: cmd.CorrectionID, OriginalKind: cmd.Kind, OriginalID: cmd.OriginalID, ExchangeID: cmd.ExchangeID,
		From: from, To: to, Blocks: slices.Clone(blocks), Quantity: BlocksTotal(blocks), Authority: cmd.Authority, Reason: cmd.Reason, ReversedAt: utc(now)}}, nil
}

func (cmd ReverseTransaction) check(v *violations, _ time.Time) {
	checkID(v, CheckInvalidRightID, "right_id", cmd.RightID)
	checkID(v, CheckInvalidOperationID, "correction_id", cmd.CorrectionID)
	if !cmd.Kind.Valid() {
		v.add(CheckInvalidEnumValue, "kind", "transaction kind %s is not a valid kind", cmd.Kind)
	}
	checkText(v, "original_id", cmd.OriginalID, true, MaxIDLength)
	switch {
	case cmd.Kind == TransactionKindTrade:
		checkID(v, CheckInvalidExchangeID, "exchange_id", cmd.ExchangeID)
	case cmd.ExchangeID != "":
		v.add(CheckInvalidExchangeID, "exchange_id", "exchange_id names the exchange of a trade; a %s is named by original_id alone", cmd.Kind)
	}
	checkText(v, "authority", cmd.Authority, true, MaxShortTextLength)
	checkText(v, "reason", cmd.Reason, true, MaxReasonLength)
}

func (cmd ReverseTransaction) seen(r *Right) error {
	return r.seenOp(opCorrection, cmd.CorrectionID, "correction_id", 0, nil, correctionFingerprint(cmd.Kind, cmd.ExchangeID, cmd.OriginalID, cmd.Authority, cmd.Reason))
}

// CorrectedRevision returns the stream revision of the event that recorded
// the transaction cmd reverses, and false when the right recorded none (for
// a trade: settled none; a refused trade moved nothing).
func (r *Right) CorrectedRevision(cmd ReverseTransaction) (int64, bool) {
	rec, ok := r.transactionOf(cmd.Kind, cmd.ExchangeID, cmd.OriginalID)
	return rec.revision, ok
}

// transactionOf returns the record of a reversible transaction; a trade's
// has quantity -1, as a right does not keep the quantity of its trades.
func (r *Right) transactionOf(kind TransactionKind, exchange, id string) (opRecord, bool) {
	if kind != TransactionKindTrade {
		return r.transaction(kind, id)
	}
	t, ok := r.trades[TradeKeyOf(exchange, id)]
	if !ok || !t.settled {
		return opRecord{}, false
	}
	return opRecord{quantity: -1, revision: t.revision, reversed: t.reversed}, true
}

// describeOriginal names a transaction in a message.
func describeOriginal(kind TransactionKind, exchange, id string) string {
	if kind == TransactionKindTrade {
		return id + " of exchange " + exchange
	}
	return id
}

// reversibleOps are the operations a correction may reverse, by kind of
// transaction; a trade's outcome is recorded apart.
var reversibleOps = map[TransactionKind]opKind{
	TransactionKindTransfer:     opTransfer,
	TransactionKindRetirement:   opRetirement,
	TransactionKindSettlement:   opSettlement,
	TransactionKindCancellation: opCancellation,
}

// transaction returns the record of a reversible transaction.
func (r *Right) transaction(kind TransactionKind, id string) (opRecord, bool) {
	op, ok := reversibleOps[kind]
	if !ok {
		return opRecord{}, false
	}
	return r.record(op, id)
}

func (r *Right) markReversed(kind TransactionKind, exchange, id string) {
	if kind == TransactionKindTrade {
		key := TradeKeyOf(exchange, id)
		t := r.trades[key]
		t.reversed = true
		r.trades[key] = t
		return
	}
	rec, _ := r.transaction(kind, id)
	rec.reversed = true
	r.remember(reversibleOps[kind], id, rec)
}

func (r *Right) applyReversed(e TransactionReversed, moves []Movement) error {
	if err := r.checkNewOp(opCorrection, e.CorrectionID, e.RightID); err != nil {
		return err
	}
	rec, ok := r.transactionOf(e.OriginalKind, e.ExchangeID, e.OriginalID)
	if !ok || rec.reversed || (rec.quantity >= 0 && rec.quantity != e.Quantity) || e.To == "" {
		return fmt.Errorf("%w: correction %s reverses %s %s, which is not recorded or already reversed", ErrEventDoesNotApply, e.CorrectionID, e.OriginalKind, e.OriginalID)
	}
	if err := r.moveAll(moves); err != nil {
		return err
	}
	r.markReversed(e.OriginalKind, e.ExchangeID, e.OriginalID)
	r.remember(opCorrection, e.CorrectionID, recordOf(e.Blocks, e.Quantity,
		correctionFingerprint(e.OriginalKind, e.ExchangeID, e.OriginalID, e.Authority, e.Reason), r.version))
	return nil
}

// missingBlocks returns the serials of want that the normalised list have
// lacks, as a normalised list.
func missingBlocks(have, want []Block) []Block {
	var out []Block
	for _, w := range want {
		cur := w.Start
		i := searchEnd(have, w.Start)
		for ; i < len(have) && have[i].Start <= w.End && cur <= w.End; i++ {
			if have[i].Start > cur {
				out = append(out, Block{cur, have[i].Start - 1})
			}
			cur = max(cur, have[i].End+1)
		}
		if cur <= w.End {
			out = append(out, Block{cur, w.End})
		}
	}
	return out
}

func formatBlocks(bs []Block) string {
	s := ""
	for i, b := range bs {
		if i > 0 {
			s += ", "
		}
		s += b.String()
	}
	return s
}

// whereAre says where the given serials are now, for a refusal's detail.
func (r *Right) whereAre(bs []Block) string {
	var parts []string
	note := func(where string, l []Block) {
		for _, b := range bs {
			if BlocksOverlap(l, b) {
				parts = append(parts, where)
				return
			}
		}
	}
	for _, id := range sortedKeys(r.holdings) {
		u := r.holdings[id]
		note("available to "+id, u.Blocks(StateAvailable))
		note("pledged by "+id, u.Blocks(StatePledged))
		note("frozen at "+id, u.Blocks(StateFrozen))
		note("reserved by "+id, u.Blocks(StateReserved))
		note("retired by "+id, u.Blocks(StateRetired))
	}
	note("cancelled", r.ownList(StateCancelled).blocks)
	note("expired", r.ownList(StateExpired).blocks)
	if len(parts) == 0 {
		return "now elsewhere"
	}
	out := "now "
	for i, p := range parts {
		if i > 0 {
			out += "; "
		}
		out += p
	}
	return out
}

func correctionFingerprint(kind TransactionKind, exchange, originalID, authority, reason string) uint64 {
	f := newFingerprint().int(int64(kind)).str(originalID).str(authority).str(reason)
	if exchange != "" {
		// Only trades name an exchange; the other kinds keep the
		// fingerprint they always had.
		f = f.str(exchange)
	}
	return uint64(f)
}
