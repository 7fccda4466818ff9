package domain

import (
	"time"
)

// Attributes are the type-specific attributes of a right: exactly one of
// CarbonAllowance, WaterRight, PollutantRight and CarbonSink, matching the
// right's type. The four types are plain values without references, so a
// copy never shares state.
type Attributes interface {
	// RightType returns the right type the attributes belong to.
	RightType() RightType
	isAttributes()
}

// CarbonAllowance are the attributes of a carbon emission allowance (碳排放配额).
// Its allocation year is the right's Vintage.
type CarbonAllowance struct {
	// AllocatingProvince is the GB/T 2260 code of the allocating province, ending in "0000".
	AllocatingProvince string
	// Scheme is the trading scheme.
	Scheme CEAScheme
	// AllocationMethod is free allocation or auction.
	AllocationMethod AllocationMethod
	// CompliancePeriod is the period the allowances are allocated for, "2023-2024" or "2025";
	// it must include the vintage.
	CompliancePeriod string
}

// RightType returns RightTypeCarbonAllowance.
func (CarbonAllowance) RightType() RightType { return RightTypeCarbonAllowance }
func (CarbonAllowance) isAttributes()        {}

// WaterRight are the attributes of a water-use right (用水权). Its validity
// period is the right's ValidFrom and ValidUntil, which are required.
type WaterRight struct {
	// Class is the class of the water right.
	Class WaterRightClass
	// IntakePermitNumber is the number of the water-intake permit (取水许可证);
	// required for the water-intake class.
	IntakePermitNumber string
	// Basin is the river basin, e.g. "Yellow River".
	Basin string
	// Source is surface water or groundwater.
	Source WaterSource
	// Use is what the water is used for.
	Use WaterUse
	// AnnualVolume is the volume the right allows per year, in m3.
	AnnualVolume int64
}

// RightType returns RightTypeWaterUse.
func (WaterRight) RightType() RightType { return RightTypeWaterUse }
func (WaterRight) isAttributes()        {}

// PollutantRight are the attributes of a pollutant-discharge right (排污权).
// Its validity period is the right's ValidFrom and ValidUntil, which are
// required and at most 20 years apart.
type PollutantRight struct {
	// Pollutant is the substance.
	Pollutant Pollutant
	// DischargePermitNumber is the number of the discharge permit (排污许可证编号).
	DischargePermitNumber string
	// Region is the GB/T 2260 code of the region of the discharge.
	Region string
	// BasinOrAirshed is the river basin (water pollutants) or airshed (air pollutants).
	BasinOrAirshed string
	// Origin is initial paid allocation or trade.
	Origin PollutantRightOrigin
}

// RightType returns RightTypePollutantDischarge.
func (PollutantRight) RightType() RightType { return RightTypePollutantDischarge }
func (PollutantRight) isAttributes()        {}

// CarbonSink are the attributes of a carbon-sink right (碳汇权益), e.g. a
// forestry CCER issuance. Its vintage is the right's Vintage and must lie in
// the monitoring period.
type CarbonSink struct {
	// ProjectID is the id of the project, e.g. "CCER-14-2024-0001".
	ProjectID string
	// Methodology is the methodology applied, e.g. "AR-CM-001".
	Methodology string
	// MonitoringStart is the first day of the monitoring period.
	MonitoringStart time.Time
	// MonitoringEnd is the last day of the monitoring period; after MonitoringStart.
	MonitoringEnd time.Time
	// Location is the GB/T 2260 code of the project's location.
	Location string
	// AreaSquareMetres is the project's area in whole square metres (1 ha = 10000 m2).
	AreaSquareMetres int64
	// VerificationBody is the name of the body that verified the sink.
	VerificationBody string
	// VerificationReportDate is the date of the verification report.
	VerificationReportDate time.Time
	// Kind is removal or reduction.
	Kind SinkKind
	// BufferBasisPoints is the share of the quantity set aside in the
	// non-tradable buffer pool, in basis points (0..10000).
	BufferBasisPoints int32
}

// RightType returns RightTypeCarbonSink.
func (CarbonSink) RightType() RightType { return RightTypeCarbonSink }
func (CarbonSink) isAttributes()        {}

// derefAttributes turns pointers to attribute structs, which satisfy the
// interface too, into values, so that state and events never share them with
// the caller. It returns nil for nil pointers.
func derefAttributes(a Attributes) Attributes {
	switch p := a.(type) {
	case *CarbonAllowance:
		if p == nil {
			return nil
		}
		return *p
	case *WaterRight:
		if p == nil {
			return nil
		}
		return *p
	case *PollutantRight:
		if p == nil {
			return nil
		}
		return *p
	case *CarbonSink:
		if p == nil {
			return nil
		}
		return *p
	}
	return a
}

// attributesField returns the field path of the attribute set of a type,
// following the snake_case names of the attribute structs.
func attributesField(t RightType) string {
	switch t {
	case RightTypeCarbonAllowance:
		return "carbon_allowance"
	case RightTypeWaterUse:
		return "water_right"
	case RightTypePollutantDischarge:
		return "pollutant_right"
	case RightTypeCarbonSink:
		return "carbon_sink"
	}
	return "attributes"
}

// checkValidity checks the right's validity period: when required both ends
// must be given; when both are given the start must be before the end.
func checkValidity(v *violations, cmd *RegisterRight, required bool) bool {
	from, until := cmd.ValidFrom, cmd.ValidUntil
	if required {
		ok := true
		if from.IsZero() {
			v.add(CheckInvalidValidityPeriod, "valid_from", "a %s right needs the start of its validity period", cmd.Type)
			ok = false
		}
		if until.IsZero() {
			v.add(CheckInvalidValidityPeriod, "valid_until", "a %s right needs the end of its validity period", cmd.Type)
			ok = false
		}
		if !ok {
			return false
		}
	}
	if !from.IsZero() && !until.IsZero() && !from.Before(until) {
		v.add(CheckInvalidValidityPeriod, "valid_until", "validity ends at %s, not after it starts at %s",
			until.UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339))
		return false
	}
	return true
}

// checkVintageWithin checks that the vintage is a year of [from, until].
func checkVintageWithin(v *violations, vintage int, from, until time.Time, what string) {
	if from.IsZero() || until.IsZero() {
		return
	}
	if y0, y1 := from.UTC().Year(), until.UTC().Year(); vintage < y0 || vintage > y1 {
		v.add(CheckInvalidVintage, "vintage", "vintage %d is outside the %s %d..%d", vintage, what, y0, y1)
	}
}

func (a CarbonAllowance) validate(v *violations, cmd *RegisterRight, now time.Time, vintageOK bool) {
	const f = "carbon_allowance."
	switch {
	case a.AllocatingProvince == "":
		v.add(CheckRequiredFieldMissing, f+"allocating_province", "the allocating province is required")
	case !IsProvinceCode(a.AllocatingProvince):
		v.add(CheckInvalidDivisionCode, f+"allocating_province", "%q is not the code of a province (six digits ending in 0000)", truncate(a.AllocatingProvince))
	}
	if !a.Scheme.Valid() {
		v.add(CheckInvalidEnumValue, f+"scheme", "scheme %s is not a valid scheme", a.Scheme)
	}
	if !a.AllocationMethod.Valid() {
		v.add(CheckInvalidEnumValue, f+"allocation_method", "allocation method %s is not a valid method", a.AllocationMethod)
	}
	if a.CompliancePeriod == "" {
		v.add(CheckRequiredFieldMissing, f+"compliance_period", "the compliance period is required")
	} else if first, last, ok := ParseCompliancePeriod(a.CompliancePeriod); !ok {
		v.add(CheckInvalidCompliancePeriod, f+"compliance_period", "%q is not a compliance period like \"2023-2024\"", truncate(a.CompliancePeriod))
	} else if vintageOK && (cmd.Vintage < first || cmd.Vintage > last) {
		v.add(CheckInvalidCompliancePeriod, f+"compliance_period", "compliance period %s does not include the vintage %d", a.CompliancePeriod, cmd.Vintage)
	}
	checkValidity(v, cmd, false)
}

func (a WaterRight) validate(v *violations, cmd *RegisterRight, now time.Time, vintageOK bool) {
	const f = "water_right."
	if !a.Class.Valid() {
		v.add(CheckInvalidEnumValue, f+"class", "water right class %s is not a valid class", a.Class)
	}
	// Only a water-intake right is tied to an intake permit; the other
	// classes may still cite one.
	checkText(v, f+"intake_permit_number", a.IntakePermitNumber, a.Class == WaterRightClassWaterIntake, MaxShortTextLength)
	checkText(v, f+"basin", a.Basin, true, MaxShortTextLength)
	if !a.Source.Valid() {
		v.add(CheckInvalidEnumValue, f+"source", "water source %s is not a valid source", a.Source)
	}
	if !a.Use.Valid() {
		v.add(CheckInvalidEnumValue, f+"use", "water use %s is not a valid use", a.Use)
	}
	if a.AnnualVolume <= 0 || a.AnnualVolume > MaxQuantity {
		v.add(CheckInvalidAnnualVolume, f+"annual_volume", "annual volume %d m3 is outside 1..%d", a.AnnualVolume, MaxQuantity)
	}
	if checkValidity(v, cmd, true) && vintageOK {
		checkVintageWithin(v, cmd.Vintage, cmd.ValidFrom, cmd.ValidUntil, "validity period")
	}
}

func (a PollutantRight) validate(v *violations, cmd *RegisterRight, now time.Time, vintageOK bool) {
	const f = "pollutant_right."
	if !a.Pollutant.Valid() {
		v.add(CheckInvalidEnumValue, f+"pollutant", "pollutant %s is not a valid pollutant", a.Pollutant)
	}
	checkText(v, f+"discharge_permit_number", a.DischargePermitNumber, true, MaxShortTextLength)
	checkDivisionCode(v, f+"region", a.Region)
	checkText(v, f+"basin_or_airshed", a.BasinOrAirshed, true, MaxShortTextLength)
	if !a.Origin.Valid() {
		v.add(CheckInvalidEnumValue, f+"origin", "origin %s is not a valid origin", a.Origin)
	}
	if !checkValidity(v, cmd, true) {
		return
	}
	// Discharge rights are re-verified every five years and the longest
	// initial paid rights run twenty years; nothing runs longer.
	if limit := cmd.ValidFrom.AddDate(MaxPollutantValidityYears, 0, 0); cmd.ValidUntil.After(limit) {
		v.add(CheckInvalidValidityPeriod, "valid_until", "validity ends at %s, more than %d years after it starts at %s",
			cmd.ValidUntil.UTC().Format(time.RFC3339), MaxPollutantValidityYears, cmd.ValidFrom.UTC().Format(time.RFC3339))
		return
	}
	if vintageOK {
		checkVintageWithin(v, cmd.Vintage, cmd.ValidFrom, cmd.ValidUntil, "validity period")
	}
}

func (a CarbonSink) validate(v *violations, cmd *RegisterRight, now time.Time, vintageOK bool) {
	const f = "carbon_sink."
	checkText(v, f+"project_id", a.ProjectID, true, MaxShortTextLength)
	checkText(v, f+"methodology", a.Methodology, true, MaxShortTextLength)
	monitoringOK := true
	switch {
	case a.MonitoringStart.IsZero():
		v.add(CheckInvalidMonitoringPeriod, f+"monitoring_start", "the start of the monitoring period is required")
		monitoringOK = false
	case a.MonitoringEnd.IsZero():
		v.add(CheckInvalidMonitoringPeriod, f+"monitoring_end", "the end of the monitoring period is required")
		monitoringOK = false
	case !a.MonitoringStart.Before(a.MonitoringEnd):
		v.add(CheckInvalidMonitoringPeriod, f+"monitoring_end", "monitoring ends on %s, not after it starts on %s",
			a.MonitoringEnd.UTC().Format(time.DateOnly), a.MonitoringStart.UTC().Format(time.DateOnly))
		monitoringOK = false
	}
	if monitoringOK && vintageOK {
		checkVintageWithin(v, cmd.Vintage, a.MonitoringStart, a.MonitoringEnd, "monitoring period")
	}
	checkDivisionCode(v, f+"location", a.Location)
	if a.AreaSquareMetres <= 0 || a.AreaSquareMetres > MaxAreaSquareMetres {
		v.add(CheckInvalidArea, f+"area_square_metres", "area %d m2 is outside 1..%d", a.AreaSquareMetres, MaxAreaSquareMetres)
	}
	checkText(v, f+"verification_body", a.VerificationBody, true, MaxShortTextLength)
	switch {
	case a.VerificationReportDate.IsZero():
		v.add(CheckRequiredFieldMissing, f+"verification_report_date", "the verification report date is required")
	case monitoringOK && a.VerificationReportDate.Before(a.MonitoringEnd):
		v.add(CheckInvalidVerificationDate, f+"verification_report_date", "the report of %s predates the end of monitoring on %s",
			a.VerificationReportDate.UTC().Format(time.DateOnly), a.MonitoringEnd.UTC().Format(time.DateOnly))
	case a.VerificationReportDate.After(now):
		v.add(CheckInvalidVerificationDate, f+"verification_report_date", "the report of %s is dated after the registration at %s",
			a.VerificationReportDate.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !a.Kind.Valid() {
		v.add(CheckInvalidEnumValue, f+"kind", "sink kind %s is not a valid kind", a.Kind)
	}
	if a.BufferBasisPoints < 0 || a.BufferBasisPoints > 10000 {
		v.add(CheckInvalidBufferShare, f+"buffer_basis_points", "buffer share %d bp is outside 0..10000", a.BufferBasisPoints)
	}
	checkValidity(v, cmd, false)
}

// normalizeAttributeTimes returns the attributes with their times in UTC and
// without monotonic readings, as events store them.
func normalizeAttributeTimes(a Attributes) Attributes {
	if s, ok := a.(CarbonSink); ok {
		s.MonitoringStart = utc(s.MonitoringStart)
		s.MonitoringEnd = utc(s.MonitoringEnd)
		s.VerificationReportDate = utc(s.VerificationReportDate)
		return s
	}
	return a
}

// BufferQuantity returns how many of quantity units go to the buffer pool at
// bp basis points: quantity*bp/10000 rounded down, computed without overflow.
func BufferQuantity(quantity int64, bp int32) int64 {
	if quantity <= 0 || bp <= 0 {
		return 0
	}
	if bp >= 10000 {
		return quantity
	}
	// quantity*bp may overflow int64 for large quantities; split quantity.
	q, r := quantity/10000, quantity%10000
	return q*int64(bp) + r*int64(bp)/10000
}
