package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// cst returns midnight China Standard Time at the start of a day, which is
// what a YYYY-MM-DD flag means.
func cst(y int, m time.Month, d int) *timestamppb.Timestamp {
	return timestamppb.New(time.Date(y, m, d, 0, 0, 0, 0, chinaStandardTime))
}

func mustParse(t *testing.T, args ...string) *invocation {
	t.Helper()
	inv, err := parse(args)
	if err != nil {
		t.Fatalf("parse(%q): %v", args, err)
	}
	return inv
}

func wantRequest(t *testing.T, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Fatalf("request differs\n got: %s\nwant: %s", prototext.Format(got), prototext.Format(want))
	}
}

func TestParseBuildsRequests(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want proto.Message
	}{
		{
			name: "account open builds OpenAccountRequest with a holding account by default",
			args: []string{"account", "open", "--id", "HB001", "--holder-name", "Hubei Steel Co.", "--holder-kind", "enterprise",
				"--credit-code", "91420100MA4K2XXX1X", "--jurisdiction", "420000"},
			want: &ecov1.OpenAccountRequest{AccountId: "HB001", Jurisdiction: "420000", Type: ecov1.AccountType_ACCOUNT_TYPE_HOLDING,
				Holder: &ecov1.Holder{Name: "Hubei Steel Co.", Kind: ecov1.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: "91420100MA4K2XXX1X"}},
		},
		{
			name: "account open takes an account type",
			args: []string{"account", "open", "--id", "HB.ALLOC", "--holder-name", "Hubei DEE", "--holder-kind", "government", "--jurisdiction", "420000", "--type", "registry"},
			want: &ecov1.OpenAccountRequest{AccountId: "HB.ALLOC", Jurisdiction: "420000", Type: ecov1.AccountType_ACCOUNT_TYPE_REGISTRY,
				Holder: &ecov1.Holder{Name: "Hubei DEE", Kind: ecov1.HolderKind_HOLDER_KIND_GOVERNMENT}},
		},
		{
			name: "account status takes the account id as its argument",
			args: []string{"account", "status", "HB001", "--status", "suspended", "--reason", "court order"},
			want: &ecov1.ChangeAccountStatusRequest{AccountId: "HB001", Status: ecov1.AccountStatus_ACCOUNT_STATUS_SUSPENDED, Reason: "court order"},
		},
		{
			name: "account show",
			args: []string{"account", "show", "HB001"},
			want: &ecov1.GetAccountRequest{AccountId: "HB001"},
		},
		{
			name: "right register of a carbon allowance",
			args: []string{"right", "register", "--type", "carbon-allowance", "--id", "HB2025A", "--jurisdiction", "420000", "--vintage", "2025",
				"--quantity", "10000", "--holder", "HB001", "--province", "420000", "--scheme", "regional-pilot", "--allocation", "auction",
				"--compliance-period", "2025-2026"},
			want: &ecov1.RegisterRightRequest{RightId: "HB2025A", Type: ecov1.RightType_RIGHT_TYPE_CARBON_ALLOWANCE, Jurisdiction: "420000",
				Vintage: 2025, Quantity: 10000, HolderAccountId: "HB001",
				Attributes: &ecov1.RegisterRightRequest_CarbonAllowance{CarbonAllowance: &ecov1.CarbonAllowanceAttributes{
					AllocatingProvince: "420000", Scheme: ecov1.CarbonScheme_CARBON_SCHEME_REGIONAL_PILOT,
					AllocationMethod: ecov1.AllocationMethod_ALLOCATION_METHOD_AUCTION, CompliancePeriod: "2025-2026"}}},
		},
		{
			name: "right register of a water-use right with dates and an RFC 3339 time",
			args: []string{"right", "register", "--type", "water", "--id", "NX-W-1", "--jurisdiction", "640000", "--vintage", "2025",
				"--quantity", "500000", "--holder", "NX001", "--valid-from", "2025-01-01", "--valid-until", "2030-01-01T00:00:00+08:00",
				"--class", "water-intake", "--intake-permit", "QS-640000-0001", "--basin", "Yellow River", "--source", "ground",
				"--use", "industrial", "--annual-volume", "100000"},
			want: &ecov1.RegisterRightRequest{RightId: "NX-W-1", Type: ecov1.RightType_RIGHT_TYPE_WATER_USE, Jurisdiction: "640000",
				Vintage: 2025, Quantity: 500000, HolderAccountId: "NX001", ValidFrom: cst(2025, 1, 1), ValidUntil: cst(2030, 1, 1),
				Attributes: &ecov1.RegisterRightRequest_WaterRight{WaterRight: &ecov1.WaterRightAttributes{
					Class: ecov1.WaterRightClass_WATER_RIGHT_CLASS_WATER_INTAKE, IntakePermitNumber: "QS-640000-0001", Basin: "Yellow River",
					Source: ecov1.WaterSource_WATER_SOURCE_GROUND, Use: ecov1.WaterUse_WATER_USE_INDUSTRIAL, AnnualVolumeM3: 100000}}},
		},
		{
			name: "right register of a pollutant right puts --basin into basin_or_airshed",
			args: []string{"right", "register", "--type", "pollutant", "--id", "ZJ-COD-9", "--jurisdiction", "330000", "--vintage", "2024",
				"--quantity", "2500", "--holder", "ZJ007", "--valid-from", "2024-01-01", "--valid-until", "2029-01-01",
				"--pollutant", "NOx", "--discharge-permit", "91330100XXXX001P", "--region", "330100", "--basin", "Qiantang", "--origin", "initial-paid"},
			want: &ecov1.RegisterRightRequest{RightId: "ZJ-COD-9", Type: ecov1.RightType_RIGHT_TYPE_POLLUTANT_DISCHARGE, Jurisdiction: "330000",
				Vintage: 2024, Quantity: 2500, HolderAccountId: "ZJ007", ValidFrom: cst(2024, 1, 1), ValidUntil: cst(2029, 1, 1),
				Attributes: &ecov1.RegisterRightRequest_PollutantRight{PollutantRight: &ecov1.PollutantRightAttributes{
					Pollutant: ecov1.Pollutant_POLLUTANT_NOX, DischargePermitNumber: "91330100XXXX001P", Region: "330100",
					BasinOrAirshed: "Qiantang", Origin: ecov1.PollutantOrigin_POLLUTANT_ORIGIN_INITIAL_PAID_ALLOCATION}}},
		},
		{
			name: "right register of a carbon sink reads --area-ha exactly into square metres",
			args: []string{"right", "register", "--type", "carbon-sink", "--id", "GZ-FOREST-7", "--jurisdiction", "520000", "--vintage", "2024",
				"--quantity", "8000", "--holder", "GZ001", "--project", "CCER-14-2024-001", "--methodology", "AR-CM-001",
				"--monitoring-start", "2020-01-01", "--monitoring-end", "2024-01-01", "--location", "520100", "--area-ha", "1234.56",
				"--verifier", "CQC", "--verification-date", "2024-06-30", "--kind", "removal", "--buffer-bp", "500"},
			want: &ecov1.RegisterRightRequest{RightId: "GZ-FOREST-7", Type: ecov1.RightType_RIGHT_TYPE_CARBON_SINK, Jurisdiction: "520000",
				Vintage: 2024, Quantity: 8000, HolderAccountId: "GZ001",
				Attributes: &ecov1.RegisterRightRequest_CarbonSink{CarbonSink: &ecov1.CarbonSinkAttributes{
					ProjectId: "CCER-14-2024-001", Methodology: "AR-CM-001", MonitoringStart: cst(2020, 1, 1), MonitoringEnd: cst(2024, 1, 1),
					Location: "520100", AreaSquareMetres: 12345600, VerificationBody: "CQC", VerificationDate: cst(2024, 6, 30),
					Kind: ecov1.SinkKind_SINK_KIND_REMOVAL, BufferBasisPoints: 500}}},
		},
		{
			name: "right register of a carbon sink takes the area in centihectares",
			args: []string{"right", "register", "--type", "carbon-sink", "--id", "S1", "--jurisdiction", "520000", "--vintage", "2024",
				"--quantity", "1", "--holder", "GZ001", "--area-centihectares", "1234"},
			want: &ecov1.RegisterRightRequest{RightId: "S1", Type: ecov1.RightType_RIGHT_TYPE_CARBON_SINK, Jurisdiction: "520000",
				Vintage: 2024, Quantity: 1, HolderAccountId: "GZ001",
				Attributes: &ecov1.RegisterRightRequest_CarbonSink{CarbonSink: &ecov1.CarbonSinkAttributes{AreaSquareMetres: 123400}}},
		},
		{
			name: "right register always sends the attributes of its type, even empty, so the registry names what is missing",
			args: []string{"right", "register", "--type", "water", "--id", "W", "--jurisdiction", "640000", "--vintage", "2025", "--quantity", "1", "--holder", "NX001"},
			want: &ecov1.RegisterRightRequest{RightId: "W", Type: ecov1.RightType_RIGHT_TYPE_WATER_USE, Jurisdiction: "640000",
				Vintage: 2025, Quantity: 1, HolderAccountId: "NX001",
				Attributes: &ecov1.RegisterRightRequest_WaterRight{WaterRight: &ecov1.WaterRightAttributes{}}},
		},
		{
			name: "right show",
			args: []string{"right", "show", "HB2025A"},
			want: &ecov1.GetRightRequest{RightId: "HB2025A"},
		},
		{
			name: "holding show",
			args: []string{"holding", "show", "--right", "HB2025A", "--account", "HB001"},
			want: &ecov1.GetHoldingRequest{RightId: "HB2025A", AccountId: "HB001"},
		},
		{
			name: "transfer of a quantity with a price in yuan sent in fen",
			args: []string{"transfer", "--right", "HB2025A", "--id", "T-0001", "--from", "HB001", "--to", "HB002", "--quantity", "500",
				"--price", "58.25", "--reference", "TRADE-88321", "--reason", "exchange settlement"},
			want: &ecov1.TransferUnitsRequest{RightId: "HB2025A", TransferId: "T-0001", FromAccountId: "HB001", ToAccountId: "HB002",
				Amount: &ecov1.TransferUnitsRequest_Quantity{Quantity: 500}, Reference: "TRADE-88321", Reason: "exchange settlement",
				Price: &ecov1.Price{AmountMinor: 5825, Currency: "CNY"}},
		},
		{
			name: "transfer of a serial range without a price",
			args: []string{"transfer", "--right", "HB2025A", "--id", "T-0002", "--from", "HB001", "--to", "HB002", "--range", "1001-1500"},
			want: &ecov1.TransferUnitsRequest{RightId: "HB2025A", TransferId: "T-0002", FromAccountId: "HB001", ToAccountId: "HB002",
				Amount: &ecov1.TransferUnitsRequest_Range{Range: &ecov1.SerialRange{Start: 1001, End: 1500}}},
		},
		{
			name: "transfer of a serial block copied from ecoctl's output",
			args: []string{"transfer", "--right", "HB2025A", "--id", "T-0003", "--from", "HB001", "--to", "HB002",
				"--range", "CEA-420000-2025-HB2025A-000001001-000001500", "--price", "1500", "--currency", "JPY"},
			want: &ecov1.TransferUnitsRequest{RightId: "HB2025A", TransferId: "T-0003", FromAccountId: "HB001", ToAccountId: "HB002",
				Amount: &ecov1.TransferUnitsRequest_Range{Range: &ecov1.SerialRange{Start: 1001, End: 1500}},
				Price:  &ecov1.Price{AmountMinor: 1500, Currency: "JPY"}},
		},
		{
			name: "retire a quantity for compliance",
			args: []string{"retire", "--right", "HB2025A", "--id", "R-1", "--holder", "HB001", "--quantity", "9000", "--purpose", "compliance",
				"--compliance-period", "2025-2026", "--beneficiary", "Hubei Steel Co.", "--reason", "2025 surrender"},
			want: &ecov1.RetireUnitsRequest{RightId: "HB2025A", RetirementId: "R-1", HolderAccountId: "HB001",
				Amount:  &ecov1.RetireUnitsRequest_Quantity{Quantity: 9000},
				Purpose: ecov1.RetirementPurpose_RETIREMENT_PURPOSE_COMPLIANCE, CompliancePeriod: "2025-2026",
				Beneficiary: "Hubei Steel Co.", Reason: "2025 surrender"},
		},
		{
			name: "retire a serial range voluntarily",
			args: []string{"retire", "--right", "GZ-FOREST-7", "--id", "R-2", "--holder", "GZ001", "--range", "1-100", "--purpose", "voluntary"},
			want: &ecov1.RetireUnitsRequest{RightId: "GZ-FOREST-7", RetirementId: "R-2", HolderAccountId: "GZ001",
				Amount:  &ecov1.RetireUnitsRequest_Range{Range: &ecov1.SerialRange{Start: 1, End: 100}},
				Purpose: ecov1.RetirementPurpose_RETIREMENT_PURPOSE_VOLUNTARY},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantRequest(t, mustParse(t, c.args...).req, c.want)
		})
	}
}

func TestGlobalFlags(t *testing.T) {
	t.Run("defaults come from the environment", func(t *testing.T) {
		t.Setenv("ECOREGISTRY_SERVER", "registry.example:443")
		t.Setenv("ECOREGISTRY_ACTOR", "hubei-office.li")
		g := mustParse(t, "account", "show", "HB001").globals
		if g.server != "registry.example:443" || g.actor != "hubei-office.li" || g.json || g.timeout != 10*time.Second {
			t.Fatalf("globals = %+v", g)
		}
	})
	t.Run("without the environment the server is local and the actor is the OS user", func(t *testing.T) {
		t.Setenv("ECOREGISTRY_SERVER", "")
		t.Setenv("ECOREGISTRY_ACTOR", "")
		g := mustParse(t, "account", "show", "HB001").globals
		if g.server != DefaultServer || g.actor == "" {
			t.Fatalf("globals = %+v", g)
		}
	})
	t.Run("global flags before the command", func(t *testing.T) {
		g := mustParse(t, "--server", "a:1", "--actor", "x", "--json", "--timeout", "3s", "account", "show", "HB001").globals
		if g.server != "a:1" || g.actor != "x" || !g.json || g.timeout != 3*time.Second {
			t.Fatalf("globals = %+v", g)
		}
	})
	t.Run("global flags after the command and its argument", func(t *testing.T) {
		inv := mustParse(t, "--server", "a:1", "account", "show", "HB001", "--json", "--actor", "y")
		if g := inv.globals; g.server != "a:1" || g.actor != "y" || !g.json {
			t.Fatalf("globals = %+v", g)
		}
		wantRequest(t, inv.req, &ecov1.GetAccountRequest{AccountId: "HB001"})
	})
	t.Run("everything after -- is an argument", func(t *testing.T) {
		wantRequest(t, mustParse(t, "account", "show", "--", "-odd-").req, &ecov1.GetAccountRequest{AccountId: "-odd-"})
	})
}

// runUsage runs ecoctl with a command line that must be refused before
// anything is sent, and returns stderr.
func runUsage(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	// No --server is reachable here; a usage error must return before dialing.
	code := run(context.Background(), append([]string{"--server", "127.0.0.1:1"}, args...), &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Fatalf("usage error wrote to stdout: %q", stdout.String())
	}
	return stderr.String()
}

func TestUsageErrors(t *testing.T) {
	transfer := []string{"transfer", "--right", "HB2025A", "--id", "T-1", "--from", "HB001", "--to", "HB002"}
	retire := []string{"retire", "--right", "HB2025A", "--id", "R-1", "--holder", "HB001", "--purpose", "voluntary"}
	register := func(typ string, extra ...string) []string {
		return append([]string{"right", "register", "--type", typ, "--id", "R", "--jurisdiction", "420000", "--vintage", "2025",
			"--quantity", "1", "--holder", "HB001"}, extra...)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"transfer needs exactly one of --quantity and --range: neither", transfer,
			[]string{"error: give exactly one of --quantity and --range\n", "usage: ecoctl transfer [flags]", "ecoctl transfer -h"}},
		{"transfer needs exactly one of --quantity and --range: both", append(transfer, "--quantity", "5", "--range", "1-5"),
			[]string{"error: give exactly one of --quantity and --range, not both\n"}},
		{"retire needs exactly one of --quantity and --range", retire,
			[]string{"error: give exactly one of --quantity and --range\n", "usage: ecoctl retire [flags]"}},
		{"missing required flags are all named", []string{"account", "open", "--holder-name", "X"},
			[]string{"error: missing required flag(s): --holder-kind, --id, --jurisdiction\n"}},
		{"transfer names its missing flags", []string{"transfer", "--quantity", "1"},
			[]string{"missing required flag(s): --from, --id, --right, --to"}},
		{"retire needs a purpose", []string{"retire", "--right", "R", "--id", "1", "--holder", "H", "--quantity", "1"},
			[]string{"missing required flag(s): --purpose"}},
		{"a bad enum value lists the choices", []string{"account", "status", "HB001", "--status", "frozen", "--reason", "x"},
			[]string{`error: invalid value "frozen" for flag --status: must be one of open, restricted, suspended, closed`}},
		{"a bad right type lists the choices", register("forest"),
			[]string{`invalid value "forest" for flag --type: must be one of carbon-allowance, water, pollutant, carbon-sink`}},
		{"a bad pollutant lists the choices", register("pollutant", "--pollutant", "PM25"),
			[]string{"must be one of COD, NH3N, SO2, NOx, TP, TN, VOCs"}},
		{"a flag of another right type is refused", register("carbon-allowance", "--basin", "Yangtze"),
			[]string{"error: --basin applies to --type water or pollutant only, not carbon-allowance"}},
		{"sink flags are refused on a water right", register("water", "--area-ha", "1"),
			[]string{"error: --area-ha applies to --type carbon-sink only, not water"}},
		{"the area is given once", register("carbon-sink", "--area-ha", "12.34", "--area-centihectares", "1234"),
			[]string{"error: give the area once, not as --area-ha and --area-centihectares"}},
		{"an area finer than a square metre is refused", register("carbon-sink", "--area-ha", "1.23456"),
			[]string{"error: --area-ha: \"1.23456\" has more than 4 decimal places"}},
		{"a bad date is refused", register("water", "--valid-from", "2025/01/01"),
			[]string{"error: --valid-from: \"2025/01/01\" is neither a date"}},
		{"a vintage beyond int32 is refused", register("carbon-allowance", "--vintage", "3000000000"),
			[]string{"error: --vintage 3000000000 is out of range"}},
		{"a price below a fen is refused", append(transfer, "--quantity", "1", "--price", "58.255"),
			[]string{`error: --price: "58.255" has more than 2 decimal places`}},
		{"a price with a comma is refused", append(transfer, "--quantity", "1", "--price", "1,000"),
			[]string{`error: --price: "1,000" is not a decimal number`}},
		{"--currency needs --price", append(transfer, "--quantity", "1", "--currency", "USD"),
			[]string{"error: --currency needs --price"}},
		{"a serial block of another right is refused", append(transfer, "--range", "CEA-420000-2025-HB2025B-000000001-000000010"),
			[]string{`error: --range: serial block "CEA-420000-2025-HB2025B-000000001-000000010" belongs to right "HB2025B", not --right "HB2025A"`}},
		{"a quantity that is not a number is refused", append(transfer, "--quantity", "ten"),
			[]string{`error: invalid value "ten" for flag --quantity`}},
		{"an unknown flag is named", []string{"account", "show", "HB001", "--verbose"},
			[]string{"error: unknown flag --verbose\n", "usage: ecoctl account show [flags] ID"}},
		{"an unknown global flag is named", []string{"--verbose", "account", "show", "HB001"},
			[]string{"error: unknown flag --verbose\n", "commands:\n", "account open"}},
		{"an unknown command lists the commands", []string{"mint"},
			[]string{"error: unknown command \"mint\"\n", "commands:\n", "transfer"}},
		{"an unknown verb lists its group's commands", []string{"account", "delete"},
			[]string{"error: unknown command \"account delete\"\n", "account status"}},
		{"a group needs a verb", []string{"right"},
			[]string{"error: \"right\" needs a subcommand\n", "right register", "right show"}},
		{"no command at all", nil, []string{"error: no command given\n", "usage: ecoctl"}},
		{"show needs its id", []string{"account", "show"},
			[]string{"error: account show takes 1 argument(s), ID; got 0: []"}},
		{"extra arguments are refused", []string{"right", "show", "A", "B"},
			[]string{`error: right show takes 1 argument(s), ID; got 2: ["A" "B"]`}},
		{"transfer takes no arguments", append(transfer, "--quantity", "1", "stray"),
			[]string{`error: transfer takes no arguments; got 1: ["stray"]`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stderr := runUsage(t, c.args...)
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	runHelp := func(t *testing.T, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("%q: exit code %d, stderr %s", args, code, stderr.String())
		}
		return stdout.String()
	}
	t.Run("ecoctl --help lists every command with one line and gives examples", func(t *testing.T) {
		out := runHelp(t, "--help")
		for _, c := range commands {
			if !strings.Contains(out, "  "+c.path+"  ") || !strings.Contains(out, c.summary) {
				t.Errorf("help lacks %q", c.path)
			}
		}
		for _, w := range []string{"examples:\n", "--server ADDRESS", "ECOREGISTRY_SERVER", "ECOREGISTRY_ACTOR", "x-ecoregistry-actor", "--json", "--timeout DURATION", "(default 10s)"} {
			if !strings.Contains(out, w) {
				t.Errorf("help lacks %q", w)
			}
		}
	})
	t.Run("ecoctl help and ecoctl -h say the same", func(t *testing.T) {
		if runHelp(t, "help") != runHelp(t, "-h") {
			t.Error("help and -h differ")
		}
	})
	t.Run("a group's --help lists its commands", func(t *testing.T) {
		out := runHelp(t, "account", "--help")
		for _, w := range []string{"account open", "account status", "account show"} {
			if !strings.Contains(out, w) {
				t.Errorf("help lacks %q", w)
			}
		}
	})
	for _, c := range commands {
		t.Run("ecoctl "+c.path+" -h lists every flag with its meaning", func(t *testing.T) {
			out := runHelp(t, append(strings.Fields(c.path), "-h")...)
			if out != runHelp(t, append([]string{"help"}, strings.Fields(c.path)...)...) {
				t.Error("-h and help differ")
			}
			fs := newFlagSet(c.path)
			c.declare(fs)
			fs.VisitAll(func(f *flag.Flag) {
				if !strings.Contains(out, "  --"+f.Name) {
					t.Errorf("help lacks --%s", f.Name)
				}
			})
			for _, w := range []string{"usage: " + synopsis(c), "example:\n  ecoctl " + c.path, "global flags:", "--actor WHO"} {
				if !strings.Contains(out, w) {
					t.Errorf("help lacks %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("required flags and defaults are marked", func(t *testing.T) {
		out := runHelp(t, "transfer", "-h")
		for _, w := range []string{"the sending account (required)", "(default CNY)"} {
			if !strings.Contains(out, w) {
				t.Errorf("help lacks %q", w)
			}
		}
	})
}
