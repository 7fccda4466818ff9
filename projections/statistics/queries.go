package statistics

import (
	"context"
	"fmt"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/projections"
)

// Granularity says whether a query asks for months or years.
type Granularity byte

// The granularities.
const (
	// Monthly rows are calendar months.
	Monthly Granularity = 'M'
	// Yearly rows are calendar years.
	Yearly Granularity = 'Y'
)

// Queries answers queries from the statistics projection's active state.
type Queries struct{ r *projections.Runner }

// NewQueries returns the queries of the projection run by r.
func NewQueries(r *projections.Runner) *Queries { return &Queries{r: r} }

// Query asks for rows of figures.
type Query struct {
	// Level is the administrative level to sum at.
	Level Level
	// Jurisdiction, when not empty, keeps one division: the division at
	// Level that contains this code (so "420102" at Province means
	// "420000"). It is ignored at the National level.
	Jurisdiction string
	// RightType, when specified, keeps one right type.
	RightType domain.RightType
	// Granularity says whether rows are months or years.
	Granularity Granularity
	// From and To bound the periods, both inclusive, written "2026" or
	// "2026-11" to match Granularity; empty is open.
	From, To string
	projections.PageRequest
}

// Rows returns rows ordered by jurisdiction, right type, then period.
func (q *Queries) Rows(ctx context.Context, query Query) (projections.Page[Row], error) {
	var none projections.Page[Row]
	if !query.Level.Valid() {
		return none, &domain.Rejection{Check: domain.CheckInvalidEnumValue, Field: "level", Detail: "the level must be national, province, prefecture or division"}
	}
	if query.Granularity != Monthly && query.Granularity != Yearly {
		return none, &domain.Rejection{Check: domain.CheckInvalidEnumValue, Field: "granularity", Detail: "the granularity must be month or year"}
	}
	if err := projections.CheckJurisdiction("jurisdiction", query.Jurisdiction); err != nil {
		return none, err
	}
	if err := projections.CheckRightType("right_type", query.RightType); err != nil {
		return none, err
	}
	var bounds [2]*domain.Period
	for i, s := range []struct{ field, text string }{{"from_period", query.From}, {"to_period", query.To}} {
		if s.text == "" {
			continue
		}
		p, err := domain.ParsePeriod(s.field, s.text)
		if err != nil {
			return none, err
		}
		if p.IsYear() != (query.Granularity == Yearly) {
			want := "a month such as 2026-11"
			if query.Granularity == Yearly {
				want = "a year such as 2026"
			}
			return none, &domain.Rejection{Check: domain.CheckInvalidQueryRange, Field: s.field,
				Detail: fmt.Sprintf("%s %q does not match the granularity: write %s", s.field, s.text, want)}
		}
		bounds[i] = &p
	}
	if bounds[0] != nil && bounds[1] != nil {
		if err := domain.CheckRangeOrder("from_period", "to_period", query.From, query.To, bounds[0].Compare(*bounds[1]) <= 0); err != nil {
			return none, err
		}
	}
	code := ""
	if query.Jurisdiction != "" {
		code = CodeAt(query.Level, query.Jurisdiction)
	}
	scope := fmt.Sprintf("statistics/%d/%s/%d/%c/%s/%s", query.Level, code, query.RightType, query.Granularity, query.From, query.To)
	v, after, size, err := q.r.Query(ctx, scope, query.PageRequest)
	if err != nil {
		return none, err
	}
	defer v.Close()
	prefix := []byte{'s', byte(query.Level)}
	if code != "" {
		prefix = append(prefix, code...)
		if query.RightType != domain.RightTypeUnspecified {
			prefix = append(prefix, byte(query.RightType), byte(query.Granularity))
		}
	}
	items, next, err := projections.ScanPage(v, prefix, projections.PrefixEnd(prefix), after, size, func(k, value []byte) (Row, bool, error) {
		if len(k) < 10 {
			return Row{}, false, fmt.Errorf("statistics: malformed key %q", k)
		}
		r := Row{Level: query.Level, Jurisdiction: string(k[2:8]), RightType: domain.RightType(k[8])}
		if Granularity(k[9]) != query.Granularity || (query.RightType != domain.RightTypeUnspecified && r.RightType != query.RightType) {
			return Row{}, false, nil
		}
		p, err := domain.ParsePeriod("key", string(k[10:]))
		if err != nil {
			return Row{}, false, fmt.Errorf("statistics: malformed period in key %q", k)
		}
		if (bounds[0] != nil && p.Compare(*bounds[0]) < 0) || (bounds[1] != nil && p.Compare(*bounds[1]) > 0) {
			return Row{}, false, nil
		}
		r.Period = p
		return r, true, decodeValues(value, &r.Values)
	})
	if err != nil {
		return none, err
	}
	return projections.Page[Row]{Items: items, NextPageToken: projections.Token(scope, next), Position: v.Position}, nil
}
