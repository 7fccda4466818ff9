package domain

import (
	"fmt"
	"strings"
)

// The rules of access that depend on nothing but their arguments: how a
// division code covers its subdivisions, and the rejections of a call that
// a caller may not make. Who holds which role and scope is the business of
// package access; these are the pieces of it that are facts of the domain.

// DivisionCovers reports whether the division code scope covers code. A
// province-level code (XX0000) covers every code of the province, a
// prefecture-level code (XXXX00) every code of the prefecture, and any
// other code only itself, as GB/T 2260 nests them.
func DivisionCovers(scope, code string) bool {
	if !ValidDivisionCode(scope) || !ValidDivisionCode(code) {
		return false
	}
	switch {
	case scope[2:] == "0000":
		return code[:2] == scope[:2]
	case scope[4:] == "00":
		return code[:4] == scope[:4]
	default:
		return code == scope
	}
}

// CheckJurisdictionInScope refuses, with E8002, a division code that none of
// the codes of scope covers. who names the caller in the message, e.g.
// "this office"; field is the request field that holds code.
func CheckJurisdictionInScope(field, code string, scope []string, who string) error {
	for _, s := range scope {
		if DivisionCovers(s, code) {
			return nil
		}
	}
	return &Rejection{Check: CheckOutsideScope, Field: field,
		Detail: fmt.Sprintf("jurisdiction %s is outside %s's %s", code, who, strings.Join(scope, ", "))}
}

// DenyRole is the E8001 rejection of a call to rpc by a caller whose roles
// do not include one that may make it; roles may be empty when the caller
// has no role at all.
func DenyRole(rpc string, roles []string) *Rejection {
	switch len(roles) {
	case 0:
		return &Rejection{Check: CheckRoleNotAllowed, Detail: fmt.Sprintf("the caller has no role in the access policy, so it may not call %s", rpc)}
	case 1:
		return &Rejection{Check: CheckRoleNotAllowed, Detail: fmt.Sprintf("role %s may not call %s", roles[0], rpc)}
	default:
		return &Rejection{Check: CheckRoleNotAllowed, Detail: fmt.Sprintf("none of the roles %s may call %s", strings.Join(roles, ", "), rpc)}
	}
}

// DenyUnauthenticated is the E8003 rejection of a call whose client
// certificate is missing or not valid; detail says which.
func DenyUnauthenticated(detail string) *Rejection {
	return &Rejection{Check: CheckUnauthenticated, Detail: detail}
}

// DenyCallsInFlight is the E8004 rejection of a call of a principal that
// already has limit calls in flight.
func DenyCallsInFlight(principal string, limit int) *Rejection {
	return &Rejection{Check: CheckTooManyCallsInFlight,
		Detail: fmt.Sprintf("%s already has %d calls in flight, the most one principal may have; retry when one has finished", principal, limit)}
}
