package domain

import "strings"

// creditCodeCharset is the alphabet of GB 32100-2015 unified social credit
// codes: digits and the upper-case letters without I, O, Z, S and V. A
// character's value is its index.
const creditCodeCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// creditCodeWeights are the GB 32100-2015 weights of the first 17 characters
// (3^i mod 31).
var creditCodeWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// creditCodeAuthorities are the registration-management authority codes
// (first character) of GB 32100-2015 and its amendments: 1 机构编制, 2 外交,
// 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会, 9 市场监督管理(工商),
// A 中央军委改革和编制办公室, N 农业农村, Y 其他.
const creditCodeAuthorities = "123456789ANY"

// CreditCodeCheckCharacter returns the GB 32100-2015 check character for the
// first 17 characters of a unified social credit code:
// 31 - (sum of value*weight mod 31), where 31 becomes '0'. It returns false
// when first17 is not 17 characters from the code's alphabet.
func CreditCodeCheckCharacter(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditCodeCharset, first17[i])
		if v < 0 {
			return 0, false
		}
		sum += v * creditCodeWeights[i]
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	return creditCodeCharset[c], true
}

// ValidateCreditCode checks a unified social credit code (统一社会信用代码,
// GB 32100-2015) and returns nil or a *Rejection with check
// CheckInvalidCreditCode or CheckCreditCodeCheckDigit (field empty). It
// checks the length (18), the alphabet (upper case; I, O, Z, S and V are not
// used), the registration authority (first character), that the entity type
// (second character) is a non-zero digit, with 1, 2 or 3 for market
// regulators (authority 9), that characters 3 to 8 are a GB/T 2260 division
// code or 100000 for entities registered nationally, and the check character.
func ValidateCreditCode(code string) error {
	if r := validateCreditCode(code); r != nil {
		return r
	}
	return nil
}

func validateCreditCode(code string) *Rejection {
	if len(code) != 18 {
		return reject(CheckInvalidCreditCode, "", "credit code %q has %d characters, 18 required", truncate(code), len(code))
	}
	for i := 0; i < 18; i++ {
		if strings.IndexByte(creditCodeCharset, code[i]) < 0 {
			return reject(CheckInvalidCreditCode, "", "credit code %q has the character %q at position %d, which GB 32100 does not use", code, code[i], i+1)
		}
	}
	if strings.IndexByte(creditCodeAuthorities, code[0]) < 0 {
		return reject(CheckInvalidCreditCode, "", "credit code %q has the unknown registration authority %q", code, code[0])
	}
	if t := code[1]; t < '1' || t > '9' || (code[0] == '9' && t > '3') {
		return reject(CheckInvalidCreditCode, "", "credit code %q has the unknown entity type %q for authority %q", code, t, code[0])
	}
	if div := code[2:8]; div != "100000" && !ValidDivisionCode(div) {
		return reject(CheckInvalidCreditCode, "", "credit code %q has %q in place of a division code", code, div)
	}
	want, _ := CreditCodeCheckCharacter(code[:17])
	if code[17] != want {
		return reject(CheckCreditCodeCheckDigit, "", "credit code %q ends in %q, the check character is %q", code, code[17], want)
	}
	return nil
}
