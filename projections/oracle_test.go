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
}

type oracleTrade struct {
	exchange, tradeID, reference string
	rightID, transferID          string
	rightType                    domain.RightType
	buyer, seller                string
	quantity, price              int64
	currency                     string
	at                           time.Time
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
}

// replay computes the oracle over the events up to and including upTo
// (eventstore.End for all).
func replay(t *testing.T, store eventstore.Store, upTo eventstore.Position) *oracle {
	t.Helper()
	o := &oracle{skipped: map[string]uint64{}, rights: map[string]*domain.Right{}, regs: map[string]domain.RightRegistered{}, stats: map[statKey]*[10]int64{}}
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
	default:
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

// holding is one expected holding.
type holdingWant struct {
	right, account               string
	available, retired           int64
	availableBlocks, retiredBlks []domain.Block
}

// holdings returns every non-empty holding, sorted by right then account.
func (o *oracle) holdings() []holdingWant {
	var out []holdingWant
	for id, r := range o.rights {
		for _, h := range r.Holdings() {
			out = append(out, holdingWant{id, h.AccountID, h.Available, h.Retired, h.AvailableBlocks, h.RetiredBlocks})
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
