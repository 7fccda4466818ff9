package access

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionalphapb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
)

// Permissions says which roles may call one RPC, each with the check of the
// call's data that it must pass and, for queries, what of the answer it
// sees. A role that is not listed may not call the RPC.
type Permissions map[Role]Check

// The roles grouped as the table uses them.
const (
	office, exchange, holder, pledgee = RoleOffice, RoleExchange, RoleHolder, RolePledgee
	regulator, court, auditor, admin  = RoleRegulator, RoleCourt, RoleAuditor, RoleAdministrator
)

// table is the one place that says which role may call which RPC. Every
// RPC of every service the server registers must have a row: a call to an
// RPC without one is refused for every role (E8001), and a test fails. The
// checks named in it are in checks.go; the README's "Running with
// authentication" shows this table. To add an RPC, add one line here.
var table = map[string]Permissions{
	pb.AccountService_OpenAccount_FullMethodName:         {office: newAccountInJurisdiction},
	pb.AccountService_ChangeAccountStatus_FullMethodName: {office: accountInScope},
	pb.AccountService_GetAccount_FullMethodName: {office: accountInScope, regulator: accountInScope, court: accountInScope, auditor: accountInScope,
		holder: accountInScope, pledgee: accountInScope, exchange: accountInScope},

	pb.RightService_RegisterRight_FullMethodName: {office: newRightInScope},
	pb.RightService_GetRight_FullMethodName: {office: rightInScope, regulator: rightInScope, court: rightInScope, auditor: rightInScope,
		holder: ownHoldingsOfRight, pledgee: ownHoldingsOfRight, exchange: ownHoldingsOfRight},
	pb.RightService_GetHolding_FullMethodName: {office: rightInScope, regulator: rightInScope, court: rightInScope, auditor: rightInScope,
		holder: accountInScope, pledgee: accountInScope, exchange: accountInScope},

	pb.TransferService_TransferUnits_FullMethodName: {holder: sendsFromOwnAccount},
	pb.RetirementService_RetireUnits_FullMethodName: {holder: retiresOwnUnits},

	pb.PledgeService_PledgeUnits_FullMethodName:   {holder: pledgesOwnUnits},
	pb.PledgeService_ReleasePledge_FullMethodName: {pledgee: releasesPledgeMadeToIt, office: officeReleasesPledgeInScope},
	pb.PledgeService_EnforcePledge_FullMethodName: {pledgee: enforcesPledgeMadeToIt},
	pb.PledgeService_ListPledges_FullMethodName: {office: pledgesInScope, regulator: pledgesInScope, court: pledgesInScope, auditor: pledgesInScope,
		holder: ownPledges, pledgee: ownPledges},

	pb.FreezeService_FreezeUnits_FullMethodName:     {regulator: rightInScope, court: rightInScope},
	pb.FreezeService_UnfreezeUnits_FullMethodName:   {regulator: rightInScope, court: rightInScope},
	pb.FreezeService_FreezeAccount_FullMethodName:   {court: accountInScope},
	pb.FreezeService_UnfreezeAccount_FullMethodName: {court: accountInScope},

	pb.ReservationService_ReserveUnits_FullMethodName:      {exchange: reservesForAdmittedAccount},
	pb.ReservationService_SettleReservation_FullMethodName: {exchange: settlesOwnReservation},
	pb.ReservationService_VoidReservation_FullMethodName:   {exchange: voidsOwnReservation},

	pb.CancellationService_CancelUnits_FullMethodName:      {regulator: rightInScope},
	pb.CorrectionService_ReverseTransaction_FullMethodName: {regulator: rightInScope},

	pb.SettlementService_SubmitTrade_FullMethodName:  {exchange: tradeBetweenAdmittedAccounts},
	pb.SettlementService_SubmitTrades_FullMethodName: {exchange: tradeBetweenAdmittedAccounts},

	pb.HoldingsQueryService_ListAccountHoldings_FullMethodName: {office: holdingsInScope, regulator: holdingsInScope, court: holdingsInScope,
		auditor: holdingsInScope, holder: accountInScope, pledgee: accountInScope, exchange: accountInScope},
	pb.HoldingsQueryService_ListRightHolders_FullMethodName: {office: rightInScope, regulator: rightInScope, court: rightInScope, auditor: rightInScope,
		holder: ownHoldersOfRight, pledgee: ownHoldersOfRight, exchange: ownHoldersOfRight},
	pb.HoldingsQueryService_ListHoldingTotals_FullMethodName: {office: totalsInScope, regulator: totalsInScope, auditor: totalsInScope},
	pb.MarketQueryService_ListTrades_FullMethodName: {office: tradesInScope, regulator: tradesInScope, auditor: tradesInScope,
		exchange: tradesInScope, holder: tradesInScope},
	pb.MarketQueryService_ListMarketStats_FullMethodName:    {office: marketInScope, regulator: marketInScope, auditor: marketInScope, exchange: marketInScope},
	pb.MarketQueryService_ListDailyBars_FullMethodName:      {office: marketInScope, regulator: marketInScope, auditor: marketInScope, exchange: marketInScope},
	pb.StatisticsQueryService_ListStatistics_FullMethodName: {office: statisticsInScope, regulator: statisticsInScope, auditor: statisticsInScope},

	pb.ProjectionAdminService_GetProjectionStatus_FullMethodName: {admin: anyData, auditor: anyData},
	pb.ProjectionAdminService_RebuildProjection_FullMethodName:   {admin: anyData},
	pb.AdminService_Backup_FullMethodName:                        {admin: anyData},

	// Checkpoints and consistency proofs are sizes and hashes: anyone who
	// checks a certificate or a saved checkpoint needs them. An inclusion
	// proof names an event's stream, and a verification reads everything.
	// A certificate is a holder's of its own holdings, or an office's, a
	// regulator's or a court's of a right in scope.
	pb.IntegrityService_GetLatestCheckpoint_FullMethodName: everyRole,
	pb.IntegrityService_ListCheckpoints_FullMethodName:     everyRole,
	pb.IntegrityService_GetConsistencyProof_FullMethodName: everyRole,
	pb.IntegrityService_GetInclusionProof_FullMethodName:   {regulator: anyData, court: anyData, auditor: anyData},
	pb.IntegrityService_VerifyIntegrity_FullMethodName:     {regulator: anyData, auditor: anyData, admin: anyData},
	pb.IntegrityService_IssueHoldingCertificate_FullMethodName: {holder: accountInScope, office: rightInScope, regulator: rightInScope,
		court: rightInScope},

	healthpb.Health_Check_FullMethodName:                                   everyRole,
	healthpb.Health_Watch_FullMethodName:                                   everyRole,
	healthpb.Health_List_FullMethodName:                                    everyRole,
	reflectionpb.ServerReflection_ServerReflectionInfo_FullMethodName:      everyRole,
	reflectionalphapb.ServerReflection_ServerReflectionInfo_FullMethodName: everyRole,
}

// everyRole lets every role call an RPC that concerns no registry data:
// health and reflection.
var everyRole = Permissions{office: anyData, exchange: anyData, holder: anyData, pledgee: anyData,
	regulator: anyData, court: anyData, auditor: anyData, admin: anyData}

// Table returns, for each RPC in the table, each role that may call it and
// the name of the check it must pass. It is a copy for documentation and
// tests.
func Table() map[string]map[Role]string {
	out := make(map[string]map[Role]string, len(table))
	for m, perms := range table {
		out[m] = make(map[Role]string, len(perms))
		for r, c := range perms {
			out[m][r] = c.Name
		}
	}
	return out
}

// TableMarkdown returns the table as Markdown, one row per RPC in name
// order, each role that may call it with the check it must pass, for the
// README.
func TableMarkdown() string {
	var b strings.Builder
	b.WriteString("| RPC | who may call it (check of the call's data) |\n|---|---|\n")
	for _, method := range slices.Sorted(maps.Keys(table)) {
		perms := table[method]
		var who []string
		if len(perms) == len(Roles) {
			who = []string{"every role"}
		} else {
			for _, r := range Roles {
				if c, ok := perms[r]; ok {
					who = append(who, fmt.Sprintf("%s (%s)", r, c.Name))
				}
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", strings.TrimPrefix(method, "/"), strings.Join(who, "; "))
	}
	return b.String()
}
