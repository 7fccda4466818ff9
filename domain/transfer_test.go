package domain

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTransferByQuantityTakesLowestSerialsFirst(t *testing.T) {
	r := register(t, ceaCommand())
	e := transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T1", From: "issuer", To: "a", Quantity: 100,
		Reference: "HBEX-2025-000017", Reason: "trade", Price: &Price{Amount: 5850, Currency: "CNY"}})
	want := UnitsTransferred{RightID: r.ID(), TransferID: "T1", From: "issuer", To: "a", Blocks: blocks(1, 100), Quantity: 100,
		Reference: "HBEX-2025-000017", Reason: "trade", TradePrice: &Price{Amount: 5850, Currency: "CNY"}, TransferredAt: t0}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("event\n%+v\nwant\n%+v", e, want)
	}
	if e.StreamID() != "right-"+r.ID() || e.EventType() != EventTypeUnitsTransferred || !e.OccurredAt().Equal(t0) {
		t.Fatal("event metadata wrong")
	}
	transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T2", From: "issuer", To: "b", Quantity: 50})
	// a sends on 30 units, which are its lowest serials, 1..30.
	transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T3", From: "a", To: "b", Quantity: 30})
	if h := r.Holding("b"); h.Available != 80 || !equalBlocks(h.AvailableBlocks, blocks(1, 30, 101, 150)) {
		t.Fatalf("b holds %+v", h)
	}
	if h := r.Holding("a"); h.Available != 70 || !equalBlocks(h.AvailableBlocks, blocks(31, 100)) {
		t.Fatalf("a holds %+v", h)
	}
	// b's lowest 40 span two blocks.
	e = transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T4", From: "b", To: "c", Quantity: 40})
	if !equalBlocks(e.Blocks, blocks(1, 30, 101, 110)) || e.Quantity != 40 {
		t.Fatalf("moved %v", e.Blocks)
	}
	if tot := r.Totals(); tot != (Totals{Issued: 10000, Available: 10000}) {
		t.Fatalf("totals %+v", tot)
	}
}

func TestTransferByRangeSplitsBlocks(t *testing.T) {
	r := register(t, ceaCommand())
	e := transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T1", From: "issuer", To: "a", Range: rng(501, 600)})
	if !equalBlocks(e.Blocks, blocks(501, 600)) || e.Quantity != 100 {
		t.Fatalf("event %+v", e)
	}
	if h := r.Holding("issuer"); !equalBlocks(h.AvailableBlocks, blocks(1, 500, 601, 10000)) || h.Available != 9900 {
		t.Fatalf("issuer holds %+v", h)
	}
	transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T2", From: "a", To: "issuer", Range: rng(501, 600)})
	if h := r.Holding("issuer"); !equalBlocks(h.AvailableBlocks, blocks(1, 10000)) {
		t.Fatalf("returned units did not coalesce: %+v", h)
	}
	if hs := r.Holdings(); len(hs) != 1 || hs[0].AccountID != "issuer" {
		t.Fatalf("an emptied holding is still listed: %+v", hs)
	}
}

func TestHoldingsAreSortedByAccount(t *testing.T) {
	r := register(t, ceaCommand())
	for i, to := range []string{"zeta", "alpha", "mid"} {
		transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T" + to, From: "issuer", To: to, Quantity: int64(i + 1)})
	}
	var ids []string
	for _, h := range r.Holdings() {
		ids = append(ids, h.AccountID)
	}
	if strings.Join(ids, ",") != "alpha,issuer,mid,zeta" {
		t.Fatalf("holdings in order %v", ids)
	}
	if r.AvailableQuantity("mid") != 3 || r.AvailableQuantity("nobody") != 0 || r.Holding("nobody").Available != 0 {
		t.Fatal("AvailableQuantity wrong")
	}
}

// rightWithHistory returns a CEA right in which "a" holds 1..100 and has
// retired 1..10, and "issuer" holds the rest; transfer T1 and retirement R1
// are recorded.
func rightWithHistory(t *testing.T) Right {
	t.Helper()
	r := register(t, ceaCommand())
	transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "T1", From: "issuer", To: "a", Quantity: 100, Reference: "ref", Price: &Price{100, "CNY"}})
	retire(t, &r, RetireUnits{RightID: r.ID(), RetirementID: "R1", Holder: "a", Quantity: 10, Purpose: RetirementPurposeCompliance, CompliancePeriod: "2025"})
	return r
}

func TestTransferRefusals(t *testing.T) {
	r := rightWithHistory(t)
	sink := register(t, sinkCommand())
	window := func() Right {
		c := waterCommand() // valid 2025-01-01 .. 2030-01-01
		return register(t, c)
	}()
	cmd := func(change func(*TransferUnits)) TransferUnits {
		c := TransferUnits{RightID: r.ID(), TransferID: "T9", From: "a", To: "b", Quantity: 5}
		change(&c)
		return c
	}
	status := func(id string, s AccountStatus) AccountLookup {
		return accounts([]string{"a", "b", "issuer"}, AccountView{ID: id, Status: s})
	}
	tests := []struct {
		name     string
		right    Right
		cmd      TransferUnits
		accounts AccountLookup
		now      time.Time
		want     Check
		field    string
	}{
		{"a transfer of more than the available units is refused with E5001", r, cmd(func(c *TransferUnits) { c.Quantity = 91 }), nil, t0, CheckInsufficientAvailableUnits, "quantity"},
		{"a transfer from an account holding nothing is refused with E5001", r, cmd(func(c *TransferUnits) { c.From = "b"; c.To = "a" }), nil, t0, CheckInsufficientAvailableUnits, "quantity"},
		{"a range held by someone else is refused with E5002", r, cmd(func(c *TransferUnits) { c.Quantity = 0; c.Range = rng(200, 210) }), nil, t0, CheckSerialRangeNotHeld, "range"},
		{"a range only partly held is refused with E5002", r, cmd(func(c *TransferUnits) { c.Quantity = 0; c.Range = rng(95, 105) }), nil, t0, CheckSerialRangeNotHeld, "range"},
		{"a range that includes retired units is refused with E5003", r, cmd(func(c *TransferUnits) { c.Quantity = 0; c.Range = rng(5, 15) }), nil, t0, CheckUnitsAlreadyRetired, "range"},
		{"a transfer with both quantity and range is refused with E5004", r, cmd(func(c *TransferUnits) { c.Range = rng(20, 24) }), nil, t0, CheckQuantityOrRange, "quantity"},
		{"a transfer with neither quantity nor range is refused with E5004", r, cmd(func(c *TransferUnits) { c.Quantity = 0 }), nil, t0, CheckQuantityOrRange, "quantity"},
		{"a range beyond the issuance is refused with E5005", r, cmd(func(c *TransferUnits) { c.Quantity = 0; c.Range = rng(9990, 10010) }), nil, t0, CheckSerialRangeOutsideIssuance, "range"},
		{"a range in the buffer pool is refused with E5006", sink, TransferUnits{RightID: sink.ID(), TransferID: "T9", From: "issuer", To: "b", Range: rng(8000, 8010)}, nil, t0, CheckBufferUnitsNotTransferable, "range"},
		{"a malformed range is refused with E1020", r, cmd(func(c *TransferUnits) { c.Quantity = 0; c.Range = rng(30, 20) }), nil, t0, CheckInvalidSerialRange, "range"},
		{"a negative quantity is refused with E1010", r, cmd(func(c *TransferUnits) { c.Quantity = -1 }), nil, t0, CheckInvalidQuantity, "quantity"},
		{"a malformed transfer id is refused with E1021", r, cmd(func(c *TransferUnits) { c.TransferID = "T 9" }), nil, t0, CheckInvalidTransferID, "transfer_id"},
		{"a malformed right id is refused with E1002", r, cmd(func(c *TransferUnits) { c.RightID = "r#1" }), nil, t0, CheckInvalidRightID, "right_id"},
		{"a malformed account id is refused with E1001", r, cmd(func(c *TransferUnits) { c.To = "b b" }), nil, t0, CheckInvalidAccountID, "to"},
		{"a reference that is too long is refused with E1005", r, cmd(func(c *TransferUnits) { c.Reference = strings.Repeat("x", 257) }), nil, t0, CheckInvalidText, "reference"},
		{"a price in a currency that is no ISO 4217 code is refused with E1023", r, cmd(func(c *TransferUnits) { c.Price = &Price{100, "yuan"} }), nil, t0, CheckInvalidPrice, "price.currency"},
		{"a negative price is refused with E1023", r, cmd(func(c *TransferUnits) { c.Price = &Price{-1, "CNY"} }), nil, t0, CheckInvalidPrice, "price.amount"},
		{"a price whose total overflows is refused with E1023", r, cmd(func(c *TransferUnits) { c.Price = &Price{1 << 62, "CNY"} }), nil, t0, CheckInvalidPrice, "price.amount"},
		{"a transfer of an unknown right is refused with E2002", Right{}, cmd(func(*TransferUnits) {}), nil, t0, CheckRightNotFound, "right_id"},
		{"a transfer naming another right than the state is refused with E2002", r, cmd(func(c *TransferUnits) { c.RightID = "other" }), nil, t0, CheckRightNotFound, "right_id"},
		{"a transfer from an unknown account is refused with E2001", r, cmd(func(*TransferUnits) {}), accounts([]string{"b"}), t0, CheckAccountNotFound, "from"},
		{"a transfer to an unknown account is refused with E2001", r, cmd(func(*TransferUnits) {}), accounts([]string{"a"}), t0, CheckAccountNotFound, "to"},
		{"a transfer to the same account is refused with E4005", r, cmd(func(c *TransferUnits) { c.To = "a" }), nil, t0, CheckSameAccount, "to"},
		{"a transfer from a restricted account is refused with E4002", r, cmd(func(*TransferUnits) {}), status("a", AccountStatusRestricted), t0, CheckAccountRestricted, "from"},
		{"a transfer from a suspended account is refused with E4003", r, cmd(func(*TransferUnits) {}), status("a", AccountStatusSuspended), t0, CheckAccountSuspended, "from"},
		{"a transfer from a closed account is refused with E4004", r, cmd(func(*TransferUnits) {}), status("a", AccountStatusClosed), t0, CheckAccountClosed, "from"},
		{"a transfer to a suspended account is refused with E4003", r, cmd(func(*TransferUnits) {}), status("b", AccountStatusSuspended), t0, CheckAccountSuspended, "to"},
		{"a transfer to a closed account is refused with E4004", r, cmd(func(*TransferUnits) {}), status("b", AccountStatusClosed), t0, CheckAccountClosed, "to"},
		{"a transfer to an account of unknown status is refused with E4001", r, cmd(func(*TransferUnits) {}), status("b", AccountStatus(42)), t0, CheckAccountNotOpen, "to"},
		{"a transfer of an expired right is refused with E6001", window, TransferUnits{RightID: window.ID(), TransferID: "T9", From: "issuer", To: "b", Quantity: 1}, nil,
			time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), CheckRightExpired, ""},
		{"a transfer of a right not yet valid is refused with E6002", window, TransferUnits{RightID: window.ID(), TransferID: "T9", From: "issuer", To: "b", Quantity: 1}, nil,
			time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC), CheckRightNotYetValid, ""},
		{"a retried transfer with the same id and fields is answered as recorded before (E3003)", r, TransferUnits{RightID: r.ID(), TransferID: "T1", From: "issuer", To: "a", Quantity: 100, Reference: "ref", Price: &Price{100, "CNY"}}, nil, t0, CheckDuplicateTransferID, "transfer_id"},
		{"a transfer id reused with another quantity is refused with E3004", r, TransferUnits{RightID: r.ID(), TransferID: "T1", From: "issuer", To: "a", Quantity: 99, Reference: "ref", Price: &Price{100, "CNY"}}, nil, t0, CheckTransferIDReused, "transfer_id"},
		{"a transfer id reused with another price is refused with E3004", r, TransferUnits{RightID: r.ID(), TransferID: "T1", From: "issuer", To: "a", Quantity: 100, Reference: "ref", Price: &Price{101, "CNY"}}, nil, t0, CheckTransferIDReused, "transfer_id"},
		{"a transfer id reused for another range is refused with E3004", r, TransferUnits{RightID: r.ID(), TransferID: "T1", From: "issuer", To: "a", Range: rng(2, 101), Reference: "ref", Price: &Price{100, "CNY"}}, nil, t0, CheckTransferIDReused, "transfer_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := tt.accounts
			if lookup == nil {
				lookup = allOpen
			}
			before := tt.right.Clone()
			_, err := DecideTransfer(tt.right, tt.cmd, lookup, tt.now)
			expectCheck(t, err, tt.want, tt.field)
			if !reflect.DeepEqual(tt.right, before) {
				t.Fatal("a refused decision changed the state")
			}
		})
	}
	t.Run("a retry is not a refusal: it names the revision of the recorded transfer; a re-used id names the original's", func(t *testing.T) {
		retry := TransferUnits{RightID: r.ID(), TransferID: "T1", From: "issuer", To: "a", Quantity: 100, Reference: "ref", Price: &Price{100, "CNY"}}
		_, err := DecideTransfer(r, retry, allOpen, t0)
		var before *RecordedBefore
		if !errors.As(err, &before) || before.Revision != 1 {
			t.Fatalf("a retry of the transfer recorded at revision 1: %v", err)
		}
		if _, isRefusal := RejectionOf(err); isRefusal || len(ViolationsOf(err)) > 0 {
			t.Fatalf("a retry reads as a refusal: %v", err)
		}
		retry.Quantity = 99
		_, err = DecideTransfer(r, retry, allOpen, t0)
		var reused *IDReused
		if !errors.As(err, &reused) || reused.Revision != 1 || !errors.Is(err, CheckTransferIDReused) {
			t.Fatalf("a re-used id: %v", err)
		}
	})
	t.Run("a retry by range of a transfer recorded by range is recognised as the same", func(t *testing.T) {
		r := rightWithHistory(t)
		c := TransferUnits{RightID: r.ID(), TransferID: "T2", From: "issuer", To: "b", Range: rng(500, 520)}
		transfer(t, &r, c)
		_, err := DecideTransfer(r, c, allOpen, t0)
		expectCheck(t, err, CheckDuplicateTransferID, "transfer_id")
	})
	t.Run("a retry is recognised even after the sender is suspended", func(t *testing.T) {
		_, err := DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "T1", From: "issuer", To: "a", Quantity: 100, Reference: "ref", Price: &Price{100, "CNY"}},
			status("issuer", AccountStatusSuspended), t0)
		expectCheck(t, err, CheckDuplicateTransferID, "transfer_id")
	})
	t.Run("a restricted account may receive units", func(t *testing.T) {
		if _, err := DecideTransfer(r, cmd(func(*TransferUnits) {}), status("b", AccountStatusRestricted), t0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a transfer at the first instant of validity is accepted", func(t *testing.T) {
		if _, err := DecideTransfer(window, TransferUnits{RightID: window.ID(), TransferID: "T9", From: "issuer", To: "b", Quantity: 1}, allOpen, window.ValidFrom()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a transfer by range that was held but moved on is refused with E5002", func(t *testing.T) {
		_, err := DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "T9", From: "issuer", To: "b", Range: rng(50, 60)}, allOpen, t0)
		expectCheck(t, err, CheckSerialRangeNotHeld, "range")
	})
	t.Run("the event does not share the caller's price", func(t *testing.T) {
		p := &Price{100, "CNY"}
		events, err := DecideTransfer(r, cmd(func(c *TransferUnits) { c.Price = p }), allOpen, t0)
		if err != nil {
			t.Fatal(err)
		}
		p.Amount = 1
		if events[0].(UnitsTransferred).TradePrice.Amount != 100 {
			t.Fatal("event shares the price")
		}
	})
}

func TestRetirement(t *testing.T) {
	t.Run("retired units move to the holder's retired blocks for good", func(t *testing.T) {
		r := rightWithHistory(t)
		h := r.Holding("a")
		if h.Available != 90 || h.Retired != 10 || !equalBlocks(h.RetiredBlocks, blocks(1, 10)) || !equalBlocks(h.AvailableBlocks, blocks(11, 100)) {
			t.Fatalf("holding %+v", h)
		}
		e := retire(t, &r, RetireUnits{RightID: r.ID(), RetirementID: "R2", Holder: "a", Range: rng(50, 59), Purpose: RetirementPurposeVoluntary,
			Beneficiary: "Wuhan Marathon 2025", Reason: "event offsetting"})
		want := UnitsRetired{RightID: r.ID(), RetirementID: "R2", Holder: "a", Blocks: blocks(50, 59), Quantity: 10, Purpose: RetirementPurposeVoluntary,
			Beneficiary: "Wuhan Marathon 2025", Reason: "event offsetting", RetiredAt: t0}
		if !reflect.DeepEqual(e, want) || e.StreamID() != "right-"+r.ID() || e.EventType() != EventTypeUnitsRetired || !e.OccurredAt().Equal(t0) {
			t.Fatalf("event %+v", e)
		}
		if h := r.Holding("a"); !equalBlocks(h.RetiredBlocks, blocks(1, 10, 50, 59)) || h.Retired != 20 {
			t.Fatalf("holding %+v", h)
		}
		if tot := r.Totals(); tot.Retired != 20 || tot.Available != 9980 || !r.HasRetirement("R2") || r.HasRetirement("R3") || !r.HasTransfer("T1") {
			t.Fatalf("totals %+v", tot)
		}
	})
	t.Run("a holding with only retired units is kept", func(t *testing.T) {
		r := rightWithHistory(t)
		retire(t, &r, RetireUnits{RightID: r.ID(), RetirementID: "R2", Holder: "a", Quantity: 90, Purpose: RetirementPurposeCompliance, CompliancePeriod: "2025"})
		if h := r.Holding("a"); h.Available != 0 || h.Retired != 100 || len(r.Holdings()) != 2 {
			t.Fatalf("holding %+v", h)
		}
	})
	t.Run("a restricted account may retire", func(t *testing.T) {
		r := rightWithHistory(t)
		_, err := DecideRetire(r, RetireUnits{RightID: r.ID(), RetirementID: "R2", Holder: "a", Quantity: 1, Purpose: RetirementPurposeCompliance, CompliancePeriod: "2025"},
			accounts(nil, AccountView{ID: "a", Status: AccountStatusRestricted}), t0)
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("allowances may be banked into a later compliance period", func(t *testing.T) {
		r := rightWithHistory(t)
		if _, err := DecideRetire(r, RetireUnits{RightID: r.ID(), RetirementID: "R2", Holder: "a", Quantity: 1, Purpose: RetirementPurposeCompliance, CompliancePeriod: "2026"}, allOpen, t0); err != nil {
			t.Fatal(err)
		}
	})

	r := rightWithHistory(t)
	window := register(t, waterCommand())
	cmd := func(change func(*RetireUnits)) RetireUnits {
		c := RetireUnits{RightID: r.ID(), RetirementID: "R9", Holder: "a", Quantity: 5, Purpose: RetirementPurposeCompliance, CompliancePeriod: "2025"}
		change(&c)
		return c
	}
	tests := []struct {
		name     string
		right    Right
		cmd      RetireUnits
		accounts AccountLookup
		now      time.Time
		want     Check
		field    string
	}{
		{"retiring more than the available units is refused with E5001", r, cmd(func(c *RetireUnits) { c.Quantity = 91 }), nil, t0, CheckInsufficientAvailableUnits, "quantity"},
		{"retiring units already retired is refused with E5003", r, cmd(func(c *RetireUnits) { c.Quantity = 0; c.Range = rng(10, 12) }), nil, t0, CheckUnitsAlreadyRetired, "range"},
		{"retiring a range held by another is refused with E5002", r, cmd(func(c *RetireUnits) { c.Quantity = 0; c.Range = rng(101, 102) }), nil, t0, CheckSerialRangeNotHeld, "range"},
		{"retiring with both quantity and range is refused with E5004", r, cmd(func(c *RetireUnits) { c.Range = rng(11, 12) }), nil, t0, CheckQuantityOrRange, "quantity"},
		{"a malformed retirement id is refused with E1022", r, cmd(func(c *RetireUnits) { c.RetirementID = "" + "R/9" }), nil, t0, CheckInvalidRetirementID, "retirement_id"},
		{"a retirement without purpose is refused with E1004", r, cmd(func(c *RetireUnits) { c.Purpose = 0; c.CompliancePeriod = "" }), nil, t0, CheckInvalidEnumValue, "purpose"},
		{"a voluntary retirement without beneficiary is refused with E1003", r, cmd(func(c *RetireUnits) { c.Purpose = RetirementPurposeVoluntary; c.CompliancePeriod = "" }), nil, t0, CheckRequiredFieldMissing, "beneficiary"},
		{"a voluntary retirement with a compliance period is refused with E1015", r, cmd(func(c *RetireUnits) { c.Purpose = RetirementPurposeVoluntary; c.Beneficiary = "x" }), nil, t0, CheckInvalidCompliancePeriod, "compliance_period"},
		{"a compliance retirement without period is refused with E1003", r, cmd(func(c *RetireUnits) { c.CompliancePeriod = "" }), nil, t0, CheckRequiredFieldMissing, "compliance_period"},
		{"a malformed compliance period is refused with E1015", r, cmd(func(c *RetireUnits) { c.CompliancePeriod = "FY2025" }), nil, t0, CheckInvalidCompliancePeriod, "compliance_period"},
		{"surrendering 2025 allowances for 2023-2024 is refused with E6003", r, cmd(func(c *RetireUnits) { c.CompliancePeriod = "2023-2024" }), nil, t0, CheckVintageNotEligible, "compliance_period"},
		{"a retirement of an unknown right is refused with E2002", Right{}, cmd(func(*RetireUnits) {}), nil, t0, CheckRightNotFound, "right_id"},
		{"a retirement by an unknown account is refused with E2001", r, cmd(func(*RetireUnits) {}), accounts(nil), t0, CheckAccountNotFound, "holder"},
		{"a retirement by a suspended account is refused with E4003", r, cmd(func(*RetireUnits) {}), accounts(nil, AccountView{ID: "a", Status: AccountStatusSuspended}), t0, CheckAccountSuspended, "holder"},
		{"a retirement by a closed account is refused with E4004", r, cmd(func(*RetireUnits) {}), accounts(nil, AccountView{ID: "a", Status: AccountStatusClosed}), t0, CheckAccountClosed, "holder"},
		{"a retirement of an expired right is refused with E6001", window, RetireUnits{RightID: window.ID(), RetirementID: "R9", Holder: "issuer", Quantity: 5, Purpose: RetirementPurposeCompliance, CompliancePeriod: "2030"}, nil,
			time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), CheckRightExpired, ""},
		{"a retirement of a right not yet valid is refused with E6002", window, RetireUnits{RightID: window.ID(), RetirementID: "R9", Holder: "issuer", Quantity: 5, Purpose: RetirementPurposeCompliance, CompliancePeriod: "2024"}, nil,
			time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), CheckRightNotYetValid, ""},
		{"a retried retirement with the same id and fields is answered as recorded before (E3005)", r, RetireUnits{RightID: r.ID(), RetirementID: "R1", Holder: "a", Quantity: 10, Purpose: RetirementPurposeCompliance, CompliancePeriod: "2025"}, nil, t0, CheckDuplicateRetirementID, "retirement_id"},
		{"a retirement id reused with another beneficiary is refused with E3006", r, RetireUnits{RightID: r.ID(), RetirementID: "R1", Holder: "a", Quantity: 10, Purpose: RetirementPurposeCompliance, CompliancePeriod: "2025", Beneficiary: "x"}, nil, t0, CheckRetirementIDReused, "retirement_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := tt.accounts
			if lookup == nil {
				lookup = allOpen
			}
			before := tt.right.Clone()
			_, err := DecideRetire(tt.right, tt.cmd, lookup, tt.now)
			expectCheck(t, err, tt.want, tt.field)
			if !reflect.DeepEqual(tt.right, before) {
				t.Fatal("a refused decision changed the state")
			}
		})
	}
	t.Run("deciding without a time is a programming error", func(t *testing.T) {
		for _, err := range []error{
			func() error { _, err := DecideRetire(r, cmd(func(*RetireUnits) {}), allOpen, time.Time{}); return err }(),
			func() error { _, err := DecideTransfer(r, TransferUnits{}, allOpen, time.Time{}); return err }(),
			func() error { _, err := DecideRegisterRight(r, RegisterRight{}, allOpen, time.Time{}); return err }(),
			func() error {
				_, err := DecideChangeAccountStatus(Account{}, ChangeAccountStatus{}, time.Time{})
				return err
			}(),
		} {
			if _, ok := RejectionOf(err); err == nil || ok {
				t.Fatalf("got %v", err)
			}
		}
	})
}

func TestDecideNeverMutatesItsInput(t *testing.T) {
	r := rightWithHistory(t)
	// Fragment the holdings so that decisions walk several blocks.
	transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "F1", From: "issuer", To: "b", Range: rng(300, 310)})
	transfer(t, &r, TransferUnits{RightID: r.ID(), TransferID: "F2", From: "issuer", To: "b", Range: rng(400, 410)})
	before := r.Clone()
	decisions := []func() ([]Event, error){
		func() ([]Event, error) {
			return DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "X1", From: "issuer", To: "a", Quantity: 500}, allOpen, t0)
		},
		func() ([]Event, error) {
			return DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "X2", From: "b", To: "a", Range: rng(301, 305)}, allOpen, t0)
		},
		func() ([]Event, error) {
			return DecideRetire(r, RetireUnits{RightID: r.ID(), RetirementID: "X3", Holder: "b", Quantity: 15, Purpose: RetirementPurposeVoluntary, Beneficiary: "x"}, allOpen, t0)
		},
		func() ([]Event, error) { return DecideRegisterRight(r, ceaCommand(), allOpen, t0) },
		func() ([]Event, error) {
			return DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "X4", From: "b", To: "a", Quantity: 999}, allOpen, t0)
		},
	}
	for i, decide := range decisions {
		events, _ := decide()
		if !reflect.DeepEqual(r, before) {
			t.Fatalf("decision %d changed the state", i)
		}
		// Applying the events to a clone must not reach back into r either.
		c := r.Clone()
		for _, e := range events {
			if err := c.Apply(e); err != nil {
				t.Fatalf("decision %d: %v", i, err)
			}
		}
		if !reflect.DeepEqual(r, before) {
			t.Fatalf("applying decision %d to a clone changed the original", i)
		}
	}
}
