package domain

import (
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on command values.
const (
	// MaxIDLength is the longest account, right, transfer or retirement id.
	MaxIDLength = 64
	// MaxQuantity is the largest quantity of units a right or a command may have.
	MaxQuantity int64 = 1_000_000_000_000_000
	// MinVintage and MaxVintage bound vintages and compliance-period years.
	MinVintage, MaxVintage = 2005, 2100
	// MaxNameLength is the longest holder name, in characters.
	MaxNameLength = 200
	// MaxShortTextLength is the longest permit number, project id, basin,
	// beneficiary, reference and similar short text, in characters.
	MaxShortTextLength = 256
	// MaxReasonLength is the longest free-text reason, in characters.
	MaxReasonLength = 1024
	// MaxAreaSquareMetres is the largest area of a carbon-sink project.
	MaxAreaSquareMetres int64 = 10_000_000_000_000
	// MaxPollutantValidityYears is the longest validity of a pollutant-discharge right.
	MaxPollutantValidityYears = 20
)

// ValidID reports whether s is a valid account, right, transfer or retirement
// id: 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-', starting with a
// letter or digit. Ids appear in stream names and serial numbers, which is why
// the set is small; the leading letter or digit keeps ids from looking like
// options, hidden files or relative paths.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// checkID records a violation of check c when id is not a valid id.
func checkID(v *violations, c Check, field, id string) {
	switch {
	case id == "":
		v.add(CheckRequiredFieldMissing, field, "%s is required", field)
	case !ValidID(id):
		v.add(c, field, "%q is not a valid id", truncate(id))
	}
}

// checkText records a violation when s is empty but required, longer than
// max characters, not UTF-8, or holds control characters.
func checkText(v *violations, field, s string, required bool, max int) {
	if s == "" || isBlank(s) {
		if required {
			v.add(CheckRequiredFieldMissing, field, "%s is required", field)
		} else if s != "" {
			v.add(CheckInvalidText, field, "%s is blank", field)
		}
		return
	}
	if !utf8.ValidString(s) {
		v.add(CheckInvalidText, field, "%s is not valid UTF-8", field)
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		v.add(CheckInvalidText, field, "%s is %d characters long, at most %d allowed", field, n, max)
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			v.add(CheckInvalidText, field, "%s contains the control character %U", field, r)
			return
		}
	}
}

func isBlank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// truncate shortens s for quoting in a message, so that a huge bad value
// does not make a huge error.
func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "..."
		}
	}
	return ""
}

// provincePrefixes are the first two digits of the GB/T 2260 codes of the
// provinces, autonomous regions, municipalities and special administrative
// regions.
var provincePrefixes = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true,
}

// ValidDivisionCode reports whether code is a plausible GB/T 2260
// administrative division code: six ASCII digits beginning with a known
// province prefix. It does not check that the prefecture and county exist,
// because the official list changes every year.
func ValidDivisionCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return provincePrefixes[code[:2]]
}

// IsProvinceCode reports whether code is the division code of a province-level
// division (a valid code ending in "0000").
func IsProvinceCode(code string) bool {
	return ValidDivisionCode(code) && code[2:] == "0000"
}

func checkDivisionCode(v *violations, field, code string) {
	switch {
	case code == "":
		v.add(CheckRequiredFieldMissing, field, "%s is required", field)
	case !ValidDivisionCode(code):
		v.add(CheckInvalidDivisionCode, field, "%q is not a GB/T 2260 division code", truncate(code))
	}
}

// ParseCompliancePeriod parses a compliance period, either one year "2025"
// or a span of years "2023-2024", and returns its first and last year. The
// years must lie in 2005..2100, the first not after the last, and the span
// may be at most ten years.
func ParseCompliancePeriod(s string) (first, last int, ok bool) {
	year := func(p string) (int, bool) {
		if len(p) != 4 {
			return 0, false
		}
		y, err := strconv.Atoi(p)
		if err != nil || p[0] == '+' || p[0] == '-' || y < MinVintage || y > MaxVintage {
			return 0, false
		}
		return y, true
	}
	switch len(s) {
	case 4:
		y, ok := year(s)
		return y, y, ok
	case 9:
		if s[4] != '-' {
			return 0, 0, false
		}
		a, ok1 := year(s[:4])
		b, ok2 := year(s[5:])
		if !ok1 || !ok2 || a > b || b-a >= 10 {
			return 0, 0, false
		}
		return a, b, true
	}
	return 0, 0, false
}

// checkVintage records a violation when vintage lies outside 2005..2100.
func checkVintage(v *violations, field string, vintage int) bool {
	if vintage == 0 {
		v.add(CheckRequiredFieldMissing, field, "%s is required", field)
		return false
	}
	if vintage < MinVintage || vintage > MaxVintage {
		v.add(CheckInvalidVintage, field, "vintage %d is outside %d..%d", vintage, MinVintage, MaxVintage)
		return false
	}
	return true
}

// checkQuantity records a violation when q is not in 1..MaxQuantity.
func checkQuantity(v *violations, field string, q int64) bool {
	if q <= 0 || q > MaxQuantity {
		v.add(CheckInvalidQuantity, field, "quantity %d is outside 1..%d", q, MaxQuantity)
		return false
	}
	return true
}

// checkBlock records a violation when b is not a well-formed serial block.
func checkBlock(v *violations, field string, b Block) bool {
	if !b.Valid() || b.End > MaxQuantity {
		v.add(CheckInvalidSerialRange, field, "serial range %s is not within 1..%d with start <= end", b, MaxQuantity)
		return false
	}
	return true
}

// utc normalises a time for storage in an event: UTC and without a monotonic
// clock reading, so that an event compares equal to itself after a round trip
// through the protobuf codec.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}

// MaxActorLength is the longest actor name, in bytes.
const MaxActorLength = 256

// ValidateActor checks the name of who makes a command, which every event
// records: it must be present, valid UTF-8 without control characters, and
// at most MaxActorLength bytes. field names where the actor came from (for
// example the request metadata key) for the violation.
func ValidateActor(field, actor string) error {
	var v violations
	switch {
	case actor == "" || isBlank(actor):
		v.add(CheckActorRequired, field, "commands must name their actor in %s", field)
	case len(actor) > MaxActorLength:
		v.add(CheckInvalidText, field, "the actor is %d bytes long, at most %d allowed", len(actor), MaxActorLength)
	default:
		checkText(&v, field, actor, true, MaxActorLength)
	}
	return v.err()
}
