package eventcodec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	eventsv1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/events/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// everyEvent has one event of each type with every field set, so that a
// field the codec forgets shows up as a round-trip difference.
func everyEvent() []domain.Event {
	at := time.Date(2026, 11, 30, 9, 30, 15, 123456789, time.UTC)
	blocks := []domain.Block{{Start: 1, End: 10}, {Start: 21, End: 30}}
	return []domain.Event{
		domain.AccountOpened{AccountID: "HB-STEEL", Holder: domain.Holder{Name: "Hubei Steel", Kind: domain.HolderKindEnterprise, CreditCode: "91420000MA4KXXXX0X"}, Jurisdiction: "420100", Type: domain.AccountTypeHolding, OpenedAt: at},
		domain.AccountStatusChanged{AccountID: "HB-STEEL", From: domain.AccountStatusOpen, To: domain.AccountStatusSuspended, Reason: "court order 2026-77", ChangedAt: at},
		domain.RightRegistered{RightID: "CEA2025", Type: domain.RightTypeCarbonAllowance, Jurisdiction: "420000", Vintage: 2025, Unit: domain.UnitTonneCO2e, Quantity: 1000, SerialPrefix: "CEA-420000-2025-CEA2025", Serial: domain.Block{Start: 1, End: 1000}, HolderAccountID: "HB-STEEL",
			Attributes: domain.CarbonAllowance{AllocatingProvince: "420000", Scheme: domain.CEASchemeNational, AllocationMethod: domain.AllocationMethodAuction, CompliancePeriod: "2025-2026"}, RegisteredAt: at},
		domain.RightRegistered{RightID: "W1", Type: domain.RightTypeWaterUse, Jurisdiction: "640000", Vintage: 2026, Unit: domain.UnitCubicMetre, Quantity: 50000, SerialPrefix: "WUR-640000-2026-W1", Serial: domain.Block{Start: 1, End: 50000}, HolderAccountID: "NX-FARM",
			Attributes: domain.WaterRight{Class: domain.WaterRightClassWaterIntake, IntakePermitNumber: "QS-001", Basin: "Yellow River", Source: domain.WaterSourceGround, Use: domain.WaterUseIndustrial, AnnualVolume: 50000}, ValidFrom: day(2026, 1, 1), ValidUntil: day(2031, 1, 1), RegisteredAt: at},
		domain.RightRegistered{RightID: "P1", Type: domain.RightTypePollutantDischarge, Jurisdiction: "330000", Vintage: 2026, Unit: domain.UnitKilogram, Quantity: 700, SerialPrefix: "PDR-330000-2026-P1", Serial: domain.Block{Start: 1, End: 700}, HolderAccountID: "ZJ-CHEM",
			Attributes: domain.PollutantRight{Pollutant: domain.PollutantVOCs, DischargePermitNumber: "91330000XX001P", Region: "330100", BasinOrAirshed: "Hangzhou airshed", Origin: domain.PollutantRightOriginTrade}, ValidFrom: day(2026, 1, 1), ValidUntil: day(2031, 1, 1), RegisteredAt: at},
		domain.RightRegistered{RightID: "S1", Type: domain.RightTypeCarbonSink, Jurisdiction: "530000", Vintage: 2024, Unit: domain.UnitTonneCO2e, Quantity: 1000, SerialPrefix: "CSR-530000-2024-S1", Serial: domain.Block{Start: 1, End: 1000}, Buffer: domain.Block{Start: 901, End: 1000}, HolderAccountID: "YN-FOREST",
			Attributes: domain.CarbonSink{ProjectID: "CCER-14-2024-0001", Methodology: "AR-CM-001", MonitoringStart: day(2023, 1, 1), MonitoringEnd: day(2024, 12, 31), Location: "530100", AreaSquareMetres: 12_340_000, VerificationBody: "CQC", VerificationReportDate: day(2025, 3, 1), Kind: domain.SinkKindRemoval, BufferBasisPoints: 1000}, RegisteredAt: at},
		domain.UnitsTransferred{RightID: "CEA2025", TransferID: "t-1", From: "HB-STEEL", To: "HB-POWER", Blocks: blocks, Quantity: 20, Reference: "HBEX-778", Reason: "trade", TradePrice: &domain.Price{Amount: 5850, Currency: "CNY"}, TransferredAt: at},
		domain.UnitsTransferred{RightID: "CEA2025", TransferID: "t-2", From: "HB-STEEL", To: "HB-POWER", Blocks: blocks, Quantity: 20, TransferredAt: at},
		domain.UnitsRetired{RightID: "CEA2025", RetirementID: "r-1", Holder: "HB-POWER", Blocks: blocks, Quantity: 20, Purpose: domain.RetirementPurposeCompliance, Beneficiary: "HB-POWER", CompliancePeriod: "2025-2026", Reason: "surrender", RetiredAt: at},
		domain.AccountFrozen{AccountID: "HB-STEEL", OrderNumber: "(2026)鄂01执保123号", Authority: "Wuhan Intermediate People's Court", Reason: "asset preservation", FrozenAt: at},
		domain.AccountUnfrozen{AccountID: "HB-STEEL", OrderNumber: "(2026)鄂01执保123号", Authority: "Wuhan Intermediate People's Court", Reason: "order lifted", UnfrozenAt: at},
		domain.UnitsPledged{RightID: "CEA2025", PledgeID: "p-1", Pledgor: "HB-STEEL", Pledgee: "ICBC-HB", LoanReference: "ICBC-2026-0042", Maturity: day(2027, 6, 30), Blocks: blocks, Quantity: 20, PledgedAt: at},
		domain.PledgeReleased{RightID: "CEA2025", PledgeID: "p-1", Pledgor: "HB-STEEL", Pledgee: "ICBC-HB", ReleasedBy: domain.PledgeReleaserRegistrationOffice, OfficeReference: "HB-REG-17", Reason: "repaid", Blocks: blocks, Quantity: 20, ReleasedAt: at},
		domain.PledgeEnforced{RightID: "CEA2025", PledgeID: "p-2", Pledgor: "HB-STEEL", Pledgee: "ICBC-HB", To: "HB-POWER", DefaultReference: "NOTICE-3", Reason: "default", Blocks: blocks, Quantity: 20, EnforcedAt: at},
		domain.UnitsFrozen{RightID: "CEA2025", OrderNumber: "O-1", Authority: "court", Holder: "HB-STEEL", Blocks: blocks, Quantity: 20, Reason: "preservation", FrozenAt: at},
		domain.UnitsUnfrozen{RightID: "CEA2025", OrderNumber: "O-1", Authority: "court", Holder: "HB-STEEL", Blocks: blocks, Quantity: 20, Reason: "lifted", UnfrozenAt: at},
		domain.UnitsReserved{RightID: "CEA2025", ReservationID: "v-1", Holder: "HB-STEEL", Exchange: "HBEX", OrderReference: "ORD-7", Blocks: blocks, Quantity: 20, Timeout: at.Add(time.Hour), ReservedAt: at},
		domain.ReservationSettled{RightID: "CEA2025", ReservationID: "v-1", SettlementID: "s-1", Seller: "HB-STEEL", Buyer: "HB-POWER", Blocks: blocks, Quantity: 20, Remaining: 5, TradePrice: &domain.Price{Amount: 5850, Currency: "CNY"}, SettledAt: at},
		domain.ReservationVoided{RightID: "CEA2025", ReservationID: "v-2", Holder: "HB-STEEL", Blocks: blocks, Quantity: 20, Reason: "order cancelled", VoidedAt: at},
		domain.ReservationExpired{RightID: "CEA2025", ReservationID: "v-3", Holder: "HB-STEEL", Blocks: blocks, Quantity: 20, Timeout: at, ExpiredAt: at.Add(time.Second)},
		domain.UnitsCancelled{RightID: "S1", CancellationID: "c-1", Holder: "YN-FOREST", OrderNumber: "O-2", Authority: "NFGA", Reason: "fraud", Blocks: blocks, Quantity: 20, CancelledAt: at},
		domain.RightExpired{RightID: "W1", ValidUntil: day(2031, 1, 1), Blocks: blocks, Quantity: 20, ExpiredAt: at},
		domain.TransactionReversed{RightID: "CEA2025", CorrectionID: "k-1", OriginalKind: domain.TransactionKindSettlement, OriginalID: "s-1", From: "HB-POWER", To: "HB-STEEL", Blocks: blocks, Quantity: 20, Authority: "MEE", Reason: "clerical error", ReversedAt: at},
		domain.TransactionReversed{RightID: "CEA2025", CorrectionID: "k-2", OriginalKind: domain.TransactionKindTrade, OriginalID: "X-1", ExchangeID: "HBEX", From: "HB-POWER", To: "HB-STEEL", Blocks: blocks, Quantity: 20, Authority: "MEE", Reason: "matched in error", ReversedAt: at},
	}
}

func TestEveryEventRoundTrips(t *testing.T) {
	for _, e := range everyEvent() {
		t.Run(e.EventType()+" "+e.StreamID(), func(t *testing.T) {
			typ, data, err := Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			if typ != e.EventType() {
				t.Fatalf("type %q, want %q", typ, e.EventType())
			}
			back, err := Decode(typ, data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, e) {
				t.Fatalf("round trip changed the event:\n got %#v\nwant %#v", back, e)
			}
		})
	}
}

func TestUnknownEventTypeIsAnError(t *testing.T) {
	if _, err := Decode("UnitsTeleported", nil); !errors.Is(err, ErrUnknownEventType) {
		t.Fatalf("err = %v, want ErrUnknownEventType", err)
	}
}

// The codec converts enums by number; this pins that every domain enum value
// has the same name as the stored enum value of that number.
func TestDomainAndStoredEnumsAgreeByNumber(t *testing.T) {
	type enum struct {
		desc  protoreflect.EnumDescriptor
		names func(int32) string
	}
	cases := []enum{
		{eventsv1.HolderKind(0).Descriptor(), func(v int32) string { return domain.HolderKind(v).String() }},
		{eventsv1.AccountType(0).Descriptor(), func(v int32) string { return domain.AccountType(v).String() }},
		{eventsv1.AccountStatus(0).Descriptor(), func(v int32) string { return domain.AccountStatus(v).String() }},
		{eventsv1.RightType(0).Descriptor(), func(v int32) string { return domain.RightType(v).String() }},
		{eventsv1.Unit(0).Descriptor(), func(v int32) string { return domain.Unit(v).String() }},
		{eventsv1.CarbonScheme(0).Descriptor(), func(v int32) string { return domain.CEAScheme(v).String() }},
		{eventsv1.AllocationMethod(0).Descriptor(), func(v int32) string { return domain.AllocationMethod(v).String() }},
		{eventsv1.WaterRightClass(0).Descriptor(), func(v int32) string { return domain.WaterRightClass(v).String() }},
		{eventsv1.WaterSource(0).Descriptor(), func(v int32) string { return domain.WaterSource(v).String() }},
		{eventsv1.WaterUse(0).Descriptor(), func(v int32) string { return domain.WaterUse(v).String() }},
		{eventsv1.Pollutant(0).Descriptor(), func(v int32) string { return domain.Pollutant(v).String() }},
		{eventsv1.PollutantOrigin(0).Descriptor(), func(v int32) string { return domain.PollutantRightOrigin(v).String() }},
		{eventsv1.SinkKind(0).Descriptor(), func(v int32) string { return domain.SinkKind(v).String() }},
		{eventsv1.RetirementPurpose(0).Descriptor(), func(v int32) string { return domain.RetirementPurpose(v).String() }},
		{eventsv1.PledgeReleaser(0).Descriptor(), func(v int32) string { return domain.PledgeReleaser(v).String() }},
		{eventsv1.TransactionKind(0).Descriptor(), func(v int32) string { return domain.TransactionKind(v).String() }},
	}
	for _, c := range cases {
		t.Run(string(c.desc.Name()), func(t *testing.T) {
			prefix := upperSnake(string(c.desc.Name())) + "_"
			vals := c.desc.Values()
			for i := 0; i < vals.Len(); i++ {
				v := vals.Get(i)
				stored := strings.TrimPrefix(string(v.Name()), prefix)
				if got := c.names(int32(v.Number())); got != stored {
					t.Errorf("value %d: domain says %q, stored schema says %q", v.Number(), got, stored)
				}
			}
			if got := c.names(int32(vals.Len())); !strings.Contains(got, "(") && got != "" && got != "UNSPECIFIED" {
				// The domain must not have a value the stored schema lacks.
				t.Errorf("domain has value %d = %q that the stored schema does not", vals.Len(), got)
			}
		})
	}
}

func upperSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}
