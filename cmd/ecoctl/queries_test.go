package main

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/grpcserver"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
	"github.com/ecoregistry/ecoregistry/projections/market"
	"github.com/ecoregistry/ecoregistry/projections/statistics"
	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
)

func TestParseBuildsQueryRequests(t *testing.T) {
	none, ceex := "", "CEEX"
	typeKey := "CARBON_ALLOWANCE"
	for _, c := range []struct {
		name string
		args []string
		want proto.Message
	}{
		{"holdings of an account of one type, after a position, one page on",
			[]string{"holdings", "list", "--account", "HB001", "--type", "water", "--min-position", "42", "--page-size", "5", "--page-token", "tok"},
			&ecov1.ListAccountHoldingsRequest{AccountId: "HB001", RightType: ecov1.RightType_RIGHT_TYPE_WATER_USE,
				MinPosition: &ecov1.Position{Commit: 42, Prepare: 42}, PageSize: 5, PageToken: "tok"}},
		{"a position with a distinct prepare part",
			[]string{"holders", "--right", "R1", "--min-position", "42/40"},
			&ecov1.ListRightHoldersRequest{RightId: "R1", MinPosition: &ecov1.Position{Commit: 42, Prepare: 40}}},
		{"trades of no named exchange in a time range",
			[]string{"trades", "--from", "2026-11-01", "--to", "2026-12-01", "--exchange", ""},
			&ecov1.ListTradesRequest{FromTime: cst(2026, 11, 1), ToTime: cst(2026, 12, 1), Exchange: &none}},
		{"trades of one exchange",
			[]string{"trades", "--exchange", "CEEX", "--type", "carbon-sink"},
			&ecov1.ListTradesRequest{Exchange: &ceex, RightType: ecov1.RightType_RIGHT_TYPE_CARBON_SINK}},
		{"market statistics of one type, named as ecoctl names types",
			[]string{"market", "stats", "--by", "type", "--key", "carbon-allowance"},
			&ecov1.ListMarketStatsRequest{Dimension: ecov1.MarketDimension_MARKET_DIMENSION_RIGHT_TYPE, Key: &typeKey}},
		{"daily bars of a right",
			[]string{"market", "daily", "--by", "right", "--key", "R1", "--from", "2026-11-01", "--to", "2026-11-30", "--currency", "CNY"},
			&ecov1.ListDailyBarsRequest{Dimension: ecov1.MarketDimension_MARKET_DIMENSION_RIGHT, Key: "R1", FromDay: "2026-11-01", ToDay: "2026-11-30", Currency: "CNY"}},
		{"statistics by province and month",
			[]string{"stats", "--level", "province", "--period", "month", "--from", "2026-01", "--jurisdiction", "420100"},
			&ecov1.ListStatisticsRequest{Level: ecov1.AdministrativeLevel_ADMINISTRATIVE_LEVEL_PROVINCE, Granularity: ecov1.StatisticsGranularity_STATISTICS_GRANULARITY_MONTH,
				FromPeriod: "2026-01", Jurisdiction: "420100"}},
		{"a rebuild that waits",
			[]string{"projections", "rebuild", "market", "--wait"},
			&ecov1.RebuildProjectionRequest{Name: "market", Wait: true}},
	} {
		t.Run(c.name, func(t *testing.T) { wantRequest(t, mustParse(t, c.args...).req, c.want) })
	}
}

func TestQueryUsageErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"a position that is not a number", []string{"holdings", "list", "--account", "A", "--min-position", "latest"}, `"latest" is not a position`},
		{"an unknown type name as a market key", []string{"market", "stats", "--by", "type", "--key", "gold"}, "--key: must be one of"},
		{"daily bars without a key", []string{"market", "daily", "--by", "exchange"}, "missing required flag(s): --key"},
		{"a rebuild without a name", []string{"projections", "rebuild"}, "takes 1 argument(s), NAME"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := runUsage(t, c.args...); !strings.Contains(got, c.want) {
				t.Fatalf("got %q, want it to contain %q", got, c.want)
			}
		})
	}
}

// startRegistryServer runs the real registry with its read models in
// process and returns the service, to write with, and the address.
func startRegistryServer(t *testing.T) (*registry.Service, string) {
	t.Helper()
	dir := t.TempDir()
	store, err := pebblestore.Open(dir, pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := projections.Open(dir+"/projections", store, []projections.Projection{holdings.New(), market.New(), statistics.New()}, projections.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	clock := time.Date(2026, 11, 5, 1, 0, 0, 0, time.UTC)
	svc := registry.New(store, registry.Options{Clock: func() time.Time { clock = clock.Add(time.Hour); return clock }})
	srv := grpcserver.New(svc, zap.NewNop())
	if err := grpcserver.RegisterQueryServices(srv, m, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis) //nolint:errcheck // Serve returns when Stop is called.
	t.Cleanup(func() {
		srv.Stop()
		svc.Close()
		m.Close()
		store.Close()
	})
	return svc, lis.Addr().String()
}

func TestQueriesPrintTables(t *testing.T) {
	svc, addr := startRegistryServer(t)
	ctx := context.Background()
	meta := registry.Meta{Actor: "test"}
	openTwoAndRegister(t, svc)
	var last uint64
	// 1752500 fen over 300 units is 5841.67 fen, which rounds to 58.42.
	for i, price := range []int64{5800, 5900, 5825} {
		tr, err := svc.TransferUnits(ctx, meta, domain.TransferUnits{RightID: "HB2025A", TransferID: fmt.Sprintf("T%d", i), From: "HB001", To: "HB002",
			Quantity: 100, Reference: fmt.Sprintf("CEEX:%d", i), Price: &domain.Price{Amount: price, Currency: "CNY"}})
		if err != nil {
			t.Fatal(err)
		}
		last = tr.Commit.Position.Commit
	}
	at := fmt.Sprint(last)
	space := regexp.MustCompile(`\s+`)
	for _, c := range []struct {
		name string
		args []string
		rows []string
	}{
		{"holdings list", []string{"holdings", "list", "--account", "HB002", "--min-position", at},
			[]string{"RIGHT TYPE AVAILABLE PLEDGED FROZEN RESERVED RETIRED SERIALS", "HB2025A carbon-allowance 300 0 0 0 0 CEA-420000-2025-HB2025A-000000001-000000300", "As of position " + at + "."}},
		{"holders", []string{"holders", "--right", "HB2025A", "--min-position", at, "--page-size", "1"},
			[]string{"Holders: 2", "HB001 carbon-allowance 9700 0 0 0 0", "More: --page-token "}},
		{"holdings totals", []string{"holdings", "totals", "--min-position", at},
			[]string{"carbon-allowance 420000 1 10000 0 10000 0 0 0 0 0 0"}},
		{"trades", []string{"trades", "--exchange", "CEEX", "--min-position", at},
			[]string{"CEEX 1 HB2025A HB001 HB002 100 59.00 CNY"}},
		{"market stats", []string{"market", "stats", "--by", "type", "--min-position", at},
			[]string{"TYPE CURRENCY TRADES VOLUME TURNOVER VWAP LAST PRICE LAST TRADE", "CARBON_ALLOWANCE CNY 3 300 17525.00 58.42 58.25"}},
		{"market daily", []string{"market", "daily", "--by", "exchange", "--key", "CEEX", "--min-position", at},
			[]string{"2026-11-05 CNY 58.00 59.00 58.00 58.25 3 300 17525.00 58.42"}},
		{"stats", []string{"stats", "--level", "prefecture", "--period", "year", "--min-position", at},
			[]string{"420000 carbon-allowance 2026 10000 300 0 0 0 0 0 1 3 0"}},
		{"projections status", []string{"projections", "status"},
			[]string{"PROJECTION VERSION GENERATION POSITION LAG APPLIED SKIPPED COMMITTED ERROR", fmt.Sprintf("holdings %d 1 %s 0 events %s 0", holdings.SchemaVersion, at, at)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := ecoctl(t, addr, c.args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			flat := space.ReplaceAllString(out, " ")
			for _, row := range c.rows {
				if !strings.Contains(flat, row) {
					t.Fatalf("output lacks %q:\n%s", row, out)
				}
			}
		})
	}
}

// openTwoAndRegister opens accounts HB001 and HB002 and registers 10,000
// units of the carbon allowance HB2025A to HB001.
func openTwoAndRegister(t *testing.T, svc *registry.Service) {
	t.Helper()
	ctx := context.Background()
	meta := registry.Meta{Actor: "test"}
	for i, id := range []string{"HB001", "HB002"} {
		body := fmt.Sprintf("91420100MA4K1234%d", i)
		c, _ := domain.CreditCodeCheckCharacter(body)
		if _, _, err := svc.OpenAccount(ctx, meta, domain.OpenAccount{AccountID: id, Jurisdiction: "420100", Type: domain.AccountTypeHolding,
			Holder: domain.Holder{Name: id, Kind: domain.HolderKindEnterprise, CreditCode: body + string(c)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := svc.RegisterRight(ctx, meta, domain.RegisterRight{RightID: "HB2025A", Type: domain.RightTypeCarbonAllowance, Jurisdiction: "420000",
		Vintage: 2025, Quantity: 10000, HolderAccountID: "HB001", Attributes: domain.CarbonAllowance{AllocatingProvince: "420000",
			Scheme: domain.CEASchemeNational, AllocationMethod: domain.AllocationMethodFree, CompliancePeriod: "2025-2026"}}); err != nil {
		t.Fatal(err)
	}
}
