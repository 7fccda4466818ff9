package domain

import "strconv"

// enumString returns names[v], or a marker for values outside the table so
// that messages about bad input still say what the value was.
func enumString(names []string, v int32) string {
	if v >= 0 && int(v) < len(names) {
		return names[v]
	}
	return "UNKNOWN(" + strconv.Itoa(int(v)) + ")"
}

// enumValid reports whether v names a specified value of a table whose zero
// entry is the unspecified value.
func enumValid(names []string, v int32) bool { return v > 0 && int(v) < len(names) }

// HolderKind is the legal kind of an account holder.
type HolderKind int32

// The holder kinds.
const (
	// HolderKindUnspecified is the invalid zero value.
	HolderKindUnspecified HolderKind = iota
	// HolderKindEnterprise is a company or other business entity.
	HolderKindEnterprise
	// HolderKindCooperative is a farmers' cooperative or rural collective (e.g. a water users' association).
	HolderKindCooperative
	// HolderKindGovernment is a government body or public institution.
	HolderKindGovernment
	// HolderKindIndividual is a natural person.
	HolderKindIndividual
)

var holderKindNames = []string{"UNSPECIFIED", "ENTERPRISE", "COOPERATIVE", "GOVERNMENT", "INDIVIDUAL"}

// String returns the kind's UPPER_SNAKE name.
func (k HolderKind) String() string { return enumString(holderKindNames, int32(k)) }

// Valid reports whether k is a specified, known kind.
func (k HolderKind) Valid() bool { return enumValid(holderKindNames, int32(k)) }

// AccountType is the role of an account in the registry.
type AccountType int32

// The account types.
const (
	// AccountTypeUnspecified is the invalid zero value.
	AccountTypeUnspecified AccountType = iota
	// AccountTypeHolding is an ordinary holder's account.
	AccountTypeHolding
	// AccountTypeRegistry is an authority's allocation or issuing account.
	AccountTypeRegistry
	// AccountTypeExchange is a trading exchange's clearing account.
	AccountTypeExchange
)

var accountTypeNames = []string{"UNSPECIFIED", "HOLDING", "REGISTRY", "EXCHANGE"}

// String returns the type's UPPER_SNAKE name.
func (t AccountType) String() string { return enumString(accountTypeNames, int32(t)) }

// Valid reports whether t is a specified, known type.
func (t AccountType) Valid() bool { return enumValid(accountTypeNames, int32(t)) }

// AccountStatus is what an account may currently do. The zero value means the
// account has not been opened.
type AccountStatus int32

// The account statuses.
const (
	// AccountStatusUnspecified is the status of an account that has not been opened.
	AccountStatusUnspecified AccountStatus = iota
	// AccountStatusOpen allows every transaction.
	AccountStatusOpen
	// AccountStatusRestricted allows receiving and retiring units, not sending them.
	AccountStatusRestricted
	// AccountStatusSuspended allows no transaction until the account is reopened.
	AccountStatusSuspended
	// AccountStatusClosed allows nothing, for ever.
	AccountStatusClosed
)

var accountStatusNames = []string{"UNSPECIFIED", "OPEN", "RESTRICTED", "SUSPENDED", "CLOSED"}

// String returns the status's UPPER_SNAKE name.
func (s AccountStatus) String() string { return enumString(accountStatusNames, int32(s)) }

// Valid reports whether s is a specified, known status.
func (s AccountStatus) Valid() bool { return enumValid(accountStatusNames, int32(s)) }

// RightType is the kind of environmental right.
type RightType int32

// The right types.
const (
	// RightTypeUnspecified is the invalid zero value.
	RightTypeUnspecified RightType = iota
	// RightTypeCarbonAllowance is a carbon emission allowance (碳排放配额), in tCO2e.
	RightTypeCarbonAllowance
	// RightTypeWaterUse is a water-use right (用水权), in m3.
	RightTypeWaterUse
	// RightTypePollutantDischarge is a pollutant-discharge right (排污权), in kg.
	RightTypePollutantDischarge
	// RightTypeCarbonSink is a carbon-sink right (碳汇权益), in tCO2e.
	RightTypeCarbonSink
)

var rightTypeNames = []string{"UNSPECIFIED", "CARBON_ALLOWANCE", "WATER_USE", "POLLUTANT_DISCHARGE", "CARBON_SINK"}

// rightTypeCodes are the short codes that begin serial numbers.
var rightTypeCodes = []string{"", "CEA", "WUR", "PDR", "CSR"}

// String returns the type's UPPER_SNAKE name.
func (t RightType) String() string { return enumString(rightTypeNames, int32(t)) }

// Valid reports whether t is a specified, known type.
func (t RightType) Valid() bool { return enumValid(rightTypeNames, int32(t)) }

// Code returns the three-letter code that begins the type's serial numbers:
// CEA, WUR, PDR or CSR; it is empty for an invalid type.
func (t RightType) Code() string {
	if !t.Valid() {
		return ""
	}
	return rightTypeCodes[t]
}

// RightTypeByCode returns the right type whose serial code is code.
func RightTypeByCode(code string) (RightType, bool) {
	for i, c := range rightTypeCodes {
		if i > 0 && c == code {
			return RightType(i), true
		}
	}
	return RightTypeUnspecified, false
}

// Unit returns the unit in which quantities of the type are counted.
func (t RightType) Unit() Unit {
	switch t {
	case RightTypeCarbonAllowance, RightTypeCarbonSink:
		return UnitTonneCO2e
	case RightTypeWaterUse:
		return UnitCubicMetre
	case RightTypePollutantDischarge:
		return UnitKilogram
	}
	return UnitUnspecified
}

// Unit is the unit of one serial-numbered unit of a right.
type Unit int32

// The units.
const (
	// UnitUnspecified is the invalid zero value.
	UnitUnspecified Unit = iota
	// UnitTonneCO2e is one tonne of carbon dioxide equivalent.
	UnitTonneCO2e
	// UnitCubicMetre is one cubic metre of water.
	UnitCubicMetre
	// UnitKilogram is one kilogram of pollutant.
	UnitKilogram
)

var unitNames = []string{"UNSPECIFIED", "TONNE_CO2E", "CUBIC_METRE", "KILOGRAM"}
var unitSymbols = []string{"", "tCO2e", "m3", "kg"}

// String returns the unit's UPPER_SNAKE name.
func (u Unit) String() string { return enumString(unitNames, int32(u)) }

// Valid reports whether u is a specified, known unit.
func (u Unit) Valid() bool { return enumValid(unitNames, int32(u)) }

// Symbol returns the unit's symbol: "tCO2e", "m3" or "kg".
func (u Unit) Symbol() string {
	if !u.Valid() {
		return ""
	}
	return unitSymbols[u]
}

// CEAScheme is the trading scheme that allocated a carbon emission allowance.
type CEAScheme int32

// The allowance schemes.
const (
	// CEASchemeUnspecified is the invalid zero value.
	CEASchemeUnspecified CEAScheme = iota
	// CEASchemeNational is the national carbon emission trading scheme.
	CEASchemeNational
	// CEASchemeRegionalPilot is one of the regional pilot schemes.
	CEASchemeRegionalPilot
)

var ceaSchemeNames = []string{"UNSPECIFIED", "NATIONAL", "REGIONAL_PILOT"}

// String returns the scheme's UPPER_SNAKE name.
func (s CEAScheme) String() string { return enumString(ceaSchemeNames, int32(s)) }

// Valid reports whether s is a specified, known scheme.
func (s CEAScheme) Valid() bool { return enumValid(ceaSchemeNames, int32(s)) }

// AllocationMethod is how allowances were allocated.
type AllocationMethod int32

// The allocation methods.
const (
	// AllocationMethodUnspecified is the invalid zero value.
	AllocationMethodUnspecified AllocationMethod = iota
	// AllocationMethodFree is free allocation.
	AllocationMethodFree
	// AllocationMethodAuction is allocation by auction.
	AllocationMethodAuction
)

var allocationMethodNames = []string{"UNSPECIFIED", "FREE", "AUCTION"}

// String returns the method's UPPER_SNAKE name.
func (m AllocationMethod) String() string { return enumString(allocationMethodNames, int32(m)) }

// Valid reports whether m is a specified, known method.
func (m AllocationMethod) Valid() bool { return enumValid(allocationMethodNames, int32(m)) }

// WaterRightClass is the class of a water-use right.
type WaterRightClass int32

// The water-right classes.
const (
	// WaterRightClassUnspecified is the invalid zero value.
	WaterRightClassUnspecified WaterRightClass = iota
	// WaterRightClassRegional is a regional water right (区域水权).
	WaterRightClassRegional
	// WaterRightClassWaterIntake is a water-intake right (取水权), tied to an intake permit.
	WaterRightClassWaterIntake
	// WaterRightClassIrrigationUser is an irrigation user's water right (灌溉用水户水权).
	WaterRightClassIrrigationUser
)

var waterRightClassNames = []string{"UNSPECIFIED", "REGIONAL", "WATER_INTAKE", "IRRIGATION_USER"}

// String returns the class's UPPER_SNAKE name.
func (c WaterRightClass) String() string { return enumString(waterRightClassNames, int32(c)) }

// Valid reports whether c is a specified, known class.
func (c WaterRightClass) Valid() bool { return enumValid(waterRightClassNames, int32(c)) }

// WaterSource is where water is taken from.
type WaterSource int32

// The water sources.
const (
	// WaterSourceUnspecified is the invalid zero value.
	WaterSourceUnspecified WaterSource = iota
	// WaterSourceSurface is surface water.
	WaterSourceSurface
	// WaterSourceGround is groundwater.
	WaterSourceGround
)

var waterSourceNames = []string{"UNSPECIFIED", "SURFACE", "GROUND"}

// String returns the source's UPPER_SNAKE name.
func (s WaterSource) String() string { return enumString(waterSourceNames, int32(s)) }

// Valid reports whether s is a specified, known source.
func (s WaterSource) Valid() bool { return enumValid(waterSourceNames, int32(s)) }

// WaterUse is what water is used for.
type WaterUse int32

// The water uses.
const (
	// WaterUseUnspecified is the invalid zero value.
	WaterUseUnspecified WaterUse = iota
	// WaterUseAgricultural is agricultural use.
	WaterUseAgricultural
	// WaterUseIndustrial is industrial use.
	WaterUseIndustrial
	// WaterUseDomestic is domestic use.
	WaterUseDomestic
	// WaterUseEcological is ecological use.
	WaterUseEcological
)

var waterUseNames = []string{"UNSPECIFIED", "AGRICULTURAL", "INDUSTRIAL", "DOMESTIC", "ECOLOGICAL"}

// String returns the use's UPPER_SNAKE name.
func (u WaterUse) String() string { return enumString(waterUseNames, int32(u)) }

// Valid reports whether u is a specified, known use.
func (u WaterUse) Valid() bool { return enumValid(waterUseNames, int32(u)) }

// Pollutant is the substance a pollutant-discharge right allows to discharge.
type Pollutant int32

// The pollutants.
const (
	// PollutantUnspecified is the invalid zero value.
	PollutantUnspecified Pollutant = iota
	// PollutantCOD is chemical oxygen demand.
	PollutantCOD
	// PollutantNH3N is ammonia nitrogen (NH3-N).
	PollutantNH3N
	// PollutantSO2 is sulphur dioxide.
	PollutantSO2
	// PollutantNOx is nitrogen oxides.
	PollutantNOx
	// PollutantTP is total phosphorus.
	PollutantTP
	// PollutantTN is total nitrogen.
	PollutantTN
	// PollutantVOCs is volatile organic compounds.
	PollutantVOCs
)

var pollutantNames = []string{"UNSPECIFIED", "COD", "NH3N", "SO2", "NOX", "TP", "TN", "VOCS"}

// String returns the pollutant's UPPER_SNAKE name.
func (p Pollutant) String() string { return enumString(pollutantNames, int32(p)) }

// Valid reports whether p is a specified, known pollutant.
func (p Pollutant) Valid() bool { return enumValid(pollutantNames, int32(p)) }

// PollutantRightOrigin is how a pollutant-discharge right was obtained.
type PollutantRightOrigin int32

// The pollutant-right origins.
const (
	// PollutantRightOriginUnspecified is the invalid zero value.
	PollutantRightOriginUnspecified PollutantRightOrigin = iota
	// PollutantRightOriginInitialPaidAllocation is the initial paid allocation (初始有偿分配).
	PollutantRightOriginInitialPaidAllocation
	// PollutantRightOriginTrade is acquisition by trade.
	PollutantRightOriginTrade
)

var pollutantRightOriginNames = []string{"UNSPECIFIED", "INITIAL_PAID_ALLOCATION", "TRADE"}

// String returns the origin's UPPER_SNAKE name.
func (o PollutantRightOrigin) String() string { return enumString(pollutantRightOriginNames, int32(o)) }

// Valid reports whether o is a specified, known origin.
func (o PollutantRightOrigin) Valid() bool { return enumValid(pollutantRightOriginNames, int32(o)) }

// SinkKind says whether a carbon sink removes carbon dioxide or reduces emissions.
type SinkKind int32

// The sink kinds.
const (
	// SinkKindUnspecified is the invalid zero value.
	SinkKindUnspecified SinkKind = iota
	// SinkKindRemoval is a removal (e.g. afforestation).
	SinkKindRemoval
	// SinkKindReduction is an emission reduction (e.g. avoided deforestation).
	SinkKindReduction
)

var sinkKindNames = []string{"UNSPECIFIED", "REMOVAL", "REDUCTION"}

// String returns the kind's UPPER_SNAKE name.
func (k SinkKind) String() string { return enumString(sinkKindNames, int32(k)) }

// Valid reports whether k is a specified, known kind.
func (k SinkKind) Valid() bool { return enumValid(sinkKindNames, int32(k)) }

// RetirementPurpose is why units are retired.
type RetirementPurpose int32

// The retirement purposes.
const (
	// RetirementPurposeUnspecified is the invalid zero value.
	RetirementPurposeUnspecified RetirementPurpose = iota
	// RetirementPurposeCompliance is surrender for a compliance obligation (清缴).
	RetirementPurposeCompliance
	// RetirementPurposeVoluntary is voluntary retirement, e.g. offsetting, on behalf of a beneficiary.
	RetirementPurposeVoluntary
)

var retirementPurposeNames = []string{"UNSPECIFIED", "COMPLIANCE", "VOLUNTARY"}

// String returns the purpose's UPPER_SNAKE name.
func (p RetirementPurpose) String() string { return enumString(retirementPurposeNames, int32(p)) }

// Valid reports whether p is a specified, known purpose.
func (p RetirementPurpose) Valid() bool { return enumValid(retirementPurposeNames, int32(p)) }
