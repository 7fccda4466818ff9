package domain

import (
	"strings"
	"testing"
)

func TestDivisionCoverage(t *testing.T) {
	for _, tc := range []struct {
		scope, code string
		want        bool
	}{
		{"420000", "420000", true},
		{"420000", "420100", true},
		{"420000", "420106", true},
		{"420000", "110000", false},
		{"420100", "420106", true},
		{"420100", "420100", true},
		{"420100", "420500", false},
		{"420100", "420000", false},
		{"420106", "420106", true},
		{"420106", "420107", false},
		{"420000", "4201", false},
		{"990000", "990100", false},
	} {
		if got := DivisionCovers(tc.scope, tc.code); got != tc.want {
			t.Errorf("DivisionCovers(%s, %s) = %v, want %v", tc.scope, tc.code, got, tc.want)
		}
	}
}

func TestAccessRejections(t *testing.T) {
	t.Run("a jurisdiction within a province the office covers is in scope", func(t *testing.T) {
		if err := CheckJurisdictionInScope("jurisdiction", "420500", []string{"110000", "420000"}, "this office"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a jurisdiction outside every covered division is refused with E8002", func(t *testing.T) {
		err := CheckJurisdictionInScope("jurisdiction", "110000", []string{"420000"}, "this office")
		expectCheck(t, err, CheckOutsideScope, "")
		if want := "jurisdiction 110000 is outside this office's 420000"; !strings.Contains(err.Error(), want) {
			t.Fatalf("%v does not say %q", err, want)
		}
	})
	t.Run("a role that may not call the RPC is refused with E8001 naming both", func(t *testing.T) {
		err := DenyRole("RegisterRight", []string{"exchange"})
		expectCheck(t, err, CheckRoleNotAllowed, "")
		if want := "role exchange may not call RegisterRight"; !strings.Contains(err.Error(), want) {
			t.Fatalf("%v does not say %q", err, want)
		}
		if !strings.Contains(DenyRole("X", nil).Error(), "no role") || !strings.Contains(DenyRole("X", []string{"a", "b"}).Error(), "a, b") {
			t.Fatal("the messages for no role or several roles do not say so")
		}
	})
	t.Run("a call without a valid certificate is refused with E8003", func(t *testing.T) {
		expectCheck(t, DenyUnauthenticated("no client certificate"), CheckUnauthenticated, "")
	})
	t.Run("a principal past its calls in flight is refused with E8004", func(t *testing.T) {
		err := DenyCallsInFlight("hbex/gateway", 64)
		expectCheck(t, err, CheckTooManyCallsInFlight, "")
		if !strings.Contains(err.Error(), "hbex/gateway already has 64 calls in flight") {
			t.Fatal(err)
		}
	})
}
