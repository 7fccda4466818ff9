package domain

import (
	"testing"
)

// The parsers of text that comes from outside: each is fuzzed for panics
// and for the property its documentation states. Seeds are in
// testdata/fuzz; `go test -fuzz` runs them long.

// A credit code is accepted exactly when its last character is the GB 32100
// check character of the first 17 and the shape is right.
func FuzzCreditCode(f *testing.F) {
	for _, s := range []string{"91420100MA4K1A2B3Q", "91420500MA4L7C8D9K", "", "9142010", "91420100MA4K1A2B3I", "Y1420100MA4K1A2B3Q", "９1420100MA4K1A2B3Q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		err := ValidateCreditCode(code)
		if err != nil {
			return
		}
		if len(code) != 18 {
			t.Fatalf("%q of %d bytes was accepted", code, len(code))
		}
		if c, ok := CreditCodeCheckCharacter(code[:17]); !ok || c != code[17] {
			t.Fatalf("%q was accepted with the check character %q, want %q", code, code[17], c)
		}
	})
}

// A division code is accepted exactly when it is six ASCII digits with a
// known province prefix, and a province's code ends in 0000.
func FuzzDivisionCode(f *testing.F) {
	for _, s := range []string{"420000", "420100", "110105", "000000", "4200", "42000a", "４20000", "990000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		ok := ValidDivisionCode(code)
		if !ok {
			if IsProvinceCode(code) {
				t.Fatalf("%q is a province but not a division code", code)
			}
			return
		}
		if len(code) != 6 || !provincePrefixes[code[:2]] {
			t.Fatalf("%q was accepted", code)
		}
		for i := 0; i < 6; i++ {
			if code[i] < '0' || code[i] > '9' {
				t.Fatalf("%q was accepted with a non-digit", code)
			}
		}
		if IsProvinceCode(code) != (code[2:] == "0000") {
			t.Fatalf("%q: IsProvinceCode = %v", code, IsProvinceCode(code))
		}
	})
}

// Every serial number ParseSerial accepts is in its one canonical spelling:
// formatting the parsed number gives the text back.
func FuzzSerial(f *testing.F) {
	for _, s := range []string{"CEA-420000-2025-CEA-HB-2025-000000001-000100000", "WUR-640000-2026-W1-000000001-000000009",
		"CSR-530000-2024-S1-000000901-1000000000", "CEA-420000-2025-X-000000002-000000001", "CEA-420000-2025-X-0000000001-000000002", "CEA--", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sn, err := ParseSerial(s)
		if err != nil {
			if _, ok := RejectionOf(err); !ok {
				t.Fatalf("%q: the error %v is not a rejection", s, err)
			}
			return
		}
		if got := sn.String(); got != s {
			t.Fatalf("ParseSerial(%q).String() = %q", s, got)
		}
		if !sn.Block.Valid() || !ValidID(sn.RightID) || !ValidDivisionCode(sn.Jurisdiction) {
			t.Fatalf("%q parsed to %+v", s, sn)
		}
	})
}
