package projections_test

import (
	"context"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
)

// oracle is what the projections must answer, computed here in the
// simplest way from the stored events: holdings by rebuilding every right
// with package domain's own Apply, trades and statistics by plain sums
// over decoded events. It shares no code with the projections.
type oracle struct {
	position eventstore.Position
	events   int
	skipped  map[string]uint64
	rights   map[string]*domain.Right
	regs     map[string]domain.RightRegistered
	trades   []oracleTrade
	stats    map[statKey]*[10]int64
	// reservations maps right/reservation to its exchange and order reference.
	reservations map[string][2]string
}

type oracleTrade struct {
	exchange, tradeID, reference string
	rightID, transferID          string
	rightType                    domain.RightType
	buyer, seller                string
	quantity, price              int64
	currency                     string
	at, matchedAt                time.Time
	position                     eventstore.Position
}

type statKey struct {
	level  int // 1 national, 2 province, 3 prefecture, 4 division
	code   string
	typ    domain.RightType
	period string // "2026" or "2026-11"
}

var chinaTime = time.FixedZone("UTC+8", 8*3600)

// known lists the event types the projections handle or deliberately
// ignore; any other is skipped and counted.
var known = map[string]bool{
	domain.EventTypeAccountOpened: true, domain.EventTypeAccountStatusChanged: true,
	domain.EventTypeRightRegistered: true, domain.EventTypeUnitsTransferred: true, domain.EventTypeUnitsRetired: true,
	domain.EventTypeAccountFrozen: true, domain.EventTypeAccountUnfrozen: true,
	domain.EventTypeUnitsPledged: true, domain.EventTypePledgeReleased: true, domain.EventTypePledgeEnforced: true,
	domain.EventTypeUnitsFrozen: true, domain.EventTypeUnitsUnfrozen: true,
	domain.EventTypeUnitsReserved: true, domain.EventTypeReservationSettled: true, domain.EventTypeReservationVoided: true,
	domain.EventTypeReservationExpired: true, domain.EventTypeUnitsCancelled: true, domain.EventTypeRightExpired: true,
	domain.EventTypeTransactionReversed: true, domain.EventTypeTradeSettled: true, domain.EventTypeTradeRefused: true,
}

// replay computes the oracle over the events up to and including upTo
// (eventstore.End for all).
func replay(t *testing.T, store eventstore.Store, upTo eventstore.Position) *oracle {
	t.Helper()
	o := &oracle{skipped: map[string]uint64{}, rights: map[string]*domain.Right{}, regs: map[string]domain.RightRegistered{}, stats: map[statKey]*[10]int64{},
		reservations: map[string][2]string{}}
	from := eventstore.Start
	for {
		evs, err := store.ReadAll(context.Background(), from, eventstore.Forwards, 5000, eventstore.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return o
		}
		for _, rec := range evs {
			if upTo.Before(rec.Position) {
				return o
			}
			from, o.position = rec.Position, rec.Position
			o.events++
			if !known[rec.Type] {
				o.skipped[rec.Type]++
				continue
			}
			e, err := eventcodec.Decode(rec.Type, rec.Data)
			if err != nil {
				t.Fatalf("oracle: decode %s at %s: %v", rec.Type, rec.Position, err)
			}
			o.apply(t, rec.Position, e)
		}
	}
}

func (o *oracle) apply(t *testing.T, pos eventstore.Position, e domain.Event) {
	t.Helper()
	if r, ok := e.(domain.RightRegistered); ok {
		o.rights[r.RightID] = &domain.Right{}
		o.regs[r.RightID] = r
	}
	switch e := e.(type) {
	case domain.RightRegistered:
		o.count(e.RightID, e.RegisteredAt, [][2]int64{{0, e.Quantity}, {7, 1}})
	case domain.UnitsTransferred:
		o.count(e.RightID, e.TransferredAt, [][2]int64{{1, e.Quantity}, {8, 1}})
		if e.TradePrice != nil && e.Reference != "" {
			tr := oracleTrade{reference: e.Reference, tradeID: e.Reference, rightID: e.RightID, transferID: e.TransferID,
				rightType: o.regs[e.RightID].Type, buyer: e.To, seller: e.From, quantity: e.Quantity, price: e.TradePrice.Amount,
				currency: e.TradePrice.Currency, at: e.TransferredAt, position: pos}
			if i := strings.Index(e.Reference, ":"); i > 0 && i < len(e.Reference)-1 && strings.TrimSpace(e.Reference[:i]) != "" {
				tr.exchange, tr.tradeID = strings.TrimSpace(e.Reference[:i]), e.Reference[i+1:]
			}
			o.trades = append(o.trades, tr)
		}
	case domain.UnitsRetired:
		o.count(e.RightID, e.RetiredAt, [][2]int64{{2, e.Quantity}, {9, 1}})
	case domain.TradeSettled:
		o.count(e.RightID, e.SettledAt, [][2]int64{{1, e.Quantity}, {8, 1}})
		o.trades = append(o.trades, oracleTrade{exchange: e.ExchangeID, tradeID: e.TradeID, rightID: e.RightID, rightType: o.regs[e.RightID].Type,
			buyer: e.Buyer, seller: e.Seller, quantity: e.Quantity, price: e.Price.Amount, currency: e.Price.Currency, at: e.SettledAt,
			matchedAt: e.MatchedAt, position: pos})
	case domain.ReservationSettled:
		o.count(e.RightID, e.SettledAt, [][2]int64{{1, e.Quantity}, {8, 1}})
		if e.TradePrice != nil {
			v := o.reservations[e.RightID+"/"+e.ReservationID]
			o.trades = append(o.trades, oracleTrade{exchange: v[0], tradeID: e.SettlementID, reference: v[1], rightID: e.RightID,
				rightType: o.regs[e.RightID].Type, buyer: e.Buyer, seller: e.Seller, quantity: e.Quantity, price: e.TradePrice.Amount,
				currency: e.TradePrice.Currency, at: e.SettledAt, position: pos})
		}
	case domain.UnitsReserved:
		o.reservations[e.RightID+"/"+e.ReservationID] = [2]string{e.Exchange, e.OrderReference}
	case domain.PledgeEnforced:
		o.count(e.RightID, e.EnforcedAt, [][2]int64{{1, e.Quantity}, {8, 1}})
	case domain.UnitsPledged:
		o.count(e.RightID, e.PledgedAt, [][2]int64{{3, e.Quantity}})
	case domain.UnitsFrozen:
		o.count(e.RightID, e.FrozenAt, [][2]int64{{4, e.Quantity}})
	case domain.UnitsCancelled:
		o.count(e.RightID, e.CancelledAt, [][2]int64{{5, e.Quantity}})
	case domain.RightExpired:
		o.count(e.RightID, e.ExpiredAt, [][2]int64{{6, e.Quantity}})
	}
	if !strings.HasPrefix(e.StreamID(), domain.RightStreamPrefix) {
		return
	}
	r := o.rights[rightIDOf(e)]
	if r == nil {
		t.Fatalf("oracle: %T of unknown right", e)
	}
	if err := r.Apply(e); err != nil {
		t.Fatalf("oracle: %v", err)
	}
}

func rightIDOf(e domain.Event) string {
	return strings.TrimPrefix(e.StreamID(), domain.RightStreamPrefix)
}

func (o *oracle) count(rightID string, at time.Time, amounts [][2]int64) {
	reg := o.regs[rightID]
	j := reg.Jurisdiction
	local := at.In(chinaTime)
	for level, code := range map[int]string{1: "000000", 2: j[:2] + "0000", 3: j[:4] + "00", 4: j} {
		for _, p := range []string{local.Format("2006"), local.Format("2006-01")} {
			k := statKey{level, code, reg.Type, p}
			if o.stats[k] == nil {
				o.stats[k] = &[10]int64{}
			}
			for _, a := range amounts {
				o.stats[k][a[0]] += a[1]
			}
		}
	}
}

// holdingWant is one expected holding: units and blocks by state, in the
// order of holdings.State.
type holdingWant struct {
	right, account string
	counts         [5]int64
	blocks         [5][]domain.Block
}

// holdings returns every non-empty holding, sorted by right then account.
func (o *oracle) holdings() []holdingWant {
	var out []holdingWant
	for id, r := range o.rights {
		for _, h := range r.Holdings() {
			out = append(out, holdingWant{id, h.AccountID, [5]int64{h.Available, h.Pledged, h.Frozen, h.Reserved, h.Retired},
				[5][]domain.Block{h.AvailableBlocks, h.PledgedBlocks, h.FrozenBlocks, h.ReservedBlocks, h.RetiredBlocks}})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].right != out[j].right {
			return out[i].right < out[j].right
		}
		return out[i].account < out[j].account
	})
	return out
}

type aggregate struct {
	trades, volume int64
	turnover       big.Int
	last           int64
	lastPos        eventstore.Position
}

type bar struct {
	open, high, low, close int64
	trades, volume         int64
	turnover               big.Int
}

// marketKey is a dimension (1 right, 2 type, 3 exchange), a key and a currency.
type marketKey struct {
	dim           int
	key, currency string
}

// market sums the trades per right, type and exchange, and per day.
func (o *oracle) market() (map[marketKey]*aggregate, map[marketKey]map[string]*bar) {
	aggs := map[marketKey]*aggregate{}
	bars := map[marketKey]map[string]*bar{}
	for _, tr := range o.trades {
		for dim, key := range map[int]string{1: tr.rightID, 2: tr.rightType.String(), 3: tr.exchange} {
			k := marketKey{dim, key, tr.currency}
			a := aggs[k]
			if a == nil {
				a = &aggregate{}
				aggs[k] = a
			}
			amount := new(big.Int).Mul(big.NewInt(tr.quantity), big.NewInt(tr.price))
			a.trades++
			a.volume += tr.quantity
			a.turnover.Add(&a.turnover, amount)
			a.last, a.lastPos = tr.price, tr.position
			day := tr.at.In(chinaTime).Format("2006-01-02")
			if bars[k] == nil {
				bars[k] = map[string]*bar{}
			}
			b := bars[k][day]
			if b == nil {
				b = &bar{open: tr.price, high: tr.price, low: tr.price}
				bars[k][day] = b
			}
			b.high, b.low, b.close = max(b.high, tr.price), min(b.low, tr.price), tr.price
			b.trades++
			b.volume += tr.quantity
			b.turnover.Add(&b.turnover, amount)
		}
	}
	return aggs, bars
}

// roundedVWAP divides turnover by volume with exact rationals and rounds
// halves up.
func roundedVWAP(turnover *big.Int, volume int64) int64 {
	if volume == 0 {
		return 0
	}
	r := new(big.Rat).SetFrac(turnover, big.NewInt(volume))
	r.Add(r, big.NewRat(1, 2))
	return new(big.Int).Quo(r.Num(), r.Denom()).Int64()
}
