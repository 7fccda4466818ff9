package access

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ecoregistry/ecoregistry/domain"
)

// scope is what one grant covers. Offices, regulators, courts and auditors
// are scoped by rights (jurisdictions and right types); holders, pledgees
// and exchanges by accounts (and exchanges by exchange ids).
type scope struct {
	role Role
	// jurisdictions are division codes, each covering its subdivisions;
	// nil covers the whole country.
	jurisdictions []string
	// types are the right types covered; nil covers every type.
	types     map[domain.RightType]bool
	typeNames []string
	// accounts and creditCodes are the accounts covered, by id and by
	// their holder's credit code.
	accounts    map[string]bool
	creditCodes map[string]bool
	exchanges   map[string]bool
}

func compileScope(b Binding) (scope, error) {
	s := scope{role: b.Role}
	for _, j := range b.Jurisdictions {
		if !domain.ValidDivisionCode(j) {
			return scope{}, fmt.Errorf("jurisdiction %q is not a GB/T 2260 division code", j)
		}
	}
	s.jurisdictions = slices.Clone(b.Jurisdictions)
	names := b.RightTypes
	if b.Role == RoleRegulator {
		var ok bool
		if names, ok = authorities[b.Authority]; !ok {
			return scope{}, fmt.Errorf("unknown authority %q; the authorities are MEE (carbon-allowance, pollutant), MWR (water) and NFGA (carbon-sink)", b.Authority)
		}
	}
	if len(names) > 0 {
		s.types = map[domain.RightType]bool{}
		for _, n := range names {
			t, ok := rightTypeNames[n]
			if !ok {
				return scope{}, fmt.Errorf("unknown right type %q; the types are carbon-allowance, water, pollutant and carbon-sink", n)
			}
			s.types[t] = true
			s.typeNames = append(s.typeNames, n)
		}
	}
	var err error
	if s.accounts, err = idSet("account", b.Accounts, domain.ValidID); err != nil {
		return scope{}, err
	}
	if s.exchanges, err = idSet("exchange", b.Exchanges, domain.ValidID); err != nil {
		return scope{}, err
	}
	if s.creditCodes, err = idSet("credit code", b.CreditCodes, func(c string) bool { return len(c) == 18 }); err != nil {
		return scope{}, err
	}
	return s, nil
}

func idSet(what string, ids []string, valid func(string) bool) (map[string]bool, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !valid(id) {
			return nil, fmt.Errorf("%s %q is not valid", what, id)
		}
		out[id] = true
	}
	return out, nil
}

// byAccounts reports whether the scope is a set of accounts rather than of
// rights.
func (s *scope) byAccounts() bool {
	return s.role == RoleHolder || s.role == RolePledgee || s.role == RoleExchange
}

// nationwide reports whether a rights scope covers every right.
func (s *scope) nationwide() bool { return s.jurisdictions == nil && s.types == nil }

func (s *scope) coversType(t domain.RightType) bool { return s.types == nil || s.types[t] }

func (s *scope) coversJurisdiction(code string) bool {
	if s.jurisdictions == nil {
		return true
	}
	for _, j := range s.jurisdictions {
		if domain.DivisionCovers(j, code) {
			return true
		}
	}
	return false
}

// coversRight reports whether a rights scope covers a right of type t
// registered in jurisdiction; an accounts scope covers no right as such.
func (s *scope) coversRight(t domain.RightType, jurisdiction string) bool {
	return !s.byAccounts() && s.coversType(t) && s.coversJurisdiction(jurisdiction)
}

// checkRight refuses a right of type t in jurisdiction that the scope does
// not cover, saying which of the two is outside it.
func (s *scope) checkRight(g *grant, typeField string, t domain.RightType, jurisdictionField, jurisdiction string) error {
	if !s.coversType(t) {
		return &domain.Rejection{Check: domain.CheckOutsideScope, Field: typeField,
			Detail: fmt.Sprintf("right type %s is outside %s's %s", typeName(t), g.who, strings.Join(s.typeNames, ", "))}
	}
	if s.jurisdictions != nil {
		return domain.CheckJurisdictionInScope(jurisdictionField, jurisdiction, s.jurisdictions, g.who)
	}
	return nil
}

// coversAccount reports whether the scope covers an account: for an
// accounts scope, one of its own (or admitted) accounts, by id or by its
// holder's credit code; for a rights scope, an account opened in one of its
// jurisdictions. facts is asked only when the answer depends on them; an
// account that was never opened is covered, for the registry to answer
// NOT_FOUND.
func (s *scope) coversAccount(ctx context.Context, facts Facts, id string) (bool, error) {
	if s.byAccounts() {
		if s.accounts[id] {
			return true, nil
		}
		if s.creditCodes == nil {
			return false, nil
		}
	} else if s.jurisdictions == nil {
		return true, nil
	}
	af, err := facts.Account(ctx, id)
	if errors.Is(err, ErrUnknown) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if s.byAccounts() {
		return s.creditCodes[af.CreditCode], nil
	}
	return s.coversJurisdiction(af.Jurisdiction), nil
}

// checkAccount refuses an account the scope does not cover.
func (s *scope) checkAccount(ctx context.Context, facts Facts, g *grant, field, id string) error {
	ok, err := s.coversAccount(ctx, facts, id)
	if err != nil || ok {
		return err
	}
	detail := fmt.Sprintf("account %s is not one of %s's accounts", id, g.who)
	switch {
	case s.role == RoleExchange:
		detail = fmt.Sprintf("account %s is not admitted to %s", id, g.who)
	case !s.byAccounts():
		detail = fmt.Sprintf("account %s was opened outside %s's %s", id, g.who, strings.Join(s.jurisdictions, ", "))
	}
	return &domain.Rejection{Check: domain.CheckOutsideScope, Field: field, Detail: detail}
}

// checkExchange refuses an exchange id that is not one of the scope's.
func (s *scope) checkExchange(g *grant, field, id string) error {
	if s.exchanges[id] {
		return nil
	}
	return &domain.Rejection{Check: domain.CheckOutsideScope, Field: field,
		Detail: fmt.Sprintf("exchange %q is not one of %s's exchanges %s", id, g.who, strings.Join(slices.Sorted(maps.Keys(s.exchanges)), ", "))}
}

func typeName(t domain.RightType) string {
	for n, rt := range rightTypeNames {
		if rt == t {
			return n
		}
	}
	return t.String()
}
