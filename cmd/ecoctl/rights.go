package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Shorter names for the right types, for the table of which flag belongs to
// which type.
const (
	cea       = ecov1.RightType_RIGHT_TYPE_CARBON_ALLOWANCE
	water     = ecov1.RightType_RIGHT_TYPE_WATER_USE
	pollutant = ecov1.RightType_RIGHT_TYPE_POLLUTANT_DISCHARGE
	sink      = ecov1.RightType_RIGHT_TYPE_CARBON_SINK
)

// typeFlags says which right types each type-specific flag of right register
// applies to. A flag given for another type is a usage error: silently
// dropping --basin from a carbon allowance would register something other
// than what the operator typed.
var typeFlags = map[string][]ecov1.RightType{
	"province": {cea}, "scheme": {cea}, "allocation": {cea}, "compliance-period": {cea},
	"class": {water}, "intake-permit": {water}, "source": {water}, "use": {water}, "annual-volume": {water},
	"basin":     {water, pollutant},
	"pollutant": {pollutant}, "discharge-permit": {pollutant}, "region": {pollutant}, "origin": {pollutant},
	"project": {sink}, "methodology": {sink}, "monitoring-start": {sink}, "monitoring-end": {sink},
	"location": {sink}, "area-centihectares": {sink}, "area-ha": {sink}, "verifier": {sink},
	"verification-date": {sink}, "kind": {sink}, "buffer-bp": {sink}, "area-m2": {sink},
}

var rightRegisterCommand = &command{
	path:    "right register",
	summary: "register (issue) a right's units to a holder account",
	about: `Registers a right of one of the four types and issues its whole quantity, as
one serial block numbered from 1, to the holder account. Give the common flags
and the flags of the chosen --type; flags of another type are refused.

Dates are YYYY-MM-DD, meaning 00:00 China Standard Time (UTC+08:00) at the
start of that day, or RFC 3339 times such as 2025-01-01T00:00:00+08:00. A
right is valid from --valid-from up to but not including --valid-until, so a
right valid through 2030-12-31 has --valid-until 2031-01-01.`,
	example: `ecoctl right register --type carbon-allowance --id HB2025A --jurisdiction 420000 --vintage 2025 --quantity 10000 --holder HB001 --province 420000 --scheme national --allocation free --compliance-period 2025-2026`,
	define:  defineRightRegister,
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.RegisterRightRequest) (*ecov1.RegisterRightResponse, error) {
		return ecov1.NewRightServiceClient(cc).RegisterRight(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.RegisterRightRequest, resp *ecov1.RegisterRightResponse) error {
		return writeRight(w, resp.GetRight(), resp.GetCommit())
	}),
}

func defineRightRegister(fs *flagSet) func([]string) (proto.Message, error) {
	req := &ecov1.RegisterRightRequest{}
	var (
		vintage, bufferBP, areaCentiha                  int64
		validFrom, validUntil                           string
		ca                                              = &ecov1.CarbonAllowanceAttributes{}
		wa                                              = &ecov1.WaterRightAttributes{}
		pa                                              = &ecov1.PollutantRightAttributes{}
		sa                                              = &ecov1.CarbonSinkAttributes{}
		basin, areaHa                                   string
		monitoringStart, monitoringEnd, verificationDay string
	)
	fs.StringVar(&req.RightId, "id", "", "the new right's `ID`: 1 to 64 characters of A-Z a-z 0-9 . _ -")
	enum(fs, &req.Type, "type", rightTypes, "the right `type`")
	fs.StringVar(&req.Jurisdiction, "jurisdiction", "", "six-digit division `code` of the issuing jurisdiction, e.g. 420000")
	fs.Int64Var(&vintage, "vintage", 0, "allocation `year`, or monitoring year for carbon sinks")
	fs.Int64Var(&req.Quantity, "quantity", 0, "`units` to issue, whole units of the type's unit: tCO2e (carbon), m³ (water), kg (pollutant)")
	fs.StringVar(&req.HolderAccountId, "holder", "", "the `account` that receives the units")
	fs.StringVar(&validFrom, "valid-from", "", "start of validity (`date`); required for water and pollutant rights")
	fs.StringVar(&validUntil, "valid-until", "", "end of validity, exclusive (`date`); required for water and pollutant rights")
	fs.require("id", "type", "jurisdiction", "vintage", "quantity", "holder")

	fs.section("carbon allowance (--type carbon-allowance)")
	fs.StringVar(&ca.AllocatingProvince, "province", "", "six-digit `code` of the allocating province, e.g. 420000")
	enum(fs, &ca.Scheme, "scheme", carbonSchemes, "the allocation `scheme`")
	enum(fs, &ca.AllocationMethod, "allocation", allocationMethods, "the allocation `method`")
	fs.StringVar(&ca.CompliancePeriod, "compliance-period", "", "the compliance `period`, e.g. 2023-2024")

	fs.section("water-use right (--type water)")
	enum(fs, &wa.Class, "class", waterClasses, "the water right `class`")
	fs.StringVar(&wa.IntakePermitNumber, "intake-permit", "", "intake permit `number`; required for --class water-intake")
	fs.StringVar(&basin, "basin", "", "the river `basin` (water), or basin or airshed (pollutant)")
	enum(fs, &wa.Source, "source", waterSources, "the water `source`")
	enum(fs, &wa.Use, "use", waterUses, "the water `use`")
	fs.Int64Var(&wa.AnnualVolumeM3, "annual-volume", 0, "annual volume in `m³`")

	fs.section("pollutant-discharge right (--type pollutant; also --basin)")
	enum(fs, &pa.Pollutant, "pollutant", pollutants, "the regulated `pollutant`")
	fs.StringVar(&pa.DischargePermitNumber, "discharge-permit", "", "discharge permit `number`")
	fs.StringVar(&pa.Region, "region", "", "six-digit division `code` of the region")
	enum(fs, &pa.Origin, "origin", pollutantOrigins, "how the right was obtained (`origin`)")

	fs.section("carbon-sink right (--type carbon-sink)")
	fs.StringVar(&sa.ProjectId, "project", "", "the project `ID`")
	fs.StringVar(&sa.Methodology, "methodology", "", "the `methodology`, e.g. AR-CM-001 (afforestation)")
	fs.StringVar(&monitoringStart, "monitoring-start", "", "start of the monitoring period (`date`)")
	fs.StringVar(&monitoringEnd, "monitoring-end", "", "end of the monitoring period (`date`)")
	fs.StringVar(&sa.Location, "location", "", "six-digit division `code` of the project location")
	fs.Int64Var(&sa.AreaSquareMetres, "area-m2", 0, "project area in whole `square metres` (the registry's unit; 1 ha = 10000 m²)")
	fs.StringVar(&areaHa, "area-ha", "", "project area in `hectares`, a decimal with at most four places (12.34 or\n12.3456), read exactly into square metres")
	fs.Int64Var(&areaCentiha, "area-centihectares", 0, "project area in `hundredths` of a hectare (1234 = 12.34 ha = 123400 m²)")
	fs.StringVar(&sa.VerificationBody, "verifier", "", "the verification `body`")
	fs.StringVar(&verificationDay, "verification-date", "", "the verification report's `date`")
	enum(fs, &sa.Kind, "kind", sinkKinds, "the sink `kind`")
	fs.Int64Var(&bufferBP, "buffer-bp", 0, "share set aside in the buffer pool, in `basis points` (0 to 10000; 500 = 5%)")

	return func([]string) (proto.Message, error) {
		for _, name := range sortedKeys(typeFlags) {
			if allowed := typeFlags[name]; fs.given(name) && !slices.Contains(allowed, req.Type) {
				var names []string
				for _, t := range allowed {
					names = append(names, rightTypes.nameOf(t))
				}
				return nil, fmt.Errorf("--%s applies to --type %s only, not %s", name, strings.Join(names, " or "), rightTypes.nameOf(req.Type))
			}
		}
		v, err := checkInt32("vintage", vintage)
		if err != nil {
			return nil, err
		}
		req.Vintage = v
		if req.ValidFrom, err = optionalTime("valid-from", validFrom); err != nil {
			return nil, err
		}
		if req.ValidUntil, err = optionalTime("valid-until", validUntil); err != nil {
			return nil, err
		}
		// The attributes message of the type is always sent, even empty, so
		// that the registry answers with the fields it misses rather than a
		// bare "attributes missing".
		switch req.Type {
		case cea:
			req.Attributes = &ecov1.RegisterRightRequest_CarbonAllowance{CarbonAllowance: ca}
		case water:
			wa.Basin = basin
			req.Attributes = &ecov1.RegisterRightRequest_WaterRight{WaterRight: wa}
		case pollutant:
			pa.BasinOrAirshed = basin
			req.Attributes = &ecov1.RegisterRightRequest_PollutantRight{PollutantRight: pa}
		case sink:
			var areaFlags []string
			for _, n := range []string{"area-m2", "area-ha", "area-centihectares"} {
				if fs.given(n) {
					areaFlags = append(areaFlags, "--"+n)
				}
			}
			if len(areaFlags) > 1 {
				return nil, fmt.Errorf("give the area once, not as %s", strings.Join(areaFlags, " and "))
			}
			switch {
			case fs.given("area-ha"):
				// Four decimal places of a hectare are exactly square metres.
				if sa.AreaSquareMetres, err = parseDecimalExact(areaHa, 4); err != nil {
					return nil, fmt.Errorf("--area-ha: %w", err)
				}
			case fs.given("area-centihectares"):
				if areaCentiha < 0 || areaCentiha > math.MaxInt64/100 {
					return nil, fmt.Errorf("--area-centihectares %d is out of range", areaCentiha)
				}
				sa.AreaSquareMetres = areaCentiha * 100
			}
			if sa.BufferBasisPoints, err = checkInt32("buffer-bp", bufferBP); err != nil {
				return nil, err
			}
			if sa.MonitoringStart, err = optionalTime("monitoring-start", monitoringStart); err != nil {
				return nil, err
			}
			if sa.MonitoringEnd, err = optionalTime("monitoring-end", monitoringEnd); err != nil {
				return nil, err
			}
			if sa.VerificationDate, err = optionalTime("verification-date", verificationDay); err != nil {
				return nil, err
			}
			req.Attributes = &ecov1.RegisterRightRequest_CarbonSink{CarbonSink: sa}
		}
		return req, nil
	}
}

// optionalTime parses a date flag that may be left out.
func optionalTime(flagName, s string) (*timestamppb.Timestamp, error) {
	if s == "" {
		return nil, nil
	}
	ts, err := parseTime(s)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagName, err)
	}
	return ts, nil
}

var rightShowCommand = &command{
	path:    "right show",
	args:    []string{"ID"},
	summary: "show a right's attributes and a table of its holdings",
	about: `Shows right ID as the registry holds it now: its type, attributes, serial
block and validity, then one row per holding account with the units it has
available and retired and the serial blocks of each.`,
	example: `ecoctl right show HB2025A`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		return func(pos []string) (proto.Message, error) {
			return &ecov1.GetRightRequest{RightId: pos[0]}, nil
		}
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.GetRightRequest) (*ecov1.GetRightResponse, error) {
		return ecov1.NewRightServiceClient(cc).GetRight(ctx, req)
	}),
	render: view(func(w io.Writer, _ *ecov1.GetRightRequest, resp *ecov1.GetRightResponse) error {
		return writeRight(w, resp.GetRight(), nil)
	}),
}

var holdingShowCommand = &command{
	path:    "holding show",
	summary: "show what one account holds of one right, with serial blocks",
	about: `Shows the units an account holds of a right: available and retired
quantities and their serial blocks. An account that holds nothing of the
right shows zeros.`,
	example: `ecoctl holding show --right HB2025A --account HB001`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &ecov1.GetHoldingRequest{}
		fs.StringVar(&req.RightId, "right", "", "the right's `ID`")
		fs.StringVar(&req.AccountId, "account", "", "the account's `ID`")
		fs.require("right", "account")
		return func([]string) (proto.Message, error) { return req, nil }
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *ecov1.GetHoldingRequest) (*ecov1.GetHoldingResponse, error) {
		return ecov1.NewRightServiceClient(cc).GetHolding(ctx, req)
	}),
	render: view(func(w io.Writer, req *ecov1.GetHoldingRequest, resp *ecov1.GetHoldingResponse) error {
		return writeHolding(w, req, resp)
	}),
}
