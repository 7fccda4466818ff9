package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tradeOn returns a trade of 100 units of the lifecycle right from a to b.
func tradeOn(id string) SettleTrade {
	return SettleTrade{ExchangeID: "HBEX", TradeID: id, RightID: "CEA2025-HB-0001", Seller: "a", Buyer: "b", Quantity: 100,
		Price: &Price{Amount: 5850, Currency: "CNY"}, MatchedAt: t0.Add(-time.Second)}
}

// settle decides a trade on r at t0 and, when the decision records an
// event, applies it and checks the invariants. It checks that deciding did
// not change r.
func settle(t *testing.T, r *Right, cmd SettleTrade, acc AccountLookup) ([]Event, *PriorTrade, error) {
	t.Helper()
	return settleAt(t, r, cmd, acc, t0)
}

func settleAt(t *testing.T, r *Right, cmd SettleTrade, acc AccountLookup, now time.Time) ([]Event, *PriorTrade, error) {
	t.Helper()
	before := r.Clone()
	evs, prior, err := DecideSettleTrade(*r, cmd, acc, now)
	if !reflect.DeepEqual(before, *r) {
		t.Fatal("deciding changed the right")
	}
	if len(evs) > 0 && (prior != nil || err != nil) {
		t.Fatalf("decided %v together with prior %+v and error %v", evs, prior, err)
	}
	mustApply(t, r, evs)
	return evs, prior, err
}

// mustSettle expects the trade to settle and returns its event.
func mustSettle(t *testing.T, r *Right, cmd SettleTrade, acc AccountLookup) TradeSettled {
	t.Helper()
	evs, prior, err := settle(t, r, cmd, acc)
	if err != nil || prior != nil || len(evs) != 1 {
		t.Fatalf("%s: events %v, prior %+v, error %v", cmd, evs, prior, err)
	}
	e, ok := evs[0].(TradeSettled)
	if !ok {
		t.Fatalf("%s: got %+v, want TradeSettled", cmd, evs[0])
	}
	return e
}

// mustRefuseTrade expects the trade to be refused by check want on field,
// with the refusal recorded as a TradeRefused event, and returns the event.
func mustRefuseTrade(t *testing.T, r *Right, cmd SettleTrade, acc AccountLookup, now time.Time, want Check, field string) TradeRefused {
	t.Helper()
	before := r.Totals()
	evs, prior, err := settleAt(t, r, cmd, acc, now)
	if err != nil || prior != nil || len(evs) != 1 {
		t.Fatalf("%s: events %v, prior %+v, error %v", cmd, evs, prior, err)
	}
	e, ok := evs[0].(TradeRefused)
	if !ok {
		t.Fatalf("%s: got %+v, want TradeRefused by %s", cmd, evs[0], want.Code)
	}
	expectCheck(t, e.Rejection(), want, field)
	if e.CheckCode != want.Code || e.CheckName != want.Name || e.Detail == "" {
		t.Fatalf("refusal %+v, want %s %s with a detail", e, want.Code, want.Name)
	}
	if r.Totals() != before {
		t.Fatalf("a refused trade moved units: %+v, before %+v", r.Totals(), before)
	}
	return e
}

// mustNotRecord expects the trade to be refused by want on field without
// anything to record.
func mustNotRecord(t *testing.T, r *Right, cmd SettleTrade, want Check, field string) {
	t.Helper()
	evs, prior, err := settle(t, r, cmd, allOpen)
	if len(evs) > 0 || prior != nil {
		t.Fatalf("%s: events %v, prior %+v, want an unrecorded refusal by %s", cmd, evs, prior, want.Code)
	}
	expectCheck(t, err, want, field)
}

func TestSettleTrade(t *testing.T) {
	t.Run("a trade by quantity moves the seller's lowest serials to the buyer at its price", func(t *testing.T) {
		r := lifecycleRight(t)
		e := mustSettle(t, &r, tradeOn("X-1"), allOpen)
		want := TradeSettled{RightID: r.ID(), ExchangeID: "HBEX", TradeID: "X-1", Seller: "a", Buyer: "b", Blocks: blocks(7001, 7100), Quantity: 100,
			Price: Price{Amount: 5850, Currency: "CNY"}, MatchedAt: t0.Add(-time.Second), SettledAt: t0}
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("event\n%+v\nwant\n%+v", e, want)
		}
		if a, b := r.Holding("a"), r.Holding("b"); a.Available != 1900 || b.Available != 1100 || !equalBlocks(b.AvailableBlocks, blocks(7001, 7100, 9001, 10000)) {
			t.Fatalf("a holds %+v, b holds %+v", a, b)
		}
		if p, ok := r.Trade("HBEX", "X-1"); !ok || !p.Settled || p.Revision != 3 || p.RightID != r.ID() {
			t.Fatalf("recorded trade %+v, %v", p, ok)
		}
		if r.Trades() != 1 {
			t.Fatalf("%d trades recorded", r.Trades())
		}
	})

	t.Run("a trade by serial range moves exactly that range", func(t *testing.T) {
		r := lifecycleRight(t)
		cmd := tradeOn("X-1")
		cmd.Quantity, cmd.Range = 0, rng(8001, 8010)
		e := mustSettle(t, &r, cmd, allOpen)
		if e.Quantity != 10 || !equalBlocks(e.Blocks, blocks(8001, 8010)) || e.Range == nil || *e.Range != (Block{8001, 8010}) {
			t.Fatalf("event %+v", e)
		}
		if got := e.Trade(); !reflect.DeepEqual(got, cmd) {
			t.Fatalf("the event gives back the trade\n%+v\nwant\n%+v", got, cmd)
		}
	})

	t.Run("a retry is recognised after the clock went back past its matched_at, a new trade is refused", func(t *testing.T) {
		r := lifecycleRight(t)
		mustSettle(t, &r, tradeOn("X-1"), allOpen)
		back := t0.Add(-time.Hour)
		evs, prior, err := settleAt(t, &r, tradeOn("X-1"), allOpen, back)
		if err != nil || len(evs) != 0 || prior == nil || prior.Revision != 3 {
			t.Fatalf("the retry an hour earlier: events %v, prior %+v, error %v", evs, prior, err)
		}
		_, _, err = settleAt(t, &r, tradeOn("X-2"), allOpen, back)
		expectCheck(t, err, CheckInvalidMatchedAt, "matched_at")
	})

	t.Run("a retry with the same fields records nothing and answers the first outcome", func(t *testing.T) {
		r := lifecycleRight(t)
		mustSettle(t, &r, tradeOn("X-1"), allOpen)
		// The retry comes later, written in another time zone, after the
		// seller's account was suspended: the first answer still holds.
		retry := tradeOn("X-1")
		retry.MatchedAt = retry.MatchedAt.In(time.FixedZone("CST", 8*3600))
		suspended := accounts([]string{"b"}, AccountView{ID: "a", Status: AccountStatusSuspended})
		evs, prior, err := settleAt(t, &r, retry, suspended, t0.Add(24*time.Hour))
		if len(evs) != 0 || err != nil || prior == nil || *prior != (PriorTrade{RightID: r.ID(), Revision: 3, Settled: true}) {
			t.Fatalf("events %v, prior %+v, error %v", evs, prior, err)
		}
		if r.Holding("b").Available != 1100 {
			t.Fatalf("the retry moved units again: b holds %+v", r.Holding("b"))
		}
	})

	t.Run("the same ids with other fields are refused with TRADE_ID_REUSED and point to the first outcome", func(t *testing.T) {
		changes := map[string]func(*SettleTrade){
			"quantity":       func(c *SettleTrade) { c.Quantity = 101 },
			"range":          func(c *SettleTrade) { c.Quantity, c.Range = 0, rng(7001, 7100) },
			"buyer":          func(c *SettleTrade) { c.Buyer = "issuer" },
			"seller":         func(c *SettleTrade) { c.Seller = "issuer" },
			"price":          func(c *SettleTrade) { c.Price = &Price{Amount: 5851, Currency: "CNY"} },
			"currency":       func(c *SettleTrade) { c.Price = &Price{Amount: 5850, Currency: "USD"} },
			"matching time":  func(c *SettleTrade) { c.MatchedAt = c.MatchedAt.Add(time.Nanosecond) },
			"reservation id": func(c *SettleTrade) { c.ReservationID = "V1" },
		}
		for name, change := range changes {
			t.Run(name, func(t *testing.T) {
				r := lifecycleRight(t)
				mustSettle(t, &r, tradeOn("X-1"), allOpen)
				other := tradeOn("X-1")
				change(&other)
				evs, prior, err := settle(t, &r, other, allOpen)
				if len(evs) != 0 || prior == nil || !prior.Settled || prior.Revision != 3 {
					t.Fatalf("events %v, prior %+v", evs, prior)
				}
				expectCheck(t, err, CheckTradeIDReused, "trade_id")
			})
		}
	})

	t.Run("ids are per exchange: another exchange may use the same trade id", func(t *testing.T) {
		r := lifecycleRight(t)
		mustSettle(t, &r, tradeOn("X-1"), allOpen)
		other := tradeOn("X-1")
		other.ExchangeID = "SHEX"
		mustSettle(t, &r, other, allOpen)
		if r.Holding("b").Available != 1200 {
			t.Fatalf("b holds %+v", r.Holding("b"))
		}
	})

	t.Run("a refused trade is recorded and its retry is refused the same way after the seller got more units", func(t *testing.T) {
		r := lifecycleRight(t)
		big := tradeOn("X-9")
		big.Quantity = 2500
		e := mustRefuseTrade(t, &r, big, allOpen, t0, CheckInsufficientAvailableUnits, "quantity")
		want := TradeRefused{RightID: r.ID(), ExchangeID: "HBEX", TradeID: "X-9", Seller: "a", Buyer: "b", Quantity: 2500,
			Price: Price{Amount: 5850, Currency: "CNY"}, MatchedAt: t0.Add(-time.Second), CheckCode: "E5001", CheckName: "INSUFFICIENT_AVAILABLE_UNITS",
			Field: "quantity", Detail: e.Detail, RefusedAt: t0}
		if !reflect.DeepEqual(e, want) || !strings.Contains(e.Detail, "2000") {
			t.Fatalf("event\n%+v\nwant\n%+v", e, want)
		}
		transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T-more", From: "issuer", To: "a", Quantity: 1000})
		evs, prior, err := settle(t, &r, big, allOpen)
		if len(evs) != 0 || err != nil || prior == nil || prior.Settled || prior.Revision != 3 {
			t.Fatalf("events %v, prior %+v, error %v", evs, prior, err)
		}
		// Under a new id the same trade now settles.
		big.TradeID = "X-10"
		mustSettle(t, &r, big, allOpen)
	})

	t.Run("every check that stops a trade on an existing right is recorded", func(t *testing.T) {
		frozen := AccountView{ID: "a", Status: AccountStatusOpen, FreezeOrder: "SAMR-2025-9"}
		restricted := AccountView{ID: "a", Status: AccountStatusRestricted}
		closedBuyer := AccountView{ID: "b", Status: AccountStatusClosed}
		cases := []struct {
			name   string
			change func(*SettleTrade)
			setup  func(*testing.T, *Right)
			acc    AccountLookup
			now    time.Time
			want   Check
			field  string
		}{
			{name: "a seller cannot buy from itself", change: func(c *SettleTrade) { c.Buyer = "a" }, want: CheckSameAccount, field: "buyer"},
			{name: "the seller must exist", acc: accounts([]string{"b"}), want: CheckAccountNotFound, field: "seller"},
			{name: "the buyer must exist", acc: accounts([]string{"a"}), want: CheckAccountNotFound, field: "buyer"},
			{name: "a frozen seller cannot sell", acc: accounts([]string{"b"}, frozen), want: CheckAccountFrozen, field: "seller"},
			{name: "a restricted seller cannot sell", acc: accounts([]string{"b"}, restricted), want: CheckAccountRestricted, field: "seller"},
			{name: "a closed buyer cannot buy", acc: accounts([]string{"a"}, closedBuyer), want: CheckAccountClosed, field: "buyer"},
			{name: "pledged units cannot be traded", change: func(c *SettleTrade) { c.Quantity, c.Range = 0, rng(7001, 7010) },
				setup: func(t *testing.T, r *Right) { must(t, r, pledgeOf(pledgeCmd("P1", 10), allOpen)) }, want: CheckUnitsPledged, field: "range"},
			{name: "units reserved for an order cannot be traded without naming the reservation", change: func(c *SettleTrade) { c.Quantity, c.Range = 0, rng(7001, 7010) },
				setup: func(t *testing.T, r *Right) { must(t, r, reserveOf(reserveCmd("V1", 10), allOpen)) }, want: CheckUnitsReserved, field: "range"},
			{name: "a range the seller does not hold", change: func(c *SettleTrade) { c.Quantity, c.Range = 0, rng(9001, 9010) }, want: CheckSerialRangeNotHeld, field: "range"},
			{name: "a range beyond the issuance", change: func(c *SettleTrade) { c.Quantity, c.Range = 0, rng(10001, 10010) }, want: CheckSerialRangeOutsideIssuance, field: "range"},
			{name: "the reservation must exist", change: func(c *SettleTrade) { c.ReservationID = "V9" }, want: CheckReservationNotFound, field: "reservation_id"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := lifecycleRight(t)
				if c.setup != nil {
					c.setup(t, &r)
				}
				cmd := tradeOn("X-1")
				if c.change != nil {
					c.change(&cmd)
				}
				acc := c.acc
				if acc == nil {
					acc = allOpen
				}
				now := c.now
				if now.IsZero() {
					now = t0
				}
				mustRefuseTrade(t, &r, cmd, acc, now, c.want, c.field)
			})
		}
	})

	t.Run("trades outside the right's validity are refused and recorded, also after its expiry", func(t *testing.T) {
		r := register(t, waterCommand())
		transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T-a", From: "issuer", To: "a", Quantity: 1000})
		cmd := SettleTrade{ExchangeID: "CWEX", TradeID: "W-1", RightID: r.ID(), Seller: "a", Buyer: "b", Quantity: 10,
			Price: &Price{Amount: 120, Currency: "CNY"}, MatchedAt: time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)}
		mustRefuseTrade(t, &r, cmd, allOpen, time.Date(2024, 12, 31, 0, 1, 0, 0, time.UTC), CheckRightNotYetValid, "")
		until := r.ValidUntil()
		must(t, &r, func(r Right) ([]Event, error) { return DecideExpireRight(r, until) })
		cmd.TradeID, cmd.MatchedAt = "W-2", until
		mustRefuseTrade(t, &r, cmd, allOpen, until.Add(time.Minute), CheckRightExpired, "")
		if p, ok := r.Trade("CWEX", "W-2"); !ok || p.Settled {
			t.Fatalf("trade after expiry: %+v, %v", p, ok)
		}
	})

	t.Run("a trade from a reservation delivers its lowest reserved serials and keeps the rest reserved", func(t *testing.T) {
		r := lifecycleRight(t)
		res := reserveCmd("V1", 100)
		res.Exchange = "HBEX"
		must(t, &r, reserveOf(res, allOpen))
		cmd := tradeOn("X-1")
		cmd.Quantity, cmd.ReservationID = 40, "V1"
		e := mustSettle(t, &r, cmd, allOpen)
		if e.ReservationRemaining != 60 || !equalBlocks(e.Blocks, blocks(7001, 7040)) {
			t.Fatalf("event %+v", e)
		}
		if a := r.Holding("a"); a.Reserved != 60 || a.Available != 1900 {
			t.Fatalf("a holds %+v", a)
		}
		// A range must lie in what stays reserved.
		out := tradeOn("X-2")
		out.Quantity, out.Range, out.ReservationID = 0, rng(7001, 7041), "V1"
		mustRefuseTrade(t, &r, out, allOpen, t0, CheckSerialRangeNotHeld, "range")
		more := tradeOn("X-3")
		more.Quantity, more.ReservationID = 61, "V1"
		mustRefuseTrade(t, &r, more, allOpen, t0, CheckSettlementExceedsReservation, "quantity")
		rest := tradeOn("X-4")
		rest.Quantity, rest.Range, rest.ReservationID = 0, rng(7041, 7100), "V1"
		if e := mustSettle(t, &r, rest, allOpen); e.ReservationRemaining != 0 {
			t.Fatalf("event %+v", e)
		}
		if len(r.Reservations()) != 0 || r.Holding("a").Reserved != 0 {
			t.Fatalf("the settled reservation stays open: %+v", r.Reservations())
		}
		again := tradeOn("X-5")
		again.Quantity, again.ReservationID = 1, "V1"
		mustRefuseTrade(t, &r, again, allOpen, t0, CheckReservationNotOpen, "reservation_id")
	})

	t.Run("a trade must name a reservation of its seller and its exchange, before the timeout", func(t *testing.T) {
		r := lifecycleRight(t)
		res := reserveCmd("V1", 100)
		res.Exchange = "HBEX"
		must(t, &r, reserveOf(res, allOpen))
		other := reserveCmd("V2", 100)
		other.Exchange = "Shanghai Environment and Energy Exchange"
		must(t, &r, reserveOf(other, allOpen))
		cmd := tradeOn("X-1")
		cmd.ReservationID, cmd.Seller, cmd.Buyer = "V1", "b", "a"
		mustRefuseTrade(t, &r, cmd, allOpen, t0, CheckReservationMismatch, "reservation_id")
		cmd = tradeOn("X-2")
		cmd.ReservationID = "V2"
		mustRefuseTrade(t, &r, cmd, allOpen, t0, CheckReservationMismatch, "reservation_id")
		cmd = tradeOn("X-3")
		cmd.ReservationID = "V1"
		mustRefuseTrade(t, &r, cmd, allOpen, res.Timeout, CheckReservationTimedOut, "reservation_id")
	})

	t.Run("malformed trades and trades on unknown rights are refused without a record", func(t *testing.T) {
		r := lifecycleRight(t)
		cases := []struct {
			name   string
			change func(*SettleTrade)
			want   Check
			field  string
		}{
			{"a malformed exchange id", func(c *SettleTrade) { c.ExchangeID = "-HBEX" }, CheckInvalidExchangeID, "exchange_id"},
			{"a missing exchange id", func(c *SettleTrade) { c.ExchangeID = "" }, CheckRequiredFieldMissing, "exchange_id"},
			{"a malformed trade id", func(c *SettleTrade) { c.TradeID = "X 1" }, CheckInvalidTradeID, "trade_id"},
			{"a malformed right id", func(c *SettleTrade) { c.RightID = "right/1" }, CheckInvalidRightID, "right_id"},
			{"a malformed buyer", func(c *SettleTrade) { c.Buyer = strings.Repeat("b", 65) }, CheckInvalidAccountID, "buyer"},
			{"neither quantity nor range", func(c *SettleTrade) { c.Quantity = 0 }, CheckQuantityOrRange, "quantity"},
			{"a negative quantity", func(c *SettleTrade) { c.Quantity = -5 }, CheckInvalidQuantity, "quantity"},
			{"an inverted range", func(c *SettleTrade) { c.Quantity, c.Range = 0, rng(10, 9) }, CheckInvalidSerialRange, "range"},
			{"no price", func(c *SettleTrade) { c.Price = nil }, CheckRequiredFieldMissing, "price"},
			{"a price in no currency", func(c *SettleTrade) { c.Price = &Price{Amount: 1, Currency: "yuan"} }, CheckInvalidPrice, "price.currency"},
			{"a negative price", func(c *SettleTrade) { c.Price = &Price{Amount: -1, Currency: "CNY"} }, CheckInvalidPrice, "price.amount"},
			{"no matching time", func(c *SettleTrade) { c.MatchedAt = time.Time{} }, CheckRequiredFieldMissing, "matched_at"},
			{"a matching time in the future", func(c *SettleTrade) { c.MatchedAt = t0.Add(MaxMatchedAtSkew + time.Second) }, CheckInvalidMatchedAt, "matched_at"},
			{"a matching time before 2000", func(c *SettleTrade) { c.MatchedAt = time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC) }, CheckInvalidMatchedAt, "matched_at"},
			{"a malformed reservation id", func(c *SettleTrade) { c.ReservationID = "V 1" }, CheckInvalidOperationID, "reservation_id"},
			{"a right that does not exist", func(c *SettleTrade) { c.RightID = "CEA2025-HB-9999" }, CheckRightNotFound, "right_id"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				cmd := tradeOn("X-1")
				c.change(&cmd)
				mustNotRecord(t, &r, cmd, c.want, c.field)
			})
		}
		if r.Trades() != 0 {
			t.Fatalf("%d trades recorded", r.Trades())
		}
		// A matching time a little ahead of the registry's clock is accepted.
		ahead := tradeOn("X-2")
		ahead.MatchedAt = t0.Add(MaxMatchedAtSkew)
		mustSettle(t, &r, ahead, allOpen)
	})

	t.Run("a trade's outcome cannot be applied twice", func(t *testing.T) {
		r := lifecycleRight(t)
		e := mustSettle(t, &r, tradeOn("X-1"), allOpen)
		if err := r.Apply(e); err == nil {
			t.Fatal("a settled trade applied twice")
		}
		refusal := TradeRefused{RightID: r.ID(), ExchangeID: "HBEX", TradeID: "X-1", CheckCode: "E5001", RefusedAt: t0}
		if err := r.Apply(refusal); err == nil {
			t.Fatal("a refusal applied to a settled trade")
		}
		if err := r.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a clone keeps its own trades", func(t *testing.T) {
		r := lifecycleRight(t)
		mustSettle(t, &r, tradeOn("X-1"), allOpen)
		c := r.Clone()
		mustSettle(t, &r, tradeOn("X-2"), allOpen)
		if _, ok := c.Trade("HBEX", "X-2"); ok || c.Trades() != 1 {
			t.Fatal("the clone sees a trade recorded after it was made")
		}
	})
}

// canonicalTrade encodes a trade as the documentation of Fingerprint says,
// independently of the package's code.
func canonicalTrade(c SettleTrade) []byte {
	var b []byte
	str := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		b = append(append(b, n[:]...), s...)
	}
	i64 := func(v int64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(v))
		b = append(b, n[:]...)
	}
	b = append(b, "ecoregistry.trade.v1"...)
	b = append(b, 0)
	str(c.ExchangeID)
	str(c.TradeID)
	str(c.RightID)
	str(c.Seller)
	str(c.Buyer)
	i64(c.Quantity)
	if c.Range == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		i64(c.Range.Start)
		i64(c.Range.End)
	}
	i64(c.Price.Amount)
	str(c.Price.Currency)
	i64(c.MatchedAt.Unix())
	i64(int64(c.MatchedAt.Nanosecond()))
	str(c.ReservationID)
	return b
}

func TestTradeFingerprint(t *testing.T) {
	t.Run("the fingerprint is the documented canonical encoding's digest", func(t *testing.T) {
		for _, c := range []SettleTrade{tradeOn("X-1"), {ExchangeID: "E", TradeID: "T", RightID: "R", Seller: "s", Buyer: "b", Range: rng(3, 9),
			Price: &Price{Amount: 0, Currency: "USD"}, MatchedAt: time.Unix(1700000000, 999999999), ReservationID: "V-7"}} {
			sum := sha256.Sum256(canonicalTrade(c))
			if got := c.Fingerprint(); string(got[:]) != string(sum[:16]) {
				t.Fatalf("%s: fingerprint %x, the documented encoding gives %x", c, got, sum[:16])
			}
		}
	})

	t.Run("the time zone of the matching time does not matter, its instant does", func(t *testing.T) {
		a := tradeOn("X-1")
		b := a
		b.MatchedAt = a.MatchedAt.In(time.FixedZone("CST", 8*3600))
		if a.Fingerprint() != b.Fingerprint() {
			t.Fatal("the same instant in another zone changed the fingerprint")
		}
		b.MatchedAt = a.MatchedAt.Add(time.Nanosecond)
		if a.Fingerprint() == b.Fingerprint() {
			t.Fatal("a nanosecond later has the same fingerprint")
		}
	})

	t.Run("length prefixes keep adjacent fields apart", func(t *testing.T) {
		a, b := tradeOn("X-1"), tradeOn("X-1")
		a.Seller, a.Buyer = "ab", "c"
		b.Seller, b.Buyer = "a", "bc"
		if a.Fingerprint() == b.Fingerprint() {
			t.Fatal("moving a character between seller and buyer kept the fingerprint")
		}
		if TradeKeyOf("ab", "c") == TradeKeyOf("a", "bc") {
			t.Fatal("moving a character between exchange and trade id kept the key")
		}
		if TradeKeyOf("HBEX", "1") != TradeKeyOf("HBEX", "1") {
			t.Fatal("the key is not a function of the ids")
		}
	})

	t.Run("a quantity trade and a range trade of the same units differ", func(t *testing.T) {
		a, b := tradeOn("X-1"), tradeOn("X-1")
		a.Quantity = 10
		b.Quantity, b.Range = 0, rng(7001, 7010)
		if a.Fingerprint() == b.Fingerprint() {
			t.Fatal("same fingerprint")
		}
	})
}

// BenchmarkDecideApplyTrade measures deciding and applying one trade on a
// hot right: the seller sells the lowest of its serials to one of 1000
// buyers. It is the share of package domain in settling a trade.
func BenchmarkDecideApplyTrade(b *testing.B) {
	asTheRegistryApplies(b)
	cmd := ceaCommand()
	cmd.Quantity = MaxQuantity
	r := register(b, cmd)
	buyers := make([]string, 1000)
	for i := range buyers {
		buyers[i] = "buyer" + strconv.Itoa(i)
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "X" + strconv.Itoa(i)
	}
	price := &Price{Amount: 5850, Currency: "CNY"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := SettleTrade{ExchangeID: "HBEX", TradeID: ids[i], RightID: r.ID(), Seller: "issuer", Buyer: buyers[i%len(buyers)],
			Quantity: 7, Price: price, MatchedAt: t0}
		events, prior, err := DecideSettleTrade(r, c, allOpen, t0)
		if err != nil || prior != nil {
			b.Fatal(err)
		}
		if err := r.Apply(events[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// An event's fingerprint is that of the trade it records, so that a retry
// is recognised after the state was rebuilt from the stream.
func TestEventsFingerprintTheirTrade(t *testing.T) {
	r := lifecycleRight(t)
	byRange := tradeOn("X-2")
	byRange.Quantity, byRange.Range = 0, rng(8001, 8005)
	for _, cmd := range []SettleTrade{tradeOn("X-1"), byRange} {
		s := mustSettle(t, &r, cmd, allOpen)
		if s.fingerprint() != cmd.Fingerprint() || s.Trade().Fingerprint() != cmd.Fingerprint() {
			t.Fatalf("%s: the settlement's fingerprint differs from the trade's", cmd)
		}
	}
	big := tradeOn("X-3")
	big.Quantity = 1 << 40
	e := mustRefuseTrade(t, &r, big, allOpen, t0, CheckInsufficientAvailableUnits, "quantity")
	if e.fingerprint() != big.Fingerprint() || e.Trade().Fingerprint() != big.Fingerprint() {
		t.Fatal("the refusal's fingerprint differs from the trade's")
	}
}
