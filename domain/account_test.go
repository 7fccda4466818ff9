package domain

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func openCommand() OpenAccount {
	return OpenAccount{AccountID: "hbgp-01", Holder: enterprise, Jurisdiction: "420100", Type: AccountTypeHolding}
}

func openedAccount(t *testing.T) Account {
	t.Helper()
	events, err := DecideOpenAccount(Account{}, openCommand(), t0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := RebuildAccount(events)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestOpenAccount(t *testing.T) {
	t.Run("an enterprise opens a holding account, which is then open", func(t *testing.T) {
		a := openedAccount(t)
		if a.ID() != "hbgp-01" || a.Status() != AccountStatusOpen || !a.Opened() || a.Holder() != enterprise ||
			a.Type() != AccountTypeHolding || a.Jurisdiction() != "420100" || !a.OpenedAt().Equal(t0) ||
			!a.StatusChangedAt().Equal(t0) || a.Version() != 1 {
			t.Fatalf("unexpected account %+v", a)
		}
		if v := a.View(); v != (AccountView{ID: "hbgp-01", Type: AccountTypeHolding, Status: AccountStatusOpen, Jurisdiction: "420100"}) {
			t.Fatalf("view %+v", v)
		}
	})
	t.Run("an individual may open an account without a credit code", func(t *testing.T) {
		cmd := openCommand()
		cmd.Holder = Holder{Name: "Zhang San", Kind: HolderKindIndividual}
		if _, err := DecideOpenAccount(Account{}, cmd, t0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a government opens a registry account", func(t *testing.T) {
		cmd := openCommand()
		cmd.Holder, cmd.Type = government, AccountTypeRegistry
		if _, err := DecideOpenAccount(Account{}, cmd, t0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("opening an account whose id is taken is refused with E3001", func(t *testing.T) {
		_, err := DecideOpenAccount(openedAccount(t), openCommand(), t0)
		expectCheck(t, err, CheckAccountAlreadyExists, "account_id")
	})

	tests := []struct {
		name   string
		change func(*OpenAccount)
		want   Check
		field  string
	}{
		{"a malformed account id is refused with E1001", func(c *OpenAccount) { c.AccountID = "a/b" }, CheckInvalidAccountID, "account_id"},
		{"a missing account id is refused with E1003", func(c *OpenAccount) { c.AccountID = "" }, CheckRequiredFieldMissing, "account_id"},
		{"a holder without a name is refused with E1003", func(c *OpenAccount) { c.Holder.Name = "  " }, CheckRequiredFieldMissing, "holder.name"},
		{"a holder name with a control character is refused with E1005", func(c *OpenAccount) { c.Holder.Name = "A\x00B" }, CheckInvalidText, "holder.name"},
		{"a holder name that is too long is refused with E1005", func(c *OpenAccount) { c.Holder.Name = strings.Repeat("名", 201) }, CheckInvalidText, "holder.name"},
		{"a holder name that is not UTF-8 is refused with E1005", func(c *OpenAccount) { c.Holder.Name = "\xff" }, CheckInvalidText, "holder.name"},
		{"an unspecified holder kind is refused with E1004", func(c *OpenAccount) { c.Holder.Kind = HolderKindUnspecified }, CheckInvalidEnumValue, "holder.kind"},
		{"an enterprise without a credit code is refused with E1003", func(c *OpenAccount) { c.Holder.CreditCode = "" }, CheckRequiredFieldMissing, "holder.credit_code"},
		{"a credit code with a wrong check digit is refused with E1007", func(c *OpenAccount) { c.Holder.CreditCode = "914403001922038217" }, CheckCreditCodeCheckDigit, "holder.credit_code"},
		{"a malformed credit code is refused with E1006", func(c *OpenAccount) { c.Holder.CreditCode = "12345" }, CheckInvalidCreditCode, "holder.credit_code"},
		{"an individual's credit code is still checked", func(c *OpenAccount) {
			c.Holder.Kind, c.Holder.CreditCode = HolderKindIndividual, "914403001922038217"
		}, CheckCreditCodeCheckDigit, "holder.credit_code"},
		{"a missing jurisdiction is refused with E1003", func(c *OpenAccount) { c.Jurisdiction = "" }, CheckRequiredFieldMissing, "jurisdiction"},
		{"a jurisdiction that is not a GB/T 2260 code is refused with E1008", func(c *OpenAccount) { c.Jurisdiction = "990000" }, CheckInvalidDivisionCode, "jurisdiction"},
		{"an unspecified account type is refused with E1004", func(c *OpenAccount) { c.Type = AccountTypeUnspecified }, CheckInvalidEnumValue, "type"},
		{"an enterprise cannot own a registry account: E1009", func(c *OpenAccount) { c.Type = AccountTypeRegistry }, CheckHolderKindNotAllowed, "type"},
		{"a government cannot own an exchange account: E1009", func(c *OpenAccount) { c.Holder, c.Type = government, AccountTypeExchange }, CheckHolderKindNotAllowed, "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := openCommand()
			tt.change(&cmd)
			_, err := DecideOpenAccount(Account{}, cmd, t0)
			expectCheck(t, err, tt.want, tt.field)
		})
	}
	t.Run("every malformed field is reported at once", func(t *testing.T) {
		_, err := DecideOpenAccount(Account{}, OpenAccount{}, t0)
		fields := map[string]bool{}
		for _, v := range ViolationsOf(err) {
			fields[v.Field] = true
		}
		for _, f := range []string{"account_id", "holder.name", "holder.kind", "jurisdiction", "type"} {
			if !fields[f] {
				t.Errorf("no violation for %s in %v", f, err)
			}
		}
	})
	t.Run("deciding without a time is a programming error, not a rejection", func(t *testing.T) {
		_, err := DecideOpenAccount(Account{}, openCommand(), time.Time{})
		if _, ok := RejectionOf(err); err == nil || ok {
			t.Fatalf("got %v", err)
		}
	})
}

func TestChangeAccountStatus(t *testing.T) {
	change := func(t *testing.T, a *Account, to AccountStatus) error {
		t.Helper()
		events, err := DecideChangeAccountStatus(*a, ChangeAccountStatus{AccountID: a.ID(), To: to, Reason: "order 2025-17"}, t0.Add(time.Hour))
		if err != nil {
			return err
		}
		for _, e := range events {
			if err := a.Apply(e); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	}
	t.Run("an open account can be restricted, suspended, reopened and closed", func(t *testing.T) {
		a := openedAccount(t)
		for _, to := range []AccountStatus{AccountStatusRestricted, AccountStatusSuspended, AccountStatusOpen, AccountStatusSuspended, AccountStatusClosed} {
			if err := change(t, &a, to); err != nil {
				t.Fatalf("to %s: %v", to, err)
			}
			if a.Status() != to || !a.StatusChangedAt().Equal(t0.Add(time.Hour)) {
				t.Fatalf("status %s, want %s", a.Status(), to)
			}
		}
		if a.Version() != 6 {
			t.Fatalf("version %d", a.Version())
		}
	})
	t.Run("the event records the status before and after and the reason", func(t *testing.T) {
		a := openedAccount(t)
		events, err := DecideChangeAccountStatus(a, ChangeAccountStatus{AccountID: a.ID(), To: AccountStatusSuspended, Reason: "court order"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		want := AccountStatusChanged{AccountID: a.ID(), From: AccountStatusOpen, To: AccountStatusSuspended, Reason: "court order", ChangedAt: t0}
		if !reflect.DeepEqual(events, []Event{want}) {
			t.Fatalf("events %+v", events)
		}
		if want.StreamID() != "account-hbgp-01" || want.EventType() != "AccountStatusChanged" || !want.OccurredAt().Equal(t0) {
			t.Fatal("event metadata wrong")
		}
	})
	t.Run("a closed account cannot be reopened: E4004", func(t *testing.T) {
		a := openedAccount(t)
		if err := change(t, &a, AccountStatusClosed); err != nil {
			t.Fatal(err)
		}
		expectCheck(t, change(t, &a, AccountStatusOpen), CheckAccountClosed, "account_id")
	})
	t.Run("changing to the current status is refused with E4006", func(t *testing.T) {
		a := openedAccount(t)
		expectCheck(t, change(t, &a, AccountStatusOpen), CheckAccountStatusUnchanged, "to")
	})
	t.Run("changing the status of an account never opened is refused with E2001", func(t *testing.T) {
		_, err := DecideChangeAccountStatus(Account{}, ChangeAccountStatus{AccountID: "ghost", To: AccountStatusClosed, Reason: "x"}, t0)
		expectCheck(t, err, CheckAccountNotFound, "account_id")
	})
	t.Run("a change without a reason is refused with E1003", func(t *testing.T) {
		a := openedAccount(t)
		_, err := DecideChangeAccountStatus(a, ChangeAccountStatus{AccountID: a.ID(), To: AccountStatusClosed}, t0)
		expectCheck(t, err, CheckRequiredFieldMissing, "reason")
	})
	t.Run("a change to an unspecified status is refused with E1004", func(t *testing.T) {
		a := openedAccount(t)
		_, err := DecideChangeAccountStatus(a, ChangeAccountStatus{AccountID: a.ID(), Reason: "x"}, t0)
		expectCheck(t, err, CheckInvalidEnumValue, "to")
		_, err = DecideChangeAccountStatus(a, ChangeAccountStatus{AccountID: a.ID(), To: 9, Reason: "x"}, t0)
		expectCheck(t, err, CheckInvalidEnumValue, "to")
	})
}

func TestAccountApplyRefusesEventsThatDoNotFit(t *testing.T) {
	a := openedAccount(t)
	before := a
	for _, e := range []Event{
		AccountOpened{AccountID: "hbgp-01"},
		AccountStatusChanged{AccountID: "other", To: AccountStatusClosed},
		RightRegistered{RightID: "r"},
	} {
		if err := a.Apply(e); !errors.Is(err, ErrEventDoesNotApply) {
			t.Errorf("Apply(%T) = %v", e, err)
		}
	}
	if !reflect.DeepEqual(a, before) {
		t.Fatal("a refused event changed the account")
	}
	var fresh Account
	if err := fresh.Apply(AccountStatusChanged{AccountID: "x", To: AccountStatusOpen}); !errors.Is(err, ErrEventDoesNotApply) {
		t.Fatalf("status change before opening applied: %v", err)
	}
	if _, err := RebuildAccount([]Event{AccountOpened{AccountID: "x"}, AccountOpened{AccountID: "x"}}); err == nil {
		t.Fatal("RebuildAccount accepted two openings")
	}
}

func TestCheckClosable(t *testing.T) {
	t.Run("an account holding nothing, or only retired units, may be closed", func(t *testing.T) {
		for _, held := range [][]AccountHolding{nil, {{RightID: "R1"}}} {
			if err := CheckClosable("HB001", held); err != nil {
				t.Fatalf("%v: %v", held, err)
			}
		}
	})
	t.Run("units in any state an account can act on, or others claim, keep it open", func(t *testing.T) {
		for _, h := range []AccountHolding{{RightID: "R1", Available: 1}, {RightID: "R1", Pledged: 2}, {RightID: "R1", Frozen: 3}, {RightID: "R1", Reserved: 4}} {
			err := CheckClosable("HB001", []AccountHolding{{RightID: "R0"}, h})
			expectCheck(t, err, CheckAccountHoldsUnits, "account_id")
			if !strings.Contains(err.Error(), "R1 (available") || strings.Contains(err.Error(), "R0") {
				t.Errorf("the refusal names the wrong rights: %v", err)
			}
		}
	})
	t.Run("at most five rights are named", func(t *testing.T) {
		var held []AccountHolding
		for i := range 7 {
			held = append(held, AccountHolding{RightID: fmt.Sprintf("R%d", i), Available: 1})
		}
		err := CheckClosable("HB001", held)
		if !strings.Contains(err.Error(), "R4 ") || strings.Contains(err.Error(), "R5 ") || !strings.Contains(err.Error(), "...") {
			t.Fatalf("got %v", err)
		}
	})
}
