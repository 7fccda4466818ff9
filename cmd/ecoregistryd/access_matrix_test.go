package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/access"
	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/mtls"
	"github.com/ecoregistry/ecoregistry/projections"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionalphapb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// matrixPolicy gives each role one principal with a scope that the
// fixtures have data inside and outside of, and the fixture loader the
// roles it needs to set the data up.
const matrixPolicy = `
bindings:
  - {organisation: hubei-office, role: registration_office, jurisdictions: ["420000"]}
  - {organisation: hbex, role: exchange, exchanges: [HBEX], accounts: [HB-STEEL, HB-POWER]}
  - {organisation: hubei-steel, role: account_holder, accounts: [HB-STEEL]}
  - {organisation: bank-hb, role: pledgee, accounts: [BANK-HB]}
  - {organisation: mwr, role: regulator, authority: MWR}
  - {organisation: wuhan-court, role: court, jurisdictions: ["420000"]}
  - {organisation: audit-office, role: auditor}
  - {organisation: ops, role: administrator}
  - {organisation: loader, role: registration_office, jurisdictions: ["420000", "110000"]}
  - {organisation: loader, role: account_holder, accounts: [HB-STEEL, HB-POWER, BJ-CORP]}
  - {organisation: loader, role: exchange, exchanges: [HBEX, SHEX], accounts: [HB-STEEL, HB-POWER, BJ-CORP]}
  - {organisation: loader, role: court}
`

// matrixPrincipals is the principal that plays each role.
var matrixPrincipals = map[access.Role]string{
	access.RoleOffice: "hubei-office", access.RoleExchange: "hbex", access.RoleHolder: "hubei-steel", access.RolePledgee: "bank-hb",
	access.RoleRegulator: "mwr", access.RoleCourt: "wuhan-court", access.RoleAuditor: "audit-office", access.RoleAdministrator: "ops",
}

// matrixCase is one request to an RPC, and the roles for which its data
// lie in scope and the call must work; every other role must be refused.
type matrixCase struct {
	name  string
	build func(f *fixtures, role access.Role) proto.Message
	works []access.Role
}

// The roles, for the cases' lists.
const (
	rOffice, rExchange, rHolder, rPledgee = access.RoleOffice, access.RoleExchange, access.RoleHolder, access.RolePledgee
	rRegulator, rCourt, rAuditor, rAdmin  = access.RoleRegulator, access.RoleCourt, access.RoleAuditor, access.RoleAdministrator
)

// fixtures sets up the data of the matrix through the loader principal.
type fixtures struct {
	t      *testing.T
	ctx    context.Context
	loader *grpc.ClientConn
	n      int
}

// id returns a fresh id with prefix, for a role's own copy of a fixture.
func (f *fixtures) id(prefix string, role access.Role) string {
	f.n++
	return fmt.Sprintf("%s-%s-%d", prefix, strings.ReplaceAll(string(role), "_", ""), f.n)
}

func (f *fixtures) must(method string, req proto.Message) {
	f.t.Helper()
	if _, err := invoke(f.ctx, f.loader, method, req); err != nil {
		f.t.Fatalf("fixture %s %v: %v", method, req, err)
	}
}

func (f *fixtures) account(id, jurisdiction string) string {
	f.must(pb.AccountService_OpenAccount_FullMethodName, &pb.OpenAccountRequest{AccountId: id, Jurisdiction: jurisdiction, Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
		Holder: &pb.Holder{Name: "Holder of " + id, Kind: pb.HolderKind_HOLDER_KIND_INDIVIDUAL}})
	return id
}

func (f *fixtures) pledge(right, pledgor, pledgee string, role access.Role) string {
	id := f.id("P", role)
	f.must(pb.PledgeService_PledgeUnits_FullMethodName, &pb.PledgeUnitsRequest{RightId: right, PledgeId: id, PledgorAccountId: pledgor, PledgeeAccountId: pledgee,
		LoanReference: "LOAN-" + id, Amount: &pb.PledgeUnitsRequest_Quantity{Quantity: 1}})
	return id
}

func (f *fixtures) reservation(right, holder, exchange string, role access.Role) string {
	id := f.id("RS", role)
	f.must(pb.ReservationService_ReserveUnits_FullMethodName, &pb.ReserveUnitsRequest{RightId: right, ReservationId: id, HolderAccountId: holder, Exchange: exchange,
		OrderReference: "ORD-" + id, Amount: &pb.ReserveUnitsRequest_Quantity{Quantity: 2}, Timeout: timestamppb.New(time.Now().Add(time.Hour))})
	return id
}

func (f *fixtures) freeze(right string, role access.Role) string {
	id := f.id("F", role)
	f.must(pb.FreezeService_FreezeUnits_FullMethodName, &pb.FreezeUnitsRequest{RightId: right, OrderNumber: id, Authority: "court", HolderAccountId: "HB-STEEL",
		Amount: &pb.FreezeUnitsRequest_Quantity{Quantity: 1}, Reason: "order"})
	return id
}

func (f *fixtures) frozenAccount(jurisdiction string, role access.Role) (string, string) {
	acct, order := f.account(f.id("FZ", role), jurisdiction), f.id("FO", role)
	f.must(pb.FreezeService_FreezeAccount_FullMethodName, &pb.FreezeAccountRequest{AccountId: acct, OrderNumber: order, Authority: "court", Reason: "order"})
	return acct, order
}

func (f *fixtures) transfer(right string, role access.Role) string {
	id := f.id("T", role)
	f.must(pb.TransferService_TransferUnits_FullMethodName, &pb.TransferUnitsRequest{RightId: right, TransferId: id, FromAccountId: "HB-STEEL", ToAccountId: "HB-POWER",
		Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 1}})
	return id
}

// setUp opens the accounts and registers the rights every case uses:
// HB-STEEL (420100, the holder's and admitted to HBEX), HB-POWER (420500,
// admitted to HBEX), BJ-CORP (110000, admitted nowhere), BANK-HB (the
// pledgee's) and BANK-BJ; a carbon and a water right in 420000 and a
// carbon right in 110000.
func (f *fixtures) setUp() {
	for id, j := range map[string]string{"HB-STEEL": "420100", "HB-POWER": "420500", "BJ-CORP": "110000", "BANK-HB": "420100", "BANK-BJ": "110000"} {
		f.account(id, j)
	}
	regs := registrations("HB-STEEL")
	cea, water := regs[0], regs[1]
	cea.RightId = "CEA-HB"
	water.RightId, water.Jurisdiction = "WUR-HB", "420000"
	bj := proto.Clone(regs[0]).(*pb.RegisterRightRequest)
	bj.RightId, bj.Jurisdiction, bj.HolderAccountId = "CEA-BJ", "110000", "BJ-CORP"
	bj.GetCarbonAllowance().AllocatingProvince = "110000"
	for _, r := range []*pb.RegisterRightRequest{cea, water, bj} {
		f.must(pb.RightService_RegisterRight_FullMethodName, r)
	}
	f.must(pb.TransferService_TransferUnits_FullMethodName, &pb.TransferUnitsRequest{RightId: "CEA-HB", TransferId: "SEED-1", FromAccountId: "HB-STEEL", ToAccountId: "HB-POWER",
		Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 10000}})
}

func trade(exchange, right, seller, buyer, id string) *pb.MatchedTrade {
	return &pb.MatchedTrade{ExchangeId: exchange, TradeId: id, RightId: right, SellerAccountId: seller, BuyerAccountId: buyer,
		Amount: &pb.MatchedTrade_Quantity{Quantity: 1}, Price: &pb.Price{AmountMinor: 5850, Currency: "CNY"}, MatchedAt: timestamppb.New(time.Now().Add(-time.Second))}
}

// every lists the roles that may call an RPC that concerns no data.
var every = []access.Role{rOffice, rExchange, rHolder, rPledgee, rRegulator, rCourt, rAuditor, rAdmin}

// matrixCases are the cases of every RPC the server serves. The matrix
// fails for an RPC that has none, so a new RPC needs its cases here, and
// its row in the access table.
var matrixCases = map[string][]matrixCase{
	pb.AccountService_OpenAccount_FullMethodName: {
		{"an office of 420000 opens an account in 420100", func(f *fixtures, r access.Role) proto.Message {
			return &pb.OpenAccountRequest{AccountId: f.id("NEW", r), Jurisdiction: "420100", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
				Holder: &pb.Holder{Name: "New holder", Kind: pb.HolderKind_HOLDER_KIND_INDIVIDUAL}}
		}, []access.Role{rOffice}},
		{"an office of 420000 opens an account in 110000", func(f *fixtures, r access.Role) proto.Message {
			return &pb.OpenAccountRequest{AccountId: f.id("NEW", r), Jurisdiction: "110000", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
				Holder: &pb.Holder{Name: "New holder", Kind: pb.HolderKind_HOLDER_KIND_INDIVIDUAL}}
		}, nil},
	},
	pb.AccountService_ChangeAccountStatus_FullMethodName: {
		{"an account of 420100", func(f *fixtures, r access.Role) proto.Message {
			return &pb.ChangeAccountStatusRequest{AccountId: f.account(f.id("CS", r), "420100"), Status: pb.AccountStatus_ACCOUNT_STATUS_RESTRICTED, Reason: "review"}
		}, []access.Role{rOffice}},
		{"an account of 110000", func(f *fixtures, r access.Role) proto.Message {
			return &pb.ChangeAccountStatusRequest{AccountId: f.account(f.id("CS", r), "110000"), Status: pb.AccountStatus_ACCOUNT_STATUS_RESTRICTED, Reason: "review"}
		}, nil},
	},
	pb.AccountService_GetAccount_FullMethodName: {
		{"HB-STEEL", fixed(&pb.GetAccountRequest{AccountId: "HB-STEEL"}), []access.Role{rOffice, rExchange, rHolder, rRegulator, rCourt, rAuditor}},
		{"BANK-HB", fixed(&pb.GetAccountRequest{AccountId: "BANK-HB"}), []access.Role{rOffice, rPledgee, rRegulator, rCourt, rAuditor}},
		{"BJ-CORP", fixed(&pb.GetAccountRequest{AccountId: "BJ-CORP"}), []access.Role{rRegulator, rAuditor}},
	},
	pb.RightService_RegisterRight_FullMethodName: {
		{"a carbon right in 420000", func(f *fixtures, r access.Role) proto.Message {
			req := registrations("HB-STEEL")[0]
			req.RightId = f.id("REG", r)
			return req
		}, []access.Role{rOffice}},
		{"a carbon right in 110000", func(f *fixtures, r access.Role) proto.Message {
			req := registrations("BJ-CORP")[0]
			req.RightId, req.Jurisdiction = f.id("REG", r), "110000"
			req.GetCarbonAllowance().AllocatingProvince = "110000"
			return req
		}, nil},
	},
	pb.RightService_GetRight_FullMethodName: {
		{"the carbon right of 420000", fixed(&pb.GetRightRequest{RightId: "CEA-HB"}), []access.Role{rOffice, rExchange, rHolder, rPledgee, rCourt, rAuditor}},
		{"the water right of 420000", fixed(&pb.GetRightRequest{RightId: "WUR-HB"}), []access.Role{rOffice, rExchange, rHolder, rPledgee, rRegulator, rCourt, rAuditor}},
		{"the carbon right of 110000", fixed(&pb.GetRightRequest{RightId: "CEA-BJ"}), []access.Role{rExchange, rHolder, rPledgee, rAuditor}},
	},
	pb.RightService_GetHolding_FullMethodName: {
		{"HB-STEEL's carbon", fixed(&pb.GetHoldingRequest{RightId: "CEA-HB", AccountId: "HB-STEEL"}), []access.Role{rOffice, rExchange, rHolder, rCourt, rAuditor}},
		{"HB-STEEL's water", fixed(&pb.GetHoldingRequest{RightId: "WUR-HB", AccountId: "HB-STEEL"}), []access.Role{rOffice, rExchange, rHolder, rRegulator, rCourt, rAuditor}},
		{"BJ-CORP's carbon of 110000", fixed(&pb.GetHoldingRequest{RightId: "CEA-BJ", AccountId: "BJ-CORP"}), []access.Role{rAuditor}},
	},
	pb.TransferService_TransferUnits_FullMethodName: {
		{"from the holder's own account", func(f *fixtures, r access.Role) proto.Message {
			return &pb.TransferUnitsRequest{RightId: "CEA-HB", TransferId: f.id("T", r), FromAccountId: "HB-STEEL", ToAccountId: "HB-POWER", Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 1}}
		}, []access.Role{rHolder}},
		{"a holder moving another holder's units", func(f *fixtures, r access.Role) proto.Message {
			return &pb.TransferUnitsRequest{RightId: "CEA-HB", TransferId: f.id("T", r), FromAccountId: "HB-POWER", ToAccountId: "HB-STEEL", Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 1}}
		}, nil},
	},
	pb.RetirementService_RetireUnits_FullMethodName: {
		{"from the holder's own account", func(f *fixtures, r access.Role) proto.Message {
			return retire(f.id("R", r), "HB-STEEL")
		}, []access.Role{rHolder}},
		{"from another holder's account", func(f *fixtures, r access.Role) proto.Message { return retire(f.id("R", r), "HB-POWER") }, nil},
	},
	pb.PledgeService_PledgeUnits_FullMethodName: {
		{"the holder's own units", func(f *fixtures, r access.Role) proto.Message {
			return &pb.PledgeUnitsRequest{RightId: "CEA-HB", PledgeId: f.id("P", r), PledgorAccountId: "HB-STEEL", PledgeeAccountId: "BANK-HB", LoanReference: "L", Amount: &pb.PledgeUnitsRequest_Quantity{Quantity: 1}}
		}, []access.Role{rHolder}},
		{"another holder's units", func(f *fixtures, r access.Role) proto.Message {
			return &pb.PledgeUnitsRequest{RightId: "CEA-HB", PledgeId: f.id("P", r), PledgorAccountId: "HB-POWER", PledgeeAccountId: "BANK-HB", LoanReference: "L", Amount: &pb.PledgeUnitsRequest_Quantity{Quantity: 1}}
		}, nil},
	},
	pb.PledgeService_ReleasePledge_FullMethodName: {
		{"a pledge made to the pledgee, released as pledgee", func(f *fixtures, r access.Role) proto.Message {
			return &pb.ReleasePledgeRequest{RightId: "CEA-HB", PledgeId: f.pledge("CEA-HB", "HB-STEEL", "BANK-HB", r), ReleasedBy: pb.PledgeReleaser_PLEDGE_RELEASER_PLEDGEE, Reason: "repaid"}
		}, []access.Role{rPledgee}},
		{"a pledge made to another bank, released as pledgee", func(f *fixtures, r access.Role) proto.Message {
			return &pb.ReleasePledgeRequest{RightId: "CEA-HB", PledgeId: f.pledge("CEA-HB", "HB-STEEL", "BANK-BJ", r), ReleasedBy: pb.PledgeReleaser_PLEDGE_RELEASER_PLEDGEE, Reason: "repaid"}
		}, nil},
		{"a pledge on a right of 420000, released as office", func(f *fixtures, r access.Role) proto.Message {
			return &pb.ReleasePledgeRequest{RightId: "CEA-HB", PledgeId: f.pledge("CEA-HB", "HB-STEEL", "BANK-BJ", r), ReleasedBy: pb.PledgeReleaser_PLEDGE_RELEASER_REGISTRATION_OFFICE, OfficeReference: "OFF-1", Reason: "court order"}
		}, []access.Role{rOffice}},
		{"a pledge on a right of 110000, released as office", func(f *fixtures, r access.Role) proto.Message {
			return &pb.ReleasePledgeRequest{RightId: "CEA-BJ", PledgeId: f.pledge("CEA-BJ", "BJ-CORP", "BANK-BJ", r), ReleasedBy: pb.PledgeReleaser_PLEDGE_RELEASER_REGISTRATION_OFFICE, OfficeReference: "OFF-1", Reason: "court order"}
		}, nil},
	},
	pb.PledgeService_EnforcePledge_FullMethodName: {
		{"a pledge made to the pledgee", func(f *fixtures, r access.Role) proto.Message {
			return &pb.EnforcePledgeRequest{RightId: "CEA-HB", PledgeId: f.pledge("CEA-HB", "HB-STEEL", "BANK-HB", r), DefaultReference: "NOTICE"}
		}, []access.Role{rPledgee}},
		{"a pledgee enforcing someone else's pledge", func(f *fixtures, r access.Role) proto.Message {
			return &pb.EnforcePledgeRequest{RightId: "CEA-HB", PledgeId: f.pledge("CEA-HB", "HB-STEEL", "BANK-BJ", r), DefaultReference: "NOTICE"}
		}, nil},
	},
	pb.PledgeService_ListPledges_FullMethodName: {
		{"of the carbon right of 420000", fixed(&pb.ListPledgesRequest{RightId: "CEA-HB"}), []access.Role{rOffice, rHolder, rPledgee, rCourt, rAuditor}},
		{"of the carbon right of 110000", fixed(&pb.ListPledgesRequest{RightId: "CEA-BJ"}), []access.Role{rHolder, rPledgee, rAuditor}},
		{"of HB-STEEL across rights", fixed(&pb.ListPledgesRequest{AccountId: "HB-STEEL"}), []access.Role{rOffice, rHolder, rRegulator, rCourt, rAuditor}},
	},
	pb.FreezeService_FreezeUnits_FullMethodName: {
		{"a water right", func(f *fixtures, r access.Role) proto.Message { return freeze("WUR-HB", f.id("F", r)) }, []access.Role{rRegulator, rCourt}},
		{"MWR freezing a carbon right", func(f *fixtures, r access.Role) proto.Message { return freeze("CEA-HB", f.id("F", r)) }, []access.Role{rCourt}},
		{"a right of 110000", func(f *fixtures, r access.Role) proto.Message {
			req := freeze("CEA-BJ", f.id("F", r))
			req.HolderAccountId = "BJ-CORP"
			return req
		}, nil},
	},
	pb.FreezeService_UnfreezeUnits_FullMethodName: {
		{"a water right", func(f *fixtures, r access.Role) proto.Message {
			return &pb.UnfreezeUnitsRequest{RightId: "WUR-HB", OrderNumber: f.freeze("WUR-HB", r), Authority: "court", Reason: "lifted"}
		}, []access.Role{rRegulator, rCourt}},
		{"a carbon right", func(f *fixtures, r access.Role) proto.Message {
			return &pb.UnfreezeUnitsRequest{RightId: "CEA-HB", OrderNumber: f.freeze("CEA-HB", r), Authority: "court", Reason: "lifted"}
		}, []access.Role{rCourt}},
	},
	pb.FreezeService_FreezeAccount_FullMethodName: {
		{"an account of 420100", func(f *fixtures, r access.Role) proto.Message {
			return &pb.FreezeAccountRequest{AccountId: f.account(f.id("FA", r), "420100"), OrderNumber: f.id("FO", r), Authority: "court", Reason: "order"}
		}, []access.Role{rCourt}},
		{"an account of 110000", func(f *fixtures, r access.Role) proto.Message {
			return &pb.FreezeAccountRequest{AccountId: f.account(f.id("FA", r), "110000"), OrderNumber: f.id("FO", r), Authority: "court", Reason: "order"}
		}, nil},
	},
	pb.FreezeService_UnfreezeAccount_FullMethodName: {
		{"an account of 420100", func(f *fixtures, r access.Role) proto.Message {
			acct, order := f.frozenAccount("420100", r)
			return &pb.UnfreezeAccountRequest{AccountId: acct, OrderNumber: order, Authority: "court", Reason: "lifted"}
		}, []access.Role{rCourt}},
		{"an account of 110000", func(f *fixtures, r access.Role) proto.Message {
			acct, order := f.frozenAccount("110000", r)
			return &pb.UnfreezeAccountRequest{AccountId: acct, OrderNumber: order, Authority: "court", Reason: "lifted"}
		}, nil},
	},
	pb.ReservationService_ReserveUnits_FullMethodName: {
		{"for HBEX, of an admitted account", func(f *fixtures, r access.Role) proto.Message {
			return reserve(f.id("RS", r), "CEA-HB", "HB-STEEL", "HBEX")
		}, []access.Role{rExchange}},
		{"for HBEX, of an account not admitted", func(f *fixtures, r access.Role) proto.Message {
			return reserve(f.id("RS", r), "CEA-BJ", "BJ-CORP", "HBEX")
		}, nil},
		{"for another exchange", func(f *fixtures, r access.Role) proto.Message {
			return reserve(f.id("RS", r), "CEA-HB", "HB-STEEL", "SHEX")
		}, nil},
	},
	pb.ReservationService_SettleReservation_FullMethodName: {
		{"HBEX's reservation to an admitted buyer", func(f *fixtures, r access.Role) proto.Message {
			return &pb.SettleReservationRequest{RightId: "CEA-HB", ReservationId: f.reservation("CEA-HB", "HB-STEEL", "HBEX", r), SettlementId: f.id("S", r), BuyerAccountId: "HB-POWER", Quantity: 1}
		}, []access.Role{rExchange}},
		{"an exchange settling for an account not admitted to it", func(f *fixtures, r access.Role) proto.Message {
			return &pb.SettleReservationRequest{RightId: "CEA-HB", ReservationId: f.reservation("CEA-HB", "HB-STEEL", "HBEX", r), SettlementId: f.id("S", r), BuyerAccountId: "BJ-CORP", Quantity: 1}
		}, nil},
		{"another exchange's reservation", func(f *fixtures, r access.Role) proto.Message {
			return &pb.SettleReservationRequest{RightId: "CEA-HB", ReservationId: f.reservation("CEA-HB", "HB-STEEL", "SHEX", r), SettlementId: f.id("S", r), BuyerAccountId: "HB-POWER", Quantity: 1}
		}, nil},
	},
	pb.ReservationService_VoidReservation_FullMethodName: {
		{"HBEX's reservation", func(f *fixtures, r access.Role) proto.Message {
			return &pb.VoidReservationRequest{RightId: "CEA-HB", ReservationId: f.reservation("CEA-HB", "HB-STEEL", "HBEX", r), Reason: "cancelled"}
		}, []access.Role{rExchange}},
		{"another exchange's reservation", func(f *fixtures, r access.Role) proto.Message {
			return &pb.VoidReservationRequest{RightId: "CEA-HB", ReservationId: f.reservation("CEA-HB", "HB-STEEL", "SHEX", r), Reason: "cancelled"}
		}, nil},
	},
	pb.CancellationService_CancelUnits_FullMethodName: {
		{"of a water right", func(f *fixtures, r access.Role) proto.Message { return cancel("WUR-HB", f.id("C", r)) }, []access.Role{rRegulator}},
		{"of a carbon right", func(f *fixtures, r access.Role) proto.Message { return cancel("CEA-HB", f.id("C", r)) }, nil},
	},
	pb.CorrectionService_ReverseTransaction_FullMethodName: {
		{"a transfer of a water right", func(f *fixtures, r access.Role) proto.Message {
			return reverse("WUR-HB", f.transfer("WUR-HB", r), f.id("X", r))
		}, []access.Role{rRegulator}},
		{"a transfer of a carbon right", func(f *fixtures, r access.Role) proto.Message {
			return reverse("CEA-HB", f.transfer("CEA-HB", r), f.id("X", r))
		}, nil},
	},
	pb.SettlementService_SubmitTrade_FullMethodName: {
		{"HBEX's trade between admitted accounts", func(f *fixtures, r access.Role) proto.Message {
			return &pb.SubmitTradeRequest{Trade: trade("HBEX", "CEA-HB", "HB-STEEL", "HB-POWER", f.id("X", r))}
		}, []access.Role{rExchange}},
		{"an exchange settling for an account not admitted to it", func(f *fixtures, r access.Role) proto.Message {
			return &pb.SubmitTradeRequest{Trade: trade("HBEX", "CEA-BJ", "BJ-CORP", "HB-POWER", f.id("X", r))}
		}, nil},
		{"another exchange's trade", func(f *fixtures, r access.Role) proto.Message {
			return &pb.SubmitTradeRequest{Trade: trade("SHEX", "CEA-HB", "HB-STEEL", "HB-POWER", f.id("X", r))}
		}, nil},
	},
	pb.SettlementService_SubmitTrades_FullMethodName: {
		{"HBEX's trade between admitted accounts", func(f *fixtures, r access.Role) proto.Message {
			return &pb.SubmitTradesRequest{Trades: []*pb.MatchedTrade{trade("HBEX", "CEA-HB", "HB-STEEL", "HB-POWER", f.id("X", r))}}
		}, []access.Role{rExchange}},
		{"an exchange settling for an account not admitted to it", func(f *fixtures, r access.Role) proto.Message {
			return &pb.SubmitTradesRequest{Trades: []*pb.MatchedTrade{trade("HBEX", "CEA-HB", "HB-STEEL", "BJ-CORP", f.id("X", r))}}
		}, nil},
	},
	pb.HoldingsQueryService_ListAccountHoldings_FullMethodName: {
		{"of HB-STEEL", fixed(&pb.ListAccountHoldingsRequest{AccountId: "HB-STEEL"}), []access.Role{rOffice, rExchange, rHolder, rRegulator, rCourt, rAuditor}},
		{"of BJ-CORP", fixed(&pb.ListAccountHoldingsRequest{AccountId: "BJ-CORP"}), []access.Role{rRegulator, rAuditor}},
	},
	pb.HoldingsQueryService_ListRightHolders_FullMethodName: {
		{"of the carbon right of 420000", fixed(&pb.ListRightHoldersRequest{RightId: "CEA-HB"}), []access.Role{rOffice, rExchange, rHolder, rPledgee, rCourt, rAuditor}},
		{"of the water right of 420000", fixed(&pb.ListRightHoldersRequest{RightId: "WUR-HB"}), []access.Role{rOffice, rExchange, rHolder, rPledgee, rRegulator, rCourt, rAuditor}},
		{"of the carbon right of 110000", fixed(&pb.ListRightHoldersRequest{RightId: "CEA-BJ"}), []access.Role{rExchange, rHolder, rPledgee, rAuditor}},
	},
	pb.HoldingsQueryService_ListHoldingTotals_FullMethodName: {
		{"all totals", fixed(&pb.ListHoldingTotalsRequest{}), []access.Role{rOffice, rRegulator, rAuditor}},
	},
	pb.MarketQueryService_ListTrades_FullMethodName: {
		{"all trades", fixed(&pb.ListTradesRequest{}), []access.Role{rOffice, rExchange, rHolder, rRegulator, rAuditor}},
	},
	pb.MarketQueryService_ListMarketStats_FullMethodName: {
		{"by type", fixed(&pb.ListMarketStatsRequest{Dimension: pb.MarketDimension_MARKET_DIMENSION_RIGHT_TYPE}), []access.Role{rOffice, rExchange, rRegulator, rAuditor}},
	},
	pb.MarketQueryService_ListDailyBars_FullMethodName: {
		{"of carbon allowances", fixed(&pb.ListDailyBarsRequest{Dimension: pb.MarketDimension_MARKET_DIMENSION_RIGHT_TYPE, Key: "CARBON_ALLOWANCE"}),
			[]access.Role{rOffice, rExchange, rRegulator, rAuditor}},
	},
	pb.StatisticsQueryService_ListStatistics_FullMethodName: {
		{"by province and year", fixed(&pb.ListStatisticsRequest{Level: pb.AdministrativeLevel_ADMINISTRATIVE_LEVEL_PROVINCE, Granularity: pb.StatisticsGranularity_STATISTICS_GRANULARITY_YEAR}),
			[]access.Role{rOffice, rRegulator, rAuditor}},
	},
	pb.ProjectionAdminService_GetProjectionStatus_FullMethodName: {{"status", fixed(&pb.GetProjectionStatusRequest{}), []access.Role{rAdmin, rAuditor}}},
	pb.ProjectionAdminService_RebuildProjection_FullMethodName:   {{"statistics", fixed(&pb.RebuildProjectionRequest{Name: "statistics"}), []access.Role{rAdmin}}},
	pb.AdminService_Backup_FullMethodName:                        {{"the stores", fixed(&pb.BackupRequest{}), []access.Role{rAdmin}}},
	pb.IntegrityService_GetLatestCheckpoint_FullMethodName:       {{"the latest", checkpointed(&pb.GetLatestCheckpointRequest{}), every}},
	pb.IntegrityService_ListCheckpoints_FullMethodName:           {{"all", checkpointed(&pb.ListCheckpointsRequest{}), every}},
	pb.IntegrityService_GetConsistencyProof_FullMethodName:       {{"from the first event", checkpointed(&pb.GetConsistencyProofRequest{OldSize: 1}), every}},
	pb.IntegrityService_GetInclusionProof_FullMethodName: {{"of the first event", checkpointed(&pb.GetInclusionProofRequest{Position: &pb.Position{Commit: 1, Prepare: 1}}),
		[]access.Role{rRegulator, rCourt, rAuditor}}},
	pb.IntegrityService_VerifyIntegrity_FullMethodName: {{"the whole log", fixed(&pb.VerifyIntegrityRequest{}), []access.Role{rRegulator, rAuditor, rAdmin}}},
	pb.IntegrityService_IssueHoldingCertificate_FullMethodName: {
		{"of HB-STEEL's carbon", fixed(&pb.IssueHoldingCertificateRequest{RightId: "CEA-HB", AccountId: "HB-STEEL"}), []access.Role{rOffice, rHolder, rCourt}},
		{"of HB-STEEL's water", fixed(&pb.IssueHoldingCertificateRequest{RightId: "WUR-HB", AccountId: "HB-STEEL"}), []access.Role{rOffice, rHolder, rRegulator, rCourt}},
		{"of BJ-CORP's carbon of 110000", fixed(&pb.IssueHoldingCertificateRequest{RightId: "CEA-BJ", AccountId: "BJ-CORP"}), nil},
	},
	healthpb.Health_Check_FullMethodName: {{"the server", fixed(&healthpb.HealthCheckRequest{}), every}},
	healthpb.Health_Watch_FullMethodName: {{"the server", fixed(&healthpb.HealthCheckRequest{}), every}},
	healthpb.Health_List_FullMethodName:  {{"the server", fixed(&healthpb.HealthListRequest{}), every}},
	reflectionpb.ServerReflection_ServerReflectionInfo_FullMethodName: {{"list services", fixed(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}), every}},
	reflectionalphapb.ServerReflection_ServerReflectionInfo_FullMethodName: {{"list services", fixed(&reflectionalphapb.ServerReflectionRequest{
		MessageRequest: &reflectionalphapb.ServerReflectionRequest_ListServices{}}), every}},
}

func fixed(m proto.Message) func(*fixtures, access.Role) proto.Message {
	return func(*fixtures, access.Role) proto.Message { return m }
}

// checkpointed is fixed with a signed checkpoint made first: a certificate
// signs one that covers the right.
func checkpointed(m proto.Message) func(*fixtures, access.Role) proto.Message {
	return func(f *fixtures, _ access.Role) proto.Message {
		f.must(pb.IntegrityService_IssueHoldingCertificate_FullMethodName, &pb.IssueHoldingCertificateRequest{RightId: "CEA-HB", AccountId: "HB-STEEL"})
		return m
	}
}

func retire(id, holder string) *pb.RetireUnitsRequest {
	return &pb.RetireUnitsRequest{RightId: "CEA-HB", RetirementId: id, HolderAccountId: holder, Amount: &pb.RetireUnitsRequest_Quantity{Quantity: 1},
		Purpose: pb.RetirementPurpose_RETIREMENT_PURPOSE_VOLUNTARY, Beneficiary: "Wuhan"}
}

func freeze(right, order string) *pb.FreezeUnitsRequest {
	return &pb.FreezeUnitsRequest{RightId: right, OrderNumber: order, Authority: "authority", HolderAccountId: "HB-STEEL",
		Amount: &pb.FreezeUnitsRequest_Quantity{Quantity: 1}, Reason: "order"}
}

func reserve(id, right, holder, exchange string) *pb.ReserveUnitsRequest {
	return &pb.ReserveUnitsRequest{RightId: right, ReservationId: id, HolderAccountId: holder, Exchange: exchange, OrderReference: "ORD-" + id,
		Amount: &pb.ReserveUnitsRequest_Quantity{Quantity: 1}, Timeout: timestamppb.New(time.Now().Add(time.Hour))}
}

func cancel(right, id string) *pb.CancelUnitsRequest {
	return &pb.CancelUnitsRequest{RightId: right, CancellationId: id, HolderAccountId: "HB-STEEL", Authority: "authority", Reason: "fraud",
		Amount: &pb.CancelUnitsRequest_Quantity{Quantity: 1}}
}

func reverse(right, transfer, id string) *pb.ReverseTransactionRequest {
	return &pb.ReverseTransactionRequest{RightId: right, CorrectionId: id, Kind: pb.TransactionKind_TRANSACTION_KIND_TRANSFER, OriginalId: transfer,
		Authority: "authority", Reason: "error"}
}

// TestAccessMatrix calls every RPC of every service the server registers
// as every role, with data inside and outside the role's scope. A call
// must work exactly when its role may make it on that data; every other
// call must be refused with PERMISSION_DENIED (E8001 when the role may not
// call the RPC at all, E8002 when the data lie outside its scope) and write
// nothing.
func TestAccessMatrix(t *testing.T) {
	pki := newTestPKI(t)
	m := startTLSServer(t, pki, matrixPolicy, zap.NewNop())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conns := map[access.Role]*grpc.ClientConn{}
	for role, org := range matrixPrincipals {
		conns[role] = dialTLS(t, m.Addr(), pki.ca, clientCert(t, pki.ca, org, "member", mtls.For(time.Hour)))
	}
	f := &fixtures{t: t, ctx: ctx, loader: dialTLS(t, m.Addr(), pki.ca, clientCert(t, pki.ca, "loader", "script", mtls.For(time.Hour)))}
	f.setUp()
	table := access.Table()

	var allowed, denied, unauthorised int
	for _, method := range servedMethods(m) {
		cases, ok := matrixCases[method]
		if !ok {
			t.Errorf("%s has no matrix cases: add them, and its row in the access table", method)
			continue
		}
		if _, ok := table[method]; !ok {
			t.Errorf("%s has no row in the access table", method)
		}
		for _, c := range cases {
			for _, role := range every {
				req := c.build(f, role)
				before := head(t, m.store)
				ok, err := outcome(invoke(ctx, conns[role], method, req))
				want := slices.Contains(c.works, role)
				switch {
				case ok && !want:
					unauthorised++
					t.Errorf("%s (%s) as %s: succeeded, want PERMISSION_DENIED", method, c.name, role)
				case ok:
					allowed++
				case want:
					t.Errorf("%s (%s) as %s: %v, want it to work", method, c.name, role, err)
				default:
					denied++
					wantDenial(t, fmt.Sprintf("%s (%s) as %s", method, c.name, role), err, table[method][role] != "")
					if after := head(t, m.store); after != before {
						t.Errorf("%s (%s) as %s was refused but the log moved from %v to %v", method, c.name, role, before, after)
					}
				}
			}
		}
	}
	for method := range matrixCases {
		if !slices.Contains(servedMethods(m), method) {
			t.Errorf("matrix cases for %s, which the server does not serve", method)
		}
	}
	t.Logf("%d calls: %d allowed and worked, %d refused, %d unauthorised successes", allowed+denied+unauthorised, allowed, denied, unauthorised)
}

// wantDenial fails unless err is PERMISSION_DENIED with E8002 when the role
// may call the RPC (its data were out of scope) and E8001 when it may not.
func wantDenial(t *testing.T, call string, err error, roleListed bool) {
	t.Helper()
	code, check, _ := checkOf(err)
	want := domain.CheckRoleNotAllowed.Code
	if roleListed {
		want = domain.CheckOutsideScope.Code
	}
	if code != codes.PermissionDenied || check != want {
		t.Errorf("%s: %v (%s), want PERMISSION_DENIED %s", call, err, check, want)
	}
}

// servedMethods lists the full names of the methods the server registered.
func servedMethods(m *Main) []string {
	var out []string
	for svc, info := range m.server.GetServiceInfo() {
		for _, mi := range info.Methods {
			out = append(out, "/"+svc+"/"+mi.Name)
		}
	}
	slices.Sort(out)
	return out
}

func head(t *testing.T, st eventstore.Store) eventstore.Position {
	t.Helper()
	p, err := projections.Head(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// invoke calls method with req over conn, as a unary call or as a stream
// that sends req and reads the first answer, and returns the answer.
func invoke(ctx context.Context, conn *grpc.ClientConn, method string, req proto.Message) (proto.Message, error) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(method[:strings.LastIndexByte(method, '/')], "/"), "/", ".")))
	if err != nil {
		return nil, err
	}
	md := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(method[strings.LastIndexByte(method, '/')+1:]))
	if md == nil {
		return nil, fmt.Errorf("no method %s", method)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return nil, err
	}
	resp := mt.New().Interface()
	if !md.IsStreamingClient() && !md.IsStreamingServer() {
		return resp, conn.Invoke(ctx, method, req, resp)
	}
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: md.IsStreamingServer(), ClientStreams: md.IsStreamingClient()}, method)
	if err != nil {
		return nil, err
	}
	// A stream the server refused ends the send with io.EOF; its status
	// comes with the first receive.
	if err := s.SendMsg(req); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := s.CloseSend(); err != nil {
		return nil, err
	}
	return resp, s.RecvMsg(resp)
}

// outcome tells whether a call worked; a trade worked when it settled, and
// a trade refused by a check counts as an error with that check.
func outcome(resp proto.Message, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	var outs []*pb.TradeOutcome
	switch r := resp.(type) {
	case *pb.SubmitTradeResponse:
		outs = []*pb.TradeOutcome{r.GetOutcome()}
	case *pb.SubmitTradesResponse:
		outs = r.GetOutcomes()
	default:
		return true, nil
	}
	for _, o := range outs {
		if ref := o.GetRefused(); ref != nil {
			code := codes.FailedPrecondition
			if c, _ := domain.CheckByCode(ref.GetCheckCode()); c.Class == domain.ClassPermissionDenied {
				code = codes.PermissionDenied
			}
			st, _ := status.New(code, ref.GetMessage()).WithDetails(&errdetails.ErrorInfo{Reason: ref.GetCheckCode(), Domain: "ecoregistry"})
			return false, st.Err()
		}
		if o.GetSettled() == nil {
			return false, fmt.Errorf("trade not settled: %v", o)
		}
	}
	return true, nil
}
