package domain

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// seenChecks records every check a test expected and got, so that TestMain
// can insist that each check of the table is exercised somewhere.
var seenChecks sync.Map

// TestMain runs the tests, then fails the package when a goroutine
// outlives them or when a check of the table is exercised by no test.
func TestMain(m *testing.M) {
	// Every Apply of every test checks the invariants afterwards.
	VerifyEveryApply(true)
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: goroutines outlived the tests: %v\n", err)
			code = 1
		}
	}
	// Only a full run sees every test; a filtered run would report false gaps.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		var missing []string
		for _, c := range AllChecks() {
			if _, ok := seenChecks.Load(c.Code); !ok {
				missing = append(missing, c.Code+" "+c.Name)
			}
		}
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: checks no test exercises: %s\n", strings.Join(missing, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

// asTheRegistryApplies turns VerifyEveryApply off for the rest of a
// benchmark, which measures Apply as the registry runs it.
func asTheRegistryApplies(b *testing.B) {
	VerifyEveryApply(false)
	b.Cleanup(func() { VerifyEveryApply(true) })
}

// expectCheck fails unless err is a rejection by check want (directly or
// among the violations of a *ValidationError) and, when field is not empty,
// names that field. A retry's *RecordedBefore counts as the check that
// names it.
func expectCheck(t *testing.T, err error, want Check, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s %s", want.Code, want.Name)
	}
	var before *RecordedBefore
	if errors.As(err, &before) {
		if before.Check != want || (field != "" && before.Field != field) {
			t.Fatalf("got %v (%s on %q), want %s %s on %q", err, before.Check.Code, before.Field, want.Code, want.Name, field)
		}
		seenChecks.Store(want.Code, true)
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %s %s", err, want.Code, want.Name)
	}
	if field != "" {
		found := false
		for _, v := range ViolationsOf(err) {
			if v.Check == want && v.Field == field {
				found = true
			}
		}
		if !found {
			t.Fatalf("got %v, want %s on field %q; violations: %+v", err, want.Code, field, ViolationsOf(err))
		}
	}
	seenChecks.Store(want.Code, true)
}

// t0 is the time of the tests: 1 March 2025.
var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// creditCode returns a valid credit code that starts with the 17 characters
// given, computing the check character independently of the package.
func creditCode(first17 string) string {
	const charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	sum, w := 0, 1
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(charset, first17[i]) * w
		w = w * 3 % 31 // the GB 32100 weights are 3^i mod 31
	}
	c := (31 - sum%31) % 31
	return first17 + string(charset[c])
}

// Some holders.
var (
	enterprise = Holder{Name: "Hubei Green Power Co., Ltd.", Kind: HolderKindEnterprise, CreditCode: creditCode("91420100MA4K0ABCD")}
	government = Holder{Name: "Hubei Department of Ecology and Environment", Kind: HolderKindGovernment, CreditCode: creditCode("11420000011112222")}
)

// accounts returns a lookup in which the named accounts exist and are open,
// plus any extra views given.
func accounts(open []string, extra ...AccountView) AccountLookup {
	m := make(map[string]AccountView)
	for _, id := range open {
		m[id] = AccountView{ID: id, Type: AccountTypeHolding, Status: AccountStatusOpen, Jurisdiction: "420100"}
	}
	for _, v := range extra {
		m[v.ID] = v
	}
	return AccountsFromMap(m)
}

// allOpen is a lookup in which every account exists and is open.
func allOpen(id string) (AccountView, bool) {
	return AccountView{ID: id, Type: AccountTypeHolding, Status: AccountStatusOpen}, true
}

func ceaCommand() RegisterRight {
	return RegisterRight{
		RightID: "CEA2025-HB-0001", Type: RightTypeCarbonAllowance, Jurisdiction: "420000", Vintage: 2025,
		Quantity: 10000, HolderAccountID: "issuer",
		Attributes: CarbonAllowance{AllocatingProvince: "420000", Scheme: CEASchemeNational,
			AllocationMethod: AllocationMethodFree, CompliancePeriod: "2025"},
	}
}

func waterCommand() RegisterRight {
	return RegisterRight{
		RightID: "WUR-YR-7", Type: RightTypeWaterUse, Jurisdiction: "640000", Vintage: 2025,
		Quantity: 500000, HolderAccountID: "issuer",
		Attributes: WaterRight{Class: WaterRightClassWaterIntake, IntakePermitNumber: "取水(宁)字[2024]第00017号",
			Basin: "Yellow River", Source: WaterSourceSurface, Use: WaterUseIndustrial, AnnualVolume: 100000},
		ValidFrom:  time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		ValidUntil: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func pollutantCommand() RegisterRight {
	return RegisterRight{
		RightID: "PDR.ZJ.001", Type: RightTypePollutantDischarge, Jurisdiction: "330000", Vintage: 2025,
		Quantity: 12000, HolderAccountID: "issuer",
		Attributes: PollutantRight{Pollutant: PollutantCOD, DischargePermitNumber: "91330100MA27XXXX1Y001P",
			Region: "330106", BasinOrAirshed: "Qiantang River", Origin: PollutantRightOriginInitialPaidAllocation},
		ValidFrom:  time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		ValidUntil: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func sinkCommand() RegisterRight {
	return RegisterRight{
		RightID: "CSR_FJ_2024_1", Type: RightTypeCarbonSink, Jurisdiction: "350000", Vintage: 2024,
		Quantity: 10007, HolderAccountID: "issuer",
		Attributes: CarbonSink{ProjectID: "CCER-14-2024-0001", Methodology: "AR-CM-001",
			MonitoringStart: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), MonitoringEnd: time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC),
			Location: "350702", AreaSquareMetres: 12_345_600, VerificationBody: "China Quality Certification Centre",
			VerificationReportDate: time.Date(2025, 2, 10, 0, 0, 0, 0, time.UTC), Kind: SinkKindRemoval, BufferBasisPoints: 2000},
	}
}

// register decides and applies a registration that must succeed.
func register(t testing.TB, cmd RegisterRight) Right {
	t.Helper()
	var r Right
	events, err := DecideRegisterRight(r, cmd, allOpen, t0)
	if err != nil {
		t.Fatalf("register %s: %v", cmd.RightID, err)
	}
	mustApply(t, &r, events)
	return r
}

func mustApply(t testing.TB, r *Right, events []Event) {
	t.Helper()
	for _, e := range events {
		if err := r.Apply(e); err != nil {
			t.Fatalf("apply %T: %v", e, err)
		}
	}
	if err := r.CheckInvariants(); err != nil {
		t.Fatalf("after %d events: %v", len(events), err)
	}
}

// transfer decides and applies a transfer that must succeed and returns its event.
func transfer(t testing.TB, r *Right, cmd TransferUnits) UnitsTransferred {
	t.Helper()
	events, err := DecideTransfer(*r, cmd, allOpen, t0)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	mustApply(t, r, events)
	return events[0].(UnitsTransferred)
}

// retire decides and applies a retirement that must succeed and returns its event.
func retire(t testing.TB, r *Right, cmd RetireUnits) UnitsRetired {
	t.Helper()
	events, err := DecideRetire(*r, cmd, allOpen, t0)
	if err != nil {
		t.Fatalf("retire %s: %v", cmd.RetirementID, err)
	}
	mustApply(t, r, events)
	return events[0].(UnitsRetired)
}

func blocks(pairs ...int64) []Block {
	var out []Block
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Block{pairs[i], pairs[i+1]})
	}
	return out
}

func rng(start, end int64) *Block { return &Block{start, end} }

func equalBlocks(a, b []Block) bool { return slices.Equal(a, b) }
