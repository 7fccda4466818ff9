package projections

import (
	"fmt"
	"unicode/utf8"

	"github.com/ecoregistry/ecoregistry/domain"
)

// The checks below refuse malformed query filters with the same checks the
// registry's commands use for the same fields.

// CheckID refuses an empty id (domain.CheckRequiredFieldMissing) or a
// malformed one (check c).
func CheckID(c domain.Check, field, id string) error {
	switch {
	case id == "":
		return &domain.Rejection{Check: domain.CheckRequiredFieldMissing, Field: field, Detail: field + " is required"}
	case !domain.ValidID(id):
		return &domain.Rejection{Check: c, Field: field, Detail: fmt.Sprintf("%q is not a valid id", truncate(id))}
	}
	return nil
}

// CheckRightType refuses a right type that is neither unspecified (no
// filter) nor known.
func CheckRightType(field string, t domain.RightType) error {
	if t != domain.RightTypeUnspecified && !t.Valid() {
		return &domain.Rejection{Check: domain.CheckInvalidEnumValue, Field: field, Detail: fmt.Sprintf("unknown right type %d", int32(t))}
	}
	return nil
}

// CheckJurisdiction refuses a division code that is neither empty (no
// filter) nor a six-digit GB/T 2260 code.
func CheckJurisdiction(field, code string) error {
	if code != "" && !domain.ValidDivisionCode(code) {
		return &domain.Rejection{Check: domain.CheckInvalidDivisionCode, Field: field,
			Detail: fmt.Sprintf("%q is not a six-digit GB/T 2260 division code", truncate(code))}
	}
	return nil
}

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
