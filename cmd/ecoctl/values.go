package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// chinaStandardTime is the zone a date without a time is read in. China has
// one time zone and no daylight saving, so a fixed offset is exact and does
// not depend on the host having tzdata.
var chinaStandardTime = time.FixedZone("CST", 8*60*60)

// parseDecimalExact reads an unsigned decimal string such as "12.34" as an
// integer count of 10^-scale units (1234 for scale 2), without ever passing
// through floating point: quantities and money in the registry are exact
// integers, and 0.1+0.2 must not become 0.30000000000000004 hundredths.
// Fewer fraction digits than scale are padded ("12.3" is 1230); more are an
// error rather than a silent rounding.
func parseDecimalExact(s string, scale int) (int64, error) {
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || (hasPoint && frac == "") {
		return 0, fmt.Errorf("%q is not a decimal number like 12.34", s)
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, fmt.Errorf("%q is not a decimal number like 12.34 (digits and one '.' only, no sign or separators)", s)
			}
		}
	}
	if len(frac) > scale {
		if scale == 0 {
			return 0, fmt.Errorf("%q must be a whole number", s)
		}
		return 0, fmt.Errorf("%q has more than %d decimal places", s, scale)
	}
	digits := strings.TrimLeft(whole+frac+strings.Repeat("0", scale-len(frac)), "0")
	if digits == "" {
		return 0, nil
	}
	// ParseInt rejects anything above MaxInt64 with ErrRange, which is the
	// overflow check we need.
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n, nil
}

// formatDecimalExact is the inverse of parseDecimalExact for display:
// 1234 at scale 2 is "12.34".
func formatDecimalExact(n int64, scale int) string {
	if scale == 0 {
		return strconv.FormatInt(n, 10)
	}
	sign := ""
	u := uint64(n)
	if n < 0 {
		sign = "-"
		u = uint64(-(n + 1)) + 1 // avoids overflow at MinInt64
	}
	s := strconv.FormatUint(u, 10)
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	return sign + s[:len(s)-scale] + "." + s[len(s)-scale:]
}

// currencyExponents lists the number of minor-unit digits (ISO 4217) of the
// currencies ecoctl accepts a --price for. A currency not listed is refused
// rather than guessed, because a wrong exponent misprices by a factor of ten.
var currencyExponents = map[string]int{
	"CNY": 2, "HKD": 2, "MOP": 2, "TWD": 2, "USD": 2, "EUR": 2, "GBP": 2,
	"JPY": 0, "KRW": 0,
}

// parsePrice reads a price per unit given in major units (yuan for CNY) as
// a decimal string and returns it in minor units (fen), exactly.
func parsePrice(amount, currency string) (*ecov1.Price, error) {
	exp, ok := currencyExponents[currency]
	if !ok {
		return nil, fmt.Errorf("--currency %q is not supported; use one of %s", currency, strings.Join(sortedKeys(currencyExponents), ", "))
	}
	minor, err := parseDecimalExact(amount, exp)
	if err != nil {
		return nil, fmt.Errorf("--price: %w", err)
	}
	return &ecov1.Price{AmountMinor: minor, Currency: currency}, nil
}

// parseTime reads a date (YYYY-MM-DD, meaning 00:00 China Standard Time at
// the start of that day) or an RFC 3339 timestamp.
func parseTime(s string) (*timestamppb.Timestamp, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, chinaStandardTime); err == nil {
		return timestamppb.New(t), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("%q is neither a date (YYYY-MM-DD) nor an RFC 3339 time (2025-01-01T08:00:00+08:00)", s)
	}
	return timestamppb.New(t), nil
}

// formatTime shows a timestamp in China Standard Time, in a form parseTime
// reads back.
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().In(chinaStandardTime).Format(time.RFC3339)
}

// parseRange reads an inclusive serial range "START-END" (for example
// "1001-1500"), or a whole readable serial block such as
// "CEA-420000-2025-HB2025A-000001001-000001500", whose right id must then be
// rightID: a serial block copied from one right's output must not silently
// act on another right.
func parseRange(s, rightID string) (*ecov1.SerialRange, error) {
	parts := strings.Split(s, "-")
	switch {
	case len(parts) == 2:
	case len(parts) >= 6:
		// TYPE-JURISDICTION-VINTAGE-RIGHT ID-START-END; a right id may itself
		// contain '-', so it is whatever lies between the fixed fields.
		if got := strings.Join(parts[3:len(parts)-2], "-"); got != rightID {
			return nil, fmt.Errorf("serial block %q belongs to right %q, not --right %q", s, got, rightID)
		}
		parts = parts[len(parts)-2:]
	default:
		return nil, fmt.Errorf("%q is not a serial range START-END (e.g. 1001-1500) or a serial block", s)
	}
	start, err1 := strconv.ParseInt(parts[0], 10, 64)
	end, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || start < 1 || end < start {
		return nil, fmt.Errorf("%q is not a serial range START-END with 1 <= START <= END", s)
	}
	return &ecov1.SerialRange{Start: start, End: end}, nil
}

// rangeQuantity is the number of units in an inclusive range.
func rangeQuantity(r *ecov1.SerialRange) int64 { return r.GetEnd() - r.GetStart() + 1 }

// errNoValue is returned by Set for an empty enum value.
var errNoValue = errors.New("must not be empty")

// choice names one value of a protobuf enum on the command line.
type choice[E ~int32] struct {
	name  string
	value E
}

// choices is the closed set of command-line names of an enum, in the order
// help lists them.
type choices[E ~int32] []choice[E]

func (cs choices[E]) names() []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name
	}
	return out
}

// nameOf returns the command-line name of v, or its number when v is a value
// this build of ecoctl does not know (a newer server may send one).
func (cs choices[E]) nameOf(v E) string {
	for _, c := range cs {
		if c.value == v {
			return c.name
		}
	}
	if v == 0 {
		return "-"
	}
	return "value " + strconv.Itoa(int(v))
}

// enumFlag is a flag.Value that accepts one of a closed set of names.
type enumFlag[E ~int32] struct {
	choices choices[E]
	value   *E
}

func (f *enumFlag[E]) String() string {
	if f == nil || f.value == nil || *f.value == 0 {
		return ""
	}
	return f.choices.nameOf(*f.value)
}

func (f *enumFlag[E]) Set(s string) error {
	if s == "" {
		return errNoValue
	}
	for _, c := range f.choices {
		if c.name == s {
			*f.value = c.value
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(f.choices.names(), ", "))
}

// The command-line names of the API's enums. They are the enum value names
// without their prefix, in lower case with '-', as an operator would say them.
var (
	holderKinds = choices[ecov1.HolderKind]{
		{"enterprise", ecov1.HolderKind_HOLDER_KIND_ENTERPRISE},
		{"cooperative", ecov1.HolderKind_HOLDER_KIND_COOPERATIVE},
		{"government", ecov1.HolderKind_HOLDER_KIND_GOVERNMENT},
		{"individual", ecov1.HolderKind_HOLDER_KIND_INDIVIDUAL},
	}
	accountTypes = choices[ecov1.AccountType]{
		{"holding", ecov1.AccountType_ACCOUNT_TYPE_HOLDING},
		{"registry", ecov1.AccountType_ACCOUNT_TYPE_REGISTRY},
		{"exchange", ecov1.AccountType_ACCOUNT_TYPE_EXCHANGE},
	}
	accountStatuses = choices[ecov1.AccountStatus]{
		{"open", ecov1.AccountStatus_ACCOUNT_STATUS_OPEN},
		{"restricted", ecov1.AccountStatus_ACCOUNT_STATUS_RESTRICTED},
		{"suspended", ecov1.AccountStatus_ACCOUNT_STATUS_SUSPENDED},
		{"closed", ecov1.AccountStatus_ACCOUNT_STATUS_CLOSED},
	}
	rightTypes = choices[ecov1.RightType]{
		{"carbon-allowance", ecov1.RightType_RIGHT_TYPE_CARBON_ALLOWANCE},
		{"water", ecov1.RightType_RIGHT_TYPE_WATER_USE},
		{"pollutant", ecov1.RightType_RIGHT_TYPE_POLLUTANT_DISCHARGE},
		{"carbon-sink", ecov1.RightType_RIGHT_TYPE_CARBON_SINK},
	}
	units = choices[ecov1.Unit]{
		{"tCO2e", ecov1.Unit_UNIT_TONNE_CO2E},
		{"m³", ecov1.Unit_UNIT_CUBIC_METRE},
		{"kg", ecov1.Unit_UNIT_KILOGRAM},
	}
	carbonSchemes = choices[ecov1.CarbonScheme]{
		{"national", ecov1.CarbonScheme_CARBON_SCHEME_NATIONAL},
		{"regional-pilot", ecov1.CarbonScheme_CARBON_SCHEME_REGIONAL_PILOT},
	}
	allocationMethods = choices[ecov1.AllocationMethod]{
		{"free", ecov1.AllocationMethod_ALLOCATION_METHOD_FREE},
		{"auction", ecov1.AllocationMethod_ALLOCATION_METHOD_AUCTION},
	}
	waterClasses = choices[ecov1.WaterRightClass]{
		{"regional", ecov1.WaterRightClass_WATER_RIGHT_CLASS_REGIONAL},
		{"water-intake", ecov1.WaterRightClass_WATER_RIGHT_CLASS_WATER_INTAKE},
		{"irrigation-user", ecov1.WaterRightClass_WATER_RIGHT_CLASS_IRRIGATION_USER},
	}
	waterSources = choices[ecov1.WaterSource]{
		{"surface", ecov1.WaterSource_WATER_SOURCE_SURFACE},
		{"ground", ecov1.WaterSource_WATER_SOURCE_GROUND},
	}
	waterUses = choices[ecov1.WaterUse]{
		{"agricultural", ecov1.WaterUse_WATER_USE_AGRICULTURAL},
		{"industrial", ecov1.WaterUse_WATER_USE_INDUSTRIAL},
		{"domestic", ecov1.WaterUse_WATER_USE_DOMESTIC},
		{"ecological", ecov1.WaterUse_WATER_USE_ECOLOGICAL},
	}
	pollutants = choices[ecov1.Pollutant]{
		{"COD", ecov1.Pollutant_POLLUTANT_COD},
		{"NH3N", ecov1.Pollutant_POLLUTANT_NH3N},
		{"SO2", ecov1.Pollutant_POLLUTANT_SO2},
		{"NOx", ecov1.Pollutant_POLLUTANT_NOX},
		{"TP", ecov1.Pollutant_POLLUTANT_TP},
		{"TN", ecov1.Pollutant_POLLUTANT_TN},
		{"VOCs", ecov1.Pollutant_POLLUTANT_VOCS},
	}
	pollutantOrigins = choices[ecov1.PollutantOrigin]{
		{"initial-paid", ecov1.PollutantOrigin_POLLUTANT_ORIGIN_INITIAL_PAID_ALLOCATION},
		{"trade", ecov1.PollutantOrigin_POLLUTANT_ORIGIN_TRADE},
	}
	sinkKinds = choices[ecov1.SinkKind]{
		{"removal", ecov1.SinkKind_SINK_KIND_REMOVAL},
		{"reduction", ecov1.SinkKind_SINK_KIND_REDUCTION},
	}
	retirementPurposes = choices[ecov1.RetirementPurpose]{
		{"compliance", ecov1.RetirementPurpose_RETIREMENT_PURPOSE_COMPLIANCE},
		{"voluntary", ecov1.RetirementPurpose_RETIREMENT_PURPOSE_VOLUNTARY},
	}
)

// checkInt32 narrows a flag's int64 to int32 with a clear error.
func checkInt32(flagName string, v int64) (int32, error) {
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, fmt.Errorf("--%s %d is out of range", flagName, v)
	}
	return int32(v), nil
}
