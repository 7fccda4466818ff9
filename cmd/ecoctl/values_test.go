package main

import (
	"strings"
	"testing"
	"time"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/protobuf/proto"
)

func TestParseDecimalExact(t *testing.T) {
	ok := []struct {
		name  string
		in    string
		scale int
		want  int64
	}{
		{"two places are read as hundredths", "12.34", 2, 1234},
		{"one place is padded", "12.3", 2, 1230},
		{"a whole number is padded", "12", 2, 1200},
		{"leading zeros are harmless", "0012.05", 2, 1205},
		{"zero is zero", "0.00", 2, 0},
		{"values that floats get wrong are exact", "0.29", 2, 29},
		{"four places of a hectare are square metres", "12.3456", 4, 123456},
		{"the largest int64 fits", "92233720368547758.07", 2, 9223372036854775807},
		{"scale zero takes whole numbers", "58", 0, 58},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseDecimalExact(c.in, c.scale)
			if err != nil || got != c.want {
				t.Fatalf("parseDecimalExact(%q, %d) = %d, %v; want %d", c.in, c.scale, got, err, c.want)
			}
		})
	}
	bad := []struct {
		name, in string
		scale    int
		wantErr  string
	}{
		{"more places than the scale are refused, not rounded", "12.345", 2, "more than 2 decimal places"},
		{"a fraction is refused at scale zero", "58.5", 0, "whole number"},
		{"a sign is refused", "-1.00", 2, "not a decimal number"},
		{"exponents are refused", "1e3", 2, "not a decimal number"},
		{"thousands separators are refused", "1,000.00", 2, "not a decimal number"},
		{"a bare point is refused", "12.", 2, "not a decimal number"},
		{"a missing whole part is refused", ".5", 2, "not a decimal number"},
		{"empty is refused", "", 2, "not a decimal number"},
		{"overflow is refused", "92233720368547758.08", 2, "too large"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseDecimalExact(c.in, c.scale)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("parseDecimalExact(%q, %d) = %d, %v; want error containing %q", c.in, c.scale, got, err, c.wantErr)
			}
		})
	}
}

func TestFormatDecimalExactRoundTrips(t *testing.T) {
	for _, c := range []struct {
		n     int64
		scale int
		want  string
	}{{1234, 2, "12.34"}, {5, 2, "0.05"}, {0, 2, "0.00"}, {123456, 4, "12.3456"}, {-5, 2, "-0.05"}, {58, 0, "58"}} {
		if got := formatDecimalExact(c.n, c.scale); got != c.want {
			t.Errorf("formatDecimalExact(%d, %d) = %q, want %q", c.n, c.scale, got, c.want)
		}
	}
}

func TestParsePrice(t *testing.T) {
	t.Run("a yuan price is sent in fen", func(t *testing.T) {
		got, err := parsePrice("58.25", "CNY")
		if err != nil || !proto.Equal(got, &ecov1.Price{AmountMinor: 5825, Currency: "CNY"}) {
			t.Fatalf("parsePrice = %v, %v", got, err)
		}
	})
	t.Run("a yen price has no minor digits", func(t *testing.T) {
		got, err := parsePrice("1500", "JPY")
		if err != nil || got.GetAmountMinor() != 1500 {
			t.Fatalf("parsePrice = %v, %v", got, err)
		}
	})
	t.Run("a fraction of a fen is refused", func(t *testing.T) {
		if _, err := parsePrice("58.255", "CNY"); err == nil || !strings.Contains(err.Error(), "more than 2 decimal places") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an unknown currency is refused rather than guessed", func(t *testing.T) {
		if _, err := parsePrice("1", "XBT"); err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestParseTime(t *testing.T) {
	t.Run("a date is midnight China Standard Time", func(t *testing.T) {
		got, err := parseTime("2025-01-01")
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2024, 12, 31, 16, 0, 0, 0, time.UTC); !got.AsTime().Equal(want) {
			t.Fatalf("got %v, want %v", got.AsTime(), want)
		}
	})
	t.Run("an RFC 3339 time keeps its offset", func(t *testing.T) {
		got, err := parseTime("2025-06-30T12:00:00Z")
		if err != nil || !got.AsTime().Equal(time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)) {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("anything else is refused", func(t *testing.T) {
		if _, err := parseTime("30/06/2025"); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestParseRange(t *testing.T) {
	t.Run("START-END", func(t *testing.T) {
		got, err := parseRange("1001-1500", "HB2025A")
		if err != nil || !proto.Equal(got, &ecov1.SerialRange{Start: 1001, End: 1500}) {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("a serial block of the same right, whose id contains dashes", func(t *testing.T) {
		got, err := parseRange("CSR-520000-2024-GZ-FOREST-7-000000001-000000250", "GZ-FOREST-7")
		if err != nil || !proto.Equal(got, &ecov1.SerialRange{Start: 1, End: 250}) {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	for _, c := range []struct{ name, in, wantErr string }{
		{"a serial block of another right is refused", "CEA-420000-2025-HB2025B-000000001-000000010", `belongs to right "HB2025B"`},
		{"an end before the start is refused", "500-100", "1 <= START <= END"},
		{"serial numbers start at 1", "0-10", "1 <= START <= END"},
		{"a single number is refused", "1500", "not a serial range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := parseRange(c.in, "HB2025A"); err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
		})
	}
}
