package grpcserver

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/ecoregistry/ecoregistry/domain"
)

// maxHeaderLen bounds every request header the registry keeps (the actor and
// the correlation id), so that a client cannot make every event it causes
// arbitrarily large.
const maxHeaderLen = 256

// validateCallHeaders checks every request header the registry records on
// the events a call writes, before anything is written: each must be valid
// UTF-8, printable, and at most maxHeaderLen bytes, and neither may hold a
// bidirectional override or isolate, which would make an actor read
// differently from what is stored ("li.\u202eredro" shows as "li.order").
// An empty actor passes here: whether a call needs one is the handler's
// rule. It returns a *domain.ValidationError naming each offending header.
//
// It is the one place that says what a header may hold; a caller that puts
// an authenticated principal in place of the declared actor checks it here
// too.
func validateCallHeaders(actor, correlationID string) error {
	var violations []domain.Rejection
	for _, h := range []struct{ name, value string }{{ActorHeader, actor}, {CorrelationHeader, correlationID}} {
		if detail := headerProblem(h.value); detail != "" {
			violations = append(violations, domain.Rejection{Check: domain.CheckInvalidText, Field: h.name,
				Detail: fmt.Sprintf("request metadata %s %s", h.name, detail)})
		}
	}
	if len(violations) == 0 {
		return nil
	}
	return &domain.ValidationError{Violations: violations}
}

// headerProblem says what is wrong with a header value, or "" when nothing
// is.
func headerProblem(v string) string {
	switch {
	case len(v) > maxHeaderLen:
		return fmt.Sprintf("is %d bytes long, at most %d allowed", len(v), maxHeaderLen)
	case !utf8.ValidString(v):
		return "is not valid UTF-8"
	}
	for _, r := range v {
		switch {
		case isBidiControl(r):
			return fmt.Sprintf("holds the bidirectional control character %U", r)
		case !unicode.IsPrint(r):
			return fmt.Sprintf("holds the unprintable character %U", r)
		}
	}
	return ""
}

// isBidiControl reports whether r is one of the Unicode bidirectional
// formatting characters: the embeddings and overrides (U+202A..U+202E), the
// isolates (U+2066..U+2069) and the implicit marks (U+200E, U+200F, U+061C).
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F || r == 0x061C
}
