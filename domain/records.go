package domain

import (
	"time"
)

// The records below are what a right remembers of each operation recorded
// on it, to tell a retry from a re-used id and to find what a correction
// reverses.

// opKind tells apart the kinds of lifecycle operation whose ids a right
// remembers; ids are unique within a right per kind.
type opKind uint8

const (
	opPledge opKind = iota + 1
	opFreeze
	opReservation
	opSettlement
	opCancellation
	opCorrection
)

var opKindNames = map[opKind]string{
	opPledge: "pledge", opFreeze: "freeze order", opReservation: "reservation",
	opSettlement: "settlement", opCancellation: "cancellation", opCorrection: "correction",
}

// opKey names one lifecycle operation of a right.
type opKey struct {
	kind opKind
	id   string
}

// transferRecord is what a right remembers of a past transfer to tell a retry
// from a conflicting re-use of its id, in 40 bytes however long the fields:
// a fingerprint of the request's text and accounts, its quantity, its single
// block when it moved one, and where in the stream it was recorded.
type transferRecord struct {
	quantity    int64
	span        Block
	fingerprint uint64
	// revision is the stream revision (Version-1 after applying) of the
	// event that recorded the transaction, so that a correction can read it.
	revision int64
	// reversed is set once a correction reversed the transaction.
	reversed bool
}

// transferRecordOf builds the record of a transaction applied as the event
// at revision (the right's version before it was applied).
func transferRecordOf(blocks []Block, quantity int64, fp uint64, revision int64) transferRecord {
	rec := transferRecord{quantity: quantity, fingerprint: fp, revision: revision}
	if len(blocks) == 1 {
		rec.span = blocks[0]
	}
	return rec
}

// seenOp answers a command whose id the right already recorded: a retry
// when the fields agree, a re-used id otherwise.
func (r *Right) seenOp(kind opKind, id, field string, quantity int64, rng *Block, fp uint64) *Rejection {
	rec, ok := r.ops[opKey{kind, id}]
	if !ok {
		return nil
	}
	qty := quantity
	if rng != nil {
		qty = rng.Size()
	}
	if rec.fingerprint == fp && (qty == 0 || rec.quantity == qty) && (rng == nil || rec.span == *rng) {
		return reject(CheckDuplicateOperationID, field, "%s %s was already recorded on right %s", opKindNames[kind], id, r.id)
	}
	return reject(CheckOperationIDReused, field, "%s %s was recorded on right %s with different fields", opKindNames[kind], id, r.id)
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
