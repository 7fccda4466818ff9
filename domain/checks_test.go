package domain

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestCheckTable(t *testing.T) {
	codeRE := regexp.MustCompile(`^E[1-8][0-9]{3}$`)
	nameRE := regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)
	checks := AllChecks()
	codes, names := map[string]bool{}, map[string]bool{}
	for i, c := range checks {
		if i > 0 && checks[i-1].Code >= c.Code {
			t.Errorf("AllChecks not sorted at %s", c.Code)
		}
		if !codeRE.MatchString(c.Code) {
			t.Errorf("code %q is not a letter and four digits in E1xxx..E8xxx", c.Code)
		}
		if !nameRE.MatchString(c.Name) {
			t.Errorf("name %q is not UPPER_SNAKE", c.Name)
		}
		if codes[c.Code] || names[c.Name] {
			t.Errorf("check %s %s is not unique", c.Code, c.Name)
		}
		codes[c.Code], names[c.Name] = true, true
		if c.Summary == "" || !strings.HasSuffix(c.Summary, ".") {
			t.Errorf("check %s has no one-sentence summary", c.Code)
		}
		// Each range has its class, except that E5xxx holds the few
		// malformed-input checks about quantities and ranges.
		want := map[byte][]Class{
			'1': {ClassInvalidArgument},
			'2': {ClassNotFound},
			'3': {ClassAlreadyExists},
			'4': {ClassFailedPrecondition},
			'5': {ClassFailedPrecondition, ClassInvalidArgument},
			'6': {ClassFailedPrecondition},
			'7': {ClassFailedPrecondition},
			'8': {ClassPermissionDenied, ClassUnauthenticated, ClassResourceExhausted},
		}[c.Code[1]]
		ok := false
		for _, w := range want {
			ok = ok || c.Class == w
		}
		if !ok {
			t.Errorf("check %s has class %s, want one of %v", c.Code, c.Class, want)
		}
		if got, found := CheckByCode(c.Code); !found || got != c {
			t.Errorf("CheckByCode(%s) = %v, %v", c.Code, got, found)
		}
	}
	if _, found := CheckByCode("E9999"); found {
		t.Error("CheckByCode found an unknown code")
	}
	md := ChecksMarkdown()
	for _, c := range checks {
		if !strings.Contains(md, "| "+c.Code+" | "+c.Name+" | "+c.Class.String()+" |") {
			t.Errorf("Markdown table lacks %s", c.Code)
		}
	}
	// AllChecks returns a copy: changing it does not change the table.
	checks[0].Name = "CHANGED"
	if AllChecks()[0].Name == "CHANGED" {
		t.Error("AllChecks exposes the table")
	}
}

func TestRejectionsMatchTheirChecks(t *testing.T) {
	rej := reject(CheckInsufficientAvailableUnits, "quantity", "account a has %d units, %d requested", 5, 10)
	wrapped := fmt.Errorf("settling trade T1: %w", rej)

	t.Run("a wrapped rejection matches its check with errors.Is", func(t *testing.T) {
		if !errors.Is(wrapped, CheckInsufficientAvailableUnits) {
			t.Fatal("errors.Is failed")
		}
		if errors.Is(wrapped, CheckSerialRangeNotHeld) {
			t.Fatal("errors.Is matched another check")
		}
	})
	t.Run("RejectionOf finds the rejection with its field and detail", func(t *testing.T) {
		got, ok := RejectionOf(wrapped)
		if !ok || got != rej {
			t.Fatalf("RejectionOf = %v, %v", got, ok)
		}
		if _, ok := RejectionOf(errors.New("boom")); ok {
			t.Fatal("RejectionOf accepted a plain error")
		}
		if got, ok := RejectionOf(CheckAccountClosed); !ok || got.Check != CheckAccountClosed {
			t.Fatalf("RejectionOf(bare check) = %v, %v", got, ok)
		}
	})
	t.Run("the message says code, name, field and detail", func(t *testing.T) {
		want := "domain: E5001 INSUFFICIENT_AVAILABLE_UNITS (quantity): account a has 5 units, 10 requested"
		if rej.Error() != want {
			t.Fatalf("Error() = %q, want %q", rej.Error(), want)
		}
		bare := &Rejection{Check: CheckAccountClosed}
		if !strings.Contains(bare.Error(), CheckAccountClosed.Summary) {
			t.Fatalf("a rejection without detail does not fall back to the summary: %q", bare.Error())
		}
	})
	t.Run("a validation error matches each of its violations", func(t *testing.T) {
		_, err := DecideOpenAccount(Account{}, OpenAccount{AccountID: "bad id", Holder: Holder{Kind: HolderKindEnterprise}}, t0)
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("got %T %v, want *ValidationError", err, err)
		}
		if len(ve.Violations) < 4 {
			t.Fatalf("only %d violations reported: %v", len(ve.Violations), ve.Violations)
		}
		for _, v := range ve.Violations {
			if !errors.Is(err, v.Check) || v.Check.Class != ClassInvalidArgument || v.Field == "" {
				t.Fatalf("violation %+v not matched, not InvalidArgument or without field", v)
			}
		}
		first, ok := RejectionOf(err)
		if !ok || *first != ve.Violations[0] {
			t.Fatalf("RejectionOf(validation error) = %v", first)
		}
		if !strings.Contains(err.Error(), "more violations") {
			t.Fatalf("Error() does not count the other violations: %q", err.Error())
		}
		if got := ViolationsOf(wrapped); len(got) != 1 || got[0] != *rej {
			t.Fatalf("ViolationsOf(rejection) = %v", got)
		}
		if ViolationsOf(errors.New("boom")) != nil {
			t.Fatal("ViolationsOf(plain error) is not nil")
		}
	})
}

func TestEnumsNameTheirValues(t *testing.T) {
	if AccountStatusRestricted.String() != "RESTRICTED" || Pollutant(99).String() != "UNKNOWN(99)" {
		t.Fatal("enum names wrong")
	}
	if RightTypeUnspecified.Valid() || RetirementPurpose(3).Valid() || !SinkKindReduction.Valid() {
		t.Fatal("enum validity wrong")
	}
	for ty := RightTypeCarbonAllowance; ty <= RightTypeCarbonSink; ty++ {
		if got, ok := RightTypeByCode(ty.Code()); !ok || got != ty || !ty.Unit().Valid() || ty.Unit().Symbol() == "" {
			t.Fatalf("code or unit of %s wrong", ty)
		}
	}
	if RightTypeUnspecified.Code() != "" || RightTypeUnspecified.Unit() != UnitUnspecified || UnitUnspecified.Symbol() != "" {
		t.Fatal("unspecified type has a code or unit")
	}
	if _, ok := RightTypeByCode(""); ok {
		t.Fatal("empty code names a type")
	}
}

func TestEveryEventNamesItsTypeStreamAndTime(t *testing.T) {
	tests := []struct {
		e      Event
		typ    string
		stream string
	}{
		{AccountOpened{AccountID: "a1", OpenedAt: t0}, "AccountOpened", "account-a1"},
		{AccountStatusChanged{AccountID: "a1", ChangedAt: t0}, "AccountStatusChanged", "account-a1"},
		{RightRegistered{RightID: "r1", RegisteredAt: t0}, "RightRegistered", "right-r1"},
		{UnitsTransferred{RightID: "r1", TransferredAt: t0}, "UnitsTransferred", "right-r1"},
		{UnitsRetired{RightID: "r1", RetiredAt: t0}, "UnitsRetired", "right-r1"},
	}
	for _, tt := range tests {
		if tt.e.EventType() != tt.typ || tt.e.StreamID() != tt.stream || !tt.e.OccurredAt().Equal(t0) {
			t.Errorf("%T names %s, %s, %v", tt.e, tt.e.EventType(), tt.e.StreamID(), tt.e.OccurredAt())
		}
	}
	if CheckAccountClosed.Error() != "domain: E4004 ACCOUNT_CLOSED: "+CheckAccountClosed.Summary {
		t.Errorf("Check.Error() = %q", CheckAccountClosed.Error())
	}
}
