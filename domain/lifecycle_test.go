package domain

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// decision is a decide function bound to its command, accounts and time.
type decision func(Right) ([]Event, error)

// must decides on r, applies the events, checks the invariants and returns
// the events. It also checks that deciding did not change r.
func must(t *testing.T, r *Right, d decision) []Event {
	t.Helper()
	before := r.Clone()
	evs, err := d(*r)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if !reflect.DeepEqual(before, *r) {
		t.Fatal("deciding changed the right")
	}
	mustApply(t, r, evs)
	return evs
}

// refused decides on r and expects a refusal by want on field; r must not change.
// retried checks that d is answered as a retry of the operation recorded
// at revision (a *RecordedBefore naming the retry's check), and changes
// nothing.
func retried(t *testing.T, r *Right, d decision, want Check, revision int64) {
	t.Helper()
	before := r.Clone()
	evs, err := d(*r)
	var rb *RecordedBefore
	if len(evs) > 0 || !errors.As(err, &rb) || rb.Check != want || rb.Revision != revision {
		t.Fatalf("decided %v, %v; want a retry (%s) of revision %d", evs, err, want.Code, revision)
	}
	seenChecks.Store(want.Code, true)
	if !reflect.DeepEqual(before, *r) {
		t.Fatal("a retry changed the right")
	}
}

func refused(t *testing.T, r *Right, d decision, want Check, field string) error {
	t.Helper()
	before := r.Clone()
	evs, err := d(*r)
	if len(evs) > 0 {
		t.Fatalf("decided %v, want a refusal by %s", evs, want.Code)
	}
	expectCheck(t, err, want, field)
	if !reflect.DeepEqual(before, *r) {
		t.Fatal("a refused decision changed the right")
	}
	return err
}

// lifecycleRight registers the allowance of the tests and spreads it:
// issuer keeps 1..7000, a holds 7001..9000 and b 9001..10000.
func lifecycleRight(t *testing.T) Right {
	t.Helper()
	r := register(t, ceaCommand())
	transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T-a", From: "issuer", To: "a", Range: rng(7001, 9000)})
	transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T-b", From: "issuer", To: "b", Range: rng(9001, 10000)})
	return r
}

func pledgeCmd(id string, q int64) PledgeUnits {
	return PledgeUnits{RightID: "CEA2025-HB-0001", PledgeID: id, Pledgor: "a", Pledgee: "bank", LoanReference: "ICBC-HB-2025-0042", Quantity: q}
}

func pledgeOf(cmd PledgeUnits, acc AccountLookup) decision {
	return func(r Right) ([]Event, error) { return DecidePledge(r, cmd, acc, t0) }
}

func TestPledges(t *testing.T) {
	t.Run("pledged units cannot be transferred, retired or pledged again", func(t *testing.T) {
		r := lifecycleRight(t)
		cmd := pledgeCmd("P1", 500)
		cmd.Maturity = t0.AddDate(1, 0, 0)
		e := must(t, &r, pledgeOf(cmd, allOpen))[0].(UnitsPledged)
		want := UnitsPledged{RightID: r.ID(), PledgeID: "P1", Pledgor: "a", Pledgee: "bank", LoanReference: "ICBC-HB-2025-0042",
			Maturity: t0.AddDate(1, 0, 0), Blocks: blocks(7001, 7500), Quantity: 500, PledgedAt: t0}
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("event\n%+v\nwant\n%+v", e, want)
		}
		if h := r.Holding("a"); h.Available != 1500 || h.Pledged != 500 || !equalBlocks(h.PledgedBlocks, blocks(7001, 7500)) {
			t.Fatalf("a holds %+v", h)
		}
		refused(t, &r, func(r Right) ([]Event, error) {
			return DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "T-x", From: "a", To: "b", Range: rng(7400, 7600)}, allOpen, t0)
		}, CheckUnitsPledged, "range")
		refused(t, &r, func(r Right) ([]Event, error) {
			return DecideRetire(r, RetireUnits{RightID: r.ID(), RetirementID: "R-x", Holder: "a", Range: rng(7001, 7001), Purpose: RetirementPurposeVoluntary, Beneficiary: "a"}, allOpen, t0)
		}, CheckUnitsPledged, "range")
		again := pledgeCmd("P2", 0)
		again.Range = rng(7500, 7501)
		refused(t, &r, pledgeOf(again, allOpen), CheckUnitsPledged, "range")
		// By quantity, only the unpledged units count.
		err := refused(t, &r, func(r Right) ([]Event, error) {
			return DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "T-y", From: "a", To: "b", Quantity: 1501}, allOpen, t0)
		}, CheckInsufficientAvailableUnits, "quantity")
		if !strings.Contains(err.Error(), "500 pledged") {
			t.Fatalf("the refusal does not say what is pledged: %v", err)
		}
		if got := r.Pledges("bank"); len(got) != 1 || got[0].PledgeID != "P1" || got[0].Quantity != 500 {
			t.Fatalf("pledges to the bank: %+v", got)
		}
		if got := r.Pledges("b"); len(got) != 0 {
			t.Fatalf("pledges of b: %+v", got)
		}
	})

	t.Run("a retried pledge is recognised and a re-used id is refused", func(t *testing.T) {
		r := lifecycleRight(t)
		must(t, &r, pledgeOf(pledgeCmd("P1", 10), allOpen))
		retried(t, &r, pledgeOf(pledgeCmd("P1", 10), allOpen), CheckDuplicateOperationID, 3)
		err := refused(t, &r, pledgeOf(pledgeCmd("P1", 11), allOpen), CheckOperationIDReused, "pledge_id")
		if reused := new(IDReused); !errors.As(err, &reused) || reused.Revision != 3 {
			t.Fatalf("a re-used pledge id does not say where the original is: %v", err)
		}
	})

	t.Run("release returns the units to the pledgor", func(t *testing.T) {
		r := lifecycleRight(t)
		must(t, &r, pledgeOf(pledgeCmd("P1", 100), allOpen))
		rel := ReleasePledge{RightID: r.ID(), PledgeID: "P1", ReleasedBy: PledgeReleaserRegistrationOffice, Reason: "loan repaid"}
		refused(t, &r, func(r Right) ([]Event, error) { return DecideReleasePledge(r, rel, allOpen, t0) }, CheckRequiredFieldMissing, "office_reference")
		rel.OfficeReference = "HB-REG-2025-17"
		e := must(t, &r, func(r Right) ([]Event, error) { return DecideReleasePledge(r, rel, allOpen, t0) })[0].(PledgeReleased)
		if e.Pledgee != "bank" || e.Quantity != 100 || !equalBlocks(e.Blocks, blocks(7001, 7100)) {
			t.Fatalf("event %+v", e)
		}
		if h := r.Holding("a"); h.Available != 2000 || h.Pledged != 0 {
			t.Fatalf("a holds %+v", h)
		}
		refused(t, &r, func(r Right) ([]Event, error) { return DecideReleasePledge(r, rel, allOpen, t0) }, CheckPledgeNotActive, "pledge_id")
		rel.PledgeID = "P9"
		refused(t, &r, func(r Right) ([]Event, error) { return DecideReleasePledge(r, rel, allOpen, t0) }, CheckPledgeNotFound, "pledge_id")
	})

	t.Run("enforcement transfers the pledged units to the pledgee or a named buyer", func(t *testing.T) {
		r := lifecycleRight(t)
		must(t, &r, pledgeOf(pledgeCmd("P1", 100), allOpen))
		must(t, &r, pledgeOf(pledgeCmd("P2", 50), allOpen))
		enf := EnforcePledge{RightID: r.ID(), PledgeID: "P1", DefaultReference: "NOTICE-2025-3"}
		e := must(t, &r, func(r Right) ([]Event, error) { return DecideEnforcePledge(r, enf, allOpen, t0) })[0].(PledgeEnforced)
		if e.To != "bank" || e.Quantity != 100 {
			t.Fatalf("event %+v", e)
		}
		enf = EnforcePledge{RightID: r.ID(), PledgeID: "P2", To: "buyer", DefaultReference: "NOTICE-2025-3"}
		must(t, &r, func(r Right) ([]Event, error) { return DecideEnforcePledge(r, enf, allOpen, t0) })
		if r.Holding("bank").Available != 100 || r.Holding("buyer").Available != 50 || r.Holding("a").Pledged != 0 {
			t.Fatalf("holdings %+v", r.Holdings())
		}
		refused(t, &r, func(r Right) ([]Event, error) { return DecideEnforcePledge(r, enf, allOpen, t0) }, CheckPledgeNotActive, "pledge_id")
	})

	t.Run("bad pledges are refused with their field", func(t *testing.T) {
		r := lifecycleRight(t)
		cases := []struct {
			name  string
			mod   func(*PledgeUnits)
			check Check
			field string
		}{
			{"a malformed pledge id", func(c *PledgeUnits) { c.PledgeID = "-P" }, CheckInvalidOperationID, "pledge_id"},
			{"no loan reference", func(c *PledgeUnits) { c.LoanReference = "" }, CheckRequiredFieldMissing, "loan_reference"},
			{"a maturity in the past", func(c *PledgeUnits) { c.Maturity = t0.Add(-time.Hour) }, CheckInvalidMaturity, "maturity"},
			{"a pledge to oneself", func(c *PledgeUnits) { c.Pledgee = "a" }, CheckSameAccount, "pledgee"},
			{"an unknown pledgee", func(c *PledgeUnits) { c.Pledgee = "nobody" }, CheckAccountNotFound, "pledgee"},
			{"more than is available", func(c *PledgeUnits) { c.Quantity = 2001 }, CheckInsufficientAvailableUnits, "quantity"},
		}
		acc := accounts([]string{"a", "bank"})
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				cmd := pledgeCmd("P1", 10)
				c.mod(&cmd)
				refused(t, &r, pledgeOf(cmd, acc), c.check, c.field)
			})
		}
	})
}

func TestFreezes(t *testing.T) {
	freezeCmd := FreezeUnits{RightID: "CEA2025-HB-0001", OrderNumber: "(2025)鄂01执保123号", Authority: "Wuhan Intermediate People's Court", Holder: "a", Quantity: 300}
	freezeOf := func(cmd FreezeUnits, acc AccountLookup) decision {
		return func(r Right) ([]Event, error) { return DecideFreezeUnits(r, cmd, acc, t0) }
	}

	t.Run("frozen units cannot move, be retired or be pledged", func(t *testing.T) {
		r := lifecycleRight(t)
		e := must(t, &r, freezeOf(freezeCmd, allOpen))[0].(UnitsFrozen)
		if !equalBlocks(e.Blocks, blocks(7001, 7300)) || r.Holding("a").Frozen != 300 || r.Totals().Frozen != 300 {
			t.Fatalf("event %+v, holding %+v", e, r.Holding("a"))
		}
		refused(t, &r, func(r Right) ([]Event, error) {
			return DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "T-x", From: "a", To: "b", Range: rng(7001, 7001)}, allOpen, t0)
		}, CheckUnitsFrozen, "range")
		p := pledgeCmd("P1", 0)
		p.Range = rng(7300, 7400)
		refused(t, &r, pledgeOf(p, allOpen), CheckUnitsFrozen, "range")
		refused(t, &r, freezeOf(freezeCmd, allOpen), CheckDuplicateOperationID, "order_number")
		other := freezeCmd
		other.Quantity = 1
		refused(t, &r, freezeOf(other, allOpen), CheckOperationIDReused, "order_number")
	})

	t.Run("an authority may freeze a suspended account's units but not a closed one's", func(t *testing.T) {
		r := lifecycleRight(t)
		must(t, &r, freezeOf(freezeCmd, accounts(nil, AccountView{ID: "a", Status: AccountStatusSuspended})))
		other := freezeCmd
		other.OrderNumber = "(2025)鄂01执保124号"
		refused(t, &r, freezeOf(other, accounts(nil, AccountView{ID: "a", Status: AccountStatusClosed})), CheckAccountClosed, "holder")
	})

	t.Run("unfreeze returns every frozen unit of the order", func(t *testing.T) {
		r := lifecycleRight(t)
		must(t, &r, freezeOf(freezeCmd, allOpen))
		un := UnfreezeUnits{RightID: r.ID(), OrderNumber: freezeCmd.OrderNumber, Authority: freezeCmd.Authority, Reason: "order lifted"}
		unfreeze := func(r Right) ([]Event, error) { return DecideUnfreezeUnits(r, un, allOpen, t0) }
		e := must(t, &r, unfreeze)[0].(UnitsUnfrozen)
		if e.Holder != "a" || e.Quantity != 300 || r.Holding("a").Available != 2000 {
			t.Fatalf("event %+v", e)
		}
		refused(t, &r, unfreeze, CheckFreezeOrderLifted, "order_number")
		un.OrderNumber = "no-such-order"
		refused(t, &r, func(r Right) ([]Event, error) { return DecideUnfreezeUnits(r, un, allOpen, t0) }, CheckFreezeOrderNotFound, "order_number")
	})

	t.Run("an account-wide freeze stops sending, retiring, pledging and reserving in every right", func(t *testing.T) {
		var a Account
		evs, err := DecideOpenAccount(a, OpenAccount{AccountID: "a", Holder: enterprise, Jurisdiction: "420100", Type: AccountTypeHolding}, t0)
		if err != nil {
			t.Fatal(err)
		}
		fr := FreezeAccount{AccountID: "a", OrderNumber: "SAMR-2025-9", Authority: "SAMR", Reason: "fraud investigation"}
		evs2, err := DecideFreezeAccount(rebuildAccount(t, evs), fr, t0)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, evs2...)
		a = rebuildAccount(t, evs)
		if !a.Frozen() || a.View().FreezeOrder != "SAMR-2025-9" {
			t.Fatalf("account %+v", a.View())
		}
		_, err = DecideFreezeAccount(a, fr, t0)
		expectCheck(t, err, CheckDuplicateOperationID, "order_number")
		if rb := new(RecordedBefore); !errors.As(err, &rb) || rb.Revision != 1 {
			t.Fatalf("a retried account freeze does not name the revision of the first: %v", err)
		}
		closed, err := DecideChangeAccountStatus(a, ChangeAccountStatus{AccountID: "a", To: AccountStatusClosed, Reason: "wound up"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecideFreezeAccount(rebuildAccount(t, append(slices.Clone(evs), closed...)), fr, t0); !errors.As(err, new(*RecordedBefore)) {
			t.Fatalf("a retried account freeze after the account closed: %v, want it recognised as a retry", err)
		}
		fr2 := fr
		fr2.Reason = "something else"
		_, err = DecideFreezeAccount(a, fr2, t0)
		expectCheck(t, err, CheckOperationIDReused, "order_number")

		acc := accounts([]string{"b", "bank"}, a.View())
		r := lifecycleRight(t)
		refused(t, &r, func(r Right) ([]Event, error) {
			return DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "T-x", From: "a", To: "b", Quantity: 1}, acc, t0)
		}, CheckAccountFrozen, "from")
		refused(t, &r, func(r Right) ([]Event, error) {
			return DecideRetire(r, RetireUnits{RightID: r.ID(), RetirementID: "R-x", Holder: "a", Quantity: 1, Purpose: RetirementPurposeVoluntary, Beneficiary: "a"}, acc, t0)
		}, CheckAccountFrozen, "holder")
		refused(t, &r, pledgeOf(pledgeCmd("P1", 1), acc), CheckAccountFrozen, "pledgor")
		refused(t, &r, reserveOf(reserveCmd("V1", 1), acc), CheckAccountFrozen, "holder")
		// A frozen account may still receive.
		must(t, &r, func(r Right) ([]Event, error) {
			return DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "T-in", From: "b", To: "a", Quantity: 1}, acc, t0)
		})

		un := UnfreezeAccount{AccountID: "a", OrderNumber: "SAMR-2025-9", Authority: "SAMR"}
		evs3, err := DecideUnfreezeAccount(a, un, t0)
		if err != nil {
			t.Fatal(err)
		}
		a = rebuildAccount(t, append(evs, evs3...))
		if a.Frozen() {
			t.Fatal("still frozen")
		}
		_, err = DecideUnfreezeAccount(a, un, t0)
		expectCheck(t, err, CheckFreezeOrderLifted, "order_number")
		un.OrderNumber = "other"
		_, err = DecideUnfreezeAccount(a, un, t0)
		expectCheck(t, err, CheckFreezeOrderNotFound, "order_number")
		_, err = DecideFreezeAccount(Account{}, fr, t0)
		expectCheck(t, err, CheckAccountNotFound, "account_id")
	})
}

func rebuildAccount(t *testing.T, evs []Event) Account {
	t.Helper()
	a, err := RebuildAccount(evs)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func reserveCmd(id string, q int64) ReserveUnits {
	return ReserveUnits{RightID: "CEA2025-HB-0001", ReservationID: id, Holder: "a", Exchange: "Hubei Emission Exchange", OrderReference: "HBEX-ORD-77", Quantity: q, Timeout: t0.Add(time.Hour)}
}

func reserveOf(cmd ReserveUnits, acc AccountLookup) decision {
	return func(r Right) ([]Event, error) { return DecideReserve(r, cmd, acc, t0) }
}

func TestReservations(t *testing.T) {
	settleOf := func(cmd SettleReservation, now time.Time) decision {
		return func(r Right) ([]Event, error) { return DecideSettleReservation(r, cmd, allOpen, now) }
	}

	t.Run("a partial settlement delivers the lowest reserved serials and keeps the rest reserved", func(t *testing.T) {
		r := lifecycleRight(t)
		must(t, &r, reserveOf(reserveCmd("V1", 100), allOpen))
		refused(t, &r, func(r Right) ([]Event, error) {
			return DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "T-x", From: "a", To: "b", Range: rng(7050, 7050)}, allOpen, t0)
		}, CheckUnitsReserved, "range")
		s := SettleReservation{RightID: r.ID(), ReservationID: "V1", SettlementID: "S1", Buyer: "b", Quantity: 40, Price: &Price{Amount: 5850, Currency: "CNY"}}
		e := must(t, &r, settleOf(s, t0))[0].(ReservationSettled)
		if !equalBlocks(e.Blocks, blocks(7001, 7040)) || e.Remaining != 60 || e.Seller != "a" {
			t.Fatalf("event %+v", e)
		}
		if h := r.Holding("a"); h.Reserved != 60 || !equalBlocks(h.ReservedBlocks, blocks(7041, 7100)) {
			t.Fatalf("a holds %+v", h)
		}
		refused(t, &r, settleOf(s, t0), CheckDuplicateOperationID, "settlement_id")
		s2 := SettleReservation{RightID: r.ID(), ReservationID: "V1", SettlementID: "S2", Buyer: "b", Quantity: 61}
		refused(t, &r, settleOf(s2, t0), CheckSettlementExceedsReservation, "quantity")
		s2.Quantity = 60
		must(t, &r, settleOf(s2, t0))
		if _, open := r.openReservation("V1", t0); open == nil {
			t.Fatal("a fully settled reservation is still open")
		}
		s3 := SettleReservation{RightID: r.ID(), ReservationID: "V1", SettlementID: "S3", Buyer: "b", Quantity: 1}
		refused(t, &r, settleOf(s3, t0), CheckReservationNotOpen, "reservation_id")
		s3.ReservationID = "V9"
		refused(t, &r, settleOf(s3, t0), CheckReservationNotFound, "reservation_id")
		if r.Holding("b").Available != 1100 {
			t.Fatalf("b holds %+v", r.Holding("b"))
		}
	})

	t.Run("a reservation expires once, at its timeout, and not before", func(t *testing.T) {
		r := lifecycleRight(t)
		must(t, &r, reserveOf(reserveCmd("V1", 100), allOpen))
		timeout := t0.Add(time.Hour)
		if evs, err := DecideExpireReservation(r, "V1", timeout.Add(-time.Nanosecond)); err != nil || len(evs) != 0 {
			t.Fatalf("expired early: %v %v", evs, err)
		}
		s := SettleReservation{RightID: r.ID(), ReservationID: "V1", SettlementID: "S1", Buyer: "b", Quantity: 1}
		refused(t, &r, settleOf(s, timeout), CheckReservationTimedOut, "reservation_id")
		refused(t, &r, func(r Right) ([]Event, error) {
			return DecideVoidReservation(r, VoidReservation{RightID: r.ID(), ReservationID: "V1"}, allOpen, timeout)
		}, CheckReservationTimedOut, "reservation_id")
		e := must(t, &r, func(r Right) ([]Event, error) { return DecideExpireReservation(r, "V1", timeout.Add(time.Minute)) })[0].(ReservationExpired)
		if e.Quantity != 100 || !e.Timeout.Equal(timeout) || !e.ExpiredAt.Equal(timeout.Add(time.Minute)) {
			t.Fatalf("event %+v", e)
		}
		if evs, err := DecideExpireReservation(r, "V1", timeout.Add(time.Hour)); err != nil || len(evs) != 0 {
			t.Fatalf("expired twice: %v %v", evs, err)
		}
		if r.Holding("a").Available != 2000 {
			t.Fatalf("a holds %+v", r.Holding("a"))
		}
	})

	t.Run("void returns the reserved units", func(t *testing.T) {
		r := lifecycleRight(t)
		must(t, &r, reserveOf(reserveCmd("V1", 100), allOpen))
		void := func(r Right) ([]Event, error) {
			return DecideVoidReservation(r, VoidReservation{RightID: r.ID(), ReservationID: "V1", Reason: "order cancelled"}, allOpen, t0)
		}
		must(t, &r, void)
		refused(t, &r, void, CheckReservationNotOpen, "reservation_id")
		refused(t, &r, reserveOf(reserveCmd("V1", 100), allOpen), CheckDuplicateOperationID, "reservation_id")
	})

	t.Run("a retried reservation is recognised after its timeout has passed, and a malformed re-use is refused as malformed", func(t *testing.T) {
		r := lifecycleRight(t)
		must(t, &r, reserveOf(reserveCmd("V1", 100), allOpen))
		late := func(cmd ReserveUnits) decision {
			return func(r Right) ([]Event, error) { return DecideReserve(r, cmd, allOpen, t0.Add(2*time.Hour)) }
		}
		retried(t, &r, late(reserveCmd("V1", 100)), CheckDuplicateOperationID, 3)
		refused(t, &r, late(reserveCmd("V1", 101)), CheckInvalidTimeout, "timeout")
	})

	t.Run("a timeout must lie ahead, within a year", func(t *testing.T) {
		r := lifecycleRight(t)
		for _, timeout := range []time.Time{{}, t0, t0.Add(MaxReservationTimeout + time.Second)} {
			cmd := reserveCmd("V1", 1)
			cmd.Timeout = timeout
			refused(t, &r, reserveOf(cmd, allOpen), CheckInvalidTimeout, "timeout")
		}
	})
}

func TestCancellation(t *testing.T) {
	t.Run("an authority cancels available, frozen and buffer units", func(t *testing.T) {
		r := register(t, sinkCommand()) // 10007 units, buffer 8007..10007
		transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T-a", From: "issuer", To: "a", Quantity: 1000})
		cancel := func(c CancelUnits) decision {
			c.RightID, c.Authority = r.ID(), "NFGA"
			return func(r Right) ([]Event, error) { return DecideCancel(r, c, allOpen, t0) }
		}
		must(t, &r, cancel(CancelUnits{CancellationID: "C1", Holder: "a", Quantity: 10, Reason: "fraudulent issuance"}))
		must(t, &r, func(r Right) ([]Event, error) {
			return DecideFreezeUnits(r, FreezeUnits{RightID: r.ID(), OrderNumber: "O-1", Authority: "court", Holder: "a", Quantity: 20}, allOpen, t0)
		})
		must(t, &r, cancel(CancelUnits{CancellationID: "C2", Holder: "a", OrderNumber: "O-1", Quantity: 5, Reason: "fraud"}))
		buf := r.Buffer()
		e := must(t, &r, cancel(CancelUnits{CancellationID: "C3", Quantity: 100, Reason: "reversal: forest fire 2025-07"}))[0].(UnitsCancelled)
		if !equalBlocks(e.Blocks, []Block{{buf.Start, buf.Start + 99}}) || r.Buffer() != (Block{buf.Start + 100, buf.End}) {
			t.Fatalf("event %+v, buffer %s", e, r.Buffer())
		}
		if tot := r.Totals(); tot.Cancelled != 115 || tot.Frozen != 15 {
			t.Fatalf("totals %+v", tot)
		}
		refused(t, &r, func(r Right) ([]Event, error) {
			return DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "T-x", From: "a", To: "b", Range: rng(1, 1)}, allOpen, t0)
		}, CheckUnitsCancelled, "range")
		refused(t, &r, cancel(CancelUnits{CancellationID: "C3", Quantity: 100, Reason: "reversal: forest fire 2025-07"}), CheckDuplicateOperationID, "cancellation_id")
		refused(t, &r, cancel(CancelUnits{CancellationID: "C3", Quantity: 99, Reason: "reversal: forest fire 2025-07"}), CheckOperationIDReused, "cancellation_id")
		refused(t, &r, cancel(CancelUnits{CancellationID: "C4", Range: rng(buf.Start+500, buf.Start+501), Reason: "x"}), CheckSerialRangeNotHeld, "range")
		refused(t, &r, cancel(CancelUnits{CancellationID: "C4", Holder: "a", OrderNumber: "O-2", Quantity: 1, Reason: "x"}), CheckFreezeOrderNotFound, "order_number")
		refused(t, &r, cancel(CancelUnits{CancellationID: "C4", Holder: "a", Quantity: 1}), CheckRequiredFieldMissing, "reason")
	})
}

func TestRightExpiry(t *testing.T) {
	t.Run("expiry moves every unit not retired or cancelled to expired, once", func(t *testing.T) {
		r := register(t, waterCommand())
		transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T-a", From: "issuer", To: "a", Quantity: 1000})
		retire(t, &r, RetireUnits{RightID: r.ID(), RetirementID: "R1", Holder: "a", Quantity: 100, Purpose: RetirementPurposeVoluntary, Beneficiary: "a"})
		must(t, &r, pledgeOf(PledgeUnits{RightID: r.ID(), PledgeID: "P1", Pledgor: "a", Pledgee: "bank", LoanReference: "L", Quantity: 50}, allOpen))
		until := r.ValidUntil()
		if evs, _ := DecideExpireRight(r, until.Add(-time.Second)); len(evs) != 0 {
			t.Fatal("expired before its ValidUntil")
		}
		e := must(t, &r, func(r Right) ([]Event, error) { return DecideExpireRight(r, until) })[0].(RightExpired)
		if e.Quantity != 500000-100 || r.Totals().Expired != 499900 || r.Totals().Retired != 100 || len(r.Pledges("")) != 0 {
			t.Fatalf("event %+v, totals %+v", e, r.Totals())
		}
		if evs, _ := DecideExpireRight(r, until.Add(time.Hour)); len(evs) != 0 {
			t.Fatal("expired twice")
		}
		// Even with the clock set back, the expired right refuses to move.
		refused(t, &r, func(r Right) ([]Event, error) {
			return DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "T-x", From: "a", To: "b", Quantity: 1}, allOpen, t0)
		}, CheckRightExpired, "")
	})
}

func TestCorrections(t *testing.T) {
	// reverse binds a correction to the event that recorded the original
	// transaction, as the registry reads it from the right's stream.
	reverse := func(r *Right, c ReverseTransaction, original Event) decision {
		c.RightID, c.Authority, c.Reason = r.ID(), "MEE", "clerical error"
		return func(r Right) ([]Event, error) { return DecideReverse(r, c, original, allOpen, t0) }
	}
	// spread registers the allowance and spreads it as lifecycleRight does,
	// keeping the transfer events.
	spread := func(t *testing.T) (Right, UnitsTransferred, UnitsTransferred) {
		r := register(t, ceaCommand())
		ta := transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T-a", From: "issuer", To: "a", Range: rng(7001, 9000)})
		tb := transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T-b", From: "issuer", To: "b", Range: rng(9001, 10000)})
		return r, ta, tb
	}

	t.Run("a reversal is a compensating event that moves the units back", func(t *testing.T) {
		r, ta, tb := spread(t)
		if rev, ok := r.CorrectedRevision(ReverseTransaction{Kind: TransactionKindTransfer, OriginalID: "T-b"}); !ok || rev != 2 {
			t.Fatalf("transfer T-b recorded at revision %d, %v; want 2", rev, ok)
		}
		e := must(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K1", Kind: TransactionKindTransfer, OriginalID: "T-b"}, tb))[0].(TransactionReversed)
		if e.From != "b" || e.To != "issuer" || !equalBlocks(e.Blocks, blocks(9001, 10000)) {
			t.Fatalf("event %+v", e)
		}
		if r.Holding("b").Available != 0 || r.Holding("issuer").Available != 8000 {
			t.Fatalf("holdings %+v", r.Holdings())
		}
		refused(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K2", Kind: TransactionKindTransfer, OriginalID: "T-b"}, tb), CheckTransactionAlreadyReversed, "original_id")
		refused(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K1", Kind: TransactionKindTransfer, OriginalID: "T-b"}, tb), CheckDuplicateOperationID, "correction_id")
		refused(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K1", Kind: TransactionKindTransfer, OriginalID: "T-a"}, ta), CheckOperationIDReused, "correction_id")
		refused(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K3", Kind: TransactionKindTransfer, OriginalID: "T-zz"}, nil), CheckTransactionNotFound, "original_id")
	})

	t.Run("a reversal whose units have moved on is refused and names the blocking blocks", func(t *testing.T) {
		r, ta, _ := spread(t)
		transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T-on", From: "a", To: "c", Range: rng(7101, 7200)})
		must(t, &r, pledgeOf(PledgeUnits{RightID: r.ID(), PledgeID: "P1", Pledgor: "a", Pledgee: "bank", LoanReference: "L", Range: rng(8001, 8010)}, allOpen))
		err := refused(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K1", Kind: TransactionKindTransfer, OriginalID: "T-a"}, ta), CheckReversalBlocked, "original_id")
		for _, want := range []string{"[7101,7200]", "[8001,8010]", "available to c", "pledged by a"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the refusal does not mention %s: %v", want, err)
			}
		}
	})

	t.Run("retirements, settlements and cancellations are reversed; buffer cancellations are not", func(t *testing.T) {
		r := register(t, sinkCommand())
		transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T-a", From: "issuer", To: "a", Quantity: 1000})
		r1 := retire(t, &r, RetireUnits{RightID: r.ID(), RetirementID: "R1", Holder: "a", Quantity: 10, Purpose: RetirementPurposeVoluntary, Beneficiary: "a"})
		must(t, &r, func(r Right) ([]Event, error) {
			c := reserveCmd("V1", 20)
			c.RightID = r.ID()
			return DecideReserve(r, c, allOpen, t0)
		})
		s1 := must(t, &r, func(r Right) ([]Event, error) {
			return DecideSettleReservation(r, SettleReservation{RightID: r.ID(), ReservationID: "V1", SettlementID: "S1", Buyer: "b", Quantity: 20}, allOpen, t0)
		})[0]
		c1 := must(t, &r, func(r Right) ([]Event, error) {
			return DecideCancel(r, CancelUnits{RightID: r.ID(), CancellationID: "C1", Holder: "a", Quantity: 5, Authority: "NFGA", Reason: "fraud"}, allOpen, t0)
		})[0]
		c2 := must(t, &r, func(r Right) ([]Event, error) {
			return DecideCancel(r, CancelUnits{RightID: r.ID(), CancellationID: "C2", Quantity: 5, Authority: "NFGA", Reason: "reversal"}, allOpen, t0)
		})[0]
		must(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K1", Kind: TransactionKindRetirement, OriginalID: "R1"}, r1))
		must(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K2", Kind: TransactionKindSettlement, OriginalID: "S1"}, s1))
		must(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K3", Kind: TransactionKindCancellation, OriginalID: "C1"}, c1))
		refused(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K4", Kind: TransactionKindCancellation, OriginalID: "C2"}, c2), CheckTransactionNotReversible, "original_id")
		if tot := r.Totals(); tot.Retired != 0 || tot.Cancelled != 5 || r.Holding("a").Available != 1000 || r.Holding("b").Available != 0 {
			t.Fatalf("totals %+v, holdings %+v", tot, r.Holdings())
		}
	})
}

func TestTradeCorrections(t *testing.T) {
	reverse := func(r *Right, c ReverseTransaction, original Event) decision {
		c.RightID, c.Authority, c.Reason = r.ID(), "MEE", "matched in error"
		return func(r Right) ([]Event, error) { return DecideReverse(r, c, original, allOpen, t0) }
	}
	byTrade := func(exchange, id string) ReverseTransaction {
		return ReverseTransaction{CorrectionID: "K-" + id, Kind: TransactionKindTrade, ExchangeID: exchange, OriginalID: id}
	}

	t.Run("a settled trade is reversed: the buyer's units go back to the seller", func(t *testing.T) {
		r := lifecycleRight(t)
		seller, buyer := r.Holding("a").Available, r.Holding("b").Available
		evs, _, err := settle(t, &r, tradeOn("X-1"), allOpen)
		if err != nil || len(evs) != 1 {
			t.Fatalf("settle: %v, %v", evs, err)
		}
		ts := evs[0].(TradeSettled)
		if rev, ok := r.CorrectedRevision(byTrade("HBEX", "X-1")); !ok || rev != r.Version()-1 {
			t.Fatalf("trade recorded at revision %d, %v; want %d", rev, ok, r.Version()-1)
		}
		e := must(t, &r, reverse(&r, byTrade("HBEX", "X-1"), ts))[0].(TransactionReversed)
		if e.From != "b" || e.To != "a" || e.ExchangeID != "HBEX" || e.Quantity != 100 || !equalBlocks(e.Blocks, ts.Blocks) {
			t.Fatalf("event %+v", e)
		}
		if r.Holding("a").Available != seller || r.Holding("b").Available != buyer {
			t.Fatalf("holdings after the reversal %+v", r.Holdings())
		}
		refused(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K-2", Kind: TransactionKindTrade, ExchangeID: "HBEX", OriginalID: "X-1"}, ts),
			CheckTransactionAlreadyReversed, "original_id")
		// The trade stays decided: submitting it again replays its outcome
		// and settles nothing.
		again, prior, err := settle(t, &r, tradeOn("X-1"), allOpen)
		if err != nil || len(again) != 0 || prior == nil || !prior.Settled {
			t.Fatalf("resubmission after the reversal: %v, %+v, %v", again, prior, err)
		}
	})

	t.Run("a trade is named by its exchange as well as its id", func(t *testing.T) {
		r := lifecycleRight(t)
		evs, _, _ := settle(t, &r, tradeOn("X-1"), allOpen)
		refused(t, &r, reverse(&r, byTrade("CEEX", "X-1"), evs[0]), CheckTransactionNotFound, "original_id")
		refused(t, &r, reverse(&r, byTrade("", "X-1"), evs[0]), CheckRequiredFieldMissing, "exchange_id")
		refused(t, &r, reverse(&r, ReverseTransaction{CorrectionID: "K-9", Kind: TransactionKindTransfer, ExchangeID: "HBEX", OriginalID: "X-1"}, nil),
			CheckInvalidExchangeID, "exchange_id")
	})

	t.Run("a refused trade moved nothing and has nothing to reverse", func(t *testing.T) {
		r := lifecycleRight(t)
		big := tradeOn("X-big")
		big.Quantity = 1 << 40
		if evs, _, err := settle(t, &r, big, allOpen); err != nil || len(evs) != 1 {
			t.Fatalf("a refusal is recorded: %v, %v", evs, err)
		}
		err := refused(t, &r, reverse(&r, byTrade("HBEX", "X-big"), nil), CheckTransactionNotFound, "original_id")
		if !strings.Contains(err.Error(), "refused") {
			t.Errorf("the refusal does not say the trade was refused: %v", err)
		}
	})

	t.Run("a trade whose units moved on cannot be reversed", func(t *testing.T) {
		r := lifecycleRight(t)
		evs, _, _ := settle(t, &r, tradeOn("X-1"), allOpen)
		ts := evs[0].(TradeSettled)
		b := ts.Blocks[0]
		transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T-on", From: "b", To: "c", Range: &Block{Start: b.Start, End: b.Start + 9}})
		err := refused(t, &r, reverse(&r, byTrade("HBEX", "X-1"), ts), CheckReversalBlocked, "original_id")
		if !strings.Contains(err.Error(), "available to c") {
			t.Errorf("the refusal does not say where the units are: %v", err)
		}
	})
}

func TestDecisionsDoNotShareState(t *testing.T) {
	r := lifecycleRight(t)
	must(t, &r, pledgeOf(pledgeCmd("P1", 10), allOpen))
	c := r.Clone()
	must(t, &c, func(r Right) ([]Event, error) {
		return DecideReleasePledge(r, ReleasePledge{RightID: r.ID(), PledgeID: "P1", ReleasedBy: PledgeReleaserPledgee}, allOpen, t0)
	})
	if _, ok := r.Pledge("P1"); !ok || r.Holding("a").Pledged != 10 {
		t.Fatal("a change to a clone changed the original")
	}
}

func TestLifecycleEventsThatDoNotFitAreRefusedByApply(t *testing.T) {
	r := lifecycleRight(t)
	before := r.Clone()
	for _, e := range []Event{
		UnitsPledged{RightID: r.ID(), PledgeID: "P1", Pledgor: "a", Pledgee: "bank", Blocks: blocks(1, 10), Quantity: 10},
		PledgeReleased{RightID: r.ID(), PledgeID: "P1", Pledgor: "a", Blocks: blocks(7001, 7010), Quantity: 10},
		UnitsFrozen{RightID: r.ID(), OrderNumber: "O", Holder: "b", Blocks: blocks(7001, 7010), Quantity: 10},
		ReservationSettled{RightID: r.ID(), ReservationID: "V", SettlementID: "S", Seller: "a", Buyer: "b", Blocks: blocks(7001, 7010), Quantity: 10},
		RightExpired{RightID: r.ID(), Blocks: blocks(1, 10), Quantity: 10, ExpiredAt: t0},
		TransactionReversed{RightID: r.ID(), CorrectionID: "K", OriginalKind: TransactionKindTransfer, OriginalID: "T-a", From: "a", To: "issuer", Blocks: blocks(7001, 7010), Quantity: 10},
		UnitsCancelled{RightID: r.ID(), CancellationID: "C", Blocks: blocks(1, 1), Quantity: 1},
	} {
		if err := r.Apply(e); !errors.Is(err, ErrEventDoesNotApply) {
			t.Errorf("Apply(%T) = %v", e, err)
		}
	}
	if !reflect.DeepEqual(before, r) {
		t.Fatal("refused events changed the right")
	}
}
