package access

import (
	"context"
	"errors"
	"fmt"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// Check is a named condition on a call's data that a role's permission
// depends on, and, for a query, which part of the answer the role sees.
type Check struct {
	// Name says what is checked; the README's table shows it.
	Name string
	// allows returns nil when the call may go ahead, an E8002 rejection
	// when its data lie outside the grant's scope, or the error of a fact
	// that could not be read. Nil allows any data.
	allows func(*call) error
	// answer removes from a query's answer what the grant's scope does not
	// cover. Nil leaves the answer whole.
	answer func(c *call, resp any) error
}

// call is one call being decided: the grant under test, the request and
// where to read the facts.
type call struct {
	ctx   context.Context
	grant *grant
	req   any
	facts Facts
}

func (c *call) scope() *scope { return &c.grant.scope }

// on makes a check of requests of type T.
func on[T any](name string, f func(c *call, req T) error) Check {
	return Check{Name: name, allows: func(c *call) error {
		req, ok := c.req.(T)
		if !ok {
			return fmt.Errorf("access: check %q cannot read a %T", name, c.req)
		}
		return f(c, req)
	}}
}

// answering adds an answer filter for responses of type T to a check.
func answering[T any](ch Check, f func(c *call, resp T) error) Check {
	ch.answer = func(c *call, resp any) error {
		r, ok := resp.(T)
		if !ok {
			return fmt.Errorf("access: check %q cannot filter a %T", ch.Name, resp)
		}
		return f(c, r)
	}
	return ch
}

// The request fields the checks read, as the generated getters spell them.
type (
	accountRequest interface{ GetAccountId() string }
	rightRequest   interface{ GetRightId() string }
)

var anyData = Check{Name: "any data"}

var accountInScope = on("account in scope", func(c *call, req accountRequest) error {
	return c.account("account_id", req.GetAccountId())
})

var rightInScope = on("right in scope", func(c *call, req rightRequest) error {
	return c.right("right_id", req.GetRightId())
})

var newAccountInJurisdiction = on("new account's jurisdiction in scope", func(c *call, req *pb.OpenAccountRequest) error {
	if !domain.ValidDivisionCode(req.GetJurisdiction()) {
		return nil // the registry refuses it with E1003 or E1008
	}
	return domain.CheckJurisdictionInScope("jurisdiction", req.GetJurisdiction(), c.scope().jurisdictions, c.grant.who)
})

var newRightInScope = on("new right's type and jurisdiction in scope", func(c *call, req *pb.RegisterRightRequest) error {
	t := domain.RightType(req.GetType())
	if !t.Valid() || !domain.ValidDivisionCode(req.GetJurisdiction()) {
		return nil // the registry refuses it with E1003, E1004 or E1008
	}
	return c.scope().checkRight(c.grant, "type", t, "jurisdiction", req.GetJurisdiction())
})

var sendsFromOwnAccount = on("sending account is its own", func(c *call, req *pb.TransferUnitsRequest) error {
	return c.account("from_account_id", req.GetFromAccountId())
})

var retiresOwnUnits = on("retiring account is its own", func(c *call, req *pb.RetireUnitsRequest) error {
	return c.account("holder_account_id", req.GetHolderAccountId())
})

var pledgesOwnUnits = on("pledgor account is its own", func(c *call, req *pb.PledgeUnitsRequest) error {
	return c.account("pledgor_account_id", req.GetPledgorAccountId())
})

var releasesPledgeMadeToIt = on("pledge made to its account, released as pledgee", func(c *call, req *pb.ReleasePledgeRequest) error {
	if req.GetReleasedBy() != pb.PledgeReleaser_PLEDGE_RELEASER_PLEDGEE {
		return outside("released_by", "%s releases pledges as PLEDGE_RELEASER_PLEDGEE, not %s", c.grant.who, req.GetReleasedBy())
	}
	return c.pledgeMadeToIt(req.GetRightId(), req.GetPledgeId())
})

var officeReleasesPledgeInScope = on("right in scope, released as office", func(c *call, req *pb.ReleasePledgeRequest) error {
	if req.GetReleasedBy() != pb.PledgeReleaser_PLEDGE_RELEASER_REGISTRATION_OFFICE {
		return outside("released_by", "%s releases pledges as PLEDGE_RELEASER_REGISTRATION_OFFICE, not %s", c.grant.who, req.GetReleasedBy())
	}
	return c.right("right_id", req.GetRightId())
})

var enforcesPledgeMadeToIt = on("pledge made to its account", func(c *call, req *pb.EnforcePledgeRequest) error {
	return c.pledgeMadeToIt(req.GetRightId(), req.GetPledgeId())
})

var reservesForAdmittedAccount = on("own exchange, admitted holder", func(c *call, req *pb.ReserveUnitsRequest) error {
	if err := c.scope().checkExchange(c.grant, "exchange", req.GetExchange()); err != nil {
		return err
	}
	return c.account("holder_account_id", req.GetHolderAccountId())
})

var settlesOwnReservation = on("own exchange's reservation, admitted buyer", func(c *call, req *pb.SettleReservationRequest) error {
	if err := c.ownReservation(req.GetRightId(), req.GetReservationId()); err != nil {
		return err
	}
	return c.account("buyer_account_id", req.GetBuyerAccountId())
})

var voidsOwnReservation = on("own exchange's reservation", func(c *call, req *pb.VoidReservationRequest) error {
	return c.ownReservation(req.GetRightId(), req.GetReservationId())
})

// tradeBetweenAdmittedAccounts checks a SubmitTrade request, or one trade
// of a SubmitTrades stream.
var tradeBetweenAdmittedAccounts = Check{Name: "own exchange, admitted seller and buyer", allows: func(c *call) error {
	var t *pb.MatchedTrade
	switch req := c.req.(type) {
	case *pb.SubmitTradeRequest:
		t = req.GetTrade()
	case *pb.MatchedTrade:
		t = req
	default:
		return fmt.Errorf("access: the trade check cannot read a %T", c.req)
	}
	if t == nil {
		return nil // the registry refuses it with E1003
	}
	if err := c.scope().checkExchange(c.grant, "trade.exchange_id", t.GetExchangeId()); err != nil {
		return err
	}
	if err := c.account("trade.seller_account_id", t.GetSellerAccountId()); err != nil {
		return err
	}
	return c.account("trade.buyer_account_id", t.GetBuyerAccountId())
}}

// account refuses an account outside the grant's scope.
func (c *call) account(field, id string) error {
	return c.scope().checkAccount(c.ctx, c.facts, c.grant, field, id)
}

// right refuses a right outside the grant's scope.
func (c *call) right(field, id string) error {
	rf, err := c.facts.Right(c.ctx, id)
	if errors.Is(err, ErrUnknown) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.scope().byAccounts() {
		return outside(field, "%s is not scoped by rights", c.grant.who)
	}
	return c.scope().checkRight(c.grant, field, rf.Type, field, rf.Jurisdiction)
}

func (c *call) pledgeMadeToIt(rightID, pledgeID string) error {
	pf, err := c.facts.Pledge(c.ctx, rightID, pledgeID)
	if errors.Is(err, ErrUnknown) {
		return nil
	}
	if err != nil {
		return err
	}
	ok, err := c.scope().coversAccount(c.ctx, c.facts, pf.Pledgee)
	if err != nil || ok {
		return err
	}
	return outside("pledge_id", "pledge %s of right %s was made to account %s, which is not one of %s's accounts", pledgeID, rightID, pf.Pledgee, c.grant.who)
}

func (c *call) ownReservation(rightID, reservationID string) error {
	rf, err := c.facts.Reservation(c.ctx, rightID, reservationID)
	if errors.Is(err, ErrUnknown) {
		return nil
	}
	if err != nil {
		return err
	}
	if !c.scope().exchanges[rf.Exchange] {
		return outside("reservation_id", "reservation %s of right %s was made for exchange %q, not one of %s's", reservationID, rightID, rf.Exchange, c.grant.who)
	}
	return c.account("reservation_id", rf.Holder)
}

// outside is an E8002 rejection on field.
func outside(field, format string, args ...any) error {
	return &domain.Rejection{Check: domain.CheckOutsideScope, Field: field, Detail: fmt.Sprintf(format, args...)}
}
