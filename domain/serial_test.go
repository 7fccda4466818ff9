package domain

import (
	"testing"
)

func TestSerialNumbers(t *testing.T) {
	r := register(t, ceaCommand())
	t.Run("a block's serial names type, jurisdiction, vintage, right and range", func(t *testing.T) {
		got := FormatSerial(r, Block{1, 10000})
		if want := "CEA-420000-2025-CEA2025-HB-0001-000000001-000010000"; got != want {
			t.Fatalf("FormatSerial = %q, want %q", got, want)
		}
	})
	t.Run("serials round-trip through ParseSerial", func(t *testing.T) {
		for _, sn := range []SerialNumber{
			{RightTypeCarbonAllowance, "420000", 2025, "HB2025A", Block{1, 10000}},
			{RightTypeWaterUse, "640000", 2025, "WUR-YR-7", Block{17, 17}},
			{RightTypePollutantDischarge, "330106", 2030, "a.b_c", Block{999999999, 1000000000}},
			{RightTypeCarbonSink, "350702", 2024, "x-000000001-000000002", Block{3, 4}}, // an id that looks like a range
			{RightTypeCarbonSink, "350702", 2024, "9", Block{MaxQuantity - 5, MaxQuantity}},
		} {
			s := sn.String()
			got, err := ParseSerial(s)
			if err != nil {
				t.Fatalf("ParseSerial(%q): %v", s, err)
			}
			if got != sn {
				t.Fatalf("ParseSerial(%q) = %+v, want %+v", s, got, sn)
			}
			if got.String() != s {
				t.Fatalf("%q formats back as %q", s, got.String())
			}
		}
	})
	t.Run("every block of a right parses back to the right", func(t *testing.T) {
		s := FormatSerial(r, Block{501, 600})
		sn, err := ParseSerial(s)
		if err != nil {
			t.Fatal(err)
		}
		if sn.RightID != r.ID() || sn.Type != r.Type() || sn.Jurisdiction != r.Jurisdiction() || sn.Vintage != r.Vintage() || sn.Block != (Block{501, 600}) {
			t.Fatalf("parsed %+v", sn)
		}
	})
	for _, bad := range []string{
		"",
		"CEA-420000-2025",
		"XYZ-420000-2025-R-000000001-000000002",
		"CEA-990000-2025-R-000000001-000000002",
		"CEA-420000-1999-R-000000001-000000002",
		"CEA-420000-25-R-000000001-000000002",
		"CEA-420000-2025-R-000000002",
		"CEA-420000-2025-000000001-000000002",
		"CEA-420000-2025-R/1-000000001-000000002",
		"CEA-420000-2025-R-1-2",
		"CEA-420000-2025-R-0000000001-000000002",
		"CEA-420000-2025-R-000000003-000000002",
		"CEA-420000-2025-R-000000000-000000002",
		"CEA-420000-2025-R-00000000a-000000002",
		"CEA-420000-2025-R-000000001-99999999999999999999",
		"CEA-420000-2025-R-000000001-1000000000000001",
	} {
		t.Run("the malformed serial "+bad+" is refused with E1024", func(t *testing.T) {
			_, err := ParseSerial(bad)
			expectCheck(t, err, CheckInvalidSerialNumber, "serial")
		})
	}
}
