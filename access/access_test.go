package access

import (
	"context"
	"crypto/x509"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

func TestPrincipalFromCertificate(t *testing.T) {
	uri := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	p, err := PrincipalFromCertificate(&x509.Certificate{URIs: []*url.URL{uri("https://example.com"), uri("ecoregistry://hubei-office/li.wei")}})
	if err != nil || p != (Principal{Organisation: "hubei-office", Name: "li.wei"}) || p.String() != "hubei-office/li.wei" {
		t.Fatalf("%+v %v", p, err)
	}
	if got := p.URI().String(); got != "ecoregistry://hubei-office/li.wei" {
		t.Fatalf("URI %s", got)
	}
	for name, uris := range map[string][]*url.URL{
		"no URI":                  nil,
		"two principals":          {uri("ecoregistry://a/b"), uri("ecoregistry://c/d")},
		"no name":                 {uri("ecoregistry://hubei-office/")},
		"a path of two names":     {uri("ecoregistry://hubei-office/li/wei")},
		"a port":                  {uri("ecoregistry://hubei-office:1/li")},
		"a query":                 {uri("ecoregistry://hubei-office/li?x=1")},
		"a character not allowed": {{Scheme: "ecoregistry", Host: "hubei office", Path: "/li"}},
	} {
		if _, err := PrincipalFromCertificate(&x509.Certificate{URIs: uris}); !errors.Is(err, ErrNoPrincipal) {
			t.Errorf("a certificate with %s: %v, want ErrNoPrincipal", name, err)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	good := `
bindings:
  - {organisation: hubei-office, role: registration_office, jurisdictions: ["420000"], right_types: [carbon-allowance, water]}
  - {organisation: hbex, members: [gateway], role: exchange, exchanges: [HBEX], accounts: [HB-STEEL]}
  - {organisation: hubei-steel, role: account_holder, credit_codes: ["91420100MA4K1A2B3Q"]}
  - {organisation: mee, role: regulator, authority: MEE, jurisdictions: ["420000"]}
  - {organisation: ops, role: administrator}
`
	p, err := ParsePolicy([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if p.Bindings() != 5 {
		t.Fatalf("%d bindings", p.Bindings())
	}
	if r := p.RolesOf(Principal{"hbex", "gateway"}); len(r) != 1 || r[0] != RoleExchange {
		t.Fatalf("roles of hbex/gateway: %v", r)
	}
	if r := p.RolesOf(Principal{"hbex", "intern"}); len(r) != 0 {
		t.Fatalf("a member not named has roles %v", r)
	}
	json := `{"bindings": [{"organisation": "ops", "role": "administrator"}]}`
	if _, err := ParsePolicy([]byte(json)); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	for says, bad := range map[string]string{
		"unknown field":                  `bindings: [{organisation: ops, role: administrator, colour: red}]`,
		"unknown role":                   `bindings: [{organisation: ops, role: superuser}]`,
		"jurisdictions is required":      `bindings: [{organisation: o, role: registration_office}]`,
		"takes no accounts":              `bindings: [{organisation: o, role: regulator, authority: MEE, accounts: [A]}]`,
		"unknown authority":              `bindings: [{organisation: o, role: regulator, authority: EPA}]`,
		"not a GB/T 2260":                `bindings: [{organisation: o, role: registration_office, jurisdictions: ["990000"]}]`,
		"unknown right type":             `bindings: [{organisation: o, role: auditor, right_types: [gold]}]`,
		"needs accounts or credit_codes": `bindings: [{organisation: o, role: account_holder}]`,
		"no bindings":                    `bindings: []`,
		"organisation must be":           `bindings: [{organisation: "a b", role: administrator}]`,
	} {
		if _, err := ParsePolicy([]byte(bad)); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("policy %s: error %v does not say %q", bad, err, says)
		}
	}
}

// facts is a fixed set of recorded facts.
type facts struct {
	accounts map[string]AccountFacts
	rights   map[string]RightFacts
	pledges  map[string]PledgeFacts
}

func (f facts) Account(_ context.Context, id string) (AccountFacts, error) {
	if a, ok := f.accounts[id]; ok {
		return a, nil
	}
	return AccountFacts{}, ErrUnknown
}

func (f facts) Right(_ context.Context, id string) (RightFacts, error) {
	if r, ok := f.rights[id]; ok {
		return r, nil
	}
	return RightFacts{}, ErrUnknown
}

func (f facts) Pledge(_ context.Context, r, id string) (PledgeFacts, error) {
	if p, ok := f.pledges[r+"/"+id]; ok {
		return p, nil
	}
	return PledgeFacts{}, ErrUnknown
}

func (facts) Reservation(context.Context, string, string) (ReservationFacts, error) {
	return ReservationFacts{}, ErrUnknown
}

func TestAuthorize(t *testing.T) {
	p, err := ParsePolicy([]byte(`
bindings:
  - {organisation: steel, role: account_holder, credit_codes: ["91420100MA4K1A2B3Q"]}
  - {organisation: steel, role: pledgee, accounts: [STEEL-2]}
  - {organisation: hubei, role: registration_office, jurisdictions: ["420000"], right_types: [water]}
`))
	if err != nil {
		t.Fatal(err)
	}
	f := facts{accounts: map[string]AccountFacts{"STEEL-1": {Jurisdiction: "420100", CreditCode: "91420100MA4K1A2B3Q"}, "OTHER": {Jurisdiction: "110000"}},
		rights:  map[string]RightFacts{"W": {Type: domain.RightTypeWaterUse, Jurisdiction: "420000"}},
		pledges: map[string]PledgeFacts{"W/P": {Pledgor: "OTHER", Pledgee: "STEEL-2"}}}
	a := NewAuthorizer(p, f)
	ctx := context.Background()
	steel, hubei := Principal{"steel", "cfo"}, Principal{"hubei", "li"}

	t.Run("an account is the holder's through its holder's credit code", func(t *testing.T) {
		g, err := a.Authorize(ctx, steel, pb.TransferService_TransferUnits_FullMethodName, &pb.TransferUnitsRequest{RightId: "W", FromAccountId: "STEEL-1"})
		if err != nil || g.Role() != RoleHolder {
			t.Fatalf("%v %v", g.Role(), err)
		}
		_, err = a.Authorize(ctx, steel, pb.TransferService_TransferUnits_FullMethodName, &pb.TransferUnitsRequest{RightId: "W", FromAccountId: "OTHER"})
		if !errors.Is(err, domain.CheckOutsideScope) || !strings.Contains(err.Error(), "account OTHER is not one of account holder steel's accounts") {
			t.Fatal(err)
		}
	})
	t.Run("the second role of a principal allows what the first does not", func(t *testing.T) {
		g, err := a.Authorize(ctx, steel, pb.PledgeService_EnforcePledge_FullMethodName, &pb.EnforcePledgeRequest{RightId: "W", PledgeId: "P"})
		if err != nil || g.Role() != RolePledgee {
			t.Fatalf("%v %v", g.Role(), err)
		}
	})
	t.Run("an office outside its right types is told which", func(t *testing.T) {
		req := &pb.RegisterRightRequest{Type: pb.RightType_RIGHT_TYPE_CARBON_ALLOWANCE, Jurisdiction: "420100"}
		_, err := a.Authorize(ctx, hubei, pb.RightService_RegisterRight_FullMethodName, req)
		if !errors.Is(err, domain.CheckOutsideScope) || !strings.Contains(err.Error(), "right type carbon-allowance is outside registration office hubei's water") {
			t.Fatal(err)
		}
		req.Type, req.Jurisdiction = pb.RightType_RIGHT_TYPE_WATER_USE, "110000"
		_, err = a.Authorize(ctx, hubei, pb.RightService_RegisterRight_FullMethodName, req)
		if !strings.Contains(err.Error(), "jurisdiction 110000 is outside registration office hubei's 420000") {
			t.Fatal(err)
		}
	})
	t.Run("a role that may not call the RPC is named", func(t *testing.T) {
		_, err := a.Authorize(ctx, hubei, pb.TransferService_TransferUnits_FullMethodName, &pb.TransferUnitsRequest{})
		if !errors.Is(err, domain.CheckRoleNotAllowed) || !strings.Contains(err.Error(), "role registration_office may not call TransferUnits") {
			t.Fatal(err)
		}
	})
	t.Run("an RPC without a row is refused to every role", func(t *testing.T) {
		_, err := a.Authorize(ctx, hubei, "/ecoregistry.v1.NewService/DoThings", nil)
		if !errors.Is(err, domain.CheckRoleNotAllowed) || !strings.Contains(err.Error(), "no entry in the access table") {
			t.Fatal(err)
		}
	})
	t.Run("a new policy applies to the next call", func(t *testing.T) {
		wider, err := ParsePolicy([]byte(`bindings: [{organisation: hubei, role: registration_office, jurisdictions: ["420000", "110000"]}]`))
		if err != nil {
			t.Fatal(err)
		}
		a.SetPolicy(wider)
		defer a.SetPolicy(p)
		req := &pb.RegisterRightRequest{Type: pb.RightType_RIGHT_TYPE_CARBON_ALLOWANCE, Jurisdiction: "110000"}
		if _, err := a.Authorize(ctx, hubei, pb.RightService_RegisterRight_FullMethodName, req); err != nil {
			t.Fatal(err)
		}
	})
}

// Every check of the table has a name, for the README's table.
func TestTableNamesEveryCheck(t *testing.T) {
	for method, perms := range Table() {
		for role, name := range perms {
			if name == "" {
				t.Errorf("%s: the check of %s has no name", method, role)
			}
		}
	}
}
