package access

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/ecoregistry/ecoregistry/domain"
)

// Facts answers what the checks on data need to know of recorded state.
// Each answer is a fact that never changes once recorded (an account's
// jurisdiction and holder, a right's type and jurisdiction, a pledge's
// pledgee, a reservation's holder and exchange), so a check cannot be
// outdated by a command that runs between the check and the call.
// grpcserver answers it from the registry.
type Facts interface {
	// Account returns an opened account's facts, or ErrUnknown.
	Account(ctx context.Context, id string) (AccountFacts, error)
	// Right returns a registered right's facts, or ErrUnknown.
	Right(ctx context.Context, id string) (RightFacts, error)
	// Pledge returns the facts of a pledge recorded on a right, or ErrUnknown.
	Pledge(ctx context.Context, rightID, pledgeID string) (PledgeFacts, error)
	// Reservation returns the facts of a reservation recorded on a right,
	// or ErrUnknown.
	Reservation(ctx context.Context, rightID, reservationID string) (ReservationFacts, error)
}

// ErrUnknown reports an account, right, pledge or reservation that was
// never recorded (or an id that cannot name one). A check that meets it lets
// the call through: the registry then refuses it as NOT_FOUND or
// INVALID_ARGUMENT, and writes nothing.
var ErrUnknown = errors.New("access: not recorded")

// AccountFacts are the facts of an account the checks use.
type AccountFacts struct {
	Jurisdiction string
	// CreditCode is the holder's unified social credit code; empty for individuals.
	CreditCode string
}

// RightFacts are the facts of a right the checks use.
type RightFacts struct {
	Type         domain.RightType
	Jurisdiction string
}

// PledgeFacts are the facts of a pledge the checks use.
type PledgeFacts struct {
	Pledgor, Pledgee string
}

// ReservationFacts are the facts of a reservation the checks use.
type ReservationFacts struct {
	Holder, Exchange string
}

// Authorizer decides calls by the current policy and the table. Its policy
// may be replaced while it serves (SetPolicy); each call is decided by one
// policy throughout.
type Authorizer struct {
	policy atomic.Pointer[Policy]
	facts  Facts
}

// NewAuthorizer returns an authorizer with policy p, asking facts for the
// data its checks need.
func NewAuthorizer(p *Policy, facts Facts) *Authorizer {
	a := &Authorizer{facts: facts}
	a.policy.Store(p)
	return a
}

// SetPolicy makes p the policy of the calls that start from now on.
func (a *Authorizer) SetPolicy(p *Policy) { a.policy.Store(p) }

// Policy returns the current policy.
func (a *Authorizer) Policy() *Policy { return a.policy.Load() }

// Grant is a decision to let a principal make a call: the binding that
// allowed it. Its zero value is no grant.
type Grant struct {
	g     *grant
	check Check
	facts Facts
}

// Role returns the role that allowed the call.
func (g Grant) Role() Role {
	if g.g == nil {
		return ""
	}
	return g.g.role
}

// Authorize decides whether pr may call the RPC method (its full name,
// "/package.Service/Method") with request req. For the start of a stream
// req is nil, and only the role is decided; each message that needs a check
// is then decided with its own call (see SubmitTrades). It returns the
// grant of the first binding of pr, in the policy's order, whose role may
// call method and whose check passes. Otherwise it returns an E8001
// rejection when no role of pr may call method, the E8002 rejection of the
// first check that failed when one may, or the error of a fact that could
// not be read.
func (a *Authorizer) Authorize(ctx context.Context, pr Principal, method string, req any) (Grant, error) {
	policy := a.Policy()
	perms, listed := table[method]
	var refused error
	// The organisation's grants are walked in place: this runs on every
	// call, and a trade should not pay for a copy.
	for _, g := range policy.byOrganisation[pr.Organisation] {
		check, ok := perms[g.role]
		if !ok || (g.members != nil && !g.members[pr.Name]) {
			continue
		}
		if req == nil || check.allows == nil {
			return Grant{g: g, check: check, facts: a.facts}, nil
		}
		err := check.allows(&call{ctx: ctx, grant: g, req: req, facts: a.facts})
		if err == nil {
			return Grant{g: g, check: check, facts: a.facts}, nil
		}
		if _, isRejection := domain.RejectionOf(err); !isRejection {
			return Grant{}, err
		}
		if refused == nil {
			refused = err
		}
	}
	if refused != nil {
		return Grant{}, refused
	}
	rej := domain.DenyRole(rpcName(method), roleNames(policy.grantsOf(pr)))
	if !listed {
		rej.Detail += "; the RPC has no entry in the access table"
	}
	return Grant{}, rej
}

// rpcName is the method's own name, "RegisterRight" of
// "/ecoregistry.v1.RightService/RegisterRight".
func rpcName(method string) string { return method[strings.LastIndexByte(method, '/')+1:] }

func roleNames(grants []*grant) []string {
	var out []string
	for _, g := range grants {
		if n := string(g.role); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
