package domain

import (
	"fmt"
	"time"
)

// The records below are what a right remembers of each operation recorded
// on it, to tell a retry from a re-used id and to find what a correction
// reverses.

// opKind tells apart the kinds of operation whose ids a right remembers;
// ids are unique within a right per kind.
type opKind uint8

const (
	opTransfer opKind = iota + 1
	opRetirement
	opPledge
	opFreeze
	opReservation
	opSettlement
	opCancellation
	opCorrection
)

// opKinds names each kind in messages and says which checks answer a
// command whose id was recorded before: one names a retry (the same
// fields), answered with a *RecordedBefore, the other a re-used id (other
// fields), refused with an *IDReused.
var opKinds = [...]struct {
	name          string
	retry, reused Check
}{
	opTransfer:     {"transfer", CheckDuplicateTransferID, CheckTransferIDReused},
	opRetirement:   {"retirement", CheckDuplicateRetirementID, CheckRetirementIDReused},
	opPledge:       {"pledge", CheckDuplicateOperationID, CheckOperationIDReused},
	opFreeze:       {"freeze order", CheckDuplicateOperationID, CheckOperationIDReused},
	opReservation:  {"reservation", CheckDuplicateOperationID, CheckOperationIDReused},
	opSettlement:   {"settlement", CheckDuplicateOperationID, CheckOperationIDReused},
	opCancellation: {"cancellation", CheckDuplicateOperationID, CheckOperationIDReused},
	opCorrection:   {"correction", CheckDuplicateOperationID, CheckOperationIDReused},
}

// RecordedBefore is a decision's answer to a command whose id its right or
// account recorded before with the same fields: a retry. It is not a
// refusal (RejectionOf does not see it): nothing is to be recorded, and
// the caller answers with the outcome recorded at Revision of the stream,
// as a replay. errors.Is matches it with Check, the check that names a
// retry of its kind (CheckDuplicateTransferID, CheckDuplicateRetirementID,
// CheckDuplicateOperationID).
type RecordedBefore struct {
	// Check names the kind of retry; Field is the command's id field.
	Check Check
	Field string
	// Detail says which operation was recorded, and where.
	Detail string
	// Revision is the stream revision of the event that recorded it.
	Revision int64
}

// Error says what was recorded before.
func (e *RecordedBefore) Error() string { return "domain: " + e.Detail }

// Is matches the check that names the retry.
func (e *RecordedBefore) Is(target error) bool {
	c, ok := target.(Check)
	return ok && c == e.Check
}

// IDReused refuses a command whose id its right or account recorded before
// with other fields (CheckTransferIDReused, CheckRetirementIDReused,
// CheckOperationIDReused). It is a *Rejection to errors.As and RejectionOf,
// and tells where the original is recorded, for the caller to show it.
type IDReused struct {
	*Rejection
	// Revision is the stream revision of the event that recorded the
	// original.
	Revision int64
}

// Unwrap returns the rejection.
func (e *IDReused) Unwrap() error { return e.Rejection }

// seenBefore answers a command whose id was recorded at revision: a retry
// when same, a re-used id otherwise.
func seenBefore(retry, reused Check, field, what string, revision int64, same bool) error {
	if same {
		return &RecordedBefore{Check: retry, Field: field, Revision: revision,
			Detail: fmt.Sprintf("%s was recorded before, with the same fields, at revision %d", what, revision)}
	}
	return &IDReused{Revision: revision,
		Rejection: reject(reused, field, "%s was recorded with different fields, at revision %d", what, revision)}
}

// opKey names one lifecycle operation of a right.
type opKey struct {
	kind opKind
	id   string
}

// opRecord is what a right remembers of a past operation to tell a retry
// from a conflicting re-use of its id, in 40 bytes however long the fields:
// a fingerprint of the request's text and accounts, its quantity, its single
// block when it moved one, and where in the stream it was recorded.
type opRecord struct {
	quantity    int64
	span        Block
	fingerprint uint64
	// revision is the stream revision (Version-1 after applying) of the
	// event that recorded the transaction, so that a correction can read it.
	revision int64
	// reversed is set once a correction reversed the transaction.
	reversed bool
}

// recordOf builds the record of an operation applied as the event
// at revision (the right's version before it was applied).
func recordOf(blocks []Block, quantity int64, fp uint64, revision int64) opRecord {
	rec := opRecord{quantity: quantity, fingerprint: fp, revision: revision}
	if len(blocks) == 1 {
		rec.span = blocks[0]
	}
	return rec
}

// record returns what the right remembers of the operation of the kind
// with the id, and false when it recorded none. Transfers and retirements,
// the most numerous, have maps of their own keyed by id alone.
func (r *Right) record(kind opKind, id string) (opRecord, bool) {
	var rec opRecord
	var ok bool
	switch kind {
	case opTransfer:
		rec, ok = r.transfers[id]
	case opRetirement:
		rec, ok = r.retirements[id]
	default:
		rec, ok = r.ops[opKey{kind, id}]
	}
	return rec, ok
}

// remember records an operation of the kind with the id.
func (r *Right) remember(kind opKind, id string, rec opRecord) {
	switch kind {
	case opTransfer:
		r.transfers[id] = rec
	case opRetirement:
		r.retirements[id] = rec
	default:
		r.ops[opKey{kind, id}] = rec
	}
}

// seenOp answers a command whose id the right already recorded: a retry
// (*RecordedBefore) when the fields agree (the fingerprint, and the
// quantity or range when the command gives one), a re-used id (*IDReused)
// otherwise; nil for a new id.
func (r *Right) seenOp(kind opKind, id, field string, quantity int64, serials *Block, fp uint64) error {
	rec, ok := r.record(kind, id)
	if !ok {
		return nil
	}
	qty := quantity
	if serials != nil {
		qty = serials.Size()
	}
	k := opKinds[kind]
	same := rec.fingerprint == fp && (qty == 0 || rec.quantity == qty) && (serials == nil || rec.span == *serials)
	return seenBefore(k.retry, k.reused, field, fmt.Sprintf("%s %s of right %s", k.name, id, r.id), rec.revision, same)
}

// fingerprint is an FNV-1a hash over length-prefixed strings and integers,
// written out so that it does not allocate.
type fingerprint uint64

func newFingerprint() fingerprint { return 14695981039346656037 }

func (f fingerprint) byte(b byte) fingerprint { return (f ^ fingerprint(b)) * 1099511628211 }

func (f fingerprint) int(n int64) fingerprint {
	for i := 0; i < 8; i++ {
		f = f.byte(byte(n >> (8 * i)))
	}
	return f
}

func (f fingerprint) str(s string) fingerprint {
	// The length prefix keeps ("ab","c") and ("a","bc") apart.
	f = f.int(int64(len(s)))
	for i := 0; i < len(s); i++ {
		f = f.byte(s[i])
	}
	return f
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
