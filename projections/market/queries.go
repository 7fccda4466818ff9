package market

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/projections"
)

// Queries answers queries from the market ledger's active state.
type Queries struct{ r *projections.Runner }

// NewQueries returns the queries of the projection run by r.
func NewQueries(r *projections.Runner) *Queries { return &Queries{r: r} }

// TradesQuery asks for trades in a time range.
type TradesQuery struct {
	// From and To bound the trades' times: From inclusive, To exclusive; a
	// zero bound is open.
	From, To time.Time
	// RightID, when not empty, keeps the trades of that right.
	RightID string
	// RightType, when specified, keeps the trades of rights of that type.
	RightType domain.RightType
	// Exchange, when not nil, keeps the trades of that exchange ("" for
	// trades of no named exchange).
	Exchange *string
	projections.PageRequest
}

// Trades returns the trades in time order (then log order).
func (q *Queries) Trades(ctx context.Context, query TradesQuery) (projections.Page[Trade], error) {
	var none projections.Page[Trade]
	if query.RightID != "" {
		if err := projections.CheckID(domain.CheckInvalidRightID, "right_id", query.RightID); err != nil {
			return none, err
		}
	}
	if err := projections.CheckRightType("right_type", query.RightType); err != nil {
		return none, err
	}
	if err := domain.CheckRangeOrder("from_time", "to_time", query.From.Format(time.RFC3339Nano), query.To.Format(time.RFC3339Nano),
		query.From.IsZero() || query.To.IsZero() || !query.From.After(query.To)); err != nil {
		return none, err
	}
	ex := "*"
	if query.Exchange != nil {
		ex = fmt.Sprintf("%q", *query.Exchange)
	}
	scope := fmt.Sprintf("market/trades/%d/%d/%s/%d/%s", unixOrZero(query.From), unixOrZero(query.To), query.RightID, query.RightType, ex)
	v, after, size, err := q.r.Query(ctx, scope, query.PageRequest)
	if err != nil {
		return none, err
	}
	defer v.Close()
	// Scan a right's trades, or all trades.
	prefix := []byte{'t'}
	if query.RightID != "" {
		prefix = indexKey('r', query.RightID, nil)
	}
	lower, upper := bytes.Clone(prefix), projections.PrefixEnd(prefix)
	if !query.From.IsZero() {
		lower = timeKey(bytes.Clone(prefix), query.From)
	}
	if !query.To.IsZero() {
		upper = timeKey(bytes.Clone(prefix), query.To)
	}
	indexed := prefix[0] != 't'
	items, next, err := projections.ScanPage(v, lower, upper, after, size, func(key, value []byte) (Trade, bool, error) {
		suffix := key[len(prefix):]
		if indexed {
			b, ok, err := v.Get(append([]byte{'t'}, suffix...))
			if err != nil {
				return Trade{}, false, err
			}
			if !ok {
				return Trade{}, false, fmt.Errorf("market: trade %x is indexed but missing", key[len(prefix):])
			}
			value = b
		}
		t, err := decodeTrade(suffix, value)
		if err != nil {
			return Trade{}, false, err
		}
		keep := (query.RightID == "" || t.RightID == query.RightID) &&
			(query.RightType == domain.RightTypeUnspecified || t.RightType == query.RightType) &&
			(query.Exchange == nil || t.Exchange == *query.Exchange)
		return t, keep, nil
	})
	if err != nil {
		return none, err
	}
	return projections.Page[Trade]{Items: items, NextPageToken: projections.Token(scope, next), Position: v.Position}, nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// StatsQuery asks for the running statistics of one dimension.
type StatsQuery struct {
	// Dimension is what the statistics are grouped by.
	Dimension Dimension
	// Key, when not nil, keeps one right, type (by name, e.g.
	// "CARBON_ALLOWANCE") or exchange ("" for no named exchange).
	Key *string
	// Currency, when not empty, keeps one currency.
	Currency string
	projections.PageRequest
}

// Stats returns statistics ordered by key, then currency.
func (q *Queries) Stats(ctx context.Context, query StatsQuery) (projections.Page[Stats], error) {
	var none projections.Page[Stats]
	if err := checkDimensionKey(query.Dimension, query.Key, false); err != nil {
		return none, err
	}
	if err := checkCurrencyFilter(query.Currency); err != nil {
		return none, err
	}
	key := "*"
	if query.Key != nil {
		key = fmt.Sprintf("%q", *query.Key)
	}
	scope := fmt.Sprintf("market/stats/%d/%s/%s", query.Dimension, key, query.Currency)
	v, after, size, err := q.r.Query(ctx, scope, query.PageRequest)
	if err != nil {
		return none, err
	}
	defer v.Close()
	prefix := []byte{'s', byte(query.Dimension)}
	if query.Key != nil {
		prefix = statsKey(query.Dimension, *query.Key, "")
	}
	items, next, err := projections.ScanPage(v, prefix, projections.PrefixEnd(prefix), after, size, func(k, value []byte) (Stats, bool, error) {
		key, currency, ok := bytes.Cut(k[2:], []byte{0})
		if !ok {
			return Stats{}, false, fmt.Errorf("market: malformed statistics key %q", k)
		}
		if query.Currency != "" && string(currency) != query.Currency {
			return Stats{}, false, nil
		}
		s := Stats{Dimension: query.Dimension, Key: string(key), Currency: string(currency)}
		return s, true, decodeStats(value, &s)
	})
	if err != nil {
		return none, err
	}
	return projections.Page[Stats]{Items: items, NextPageToken: projections.Token(scope, next), Position: v.Position}, nil
}

// BarsQuery asks for the daily bars of one right, type or exchange.
type BarsQuery struct {
	// Dimension says what Key names.
	Dimension Dimension
	// Key is the right id, the type's name or the exchange ("" for no
	// named exchange).
	Key string
	// Currency, when not empty, keeps one currency.
	Currency string
	// FromDay and ToDay bound the days, both inclusive, as "2026-11-05";
	// empty is open.
	FromDay, ToDay string
	projections.PageRequest
}

// Bars returns daily bars ordered by currency, then day.
func (q *Queries) Bars(ctx context.Context, query BarsQuery) (projections.Page[Bar], error) {
	var none projections.Page[Bar]
	if err := checkDimensionKey(query.Dimension, &query.Key, true); err != nil {
		return none, err
	}
	if err := checkCurrencyFilter(query.Currency); err != nil {
		return none, err
	}
	from, to := "", ""
	for _, d := range []struct {
		field, text string
		out         *string
	}{{"from_day", query.FromDay, &from}, {"to_day", query.ToDay, &to}} {
		if d.text == "" {
			continue
		}
		y, m, day, err := domain.ParseDate(d.field, d.text)
		if err != nil {
			return none, err
		}
		*d.out = fmt.Sprintf("%04d%02d%02d", y, m, day)
	}
	if err := domain.CheckRangeOrder("from_day", "to_day", query.FromDay, query.ToDay, from == "" || to == "" || from <= to); err != nil {
		return none, err
	}
	scope := fmt.Sprintf("market/bars/%d/%q/%s/%s/%s", query.Dimension, query.Key, query.Currency, from, to)
	v, after, size, err := q.r.Query(ctx, scope, query.PageRequest)
	if err != nil {
		return none, err
	}
	defer v.Close()
	prefix := append(append([]byte{'d', byte(query.Dimension)}, query.Key...), 0)
	items, next, err := projections.ScanPage(v, prefix, projections.PrefixEnd(prefix), after, size, func(k, value []byte) (Bar, bool, error) {
		currency, day, ok := bytes.Cut(k[len(prefix):], []byte{0})
		if !ok || len(day) != 8 {
			return Bar{}, false, fmt.Errorf("market: malformed bar key %q", k)
		}
		if (query.Currency != "" && string(currency) != query.Currency) || (from != "" && string(day) < from) || (to != "" && string(day) > to) {
			return Bar{}, false, nil
		}
		b := Bar{Dimension: query.Dimension, Key: query.Key, Currency: string(currency), Day: dayText(string(day))}
		return b, true, decodeBar(value, &b)
	})
	if err != nil {
		return none, err
	}
	return projections.Page[Bar]{Items: items, NextPageToken: projections.Token(scope, next), Position: v.Position}, nil
}

// checkDimensionKey refuses an unknown dimension, a malformed right id, an
// unknown type name, or (when required) a missing key of a right or type.
func checkDimensionKey(dim Dimension, key *string, required bool) error {
	if !dim.Valid() {
		return &domain.Rejection{Check: domain.CheckInvalidEnumValue, Field: "dimension", Detail: "the dimension must be right, right type or exchange"}
	}
	if key == nil || (*key == "" && !required) {
		return nil
	}
	switch dim {
	case ByRight:
		return projections.CheckID(domain.CheckInvalidRightID, "key", *key)
	case ByRightType:
		if _, ok := RightTypeByName(*key); !ok {
			if *key == "" {
				return &domain.Rejection{Check: domain.CheckRequiredFieldMissing, Field: "key", Detail: "key is required: the right type's name"}
			}
			return &domain.Rejection{Check: domain.CheckInvalidEnumValue, Field: "key", Detail: fmt.Sprintf("%q is not a right type name such as CARBON_ALLOWANCE", *key)}
		}
	}
	return nil
}

// checkCurrencyFilter refuses a currency filter that is not an ISO 4217
// code: "cny" would keep nothing, and answer OK.
func checkCurrencyFilter(currency string) error {
	if currency == "" {
		return nil
	}
	return domain.CheckCurrency("currency", currency)
}

// RightTypeByName returns the right type whose String is name.
func RightTypeByName(name string) (domain.RightType, bool) {
	for t := domain.RightType(1); t.Valid(); t++ {
		if t.String() == name {
			return t, true
		}
	}
	return domain.RightTypeUnspecified, false
}
