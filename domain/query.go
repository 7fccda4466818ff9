package domain

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
)

// The rules below are shared by the queries of the read models
// (projections), so that every query refuses bad paging, periods and time
// ranges with the same checks.

// Page sizes of queries.
const (
	// DefaultPageSize is the page size of a query that names none.
	DefaultPageSize = 100
	// MaxPageSize is the largest page a query returns; larger requests get
	// this many.
	MaxPageSize = 1000
)

// PageSize returns how many items a query returns for a requested page
// size: DefaultPageSize for 0, and at most MaxPageSize. A negative size is
// refused by CheckInvalidPageSize.
func PageSize(field string, requested int32) (int, error) {
	switch {
	case requested < 0:
		return 0, reject(CheckInvalidPageSize, field, "%s is %d; give 0 for the default of %d, or up to %d", field, requested, DefaultPageSize, MaxPageSize)
	case requested == 0:
		return DefaultPageSize, nil
	}
	return min(int(requested), MaxPageSize), nil
}

const pageTokenVersion = 1

// pageTokenHash binds a token to its query and its cursor: an FNV-1a hash
// of the scope and the cursor, each with its length.
func pageTokenHash(scope string, cursor []byte) uint64 {
	return uint64(newFingerprint().str(scope).str(string(cursor)))
}

// EncodePageToken returns the opaque token that continues a query after
// cursor. scope names the query and its filters, so that DecodePageToken
// refuses the token on any other query.
func EncodePageToken(scope string, cursor []byte) string {
	b := make([]byte, 0, 9+len(cursor))
	b = append(b, pageTokenVersion)
	b = binary.BigEndian.AppendUint64(b, pageTokenHash(scope, cursor))
	b = append(b, cursor...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodePageToken returns the cursor that token, made by EncodePageToken
// for the same scope, continues after; nil for the empty token, which asks
// for the first page. A token that is not one of ours, is damaged, or was
// made for another query or other filters is refused by
// CheckInvalidPageToken.
func DecodePageToken(field, token, scope string) ([]byte, error) {
	if token == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	switch {
	case err != nil:
		return nil, reject(CheckInvalidPageToken, field, "%s is not a page token of this registry (not base64url)", field)
	case len(b) < 9 || b[0] != pageTokenVersion:
		return nil, reject(CheckInvalidPageToken, field, "%s is not a page token of this registry (bad length or version)", field)
	case binary.BigEndian.Uint64(b[1:9]) != pageTokenHash(scope, b[9:]):
		return nil, reject(CheckInvalidPageToken, field, "%s was made by another query or with other filters, or is damaged; repeat the query's filters exactly, or start again without a token", field)
	}
	return b[9:], nil
}

// Period is a calendar month or a calendar year, the unit in which
// statistics are kept.
type Period struct {
	// Year is the calendar year.
	Year int
	// Month is the month, 1 to 12; 0 for the whole year.
	Month int
}

// IsYear reports whether p is a whole year.
func (p Period) IsYear() bool { return p.Month == 0 }

// String formats p as "2026" or "2026-11".
func (p Period) String() string {
	if p.Month == 0 {
		return fmt.Sprintf("%04d", p.Year)
	}
	return fmt.Sprintf("%04d-%02d", p.Year, p.Month)
}

// Compare orders periods by year, then month; a year comes before its months.
func (p Period) Compare(q Period) int {
	switch {
	case p.Year != q.Year:
		return cmpInt(p.Year, q.Year)
	default:
		return cmpInt(p.Month, q.Month)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ParsePeriod reads a period written "YYYY" or "YYYY-MM". Anything else,
// or a year outside MinVintage..MaxVintage, is refused by
// CheckInvalidQueryRange.
func ParsePeriod(field, s string) (Period, error) {
	bad := func() (Period, error) {
		return Period{}, reject(CheckInvalidQueryRange, field, "%s %q is not a period: write a year as 2026 or a month as 2026-11", field, truncate(s))
	}
	if len(s) != 4 && len(s) != 7 {
		return bad()
	}
	y, ok := digits(s[:4])
	if !ok {
		return bad()
	}
	p := Period{Year: y}
	if len(s) == 7 {
		m, ok := digits(s[5:])
		if s[4] != '-' || !ok || m < 1 || m > 12 {
			return bad()
		}
		p.Month = m
	}
	if y < MinVintage || y > MaxVintage {
		return Period{}, reject(CheckInvalidQueryRange, field, "%s %q lies outside the years %d to %d", field, s, MinVintage, MaxVintage)
	}
	return p, nil
}

// ParseDate reads a calendar date written "YYYY-MM-DD", in the years 1 to
// 9999 that a timestamp can hold, and returns its year, month and day.
// Anything else is refused by CheckInvalidQueryRange.
func ParseDate(field, s string) (year, month, day int, err error) {
	t, perr := time.Parse(time.DateOnly, s)
	if perr != nil || len(s) != 10 || t.Year() < 1 {
		return 0, 0, 0, reject(CheckInvalidQueryRange, field, "%s %q is not a date: write it as 2026-11-05", field, truncate(s))
	}
	return t.Year(), int(t.Month()), t.Day(), nil
}

func digits(s string) (int, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// CheckRangeOrder refuses a range whose start comes after its end. ordered
// tells whether the start comes at or before the end (an open end is
// always in order); fromText and toText are the ends as the client wrote
// them, for the message.
func CheckRangeOrder(fromField, toField, fromText, toText string, ordered bool) error {
	if ordered {
		return nil
	}
	return reject(CheckInvalidQueryRange, fromField, "%s %s comes after %s %s", fromField, truncate(fromText), toField, truncate(toText))
}

// CheckCurrency refuses, with CheckInvalidPrice, a currency that is not an
// ISO 4217 alphabetic code (three upper-case letters, "CNY").
func CheckCurrency(field, s string) error {
	if validCurrency(s) {
		return nil
	}
	return reject(CheckInvalidPrice, field, "%s %q is not an ISO 4217 code such as CNY", field, truncate(s))
}
