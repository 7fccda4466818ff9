package domain

import (
	"strconv"
	"strings"
)

// serialDigits is the least number of digits of the start and end of a
// serial block; longer numbers are written in full. Nine digits keep serials
// of rights up to 10^9 units sortable as text.
const serialDigits = 9

// SerialNumber is a parsed serial number of a block of units.
type SerialNumber struct {
	// Type is the right's type.
	Type RightType
	// Jurisdiction is the right's jurisdiction, a GB/T 2260 code.
	Jurisdiction string
	// Vintage is the right's vintage year.
	Vintage int
	// RightID is the right's id.
	RightID string
	// Block is the block of serials.
	Block Block
}

// SerialPrefix returns the part of a right's serial numbers that names the
// right: "<TYPE>-<JURISDICTION>-<VINTAGE>-<RIGHT ID>", e.g. "CEA-420000-2025-HB2025A".
func SerialPrefix(t RightType, jurisdiction string, vintage int, rightID string) string {
	return t.Code() + "-" + jurisdiction + "-" + strconv.Itoa(vintage) + "-" + rightID
}

// String formats the serial number, e.g. "CEA-420000-2025-HB2025A-000000001-000010000".
func (s SerialNumber) String() string {
	return formatSerial(SerialPrefix(s.Type, s.Jurisdiction, s.Vintage, s.RightID), s.Block)
}

// FormatSerial returns the serial number of a block of the right, e.g.
// "CEA-420000-2025-HB2025A-000000001-000010000".
func FormatSerial(r Right, b Block) string { return formatSerial(r.serialPrefix, b) }

// FormatSerialWithPrefix returns the serial number of a block of the right
// whose serial prefix (Right.SerialPrefix) is prefix.
func FormatSerialWithPrefix(prefix string, b Block) string { return formatSerial(prefix, b) }

func formatSerial(prefix string, b Block) string {
	var sb strings.Builder
	sb.Grow(len(prefix) + 2*(serialDigits+1))
	sb.WriteString(prefix)
	sb.WriteByte('-')
	writePadded(&sb, b.Start)
	sb.WriteByte('-')
	writePadded(&sb, b.End)
	return sb.String()
}

func writePadded(sb *strings.Builder, n int64) {
	s := strconv.FormatInt(n, 10)
	for i := len(s); i < serialDigits; i++ {
		sb.WriteByte('0')
	}
	sb.WriteString(s)
}

// ParseSerial parses a serial number written by FormatSerial. The type,
// jurisdiction and vintage are read from the left and the start and end from
// the right, so the right id between them may itself contain '-'. Only the
// canonical form is accepted, so that every block has one spelling:
// ParseSerial(s).String() == s. It returns a *Rejection with
// CheckInvalidSerialNumber when s is not a serial number.
func ParseSerial(s string) (SerialNumber, error) {
	bad := func(why string) (SerialNumber, error) {
		return SerialNumber{}, reject(CheckInvalidSerialNumber, "serial", "%q: %s", truncate(s), why)
	}
	head := strings.SplitN(s, "-", 4)
	if len(head) != 4 {
		return bad("too few parts")
	}
	t, ok := RightTypeByCode(head[0])
	if !ok {
		return bad("unknown right type code " + strconv.Quote(head[0]))
	}
	if !ValidDivisionCode(head[1]) {
		return bad("bad jurisdiction")
	}
	vintage, ok := parseDigits(head[2], 4)
	if !ok || vintage < MinVintage || vintage > MaxVintage {
		return bad("bad vintage")
	}
	rest := head[3]
	j := strings.LastIndexByte(rest, '-')
	if j < 0 {
		return bad("no end serial")
	}
	i := strings.LastIndexByte(rest[:j], '-')
	if i < 0 {
		return bad("no start serial")
	}
	id, startText, endText := rest[:i], rest[i+1:j], rest[j+1:]
	if !ValidID(id) {
		return bad("bad right id")
	}
	start, ok1 := parseSerialNumber(startText)
	end, ok2 := parseSerialNumber(endText)
	if !ok1 || !ok2 {
		return bad("serials must be zero-padded to nine digits")
	}
	b := Block{start, end}
	if !b.Valid() {
		return bad("start after end")
	}
	return SerialNumber{Type: t, Jurisdiction: head[1], Vintage: int(vintage), RightID: id, Block: b}, nil
}

// parseDigits parses exactly n ASCII digits.
func parseDigits(s string, n int) (int64, bool) {
	if len(s) != n {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int64(s[i]-'0')
	}
	return v, true
}

// parseSerialNumber parses a start or end written by writePadded: at least
// nine digits, and no leading zero beyond the padding.
func parseSerialNumber(s string) (int64, bool) {
	if len(s) < serialDigits || len(s) > 16 || (len(s) > serialDigits && s[0] == '0') {
		return 0, false
	}
	v, ok := parseDigits(s, len(s))
	if !ok || v > MaxQuantity {
		return 0, false
	}
	return v, true
}
