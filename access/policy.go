package access

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/ecoregistry/ecoregistry/domain"
	"sigs.k8s.io/yaml"
)

// Role is what a principal may do in the registry; the table in table.go
// says which role may call which RPC.
type Role string

// The roles a policy can bind.
const (
	// RoleOffice is a registration office (登记机构): it opens accounts and
	// registers rights within its jurisdictions and right types.
	RoleOffice Role = "registration_office"
	// RoleExchange is a trading exchange: it submits trades and reserves,
	// settles and voids for the accounts admitted to it.
	RoleExchange Role = "exchange"
	// RoleHolder is an account holder: it transfers, retires and pledges its
	// own accounts' units and reads its own holdings.
	RoleHolder Role = "account_holder"
	// RolePledgee is a lender, e.g. a bank: it releases and enforces the
	// pledges made to its accounts.
	RolePledgee Role = "pledgee"
	// RoleRegulator is a regulator scoped by its authority (MEE, MWR,
	// NFGA): it reads everything in scope and freezes, cancels and corrects.
	RoleRegulator Role = "regulator"
	// RoleCourt is a court, a regulator that acts by order: it freezes and
	// unfreezes units and whole accounts, and reads what it needs to.
	RoleCourt Role = "court"
	// RoleAuditor reads everything in its scope and changes nothing.
	RoleAuditor Role = "auditor"
	// RoleAdministrator runs the registry: projection status and rebuilds.
	RoleAdministrator Role = "administrator"
)

// Roles lists every role, in the order the README's table shows them.
var Roles = []Role{RoleOffice, RoleExchange, RoleHolder, RolePledgee, RoleRegulator, RoleCourt, RoleAuditor, RoleAdministrator}

// rightTypeNames are the spellings of the right types in a policy, those of
// ecoctl's --type.
var rightTypeNames = map[string]domain.RightType{
	"carbon-allowance": domain.RightTypeCarbonAllowance,
	"water":            domain.RightTypeWaterUse,
	"pollutant":        domain.RightTypePollutantDischarge,
	"carbon-sink":      domain.RightTypeCarbonSink,
}

// authorities are the regulators a policy knows and the right types each
// covers.
var authorities = map[string][]string{
	"MEE":  {"carbon-allowance", "pollutant"}, // Ministry of Ecology and Environment
	"MWR":  {"water"},                         // Ministry of Water Resources
	"NFGA": {"carbon-sink"},                   // National Forestry and Grassland Administration
}

// File is a policy as written: YAML or JSON with these fields.
type File struct {
	// Bindings give roles to principals; a principal may match several.
	Bindings []Binding `json:"bindings"`
}

// Binding gives one role, with its scope, to the principals of an
// organisation (all of them, or the named members).
type Binding struct {
	// Organisation is the <organisation> of ecoregistry://<organisation>/<name>.
	Organisation string `json:"organisation"`
	// Members, when given, limits the binding to these names.
	Members []string `json:"members,omitempty"`
	// Role is one of Roles.
	Role Role `json:"role"`
	// Authority is a regulator's: MEE, MWR or NFGA.
	Authority string `json:"authority,omitempty"`
	// Jurisdictions are division codes, each covering its subdivisions:
	// required for an office, optional for a regulator, court or auditor
	// (none: the whole country).
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	// RightTypes limit an office or auditor (none: every type):
	// carbon-allowance, water, pollutant, carbon-sink.
	RightTypes []string `json:"right_types,omitempty"`
	// Accounts are a holder's or pledgee's own accounts, or the accounts
	// admitted to an exchange.
	Accounts []string `json:"accounts,omitempty"`
	// CreditCodes add, for a holder, pledgee or exchange, every account
	// whose holder has one of these unified social credit codes.
	CreditCodes []string `json:"credit_codes,omitempty"`
	// Exchanges are an exchange's ids, as its trades and reservations name them.
	Exchanges []string `json:"exchanges,omitempty"`
}

// Policy is a checked policy, ready to answer who holds which roles.
type Policy struct {
	byOrganisation map[string][]*grant
	bindings       int
}

// grant is one binding, compiled.
type grant struct {
	role    Role
	members map[string]bool // nil: every member of the organisation
	scope   scope
	// who names the binding in messages, e.g. "registration office hubei-office".
	who string
}

// LoadPolicy reads and checks a policy file.
func LoadPolicy(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("access: policy: %w", err)
	}
	p, err := ParsePolicy(b)
	if err != nil {
		return nil, fmt.Errorf("access: policy %s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy checks a policy given as YAML or JSON. Unknown fields,
// unknown roles, right types and authorities, malformed ids and division
// codes, and fields a role does not use are all errors, so that a typo never
// widens or silently narrows what someone may do.
func ParsePolicy(b []byte) (*Policy, error) {
	var f File
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		return nil, err
	}
	if len(f.Bindings) == 0 {
		return nil, errors.New("the policy has no bindings")
	}
	p := &Policy{byOrganisation: map[string][]*grant{}, bindings: len(f.Bindings)}
	var errs []error
	for i, b := range f.Bindings {
		g, err := compile(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("binding %d (organisation %q, role %q): %w", i+1, b.Organisation, b.Role, err))
			continue
		}
		p.byOrganisation[b.Organisation] = append(p.byOrganisation[b.Organisation], g)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Bindings returns how many bindings the policy has.
func (p *Policy) Bindings() int { return p.bindings }

// grantsOf returns the grants that apply to pr, in the order of the file.
func (p *Policy) grantsOf(pr Principal) []*grant {
	var out []*grant
	for _, g := range p.byOrganisation[pr.Organisation] {
		if g.members == nil || g.members[pr.Name] {
			out = append(out, g)
		}
	}
	return out
}

// RolesOf returns the roles the policy gives pr, in the order of the file.
func (p *Policy) RolesOf(pr Principal) []Role {
	var out []Role
	for _, g := range p.grantsOf(pr) {
		if !slices.Contains(out, g.role) {
			out = append(out, g.role)
		}
	}
	return out
}

// fieldUse says, for one role, which scope fields it needs and which it may have.
type fieldUse struct{ required, optional []string }

var roleFields = map[Role]fieldUse{
	RoleOffice:        {required: []string{"jurisdictions"}, optional: []string{"right_types"}},
	RoleExchange:      {required: []string{"exchanges"}, optional: []string{"accounts", "credit_codes"}},
	RoleHolder:        {optional: []string{"accounts", "credit_codes"}},
	RolePledgee:       {optional: []string{"accounts", "credit_codes"}},
	RoleRegulator:     {required: []string{"authority"}, optional: []string{"jurisdictions"}},
	RoleCourt:         {optional: []string{"jurisdictions"}},
	RoleAuditor:       {optional: []string{"jurisdictions", "right_types"}},
	RoleAdministrator: {},
}

func compile(b Binding) (*grant, error) {
	use, ok := roleFields[b.Role]
	if !ok {
		return nil, fmt.Errorf("unknown role; the roles are %s", joinRoles(Roles))
	}
	if !domain.ValidID(b.Organisation) {
		return nil, errors.New("organisation must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'")
	}
	given := map[string]bool{"authority": b.Authority != "", "jurisdictions": len(b.Jurisdictions) > 0, "right_types": len(b.RightTypes) > 0,
		"accounts": len(b.Accounts) > 0, "credit_codes": len(b.CreditCodes) > 0, "exchanges": len(b.Exchanges) > 0}
	for _, name := range slices.Sorted(maps.Keys(given)) {
		switch {
		case slices.Contains(use.required, name) && !given[name]:
			return nil, fmt.Errorf("%s is required for role %s", name, b.Role)
		case given[name] && !slices.Contains(use.required, name) && !slices.Contains(use.optional, name):
			return nil, fmt.Errorf("role %s takes no %s", b.Role, name)
		}
	}
	if (b.Role == RoleHolder || b.Role == RolePledgee) && !given["accounts"] && !given["credit_codes"] {
		return nil, fmt.Errorf("role %s needs accounts or credit_codes", b.Role)
	}
	g := &grant{role: b.Role, who: strings.ReplaceAll(string(b.Role), "_", " ") + " " + b.Organisation}
	if len(b.Members) > 0 {
		g.members = map[string]bool{}
		for _, m := range b.Members {
			if !domain.ValidID(m) {
				return nil, fmt.Errorf("member %q is not a valid name", m)
			}
			g.members[m] = true
		}
	}
	s, err := compileScope(b)
	if err != nil {
		return nil, err
	}
	g.scope = s
	return g, nil
}

func joinRoles(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}
