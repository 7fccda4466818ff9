package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// Exchange settlement: an exchange submits a trade it matched; the right
// records it as settled or refused, once.

// MaxMatchedAtSkew is how far ahead of the registry's clock a trade's
// matching time may lie: exchanges and the registry keep their own clocks.
const MaxMatchedAtSkew = 5 * time.Minute

// minMatchedAt is the earliest matching time a trade may have.
var minMatchedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// SettleTrade is the command to settle a trade that an exchange matched:
// units of one right move from the seller to the buyer at the trade's
// price, from the seller's available units or, when ReservationID is set,
// from the units the seller reserved for the exchange.
//
// (ExchangeID, TradeID) identifies the trade across the whole registry.
// Submitting it again with the same fields is a retry and is answered with
// the outcome first recorded; with other fields it is refused with
// CheckTradeIDReused.
type SettleTrade struct {
	// ExchangeID names the exchange that matched the trade.
	ExchangeID string
	// TradeID is the exchange's id of the trade, unique per exchange.
	TradeID string
	// RightID is the right whose units are traded.
	RightID string
	// Seller is the account that delivers the units.
	Seller string
	// Buyer is the account that receives them.
	Buyer string
	// Quantity is the number of units traded (the seller's lowest serials
	// first); zero when Range is given.
	Quantity int64
	// Range is the serial block traded; nil when Quantity is given.
	Range *Block
	// Price is the price per unit; required.
	Price *Price
	// MatchedAt is when the exchange matched the trade.
	MatchedAt time.Time
	// ReservationID names the reservation the units come from; optional.
	ReservationID string
}

// String returns the command in brief, for logs.
func (c SettleTrade) String() string {
	what := fmt.Sprintf("%d units", c.Quantity)
	if c.Range != nil {
		what = "serials " + c.Range.String()
	}
	return fmt.Sprintf("trade %s/%s of right %s: %s from %s to %s", c.ExchangeID, c.TradeID, c.RightID, what, c.Seller, c.Buyer)
}

// TradeKey identifies a trade across the registry: the first 16 bytes of
// the SHA-256 of its exchange id and trade id (see TradeKeyOf). Equal ids
// give equal keys; different ids give different keys except with
// probability about 2^-128 per pair.
type TradeKey [16]byte

// TradeKeyOf returns the key of the trade (exchangeID, tradeID): the first
// 16 bytes of SHA-256 over "ecoregistry.tradekey.v1", a zero byte, and the
// two ids, each preceded by its length in bytes as an 8-byte big-endian
// integer.
func TradeKeyOf(exchangeID, tradeID string) TradeKey {
	var stack [160]byte
	b := append(stack[:0], "ecoregistry.tradekey.v1\x00"...)
	b = appendCanonString(b, exchangeID)
	b = appendCanonString(b, tradeID)
	sum := sha256.Sum256(b)
	var k TradeKey
	copy(k[:], sum[:])
	return k
}

// TradeFingerprint is a digest of everything a trade says, which tells a
// retry (the same fingerprint) from a different trade submitted under the
// same ids.
type TradeFingerprint [16]byte

// Fingerprint returns the trade's fingerprint: the first 16 bytes of the
// SHA-256 of its canonical encoding, which is, in this order,
//
//	"ecoregistry.trade.v1" and a zero byte,
//	exchange id, trade id, right id, seller, buyer     (strings)
//	quantity                                          (int64; 0 when a range is given)
//	a zero byte without a range, or a one byte and its start and end (int64 each)
//	price amount (int64) and currency (string)        (amount 0 and "" without a price)
//	matched-at as Unix seconds and nanoseconds         (int64 each, zero time as 0, 0)
//	reservation id                                    (string)
//
// where a string is its length in bytes as an 8-byte big-endian integer
// followed by its bytes, and an int64 is 8 bytes big-endian, two's
// complement. No floating point and no map order enter it, the length
// prefixes keep adjacent fields apart, and the time is zone-free, so the
// same trade always has the same fingerprint on every machine and version.
func (c SettleTrade) Fingerprint() TradeFingerprint {
	var price Price
	if c.Price != nil {
		price = *c.Price
	}
	return tradeFingerprint(c.ExchangeID, c.TradeID, c.RightID, c.Seller, c.Buyer, c.Quantity, c.Range, price, c.MatchedAt, c.ReservationID)
}

// tradeFingerprint computes the fingerprint documented at
// SettleTrade.Fingerprint from a trade's fields, so that an event's can be
// computed without building the command.
func tradeFingerprint(exchangeID, tradeID, rightID, seller, buyer string, quantity int64, serials *Block, price Price, matchedAt time.Time, reservationID string) TradeFingerprint {
	var stack [512]byte
	b := append(stack[:0], "ecoregistry.trade.v1\x00"...)
	for _, s := range [...]string{exchangeID, tradeID, rightID, seller, buyer} {
		b = appendCanonString(b, s)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(quantity))
	if serials == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.BigEndian.AppendUint64(b, uint64(serials.Start))
		b = binary.BigEndian.AppendUint64(b, uint64(serials.End))
	}
	b = binary.BigEndian.AppendUint64(b, uint64(price.Amount))
	b = appendCanonString(b, price.Currency)
	var sec, nsec int64
	if !matchedAt.IsZero() {
		sec, nsec = matchedAt.Unix(), int64(matchedAt.Nanosecond())
	}
	b = binary.BigEndian.AppendUint64(b, uint64(sec))
	b = binary.BigEndian.AppendUint64(b, uint64(nsec))
	b = appendCanonString(b, reservationID)
	sum := sha256.Sum256(b)
	var f TradeFingerprint
	copy(f[:], sum[:])
	return f
}

// fingerprint returns the fingerprint of the trade the event settled.
func (e *TradeSettled) fingerprint() TradeFingerprint {
	q := e.Quantity
	if e.Range != nil {
		q = 0
	}
	return tradeFingerprint(e.ExchangeID, e.TradeID, e.RightID, e.Seller, e.Buyer, q, e.Range, e.Price, e.MatchedAt, e.ReservationID)
}

// fingerprint returns the fingerprint of the trade the event refused.
func (e *TradeRefused) fingerprint() TradeFingerprint {
	return tradeFingerprint(e.ExchangeID, e.TradeID, e.RightID, e.Seller, e.Buyer, e.Quantity, e.Range, e.Price, e.MatchedAt, e.ReservationID)
}

func appendCanonString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// tradeRecord is what a right remembers of each trade submitted on it, in
// 32 bytes however long its fields (48 with its key in the map, about 60
// with the map's own overhead): a fingerprint of its content, the stream
// revision of the event that recorded its outcome, and the outcome.
type tradeRecord struct {
	fingerprint TradeFingerprint
	revision    int64
	settled     bool
	// reversed is set once a correction reversed the settled trade.
	reversed bool
}

// PriorTrade is the outcome recorded for a trade submitted before.
type PriorTrade struct {
	// RightID is the right on whose stream the outcome is recorded.
	RightID string
	// Revision is the stream revision of the TradeSettled or TradeRefused
	// event that recorded it.
	Revision int64
	// Settled tells whether the trade settled (TradeSettled) or was refused
	// (TradeRefused).
	Settled bool
}

// Trade returns the outcome recorded on the right for the trade
// (exchangeID, tradeID), and false when the right recorded none.
func (r *Right) Trade(exchangeID, tradeID string) (PriorTrade, bool) {
	rec, ok := r.trades[TradeKeyOf(exchangeID, tradeID)]
	if !ok {
		return PriorTrade{}, false
	}
	return PriorTrade{RightID: r.id, Revision: rec.revision, Settled: rec.settled}, true
}

// Trades returns how many trades the right recorded, settled or refused.
func (r *Right) Trades() int { return len(r.trades) }

// TradeSettled records that a trade matched on an exchange settled: units
// moved from the seller's available units (or from its reservation for the
// exchange) to the buyer's available units.
type TradeSettled struct {
	// RightID is the right's id.
	RightID string
	// ExchangeID names the exchange that matched the trade.
	ExchangeID string
	// TradeID is the exchange's id of the trade.
	TradeID string
	// Seller is the account that delivered the units.
	Seller string
	// Buyer is the account that received them.
	Buyer string
	// Range is the serial block the trade named; nil when it named a quantity.
	Range *Block
	// Blocks are the serial blocks moved, as a normalised block list.
	Blocks []Block
	// Quantity is the number of units moved, the total of Blocks.
	Quantity int64
	// Price is the price per unit.
	Price Price
	// MatchedAt is when the exchange matched the trade.
	MatchedAt time.Time
	// ReservationID is the reservation the units came from; empty when none.
	ReservationID string
	// ReservationRemaining is the number of units that stay reserved under
	// ReservationID after the trade; 0 without a reservation.
	ReservationRemaining int64
	// SettledAt is when the registry settled the trade.
	SettledAt time.Time
}

// EventType returns EventTypeTradeSettled.
func (TradeSettled) EventType() string { return EventTypeTradeSettled }

// StreamID returns the right's stream.
func (e TradeSettled) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns SettledAt.
func (e TradeSettled) OccurredAt() time.Time { return e.SettledAt }

func (TradeSettled) isEvent() {}

// Trade returns the trade as it was submitted.
func (e TradeSettled) Trade() SettleTrade {
	c := SettleTrade{ExchangeID: e.ExchangeID, TradeID: e.TradeID, RightID: e.RightID, Seller: e.Seller, Buyer: e.Buyer,
		Quantity: e.Quantity, MatchedAt: e.MatchedAt, ReservationID: e.ReservationID}
	p := e.Price
	c.Price = &p
	if e.Range != nil {
		b := *e.Range
		c.Range, c.Quantity = &b, 0
	}
	return c
}

// TradeRefused records that a trade could not settle, and why: in the
// manner of the UN ITL every trade submitted on an existing right ends
// recorded, completed (TradeSettled) or terminated (TradeRefused), so that a
// retry gets the same answer whatever changed since. It moves no unit.
type TradeRefused struct {
	// RightID is the right's id.
	RightID string
	// ExchangeID names the exchange that matched the trade.
	ExchangeID string
	// TradeID is the exchange's id of the trade.
	TradeID string
	// Seller is the account that was to deliver the units.
	Seller string
	// Buyer is the account that was to receive them.
	Buyer string
	// Quantity is the number of units the trade named; zero when it named a range.
	Quantity int64
	// Range is the serial block the trade named; nil when it named a quantity.
	Range *Block
	// Price is the price per unit the trade named.
	Price Price
	// MatchedAt is when the exchange matched the trade.
	MatchedAt time.Time
	// ReservationID is the reservation the trade named; empty when none.
	ReservationID string
	// CheckCode and CheckName are the code and name of the check that
	// refused the trade, e.g. "E5001" and "INSUFFICIENT_AVAILABLE_UNITS".
	CheckCode string
	CheckName string
	// Field is the field of the trade at fault; empty when none is.
	Field string
	// Detail says what exactly was wrong.
	Detail string
	// RefusedAt is when the registry refused the trade.
	RefusedAt time.Time
}

// EventType returns EventTypeTradeRefused.
func (TradeRefused) EventType() string { return EventTypeTradeRefused }

// StreamID returns the right's stream.
func (e TradeRefused) StreamID() string { return RightStream(e.RightID) }

// OccurredAt returns RefusedAt.
func (e TradeRefused) OccurredAt() time.Time { return e.RefusedAt }

func (TradeRefused) isEvent() {}

// Trade returns the trade as it was submitted.
func (e TradeRefused) Trade() SettleTrade {
	c := SettleTrade{ExchangeID: e.ExchangeID, TradeID: e.TradeID, RightID: e.RightID, Seller: e.Seller, Buyer: e.Buyer,
		Quantity: e.Quantity, MatchedAt: e.MatchedAt, ReservationID: e.ReservationID}
	p := e.Price
	c.Price = &p
	if e.Range != nil {
		b := *e.Range
		c.Range = &b
	}
	return c
}

// Rejection returns the refusal the event records. Its Check is the one of
// the table with the recorded code, or, for a code this version does not
// know, a check with the recorded code and name.
func (e TradeRefused) Rejection() *Rejection {
	c, ok := CheckByCode(e.CheckCode)
	if !ok {
		c = Check{Code: e.CheckCode, Name: e.CheckName}
	}
	return &Rejection{Check: c, Field: e.Field, Detail: e.Detail}
}

// ValidateSettleTrade checks that a trade is well formed at time now,
// whatever the state of the registry, and returns a *ValidationError that
// lists every malformed field, or nil. Such refusals are not recorded:
// nothing identifies the trade reliably, or the right it names may not exist.
func ValidateSettleTrade(cmd SettleTrade, now time.Time) error {
	var v violations
	cmd.check(&v, now)
	return v.err()
}

func (c SettleTrade) check(v *violations, now time.Time) {
	checkID(v, CheckInvalidExchangeID, "exchange_id", c.ExchangeID)
	checkID(v, CheckInvalidTradeID, "trade_id", c.TradeID)
	checkID(v, CheckInvalidRightID, "right_id", c.RightID)
	checkID(v, CheckInvalidAccountID, "seller", c.Seller)
	checkID(v, CheckInvalidAccountID, "buyer", c.Buyer)
	checkQuantityOrRange(v, c.Quantity, c.Range)
	if c.Price == nil {
		v.add(CheckRequiredFieldMissing, "price", "a trade needs its price per unit")
	}
	checkPrice(v, c.Price, quantityOf(c.Quantity, c.Range))
	switch {
	case c.MatchedAt.IsZero():
		v.add(CheckRequiredFieldMissing, "matched_at", "a trade needs the time it was matched")
	case c.MatchedAt.Before(minMatchedAt) || c.MatchedAt.After(now.Add(MaxMatchedAtSkew)):
		v.add(CheckInvalidMatchedAt, "matched_at", "matched at %s, which is before 2000 or more than %s after the registry's time %s",
			c.MatchedAt.UTC().Format(time.RFC3339Nano), MaxMatchedAtSkew, now.UTC().Format(time.RFC3339))
	}
	if c.ReservationID != "" {
		checkID(v, CheckInvalidOperationID, "reservation_id", c.ReservationID)
	}
}

// DecideSettleTrade decides a trade on right r, given the accounts involved
// and the time. It has three kinds of answer:
//
//   - The trade is new: one event to record, TradeSettled when the units
//     can move, or TradeRefused carrying the check that stopped them:
//     CheckSameAccount, CheckAccountNotFound, an account status check,
//     CheckAccountFrozen, CheckRightNotYetValid, CheckRightExpired,
//     CheckInsufficientAvailableUnits, a serial range check (E5002, E5003,
//     E5005..E5010), or for a trade from a reservation
//     CheckReservationNotFound, CheckReservationNotOpen,
//     CheckReservationTimedOut, CheckReservationMismatch or
//     CheckSettlementExceedsReservation.
//   - The right recorded the trade's ids before: no event, and the prior
//     outcome. With the same fingerprint it is a retry and err is nil; with
//     another, err is a rejection by CheckTradeIDReused.
//   - The trade cannot be recorded on this right: no event, no prior
//     outcome, and a *ValidationError (see ValidateSettleTrade) or a
//     rejection by CheckRightNotFound.
//
// Ids are checked before anything that may have changed since the trade was
// first submitted, so a retry always gets the first answer. It costs
// O(log n + k) for a seller with n blocks of which k move.
func DecideSettleTrade(r Right, cmd SettleTrade, accounts AccountLookup, now time.Time) ([]Event, *PriorTrade, error) {
	key := TradeKeyOf(cmd.ExchangeID, cmd.TradeID)
	// A retry is recognised before its fields are checked against the time
	// (matched_at now ahead of a clock that went back): they are the fields
	// recorded, which were valid then.
	if rec, ok := r.trades[key]; ok && !now.IsZero() && rightFor(&r, cmd.RightID) == nil && rec.fingerprint == cmd.Fingerprint() {
		return nil, &PriorTrade{RightID: r.id, Revision: rec.revision, Settled: rec.settled}, nil
	}
	if err := r.open(now, cmd.RightID, cmd.check, nil); err != nil {
		return nil, nil, err
	}
	// A trade answers its prior outcome, so it is not seen by open.
	if rec, ok := r.trades[key]; ok {
		prior := &PriorTrade{RightID: r.id, Revision: rec.revision, Settled: rec.settled}
		if rec.fingerprint == cmd.Fingerprint() {
			return nil, prior, nil
		}
		return nil, prior, reject(CheckTradeIDReused, "trade_id", "trade %s of exchange %s was submitted before with other fields; its outcome is recorded at revision %d of right %s",
			cmd.TradeID, cmd.ExchangeID, rec.revision, r.id)
	}
	blocks, remaining, rej := r.tradeUnits(&cmd, accounts, now)
	if rej != nil {
		e := TradeRefused{RightID: r.id, ExchangeID: cmd.ExchangeID, TradeID: cmd.TradeID, Seller: cmd.Seller, Buyer: cmd.Buyer,
			Quantity: cmd.Quantity, Price: *cmd.Price, MatchedAt: utc(cmd.MatchedAt), ReservationID: cmd.ReservationID,
			CheckCode: rej.Check.Code, CheckName: rej.Check.Name, Field: rej.Field, Detail: rej.Detail, RefusedAt: utc(now)}
		if cmd.Range != nil {
			b := *cmd.Range
			e.Range = &b
		}
		return []Event{e}, nil, nil
	}
	e := TradeSettled{RightID: r.id, ExchangeID: cmd.ExchangeID, TradeID: cmd.TradeID, Seller: cmd.Seller, Buyer: cmd.Buyer,
		Blocks: blocks, Quantity: BlocksTotal(blocks), Price: *cmd.Price, MatchedAt: utc(cmd.MatchedAt),
		ReservationID: cmd.ReservationID, ReservationRemaining: remaining, SettledAt: utc(now)}
	if cmd.Range != nil {
		b := *cmd.Range
		e.Range = &b
	}
	return []Event{e}, nil, nil
}

// tradeUnits checks that a trade may settle now and picks the blocks it
// moves; for a trade from a reservation it also returns how many units stay
// reserved. The seller must be open and not frozen, the buyer open or
// restricted, and the right within its validity.
func (r *Right) tradeUnits(cmd *SettleTrade, accounts AccountLookup, now time.Time) ([]Block, int64, *Rejection) {
	if cmd.Seller == cmd.Buyer {
		return nil, 0, reject(CheckSameAccount, "buyer", "account %s cannot buy from itself", cmd.Buyer)
	}
	if rej := checkAccount(accounts, cmd.Seller, "seller", roleSeller); rej != nil {
		return nil, 0, rej
	}
	if rej := checkAccount(accounts, cmd.Buyer, "buyer", roleReceiver); rej != nil {
		return nil, 0, rej
	}
	if rej := r.checkValidAt(now); rej != nil {
		return nil, 0, rej
	}
	if cmd.ReservationID == "" {
		blocks, rej := r.selectUnits(cmd.Seller, cmd.Quantity, cmd.Range)
		return blocks, 0, rej
	}
	res, rej := r.openReservation(cmd.ReservationID, now)
	if rej != nil {
		return nil, 0, rej
	}
	switch {
	case res.holder != cmd.Seller:
		return nil, 0, reject(CheckReservationMismatch, "reservation_id", "reservation %s of right %s holds units of %s, not of the seller %s",
			cmd.ReservationID, r.id, res.holder, cmd.Seller)
	case res.exchange != cmd.ExchangeID:
		return nil, 0, reject(CheckReservationMismatch, "reservation_id", "reservation %s of right %s was made for exchange %q, not %s",
			cmd.ReservationID, r.id, truncate(res.exchange), cmd.ExchangeID)
	}
	if cmd.Range == nil && cmd.Quantity > res.count {
		return nil, 0, reject(CheckSettlementExceedsReservation, "quantity", "reservation %s has %d units reserved, the trade is for %d",
			cmd.ReservationID, res.count, cmd.Quantity)
	}
	blocks, rej := selectFrom(res.blocks, cmd.Quantity, cmd.Range, "units reserved under reservation "+cmd.ReservationID)
	if rej != nil {
		return nil, 0, rej
	}
	return blocks, res.count - BlocksTotal(blocks), nil
}

// applyTradeSettled moves the units of a settled trade to the buyer.
func (r *Right) applyTradeSettled(e TradeSettled, moves []Movement) error {
	if err := r.checkRightEvent("trade", e.TradeID, e.RightID); err != nil {
		return err
	}
	key := TradeKeyOf(e.ExchangeID, e.TradeID)
	if _, ok := r.trades[key]; ok || e.Buyer == "" || e.Buyer == e.Seller {
		return fmt.Errorf("%w: trade %s of exchange %s recorded twice or without a distinct buyer", ErrEventDoesNotApply, e.TradeID, e.ExchangeID)
	}
	if e.ReservationID == "" {
		if err := r.moveAll(moves); err != nil {
			return err
		}
	} else {
		v := r.reservations[e.ReservationID]
		if v == nil || v.holder != e.Seller || e.ReservationRemaining != v.count-e.Quantity {
			return fmt.Errorf("%w: trade %s of exchange %s settles from reservation %s of %s, which is not open with %d units",
				ErrEventDoesNotApply, e.TradeID, e.ExchangeID, e.ReservationID, e.Seller, e.ReservationRemaining+e.Quantity)
		}
		rest, err := SubtractBlocks(slices.Clone(v.blocks), e.Blocks)
		if err != nil {
			return fmt.Errorf("%w: trade %s of exchange %s: %v", ErrEventDoesNotApply, e.TradeID, e.ExchangeID, err)
		}
		if err := r.moveAll(moves); err != nil {
			return err
		}
		v.blocks, v.count = rest, v.count-e.Quantity
		if v.count == 0 {
			delete(r.reservations, e.ReservationID)
		}
	}
	r.noteTrade(key, e.fingerprint(), true)
	return nil
}

// applyTradeRefused remembers a refused trade. It applies after the right
// expired too: trades on an expired right are refused and recorded.
func (r *Right) applyTradeRefused(e TradeRefused) error {
	if !r.Registered() || e.RightID != r.id {
		return fmt.Errorf("%w: refused trade %s of right %q applied to right %q", ErrEventDoesNotApply, e.TradeID, e.RightID, r.id)
	}
	key := TradeKeyOf(e.ExchangeID, e.TradeID)
	if _, ok := r.trades[key]; ok || e.CheckCode == "" {
		return fmt.Errorf("%w: trade %s of exchange %s recorded twice or refused without a check", ErrEventDoesNotApply, e.TradeID, e.ExchangeID)
	}
	r.noteTrade(key, e.fingerprint(), false)
	return nil
}

func (r *Right) noteTrade(key TradeKey, fp TradeFingerprint, settled bool) {
	if r.trades == nil {
		r.trades = make(map[TradeKey]tradeRecord)
	}
	r.trades[key] = tradeRecord{fingerprint: fp, revision: r.version, settled: settled}
}
