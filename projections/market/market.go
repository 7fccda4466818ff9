// Package market is the market ledger projection: every settled trade, and
// per right, per right type and per exchange the volume, turnover,
// volume-weighted average price, last price and daily open, high, low and
// close, per currency.
//
// # What counts as a trade
//
// A TradeSettled (an exchange trade settled through SettlementService) is a
// trade of its exchange and trade id. A ReservationSettled with a price is a
// trade of the exchange that made the reservation, its trade id the
// settlement id and its reference the exchange's order reference. A
// UnitsTransferred that carries a trade price and a non-empty reference (a
// trade settled by an ordinary transfer, for example over the counter) is a
// trade too: the seller is the transferring account, the buyer the
// acquiring one; a reference of the form "EXCHANGE:TRADE-ID" (for example
// "CEEX:20261105-000123") names the exchange and its trade id, any other
// reference is a trade id of no named exchange (exchange ""). A transfer
// with a price and no reference, or a reference and no price, is not a
// trade. Each of these events records a different movement of units, so no
// trade counts twice. A correction that reverses a settlement leaves the
// trade in the ledger: the ledger records what was traded, and the
// correction is a fact of its own.
//
// # Arithmetic
//
// Prices are int64 minor units per unit (fen for CNY). Turnover is the exact
// sum of quantity times price in minor units, kept as an arbitrary-precision
// integer, so it cannot overflow; volume is an int64 whose overflow (more
// than 9.2e18 units) stops the projection with an error. The VWAP is
// turnover divided by volume, rounded to the nearest minor unit, halves
// rounded up. Figures are kept per currency: amounts in different
// currencies are never added.
//
// # Days
//
// Daily bars follow the China Standard Time calendar (UTC+8, no daylight
// saving), the trading day of every Chinese exchange; a trade belongs to
// the day of its settlement time (the event's time) there, which is also the
// time trades are ordered and selected by. Open and close are the first and
// the last trade of the day in the order of the log.
//
// # Keys
//
//	'i' RIGHT                                  the right's type
//	'v' RIGHT 0x00 RESERVATION                 the exchange and order reference of a reservation
//	't' TIME(8) COMMIT(8) PREPARE(8)           a trade, in time order
//	'r' RIGHT 0x00 TIME COMMIT PREPARE         index of the trades of a right
//	's' DIM KEY 0x00 CURRENCY                  running statistics of a right, type or exchange
//	'd' DIM KEY 0x00 CURRENCY 0x00 YYYYMMDD    a daily bar
//
// # Adding event types
//
// Builder.Apply has one case per event type, and Decodes lists the types it
// decodes; an event that records a trade builds a Trade and calls record.
// Bump SchemaVersion with the change.
package market

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/internal/enc"
)

// Name is the projection's name.
const Name = "market"

// SchemaVersion is the version of the projection's layout and of the set
// of event types it handles. Version 2 records settled exchange trades and
// settled reservations.
const SchemaVersion = 2

// ChinaTime is the zone of daily bars: China Standard Time, UTC+8.
var ChinaTime = time.FixedZone("CST", 8*60*60)

// Dimension is what market statistics are grouped by.
type Dimension byte

// The dimensions.
const (
	// ByRight groups by right id.
	ByRight Dimension = 1
	// ByRightType groups by right type; the key is the type's name, e.g. "CARBON_ALLOWANCE".
	ByRightType Dimension = 2
	// ByExchange groups by exchange; the key is the exchange, "" for trades of no named exchange.
	ByExchange Dimension = 3
)

// Valid reports whether d is one of the dimensions.
func (d Dimension) Valid() bool { return d >= ByRight && d <= ByExchange }

// String returns "right", "right_type" or "exchange".
func (d Dimension) String() string {
	switch d {
	case ByRight:
		return "right"
	case ByRightType:
		return "right_type"
	case ByExchange:
		return "exchange"
	}
	return fmt.Sprintf("dimension(%d)", byte(d))
}

// Trade is one settled trade.
type Trade struct {
	// Exchange is the exchange that matched the trade; "" when none is named.
	Exchange string
	// TradeID is the exchange's id of the trade.
	TradeID string
	// Reference is the transfer's reference as recorded.
	Reference string
	// RightID is the right traded.
	RightID string
	// RightType is the right's type.
	RightType domain.RightType
	// TransferID is the registry transfer that settled the trade.
	TransferID string
	// Buyer and Seller are the acquiring and the transferring account.
	Buyer, Seller string
	// Quantity is the number of units traded.
	Quantity int64
	// Price is the price per unit in minor units of Currency.
	Price int64
	// Currency is the ISO 4217 code of the price.
	Currency string
	// Time is when the trade settled (the event's time).
	Time time.Time
	// MatchedAt is when the exchange matched the trade, for trades settled
	// through SettlementService; zero for the others.
	MatchedAt time.Time
	// Position is the position of the event that recorded it.
	Position eventstore.Position
}

// SplitReference reads a transfer reference as an exchange and its trade
// id: "CEEX:123" is trade "123" of exchange "CEEX"; a reference without a
// colon, or with nothing before or after it, is a trade id of no named
// exchange.
func SplitReference(ref string) (exchange, tradeID string) {
	if ex, id, ok := strings.Cut(ref, ":"); ok && strings.TrimSpace(ex) != "" && id != "" {
		return strings.TrimSpace(ex), id
	}
	return "", ref
}

// Projection is the market ledger projection.
type Projection struct{}

// New returns the market ledger projection.
func New() Projection { return Projection{} }

// Name returns "market".
func (Projection) Name() string { return Name }

// SchemaVersion returns SchemaVersion.
func (Projection) SchemaVersion() uint32 { return SchemaVersion }

// Decodes returns the event types whose payloads the projection reads.
func (Projection) Decodes() []string {
	return []string{domain.EventTypeRightRegistered, domain.EventTypeUnitsTransferred, domain.EventTypeTradeSettled,
		domain.EventTypeUnitsReserved, domain.EventTypeReservationSettled}
}

// NewBuilder returns a builder over the committed state.
func (Projection) NewBuilder(state projections.Keyspace) projections.Builder {
	return &builder{state: state, types: map[string]domain.RightType{}, stats: map[statsID]*Stats{}, bars: map[barID]*Bar{},
		reservations: map[reservationID]reservation{}}
}

// cacheLimit bounds the statistics and bars kept in memory between commits.
const cacheLimit = 200_000

type builder struct {
	state projections.Keyspace
	// types caches the type of every right seen; newTypes are those not
	// yet written.
	types    map[string]domain.RightType
	newTypes []string
	// stats and bars cache records; the dirty ones are listed.
	stats      map[statsID]*Stats
	bars       map[barID]*Bar
	dirtyStats []*Stats
	dirtyBars  []*Bar
	// reservations caches the exchange of each reservation seen; the new
	// ones are listed.
	reservations    map[reservationID]reservation
	newReservations []reservationID
	// trades are the trades recorded since the last flush.
	trades []Trade
	val    []byte
	prod   big.Int
	price  big.Int
}

// Apply applies one event; see projections.Builder.
func (b *builder) Apply(ev *eventstore.RecordedEvent, e domain.Event) (bool, error) {
	switch e := e.(type) {
	case domain.RightRegistered:
		b.types[e.RightID] = e.Type
		b.newTypes = append(b.newTypes, e.RightID)
		return true, nil
	case domain.UnitsTransferred:
		if e.TradePrice == nil || e.Reference == "" {
			return true, nil
		}
		typ, err := b.rightType(e.RightID)
		if err != nil {
			return false, err
		}
		ex, id := SplitReference(e.Reference)
		return true, b.record(Trade{Exchange: ex, TradeID: id, Reference: e.Reference, RightID: e.RightID, RightType: typ,
			TransferID: e.TransferID, Buyer: e.To, Seller: e.From, Quantity: e.Quantity, Price: e.TradePrice.Amount,
			Currency: e.TradePrice.Currency, Time: e.TransferredAt, Position: ev.Position})
	case domain.TradeSettled:
		typ, err := b.rightType(e.RightID)
		if err != nil {
			return false, err
		}
		return true, b.record(Trade{Exchange: e.ExchangeID, TradeID: e.TradeID, RightID: e.RightID, RightType: typ,
			Buyer: e.Buyer, Seller: e.Seller, Quantity: e.Quantity, Price: e.Price.Amount, Currency: e.Price.Currency,
			Time: e.SettledAt, MatchedAt: e.MatchedAt, Position: ev.Position})
	case domain.UnitsReserved:
		id := reservationID{e.RightID, e.ReservationID}
		b.reservations[id] = reservation{exchange: e.Exchange, orderReference: e.OrderReference}
		b.newReservations = append(b.newReservations, id)
		return true, nil
	case domain.ReservationSettled:
		if e.TradePrice == nil {
			return true, nil
		}
		typ, err := b.rightType(e.RightID)
		if err != nil {
			return false, err
		}
		v, err := b.reservation(reservationID{e.RightID, e.ReservationID})
		if err != nil {
			return false, err
		}
		return true, b.record(Trade{Exchange: v.exchange, TradeID: e.SettlementID, Reference: v.orderReference, RightID: e.RightID,
			RightType: typ, Buyer: e.Buyer, Seller: e.Seller, Quantity: e.Quantity, Price: e.TradePrice.Amount,
			Currency: e.TradePrice.Currency, Time: e.SettledAt, Position: ev.Position})
	case nil:
		// Not one of Decodes: known, and never a trade.
		return slices.Contains(domain.EventTypes(), ev.Type), nil
	}
	return false, fmt.Errorf("market: %s decoded as %T", ev.Type, e)
}

// reservationID names a reservation; reservation is what the ledger keeps
// of it.
type reservationID struct{ right, id string }

type reservation struct{ exchange, orderReference string }

func reservationKey(id reservationID) []byte {
	k := make([]byte, 0, 2+len(id.right)+len(id.id))
	k = append(k, 'v')
	k = append(k, id.right...)
	k = append(k, 0)
	return append(k, id.id...)
}

func (b *builder) reservation(id reservationID) (reservation, error) {
	if v, ok := b.reservations[id]; ok {
		return v, nil
	}
	val, found, err := b.state.Get(reservationKey(id))
	if err != nil {
		return reservation{}, err
	}
	if !found {
		return reservation{}, fmt.Errorf("%w: settlement of reservation %s of right %s, which was not made", domain.ErrEventDoesNotApply, id.id, id.right)
	}
	d := enc.NewReader(val)
	v := reservation{exchange: d.String(), orderReference: d.String()}
	if err := d.Done(); err != nil {
		return reservation{}, err
	}
	b.reservations[id] = v
	return v, nil
}

func (b *builder) rightType(id string) (domain.RightType, error) {
	if t, ok := b.types[id]; ok {
		return t, nil
	}
	v, found, err := b.state.Get(rightKey(id))
	if err != nil {
		return 0, err
	}
	if !found || len(v) != 1 {
		return 0, fmt.Errorf("%w: trade on right %s, which is not registered", domain.ErrEventDoesNotApply, id)
	}
	t := domain.RightType(v[0])
	b.types[id] = t
	return t, nil
}

// record adds a trade to the ledger and to the statistics and bars of its
// right, type and exchange.
func (b *builder) record(t Trade) error {
	if t.Quantity <= 0 || t.Price < 0 {
		return fmt.Errorf("%w: trade of %d units at %d", domain.ErrEventDoesNotApply, t.Quantity, t.Price)
	}
	b.trades = append(b.trades, t)
	b.prod.SetInt64(t.Quantity)
	b.price.SetInt64(t.Price)
	b.prod.Mul(&b.prod, &b.price)
	day := chinaDay(t.Time)
	for _, g := range [3]statsID{{ByRight, t.RightID, t.Currency}, {ByRightType, t.RightType.String(), t.Currency}, {ByExchange, t.Exchange, t.Currency}} {
		s, err := b.statsOf(g)
		if err != nil {
			return err
		}
		if err := s.add(&t, &b.prod); err != nil {
			return err
		}
		bar, err := b.barOf(barID{g, day})
		if err != nil {
			return err
		}
		if err := bar.add(&t, &b.prod); err != nil {
			return err
		}
	}
	return nil
}

// statsID names the statistics of one right, type or exchange in one
// currency; barID one of their days.
type statsID struct {
	dim           Dimension
	key, currency string
}

type barID struct {
	statsID
	day int32
}

func (b *builder) statsOf(id statsID) (*Stats, error) {
	s, ok := b.stats[id]
	if !ok {
		s = &Stats{Dimension: id.dim, Key: id.key, Currency: id.currency}
		v, found, err := b.state.Get(statsKey(id.dim, id.key, id.currency))
		if err != nil {
			return nil, err
		}
		if found {
			if err := decodeStats(v, s); err != nil {
				return nil, err
			}
		}
		b.stats[id] = s
	}
	if !s.dirty {
		s.dirty = true
		b.dirtyStats = append(b.dirtyStats, s)
	}
	return s, nil
}

func (b *builder) barOf(id barID) (*Bar, error) {
	bar, ok := b.bars[id]
	if !ok {
		day := dayDigits(id.day)
		bar = &Bar{Dimension: id.dim, Key: id.key, Currency: id.currency, Day: dayText(day)}
		v, found, err := b.state.Get(barKey(id.dim, id.key, id.currency, day))
		if err != nil {
			return nil, err
		}
		if found {
			if err := decodeBar(v, bar); err != nil {
				return nil, err
			}
		}
		b.bars[id] = bar
	}
	if !bar.dirty {
		bar.dirty = true
		b.dirtyBars = append(b.dirtyBars, bar)
	}
	return bar, nil
}

// chinaDay returns the number of the China Standard Time calendar day of t,
// counted from 1970-01-01.
func chinaDay(t time.Time) int32 {
	s := t.Unix() + 8*60*60
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return int32(d)
}

// dayDigits formats a day number as "20261105".
func dayDigits(day int32) string {
	return time.Unix(int64(day)*86400, 0).UTC().Format("20060102")
}

// Flush writes the new trades, rights, statistics and bars.
func (b *builder) Flush(w *projections.Writer) error {
	for _, id := range b.newTypes {
		if err := w.Set(rightKey(id), []byte{byte(b.types[id])}); err != nil {
			return err
		}
	}
	b.newTypes = b.newTypes[:0]
	for _, id := range b.newReservations {
		v := b.reservations[id]
		b.val = enc.String(enc.String(b.val[:0], v.exchange), v.orderReference)
		if err := w.Set(reservationKey(id), b.val); err != nil {
			return err
		}
	}
	b.newReservations = b.newReservations[:0]
	for i := range b.trades {
		t := &b.trades[i]
		suffix := tradeSuffix(t.Time, t.Position)
		b.val = encodeTrade(b.val[:0], t)
		if err := w.Set(append([]byte{'t'}, suffix...), b.val); err != nil {
			return err
		}
		if err := w.Set(indexKey('r', t.RightID, suffix), nil); err != nil {
			return err
		}
	}
	clear(b.trades)
	b.trades = b.trades[:0]
	for _, s := range b.dirtyStats {
		b.val = encodeStats(b.val[:0], s)
		if err := w.Set(statsKey(s.Dimension, s.Key, s.Currency), b.val); err != nil {
			return err
		}
		s.dirty = false
	}
	clear(b.dirtyStats)
	b.dirtyStats = b.dirtyStats[:0]
	for _, bar := range b.dirtyBars {
		b.val = encodeBar(b.val[:0], bar)
		if err := w.Set(barKey(bar.Dimension, bar.Key, bar.Currency, strings.ReplaceAll(bar.Day, "-", "")), b.val); err != nil {
			return err
		}
		bar.dirty = false
	}
	clear(b.dirtyBars)
	b.dirtyBars = b.dirtyBars[:0]
	// Every cached record is clean now; dropping them only costs reads.
	if len(b.bars) > cacheLimit {
		clear(b.bars)
	}
	if len(b.stats) > cacheLimit {
		clear(b.stats)
	}
	if len(b.types) > cacheLimit {
		clear(b.types)
	}
	if len(b.reservations) > cacheLimit {
		clear(b.reservations)
	}
	return nil
}

// Stats are the running statistics of the trades of one right, right type
// or exchange in one currency.
type Stats struct {
	// Dimension is what the trades have in common.
	Dimension Dimension
	// Key is the right id, the type's name or the exchange.
	Key string
	// Currency is the currency of the prices.
	Currency string
	// Trades is the number of trades.
	Trades int64
	// Volume is the number of units traded.
	Volume int64
	// Turnover is the sum of quantity times price, in minor units.
	Turnover big.Int
	// LastPrice is the price of the latest trade in the order of the log.
	LastPrice int64
	// LastTime is the latest trade's time.
	LastTime time.Time
	// LastPosition is the position of the latest trade's event.
	LastPosition eventstore.Position
	dirty        bool
}

// VWAP returns the volume-weighted average price in minor units, rounded to
// the nearest, halves up; 0 when nothing traded.
func (s *Stats) VWAP() int64 { return vwap(&s.Turnover, s.Volume) }

func (s *Stats) add(t *Trade, prod *big.Int) error {
	v, err := addVolume(s.Volume, t.Quantity)
	if err != nil {
		return err
	}
	s.Volume = v
	s.Trades++
	s.Turnover.Add(&s.Turnover, prod)
	s.LastPrice, s.LastTime, s.LastPosition = t.Price, t.Time, t.Position
	return nil
}

// Bar is the trading of one right, right type or exchange in one currency
// on one China Standard Time calendar day.
type Bar struct {
	// Dimension is what the trades have in common.
	Dimension Dimension
	// Key is the right id, the type's name or the exchange.
	Key string
	// Currency is the currency of the prices.
	Currency string
	// Day is the calendar day, "2026-11-05".
	Day string
	// Open, High, Low and Close are prices per unit in minor units.
	Open, High, Low, Close int64
	// Trades is the number of trades of the day.
	Trades int64
	// Volume is the number of units traded that day.
	Volume int64
	// Turnover is the day's sum of quantity times price, in minor units.
	Turnover big.Int
	dirty    bool
}

// VWAP returns the day's volume-weighted average price; see Stats.VWAP.
func (b *Bar) VWAP() int64 { return vwap(&b.Turnover, b.Volume) }

func (b *Bar) add(t *Trade, prod *big.Int) error {
	v, err := addVolume(b.Volume, t.Quantity)
	if err != nil {
		return err
	}
	if b.Trades == 0 {
		b.Open, b.High, b.Low = t.Price, t.Price, t.Price
	}
	b.High, b.Low, b.Close = max(b.High, t.Price), min(b.Low, t.Price), t.Price
	b.Volume = v
	b.Trades++
	b.Turnover.Add(&b.Turnover, prod)
	return nil
}

func addVolume(v, q int64) (int64, error) {
	if v > math.MaxInt64-q {
		return 0, fmt.Errorf("market: traded volume exceeds %d units, the most an int64 holds", int64(math.MaxInt64))
	}
	return v + q, nil
}

// vwap divides turnover by volume, rounding to the nearest, halves up.
func vwap(turnover *big.Int, volume int64) int64 {
	if volume <= 0 {
		return 0
	}
	var q, r big.Int
	v := big.NewInt(volume)
	q.QuoRem(turnover, v, &r)
	// Round up when the remainder is at least half the divisor.
	if r.Lsh(&r, 1).Cmp(v) >= 0 {
		q.Add(&q, big.NewInt(1))
	}
	return q.Int64()
}

// Keys. Trades are indexed by right, of which there are many; a query for
// one exchange, of which there are few, reads all trades in its time range.

func rightKey(id string) []byte { return append([]byte{'i'}, id...) }

// timeKey orders times as unsigned big-endian integers.
func timeKey(b []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixNano())^(1<<63))
}

func tradeSuffix(t time.Time, p eventstore.Position) []byte {
	b := timeKey(make([]byte, 0, 24), t)
	b = binary.BigEndian.AppendUint64(b, p.Commit)
	return binary.BigEndian.AppendUint64(b, p.Prepare)
}

func indexKey(tag byte, id string, suffix []byte) []byte {
	k := make([]byte, 0, 2+len(id)+len(suffix))
	k = append(k, tag)
	k = append(k, id...)
	k = append(k, 0)
	return append(k, suffix...)
}

func statsKey(dim Dimension, key, currency string) []byte {
	k := make([]byte, 0, 3+len(key)+len(currency))
	k = append(k, 's', byte(dim))
	k = append(k, key...)
	k = append(k, 0)
	return append(k, currency...)
}

func barKey(dim Dimension, key, currency, day string) []byte {
	k := make([]byte, 0, 12+len(key)+len(currency))
	k = append(k, 'd', byte(dim))
	k = append(k, key...)
	k = append(k, 0)
	k = append(k, currency...)
	k = append(k, 0)
	return append(k, day...)
}

// dayText turns "20261105" into "2026-11-05".
func dayText(d string) string { return d[:4] + "-" + d[4:6] + "-" + d[6:] }
