package access

import (
	"context"
	"errors"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// The checks of queries whose answers are cut to the caller's scope. A
// page may then hold fewer items than its page size; its next_page_token
// still continues the query.

var holdingsInScope = answering(Check{Name: "account in scope; answer: rights in scope", allows: accountInScope.allows}, func(c *call, resp *pb.ListAccountHoldingsResponse) error {
	var err error
	resp.Holdings, err = keep(resp.Holdings, func(h *pb.HoldingBalance) (bool, error) {
		return c.scope().coversRight(domain.RightType(h.GetRightType()), h.GetJurisdiction()), nil
	})
	return err
})

var ownHoldingsOfRight = answering(Check{Name: "answer: own accounts' holdings"}, func(c *call, resp *pb.GetRightResponse) error {
	var err error
	if r := resp.GetRight(); r != nil {
		r.Holdings, err = keep(r.Holdings, func(h *pb.Holding) (bool, error) { return c.coversAccount(h.GetAccountId()) })
	}
	return err
})

var ownHoldersOfRight = answering(Check{Name: "answer: own accounts' holdings"}, func(c *call, resp *pb.ListRightHoldersResponse) error {
	var err error
	resp.Holders, err = keep(resp.Holders, func(h *pb.HoldingBalance) (bool, error) { return c.coversAccount(h.GetAccountId()) })
	return err
})

// pledgesInScope lets a rights scope list the pledges of a right it covers,
// or of an account it covers across the rights it covers.
var pledgesInScope = answering(on("right or account in scope", func(c *call, req *pb.ListPledgesRequest) error {
	if req.GetRightId() != "" {
		return c.right("right_id", req.GetRightId())
	}
	return c.account("account_id", req.GetAccountId())
}), func(c *call, resp *pb.ListPledgesResponse) error {
	var err error
	resp.Pledges, err = keep(resp.Pledges, func(p *pb.Pledge) (bool, error) { return c.coversRightID(p.GetRightId()) })
	return err
})

// ownPledges lets a holder or pledgee list the pledges its accounts made or
// received.
var ownPledges = answering(on("account, if named, its own; answer: own pledges", func(c *call, req *pb.ListPledgesRequest) error {
	if req.GetAccountId() == "" {
		return nil
	}
	return c.account("account_id", req.GetAccountId())
}), func(c *call, resp *pb.ListPledgesResponse) error {
	var err error
	resp.Pledges, err = keep(resp.Pledges, func(p *pb.Pledge) (bool, error) {
		if ok, err := c.coversAccount(p.GetPledgorAccountId()); ok || err != nil {
			return ok, err
		}
		return c.coversAccount(p.GetPledgeeAccountId())
	})
	return err
})

var totalsInScope = answering(Check{Name: "answer: types and jurisdictions in scope"}, func(c *call, resp *pb.ListHoldingTotalsResponse) error {
	var err error
	resp.Totals, err = keep(resp.Totals, func(t *pb.HoldingTotals) (bool, error) {
		return c.scope().coversRight(domain.RightType(t.GetRightType()), t.GetJurisdiction()), nil
	})
	return err
})

var statisticsInScope = answering(Check{Name: "answer: types and jurisdictions in scope"}, func(c *call, resp *pb.ListStatisticsResponse) error {
	var err error
	resp.Rows, err = keep(resp.Rows, func(r *pb.StatisticsRow) (bool, error) {
		return c.scope().coversRight(domain.RightType(r.GetRightType()), r.GetJurisdiction()), nil
	})
	return err
})

// tradesInScope shows a rights scope the trades of its rights, an exchange
// its own trades and a holder the trades of its accounts.
var tradesInScope = answering(Check{Name: "answer: trades in scope"}, func(c *call, resp *pb.ListTradesResponse) error {
	var err error
	resp.Trades, err = keep(resp.Trades, func(t *pb.Trade) (bool, error) {
		switch {
		case c.grant.role == RoleExchange:
			return c.scope().exchanges[t.GetExchange()], nil
		case c.scope().byAccounts():
			if ok, err := c.coversAccount(t.GetSellerAccountId()); ok || err != nil {
				return ok, err
			}
			return c.coversAccount(t.GetBuyerAccountId())
		default:
			return c.coversRightID(t.GetRightId())
		}
	})
	return err
})

// marketInScope shows a rights scope the figures of the rights and types it
// covers (of an exchange, which mixes types and places, only when it covers
// the whole country), and an exchange the figures of its own exchanges.
var marketInScope = Check{Name: "answer: figures in scope", answer: func(c *call, resp any) error {
	var err error
	switch r := resp.(type) {
	case *pb.ListMarketStatsResponse:
		r.Stats, err = keep(r.Stats, func(s *pb.MarketStats) (bool, error) { return c.coversMarketKey(s.GetDimension(), s.GetKey()) })
	case *pb.ListDailyBarsResponse:
		r.Bars, err = keep(r.Bars, func(b *pb.DailyBar) (bool, error) { return c.coversMarketKey(b.GetDimension(), b.GetKey()) })
	default:
		err = errors.New("access: the market check cannot filter this answer")
	}
	return err
}}

func (c *call) coversMarketKey(dim pb.MarketDimension, key string) (bool, error) {
	s := c.scope()
	switch {
	case dim == pb.MarketDimension_MARKET_DIMENSION_EXCHANGE:
		return s.exchanges[key] || (!s.byAccounts() && s.nationwide()), nil
	case c.grant.role == RoleExchange:
		return false, nil
	case dim == pb.MarketDimension_MARKET_DIMENSION_RIGHT:
		return c.coversRightID(key)
	default:
		for _, t := range rightTypeNames {
			if t.String() == key {
				return s.coversType(t) && s.jurisdictions == nil, nil
			}
		}
		return false, nil
	}
}

// coversAccount reports whether the grant's scope covers an account.
func (c *call) coversAccount(id string) (bool, error) {
	return c.scope().coversAccount(c.ctx, c.facts, id)
}

// coversRightID reports whether a rights scope covers the right id; a
// right it cannot find is not shown.
func (c *call) coversRightID(id string) (bool, error) {
	s := c.scope()
	if s.byAccounts() {
		return false, nil
	}
	if s.nationwide() {
		return true, nil
	}
	rf, err := c.facts.Right(c.ctx, id)
	if errors.Is(err, ErrUnknown) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.coversRight(rf.Type, rf.Jurisdiction), nil
}

// keep returns the items for which ok is true, in order, reusing items'
// array.
func keep[T any](items []T, ok func(T) (bool, error)) ([]T, error) {
	out := items[:0]
	for _, it := range items {
		yes, err := ok(it)
		if err != nil {
			return nil, err
		}
		if yes {
			out = append(out, it)
		}
	}
	return out, nil
}

// FilterAnswer removes from a query's answer what the grant's scope does
// not cover; answers of calls whose check does not filter are left whole.
func (g Grant) FilterAnswer(ctx context.Context, resp any) error {
	if g.g == nil || g.check.answer == nil {
		return nil
	}
	return g.check.answer(&call{ctx: ctx, grant: g.g, facts: g.facts}, resp)
}
