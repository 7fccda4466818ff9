package domain

import (
	"bytes"
	"testing"
)

func TestPageSize(t *testing.T) {
	for _, tc := range []struct {
		name      string
		requested int32
		want      int
	}{
		{"no page size asks for the default", 0, DefaultPageSize},
		{"a page size within the limit is kept", 7, 7},
		{"a page size above the limit gets the limit", MaxPageSize + 1, MaxPageSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PageSize("page_size", tc.requested)
			if err != nil || got != tc.want {
				t.Fatalf("PageSize(%d) = %d, %v; want %d", tc.requested, got, err, tc.want)
			}
		})
	}
	t.Run("a negative page size is refused", func(t *testing.T) {
		_, err := PageSize("page_size", -1)
		expectCheck(t, err, CheckInvalidPageSize, "page_size")
	})
}

func TestPageTokens(t *testing.T) {
	const scope = "holdings/account/HB001/type=1"
	cursor := []byte("a\x00HB001\x00CEA-2025")
	token := EncodePageToken(scope, cursor)

	t.Run("a token continues the query that made it", func(t *testing.T) {
		got, err := DecodePageToken("page_token", token, scope)
		if err != nil || !bytes.Equal(got, cursor) {
			t.Fatalf("DecodePageToken = %q, %v; want %q", got, err, cursor)
		}
	})
	t.Run("no token asks for the first page", func(t *testing.T) {
		got, err := DecodePageToken("page_token", "", scope)
		if err != nil || got != nil {
			t.Fatalf("DecodePageToken(\"\") = %q, %v", got, err)
		}
	})
	t.Run("a token of another query or other filters is refused", func(t *testing.T) {
		_, err := DecodePageToken("page_token", token, "holdings/account/HB001/type=2")
		expectCheck(t, err, CheckInvalidPageToken, "page_token")
	})
	t.Run("a damaged token is refused", func(t *testing.T) {
		// A character in the middle carries six bits that all count.
		b := []byte(token)
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		_, err := DecodePageToken("page_token", string(b), scope)
		expectCheck(t, err, CheckInvalidPageToken, "page_token")
	})
	t.Run("text that is not a token is refused", func(t *testing.T) {
		for _, bad := range []string{"not a token!", "AQ", "%%%"} {
			_, err := DecodePageToken("page_token", bad, scope)
			expectCheck(t, err, CheckInvalidPageToken, "page_token")
		}
	})
}

func TestPeriods(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Period
	}{
		{"2026", Period{Year: 2026}},
		{"2026-01", Period{Year: 2026, Month: 1}},
		{"2026-12", Period{Year: 2026, Month: 12}},
	} {
		t.Run(tc.in+" reads and prints back", func(t *testing.T) {
			got, err := ParsePeriod("period", tc.in)
			if err != nil || got != tc.want || got.String() != tc.in {
				t.Fatalf("ParsePeriod(%q) = %+v (%s), %v", tc.in, got, got, err)
			}
		})
	}
	t.Run("a year comes before its months, and months in order", func(t *testing.T) {
		y, m1, m2 := Period{Year: 2026}, Period{Year: 2026, Month: 1}, Period{Year: 2026, Month: 2}
		if y.Compare(m1) >= 0 || m1.Compare(m2) >= 0 || m2.Compare(Period{Year: 2027}) >= 0 || m1.Compare(m1) != 0 {
			t.Fatal("periods out of order")
		}
	})
	for _, bad := range []string{"", "26", "2026-13", "2026-00", "2026/11", "20261", "1999", "2026-1", "abcd"} {
		t.Run("period "+bad+" is refused", func(t *testing.T) {
			_, err := ParsePeriod("from_period", bad)
			expectCheck(t, err, CheckInvalidQueryRange, "from_period")
		})
	}
}

func TestDatesAndRanges(t *testing.T) {
	t.Run("a date reads into its parts", func(t *testing.T) {
		y, m, d, err := ParseDate("from_day", "2026-11-05")
		if err != nil || y != 2026 || m != 11 || d != 5 {
			t.Fatalf("ParseDate = %d %d %d %v", y, m, d, err)
		}
	})
	for _, bad := range []string{"2026-11-31", "2026-11-5", "05/11/2026", ""} {
		t.Run("date "+bad+" is refused", func(t *testing.T) {
			_, _, _, err := ParseDate("from_day", bad)
			expectCheck(t, err, CheckInvalidQueryRange, "from_day")
		})
	}
	t.Run("a range in order is accepted", func(t *testing.T) {
		if err := CheckRangeOrder("from", "to", "2026-01", "2026-02", true); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a range whose start comes after its end is refused", func(t *testing.T) {
		err := CheckRangeOrder("from_time", "to_time", "2026-02-01", "2026-01-01", false)
		expectCheck(t, err, CheckInvalidQueryRange, "from_time")
	})
}
