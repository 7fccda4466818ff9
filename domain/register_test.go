package domain

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRegisterEachRightType(t *testing.T) {
	for _, cmd := range []RegisterRight{ceaCommand(), waterCommand(), pollutantCommand(), sinkCommand()} {
		t.Run("a valid "+cmd.Type.String()+" registration issues every unit to the holder", func(t *testing.T) {
			r := register(t, cmd)
			if !r.Registered() || r.ID() != cmd.RightID || r.Type() != cmd.Type || r.Quantity() != cmd.Quantity ||
				r.Unit() != cmd.Type.Unit() || r.Vintage() != cmd.Vintage || r.Jurisdiction() != cmd.Jurisdiction ||
				r.IssuedTo() != "issuer" || !r.RegisteredAt().Equal(t0) || r.Version() != 1 ||
				r.Serial() != (Block{1, cmd.Quantity}) || !reflect.DeepEqual(r.Attributes(), cmd.Attributes) ||
				!r.ValidFrom().Equal(cmd.ValidFrom) || !r.ValidUntil().Equal(cmd.ValidUntil) {
				t.Fatalf("unexpected state %s", r.String())
			}
			h := r.Holding("issuer")
			if got := h.Available + r.Totals().Buffer; got != cmd.Quantity {
				t.Fatalf("holder has %d and buffer %d of %d", h.Available, r.Totals().Buffer, cmd.Quantity)
			}
			if r.SerialPrefix() != cmd.Type.Code()+"-"+cmd.Jurisdiction+"-"+strconv.Itoa(cmd.Vintage)+"-"+cmd.RightID {
				t.Fatalf("serial prefix %q", r.SerialPrefix())
			}
		})
	}
	t.Run("a carbon-sink registration sets the buffer share aside with the highest serials", func(t *testing.T) {
		r := register(t, sinkCommand()) // 10007 units at 2000 bp: 2001 buffer units
		if r.Buffer() != (Block{8007, 10007}) {
			t.Fatalf("buffer %v", r.Buffer())
		}
		h := r.Holding("issuer")
		if h.Available != 8006 || !equalBlocks(h.AvailableBlocks, blocks(1, 8006)) {
			t.Fatalf("holding %+v", h)
		}
		if tot := r.Totals(); tot != (Totals{Issued: 10007, Available: 8006, Buffer: 2001}) {
			t.Fatalf("totals %+v", tot)
		}
	})
	t.Run("a carbon sink without buffer share has no buffer", func(t *testing.T) {
		cmd := sinkCommand()
		s := cmd.Attributes.(CarbonSink)
		s.BufferBasisPoints = 0
		cmd.Attributes = s
		if r := register(t, cmd); !r.Buffer().IsZero() || r.Holding("issuer").Available != cmd.Quantity {
			t.Fatalf("buffer %v", r.Buffer())
		}
	})
	t.Run("a carbon sink with a 100% buffer leaves the holder nothing", func(t *testing.T) {
		cmd := sinkCommand()
		s := cmd.Attributes.(CarbonSink)
		s.BufferBasisPoints = 10000
		cmd.Attributes = s
		r := register(t, cmd)
		if r.Buffer() != (Block{1, cmd.Quantity}) || len(r.Holdings()) != 0 {
			t.Fatalf("buffer %v, holdings %v", r.Buffer(), r.Holdings())
		}
	})
	t.Run("attributes given by pointer are stored as values", func(t *testing.T) {
		cmd := ceaCommand()
		a := cmd.Attributes.(CarbonAllowance)
		cmd.Attributes = &a
		r := register(t, cmd)
		a.CompliancePeriod = "2026"
		if r.Attributes().(CarbonAllowance).CompliancePeriod != "2025" {
			t.Fatal("state shares the caller's attributes")
		}
	})
	t.Run("times are stored in UTC", func(t *testing.T) {
		cmd := waterCommand()
		cst := time.FixedZone("CST", 8*3600)
		cmd.ValidFrom = cmd.ValidFrom.In(cst)
		events, err := DecideRegisterRight(Right{}, cmd, allOpen, t0.In(cst))
		if err != nil {
			t.Fatal(err)
		}
		e := events[0].(RightRegistered)
		if e.ValidFrom.Location() != time.UTC || e.RegisteredAt.Location() != time.UTC || !e.ValidFrom.Equal(cmd.ValidFrom) {
			t.Fatalf("times not in UTC: %v %v", e.ValidFrom, e.RegisteredAt)
		}
	})
}

func TestBufferQuantity(t *testing.T) {
	tests := []struct {
		q    int64
		bp   int32
		want int64
	}{
		{10007, 2000, 2001}, // 2001.4 rounded down
		{10000, 2000, 2000},
		{1, 9999, 0},
		{100, 0, 0},
		{100, 10000, 100},
		{MaxQuantity, 9999, MaxQuantity / 10000 * 9999},
		{MaxQuantity - 1, 3, (MaxQuantity-1)/10000*3 + (MaxQuantity-1)%10000*3/10000},
	}
	for _, tt := range tests {
		if got := BufferQuantity(tt.q, tt.bp); got != tt.want {
			t.Errorf("BufferQuantity(%d, %d) = %d, want %d", tt.q, tt.bp, got, tt.want)
		}
	}
}

// withAttrs returns cmd with its attributes changed by f, which receives a
// pointer to a copy of the attribute struct.
func withAttrs[A Attributes](cmd RegisterRight, f func(*A)) RegisterRight {
	a := cmd.Attributes.(A)
	f(&a)
	cmd.Attributes = a
	return cmd
}

func TestRegistrationValidation(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name  string
		cmd   RegisterRight
		want  Check
		field string
	}{
		// Fields common to every type.
		{"a malformed right id is refused with E1002", func() RegisterRight { c := ceaCommand(); c.RightID = "r 1"; return c }(), CheckInvalidRightID, "right_id"},
		{"a missing right id is refused with E1003", func() RegisterRight { c := ceaCommand(); c.RightID = ""; return c }(), CheckRequiredFieldMissing, "right_id"},
		{"an unspecified right type is refused with E1004", func() RegisterRight { c := ceaCommand(); c.Type = 0; return c }(), CheckInvalidEnumValue, "type"},
		{"a bad jurisdiction is refused with E1008", func() RegisterRight { c := ceaCommand(); c.Jurisdiction = "42000A"; return c }(), CheckInvalidDivisionCode, "jurisdiction"},
		{"a missing vintage is refused with E1003", func() RegisterRight { c := ceaCommand(); c.Vintage = 0; return c }(), CheckRequiredFieldMissing, "vintage"},
		{"a vintage before 2005 is refused with E1011", func() RegisterRight { c := ceaCommand(); c.Vintage = 2004; return c }(), CheckInvalidVintage, "vintage"},
		{"a vintage after 2100 is refused with E1011", func() RegisterRight { c := ceaCommand(); c.Vintage = 2101; return c }(), CheckInvalidVintage, "vintage"},
		{"a unit that is not the type's is refused with E1014", func() RegisterRight { c := ceaCommand(); c.Unit = UnitKilogram; return c }(), CheckUnitTypeMismatch, "unit"},
		{"a zero quantity is refused with E1010", func() RegisterRight { c := ceaCommand(); c.Quantity = 0; return c }(), CheckInvalidQuantity, "quantity"},
		{"a negative quantity is refused with E1010", func() RegisterRight { c := ceaCommand(); c.Quantity = -5; return c }(), CheckInvalidQuantity, "quantity"},
		{"a quantity above 10^15 is refused with E1010", func() RegisterRight { c := ceaCommand(); c.Quantity = MaxQuantity + 1; return c }(), CheckInvalidQuantity, "quantity"},
		{"a malformed holder account id is refused with E1001", func() RegisterRight { c := ceaCommand(); c.HolderAccountID = "-x"; return c }(), CheckInvalidAccountID, "holder_account_id"},
		{"missing attributes are refused with E1003", func() RegisterRight { c := ceaCommand(); c.Attributes = nil; return c }(), CheckRequiredFieldMissing, "carbon_allowance"},
		{"a nil attribute pointer is refused with E1003", func() RegisterRight { c := ceaCommand(); c.Attributes = (*CarbonAllowance)(nil); return c }(), CheckRequiredFieldMissing, "carbon_allowance"},
		{"water attributes for an allowance are refused with E1013", func() RegisterRight { c := ceaCommand(); c.Attributes = waterCommand().Attributes; return c }(), CheckAttributesTypeMismatch, "water_right"},
		{"an inverted validity period is refused with E1012", func() RegisterRight {
			c := ceaCommand()
			c.ValidFrom, c.ValidUntil = day(2026, 1, 1), day(2025, 6, 1)
			return c
		}(), CheckInvalidValidityPeriod, "valid_until"},

		// Carbon emission allowances.
		{"an allowance without allocating province is refused with E1003", withAttrs(ceaCommand(), func(a *CarbonAllowance) { a.AllocatingProvince = "" }), CheckRequiredFieldMissing, "carbon_allowance.allocating_province"},
		{"an allocating province that is a city is refused with E1008", withAttrs(ceaCommand(), func(a *CarbonAllowance) { a.AllocatingProvince = "420100" }), CheckInvalidDivisionCode, "carbon_allowance.allocating_province"},
		{"an allowance without scheme is refused with E1004", withAttrs(ceaCommand(), func(a *CarbonAllowance) { a.Scheme = 0 }), CheckInvalidEnumValue, "carbon_allowance.scheme"},
		{"an allowance without allocation method is refused with E1004", withAttrs(ceaCommand(), func(a *CarbonAllowance) { a.AllocationMethod = 7 }), CheckInvalidEnumValue, "carbon_allowance.allocation_method"},
		{"an allowance without compliance period is refused with E1003", withAttrs(ceaCommand(), func(a *CarbonAllowance) { a.CompliancePeriod = "" }), CheckRequiredFieldMissing, "carbon_allowance.compliance_period"},
		{"a malformed compliance period is refused with E1015", withAttrs(ceaCommand(), func(a *CarbonAllowance) { a.CompliancePeriod = "2025/26" }), CheckInvalidCompliancePeriod, "carbon_allowance.compliance_period"},
		{"a compliance period without the vintage is refused with E1015", withAttrs(ceaCommand(), func(a *CarbonAllowance) { a.CompliancePeriod = "2021-2022" }), CheckInvalidCompliancePeriod, "carbon_allowance.compliance_period"},

		// Water-use rights.
		{"a water right without class is refused with E1004", withAttrs(waterCommand(), func(a *WaterRight) { a.Class = 0 }), CheckInvalidEnumValue, "water_right.class"},
		{"a water-intake right without intake permit is refused with E1003", withAttrs(waterCommand(), func(a *WaterRight) { a.IntakePermitNumber = "" }), CheckRequiredFieldMissing, "water_right.intake_permit_number"},
		{"an intake permit number with a line break is refused with E1005", withAttrs(waterCommand(), func(a *WaterRight) { a.IntakePermitNumber = "A\nB" }), CheckInvalidText, "water_right.intake_permit_number"},
		{"a water right without basin is refused with E1003", withAttrs(waterCommand(), func(a *WaterRight) { a.Basin = "" }), CheckRequiredFieldMissing, "water_right.basin"},
		{"a water right without source is refused with E1004", withAttrs(waterCommand(), func(a *WaterRight) { a.Source = 0 }), CheckInvalidEnumValue, "water_right.source"},
		{"a water right without use is refused with E1004", withAttrs(waterCommand(), func(a *WaterRight) { a.Use = 0 }), CheckInvalidEnumValue, "water_right.use"},
		{"a water right without annual volume is refused with E1019", withAttrs(waterCommand(), func(a *WaterRight) { a.AnnualVolume = 0 }), CheckInvalidAnnualVolume, "water_right.annual_volume"},
		{"a water right without start of validity is refused with E1012", func() RegisterRight { c := waterCommand(); c.ValidFrom = time.Time{}; return c }(), CheckInvalidValidityPeriod, "valid_from"},
		{"a water right without end of validity is refused with E1012", func() RegisterRight { c := waterCommand(); c.ValidUntil = time.Time{}; return c }(), CheckInvalidValidityPeriod, "valid_until"},
		{"a water right whose validity ends when it starts is refused with E1012", func() RegisterRight { c := waterCommand(); c.ValidUntil = c.ValidFrom; return c }(), CheckInvalidValidityPeriod, "valid_until"},
		{"a water right with a vintage outside its validity is refused with E1011", func() RegisterRight { c := waterCommand(); c.Vintage = 2035; return c }(), CheckInvalidVintage, "vintage"},

		// Pollutant-discharge rights.
		{"a discharge right without pollutant is refused with E1004", withAttrs(pollutantCommand(), func(a *PollutantRight) { a.Pollutant = 0 }), CheckInvalidEnumValue, "pollutant_right.pollutant"},
		{"a discharge right without permit number is refused with E1003", withAttrs(pollutantCommand(), func(a *PollutantRight) { a.DischargePermitNumber = "" }), CheckRequiredFieldMissing, "pollutant_right.discharge_permit_number"},
		{"a discharge right with an overlong permit number is refused with E1005", withAttrs(pollutantCommand(), func(a *PollutantRight) { a.DischargePermitNumber = strings.Repeat("9", 300) }), CheckInvalidText, "pollutant_right.discharge_permit_number"},
		{"a discharge right without region is refused with E1003", withAttrs(pollutantCommand(), func(a *PollutantRight) { a.Region = "" }), CheckRequiredFieldMissing, "pollutant_right.region"},
		{"a discharge right with a bad region is refused with E1008", withAttrs(pollutantCommand(), func(a *PollutantRight) { a.Region = "3301" }), CheckInvalidDivisionCode, "pollutant_right.region"},
		{"a discharge right without basin or airshed is refused with E1003", withAttrs(pollutantCommand(), func(a *PollutantRight) { a.BasinOrAirshed = "" }), CheckRequiredFieldMissing, "pollutant_right.basin_or_airshed"},
		{"a discharge right without origin is refused with E1004", withAttrs(pollutantCommand(), func(a *PollutantRight) { a.Origin = 0 }), CheckInvalidEnumValue, "pollutant_right.origin"},
		{"a discharge right without validity is refused with E1012", func() RegisterRight { c := pollutantCommand(); c.ValidUntil = time.Time{}; return c }(), CheckInvalidValidityPeriod, "valid_until"},
		{"a discharge right valid for more than 20 years is refused with E1012", func() RegisterRight {
			c := pollutantCommand()
			c.ValidUntil = c.ValidFrom.AddDate(20, 0, 1)
			return c
		}(), CheckInvalidValidityPeriod, "valid_until"},
		{"a discharge right with a vintage outside its validity is refused with E1011", func() RegisterRight { c := pollutantCommand(); c.Vintage = 2024; return c }(), CheckInvalidVintage, "vintage"},

		// Carbon-sink rights.
		{"a sink without project id is refused with E1003", withAttrs(sinkCommand(), func(a *CarbonSink) { a.ProjectID = "" }), CheckRequiredFieldMissing, "carbon_sink.project_id"},
		{"a sink without methodology is refused with E1003", withAttrs(sinkCommand(), func(a *CarbonSink) { a.Methodology = " " }), CheckRequiredFieldMissing, "carbon_sink.methodology"},
		{"a sink without start of monitoring is refused with E1016", withAttrs(sinkCommand(), func(a *CarbonSink) { a.MonitoringStart = time.Time{} }), CheckInvalidMonitoringPeriod, "carbon_sink.monitoring_start"},
		{"a sink without end of monitoring is refused with E1016", withAttrs(sinkCommand(), func(a *CarbonSink) { a.MonitoringEnd = time.Time{} }), CheckInvalidMonitoringPeriod, "carbon_sink.monitoring_end"},
		{"a sink whose monitoring ends before it starts is refused with E1016", withAttrs(sinkCommand(), func(a *CarbonSink) { a.MonitoringEnd = day(2023, 1, 1) }), CheckInvalidMonitoringPeriod, "carbon_sink.monitoring_end"},
		{"a sink whose vintage is outside monitoring is refused with E1011", func() RegisterRight { c := sinkCommand(); c.Vintage = 2022; return c }(), CheckInvalidVintage, "vintage"},
		{"a sink without location is refused with E1003", withAttrs(sinkCommand(), func(a *CarbonSink) { a.Location = "" }), CheckRequiredFieldMissing, "carbon_sink.location"},
		{"a sink with a bad location is refused with E1008", withAttrs(sinkCommand(), func(a *CarbonSink) { a.Location = "000000" }), CheckInvalidDivisionCode, "carbon_sink.location"},
		{"a sink without area is refused with E1017", withAttrs(sinkCommand(), func(a *CarbonSink) { a.AreaSquareMetres = 0 }), CheckInvalidArea, "carbon_sink.area_square_metres"},
		{"a sink larger than China is refused with E1017", withAttrs(sinkCommand(), func(a *CarbonSink) { a.AreaSquareMetres = MaxAreaSquareMetres + 1 }), CheckInvalidArea, "carbon_sink.area_square_metres"},
		{"a sink without verification body is refused with E1003", withAttrs(sinkCommand(), func(a *CarbonSink) { a.VerificationBody = "" }), CheckRequiredFieldMissing, "carbon_sink.verification_body"},
		{"a sink without verification report date is refused with E1003", withAttrs(sinkCommand(), func(a *CarbonSink) { a.VerificationReportDate = time.Time{} }), CheckRequiredFieldMissing, "carbon_sink.verification_report_date"},
		{"a verification report before the end of monitoring is refused with E1025", withAttrs(sinkCommand(), func(a *CarbonSink) { a.VerificationReportDate = day(2024, 6, 1) }), CheckInvalidVerificationDate, "carbon_sink.verification_report_date"},
		{"a verification report dated in the future is refused with E1025", withAttrs(sinkCommand(), func(a *CarbonSink) { a.VerificationReportDate = t0.Add(24 * time.Hour) }), CheckInvalidVerificationDate, "carbon_sink.verification_report_date"},
		{"a sink without kind is refused with E1004", withAttrs(sinkCommand(), func(a *CarbonSink) { a.Kind = 0 }), CheckInvalidEnumValue, "carbon_sink.kind"},
		{"a negative buffer share is refused with E1018", withAttrs(sinkCommand(), func(a *CarbonSink) { a.BufferBasisPoints = -1 }), CheckInvalidBufferShare, "carbon_sink.buffer_basis_points"},
		{"a buffer share above 100% is refused with E1018", withAttrs(sinkCommand(), func(a *CarbonSink) { a.BufferBasisPoints = 10001 }), CheckInvalidBufferShare, "carbon_sink.buffer_basis_points"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecideRegisterRight(Right{}, tt.cmd, allOpen, t0)
			expectCheck(t, err, tt.want, tt.field)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %T, want *ValidationError", err)
			}
		})
	}
	t.Run("an empty registration reports every missing field", func(t *testing.T) {
		_, err := DecideRegisterRight(Right{}, RegisterRight{}, allOpen, t0)
		if n := len(ViolationsOf(err)); n < 6 {
			t.Fatalf("%d violations: %v", n, ViolationsOf(err))
		}
	})
	t.Run("an irrigation-user water right needs no intake permit", func(t *testing.T) {
		cmd := withAttrs(waterCommand(), func(a *WaterRight) { a.Class, a.IntakePermitNumber = WaterRightClassIrrigationUser, "" })
		if _, err := DecideRegisterRight(Right{}, cmd, allOpen, t0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a discharge right valid for exactly 20 years is accepted", func(t *testing.T) {
		cmd := pollutantCommand()
		cmd.ValidUntil = cmd.ValidFrom.AddDate(20, 0, 0)
		if _, err := DecideRegisterRight(Right{}, cmd, allOpen, t0); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRegistrationAgainstState(t *testing.T) {
	t.Run("registering a right id that is taken is refused with E3002", func(t *testing.T) {
		r := register(t, ceaCommand())
		_, err := DecideRegisterRight(r, ceaCommand(), allOpen, t0)
		expectCheck(t, err, CheckRightAlreadyExists, "right_id")
	})
	t.Run("registering to an unknown account is refused with E2001", func(t *testing.T) {
		_, err := DecideRegisterRight(Right{}, ceaCommand(), accounts(nil), t0)
		expectCheck(t, err, CheckAccountNotFound, "holder_account_id")
		_, err = DecideRegisterRight(Right{}, ceaCommand(), nil, t0)
		expectCheck(t, err, CheckAccountNotFound, "holder_account_id")
	})
	for _, tt := range []struct {
		status AccountStatus
		want   Check
	}{
		{AccountStatusRestricted, CheckAccountRestricted},
		{AccountStatusSuspended, CheckAccountSuspended},
		{AccountStatusClosed, CheckAccountClosed},
		{AccountStatusUnspecified, CheckAccountNotOpen},
	} {
		t.Run("registering to a "+tt.status.String()+" account is refused with "+tt.want.Code, func(t *testing.T) {
			_, err := DecideRegisterRight(Right{}, ceaCommand(), accounts(nil, AccountView{ID: "issuer", Status: tt.status}), t0)
			expectCheck(t, err, tt.want, "holder_account_id")
		})
	}
	t.Run("registering a right whose validity is over is refused with E6001", func(t *testing.T) {
		cmd := ceaCommand()
		cmd.ValidUntil = t0
		_, err := DecideRegisterRight(Right{}, cmd, allOpen, t0)
		expectCheck(t, err, CheckRightExpired, "valid_until")
	})
}

func TestRightApplyRefusesEventsThatDoNotFit(t *testing.T) {
	r := register(t, ceaCommand())
	before := r.Clone()
	bad := []Event{
		RightRegistered{RightID: "CEA2025-HB-0001", Type: RightTypeCarbonAllowance, Quantity: 5, Serial: Block{1, 5}, HolderAccountID: "x"},
		UnitsTransferred{RightID: "other", TransferID: "t", From: "issuer", To: "b", Blocks: blocks(1, 1), Quantity: 1},
		UnitsTransferred{RightID: r.ID(), TransferID: "t", From: "issuer", To: "b", Blocks: blocks(1, 2), Quantity: 1},
		UnitsTransferred{RightID: r.ID(), TransferID: "t", From: "issuer", To: "b", Blocks: blocks(3, 2), Quantity: 0},
		UnitsTransferred{RightID: r.ID(), TransferID: "t", From: "issuer", To: "b", Blocks: nil, Quantity: 0},
		UnitsTransferred{RightID: r.ID(), TransferID: "t", From: "nobody", To: "b", Blocks: blocks(1, 1), Quantity: 1},
		UnitsTransferred{RightID: r.ID(), TransferID: "t", From: "issuer", To: "issuer", Blocks: blocks(1, 1), Quantity: 1},
		UnitsTransferred{RightID: r.ID(), TransferID: "t", From: "issuer", To: "b", Blocks: blocks(9999, 10001), Quantity: 3},
		UnitsRetired{RightID: r.ID(), RetirementID: "x", Holder: "nobody", Blocks: blocks(1, 1), Quantity: 1},
		UnitsRetired{RightID: r.ID(), RetirementID: "x", Holder: "issuer", Blocks: blocks(10000, 10001), Quantity: 2},
		AccountOpened{AccountID: "a"},
	}
	for _, e := range bad {
		if err := r.Apply(e); !errors.Is(err, ErrEventDoesNotApply) {
			t.Errorf("Apply(%+v) = %v", e, err)
		}
	}
	if !reflect.DeepEqual(r, before) {
		t.Fatal("refused events changed the right")
	}
	var fresh Right
	for _, e := range []Event{
		UnitsTransferred{RightID: "r", TransferID: "t", From: "a", To: "b", Blocks: blocks(1, 1), Quantity: 1},
		RightRegistered{RightID: "r", Type: RightTypeCarbonAllowance, Quantity: 5, Serial: Block{1, 4}, HolderAccountID: "a"},
		RightRegistered{RightID: "r", Type: RightTypeCarbonSink, Quantity: 5, Serial: Block{1, 5}, Buffer: Block{4, 6}, HolderAccountID: "a"},
		RightRegistered{RightID: "r", Type: RightTypeCarbonSink, Quantity: 5, Serial: Block{1, 5}},
	} {
		if err := fresh.Apply(e); !errors.Is(err, ErrEventDoesNotApply) {
			t.Errorf("Apply(%+v) to an unregistered right = %v", e, err)
		}
	}
	if fresh.Registered() || fresh.CheckInvariants() != nil {
		t.Fatal("refused registration changed the right")
	}
	if _, err := RebuildRight(bad[:1]); err != nil {
		t.Fatalf("RebuildRight of a registration: %v", err)
	}
	if _, err := RebuildRight(bad[1:2]); err == nil {
		t.Fatal("RebuildRight accepted a transfer without registration")
	}
}
