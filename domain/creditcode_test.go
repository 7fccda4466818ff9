package domain

import (
	"errors"
	"testing"
)

func TestCreditCodeCheckCharacter(t *testing.T) {
	t.Run("codes of real companies pass", func(t *testing.T) {
		for _, code := range []string{
			"914403001922038216", // Huawei Technologies Co., Ltd., Shenzhen
			"91440300708461136T", // Shenzhen Tencent Computer Systems Co., Ltd.
			"911000001000013428", // Bank of China Ltd., registered nationally (100000)
		} {
			if err := ValidateCreditCode(code); err != nil {
				t.Errorf("%s: %v", code, err)
			}
		}
	})
	t.Run("codes built with the algorithm computed independently pass", func(t *testing.T) {
		for _, first17 := range []string{
			"91420100MA4K0ABCD", "11420000011112222", "93330106MA2AB1C2D", "N2350702MF0000001",
			"Y1110000123456789", "52110000500000000", "91650000XXYYTTUU0",
		} {
			code := creditCode(first17)
			if err := ValidateCreditCode(code); err != nil {
				t.Errorf("%s: %v", code, err)
			}
			if c, ok := CreditCodeCheckCharacter(first17); !ok || c != code[17] {
				t.Errorf("CreditCodeCheckCharacter(%s) = %q, %v", first17, c, ok)
			}
		}
	})
	t.Run("a check sum of 0 mod 31 gives the check character '0'", func(t *testing.T) {
		// Search for a code whose check character is '0', i.e. 31 mapped to 0.
		found := false
		for i := 0; i < 31 && !found; i++ {
			first17 := "9142010000000000" + string(creditCodeCharset[i])
			if code := creditCode(first17); code[17] == '0' {
				found = true
				if err := ValidateCreditCode(code); err != nil {
					t.Fatalf("%s: %v", code, err)
				}
			}
		}
		if !found {
			t.Fatal("no code with check character 0 found")
		}
	})
	if _, ok := CreditCodeCheckCharacter("91420100MA4K0ABC"); ok {
		t.Error("16 characters accepted")
	}
	if _, ok := CreditCodeCheckCharacter("91420100MA4K0ABCI"); ok {
		t.Error("the letter I accepted")
	}
}

func TestInvalidCreditCodesAreRefused(t *testing.T) {
	valid := creditCode("91420100MA4K0ABCD")
	wrongCheck := valid[:17] + "0"
	if wrongCheck == valid {
		wrongCheck = valid[:17] + "1"
	}
	tests := []struct {
		name string
		code string
		want Check
	}{
		{"a wrong check character is refused with E1007", wrongCheck, CheckCreditCodeCheckDigit},
		{"a real code with one digit changed is refused with E1007", "914403001922038226", CheckCreditCodeCheckDigit},
		{"a code of 17 characters is refused with E1006", valid[:17], CheckInvalidCreditCode},
		{"lower-case letters are refused with E1006", "91420100ma4k0abcd" + valid[17:], CheckInvalidCreditCode},
		{"the letter O, which GB 32100 does not use, is refused with E1006", "91420100MO4K0ABCD" + valid[17:], CheckInvalidCreditCode},
		{"an unknown registration authority is refused with E1006", creditCode("B1420100MA4K0ABCD"), CheckInvalidCreditCode},
		{"entity type 0 is refused with E1006", creditCode("90420100MA4K0ABCD"), CheckInvalidCreditCode},
		{"entity type 5 of a market regulator is refused with E1006", creditCode("95420100MA4K0ABCD"), CheckInvalidCreditCode},
		{"a division code with an unknown province is refused with E1006", creditCode("91990100MA4K0ABCD"), CheckInvalidCreditCode},
		{"a division code with letters is refused with E1006", creditCode("9142A100MA4K0ABCD"), CheckInvalidCreditCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateCreditCode(tt.code)
			expectCheck(t, err, tt.want, "")
			var rej *Rejection
			if !errors.As(err, &rej) || rej.Detail == "" {
				t.Fatalf("no detail in %v", err)
			}
		})
	}
}

func TestDivisionCodes(t *testing.T) {
	for _, c := range []string{"420000", "420100", "110101", "650000", "820000"} {
		if !ValidDivisionCode(c) {
			t.Errorf("%s refused", c)
		}
	}
	for _, c := range []string{"", "42000", "4200000", "000000", "990000", "42O000", "１２３４５６"} {
		if ValidDivisionCode(c) {
			t.Errorf("%q accepted", c)
		}
	}
	if !IsProvinceCode("420000") || IsProvinceCode("420100") || IsProvinceCode("990000") {
		t.Error("IsProvinceCode wrong")
	}
}

func TestCompliancePeriods(t *testing.T) {
	tests := []struct {
		in          string
		first, last int
		ok          bool
	}{
		{"2023-2024", 2023, 2024, true},
		{"2025", 2025, 2025, true},
		{"2019-2020", 2019, 2020, true},
		{"2024-2023", 0, 0, false},
		{"2004", 0, 0, false},
		{"2101", 0, 0, false},
		{"2020-2030", 0, 0, false},
		{"2023/2024", 0, 0, false},
		{"+202-2024", 0, 0, false},
		{"23-24", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		first, last, ok := ParseCompliancePeriod(tt.in)
		if ok != tt.ok || (ok && (first != tt.first || last != tt.last)) {
			t.Errorf("ParseCompliancePeriod(%q) = %d, %d, %v", tt.in, first, last, ok)
		}
	}
}

func TestIDs(t *testing.T) {
	for _, id := range []string{"a", "A1", "right-2025.01_x", "0", "x234567890123456789012345678901234567890123456789012345678901234"[:64]} {
		if !ValidID(id) {
			t.Errorf("%q refused", id)
		}
	}
	for _, id := range []string{"", "-a", ".a", "_a", "a b", "a/b", "a:b", "ä", "x2345678901234567890123456789012345678901234567890123456789012345"} {
		if ValidID(id) {
			t.Errorf("%q accepted", id)
		}
	}
}
