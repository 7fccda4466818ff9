package grpcserver

import (
	"strings"
	"testing"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The handlers convert enums by number; this pins that every API enum value
// names the domain value of the same number, and that neither side has a
// value the other lacks.
func TestAPIAndDomainEnumsAgreeByNumber(t *testing.T) {
	cases := []struct {
		desc protoreflect.EnumDescriptor
		name func(int32) string
	}{
		{pb.HolderKind(0).Descriptor(), func(v int32) string { return domain.HolderKind(v).String() }},
		{pb.AccountType(0).Descriptor(), func(v int32) string { return domain.AccountType(v).String() }},
		{pb.AccountStatus(0).Descriptor(), func(v int32) string { return domain.AccountStatus(v).String() }},
		{pb.RightType(0).Descriptor(), func(v int32) string { return domain.RightType(v).String() }},
		{pb.Unit(0).Descriptor(), func(v int32) string { return domain.Unit(v).String() }},
		{pb.CarbonScheme(0).Descriptor(), func(v int32) string { return domain.CEAScheme(v).String() }},
		{pb.AllocationMethod(0).Descriptor(), func(v int32) string { return domain.AllocationMethod(v).String() }},
		{pb.WaterRightClass(0).Descriptor(), func(v int32) string { return domain.WaterRightClass(v).String() }},
		{pb.WaterSource(0).Descriptor(), func(v int32) string { return domain.WaterSource(v).String() }},
		{pb.WaterUse(0).Descriptor(), func(v int32) string { return domain.WaterUse(v).String() }},
		{pb.Pollutant(0).Descriptor(), func(v int32) string { return domain.Pollutant(v).String() }},
		{pb.PollutantOrigin(0).Descriptor(), func(v int32) string { return domain.PollutantRightOrigin(v).String() }},
		{pb.SinkKind(0).Descriptor(), func(v int32) string { return domain.SinkKind(v).String() }},
		{pb.RetirementPurpose(0).Descriptor(), func(v int32) string { return domain.RetirementPurpose(v).String() }},
		{pb.PledgeReleaser(0).Descriptor(), func(v int32) string { return domain.PledgeReleaser(v).String() }},
		{pb.TransactionKind(0).Descriptor(), func(v int32) string { return domain.TransactionKind(v).String() }},
	}
	for _, c := range cases {
		t.Run(string(c.desc.Name()), func(t *testing.T) {
			vals := c.desc.Values()
			prefix := strings.TrimSuffix(string(vals.Get(0).Name()), "UNSPECIFIED")
			for i := 0; i < vals.Len(); i++ {
				v := vals.Get(i)
				if got, want := c.name(int32(v.Number())), strings.TrimPrefix(string(v.Name()), prefix); got != want {
					t.Errorf("value %d: domain %q, API %q", v.Number(), got, want)
				}
			}
			if got := c.name(int32(vals.Len())); !strings.HasPrefix(got, "UNKNOWN(") {
				t.Errorf("domain value %d = %q is missing from the API", vals.Len(), got)
			}
		})
	}
}
