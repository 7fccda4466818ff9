package domain

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// oneOfEach returns one event of every type of the package, as a right's
// stream would hold them, keyed by type.
func oneOfEach() map[string]Event {
	bs := blocks(5, 9)
	return map[string]Event{
		EventTypeAccountOpened:        AccountOpened{AccountID: "a"},
		EventTypeAccountStatusChanged: AccountStatusChanged{AccountID: "a"},
		EventTypeAccountFrozen:        AccountFrozen{AccountID: "a", OrderNumber: "O"},
		EventTypeAccountUnfrozen:      AccountUnfrozen{AccountID: "a", OrderNumber: "O"},
		EventTypeTradeRefused:         TradeRefused{RightID: "r", ExchangeID: "X", TradeID: "T", CheckCode: "E5001"},
		EventTypeRightRegistered:      RightRegistered{RightID: "r", Quantity: 10, Serial: Block{1, 10}, Buffer: Block{9, 10}, HolderAccountID: "a"},
		EventTypeUnitsTransferred:     UnitsTransferred{RightID: "r", From: "a", To: "b", Blocks: bs, Quantity: 5},
		EventTypeUnitsRetired:         UnitsRetired{RightID: "r", Holder: "a", Blocks: bs, Quantity: 5},
		EventTypeTradeSettled:         TradeSettled{RightID: "r", Seller: "a", Buyer: "b", Blocks: bs, Quantity: 5},
		EventTypeUnitsPledged:         UnitsPledged{RightID: "r", Pledgor: "a", Pledgee: "bank", Blocks: bs, Quantity: 5},
		EventTypePledgeReleased:       PledgeReleased{RightID: "r", Pledgor: "a", Blocks: bs, Quantity: 5},
		EventTypePledgeEnforced:       PledgeEnforced{RightID: "r", Pledgor: "a", To: "bank", Blocks: bs, Quantity: 5},
		EventTypeUnitsFrozen:          UnitsFrozen{RightID: "r", Holder: "a", Blocks: bs, Quantity: 5},
		EventTypeUnitsUnfrozen:        UnitsUnfrozen{RightID: "r", Holder: "a", Blocks: bs, Quantity: 5},
		EventTypeUnitsReserved:        UnitsReserved{RightID: "r", Holder: "a", Blocks: bs, Quantity: 5},
		EventTypeReservationSettled:   ReservationSettled{RightID: "r", Seller: "a", Buyer: "b", Blocks: bs, Quantity: 5},
		EventTypeReservationVoided:    ReservationVoided{RightID: "r", Holder: "a", Blocks: bs, Quantity: 5},
		EventTypeReservationExpired:   ReservationExpired{RightID: "r", Holder: "a", Blocks: bs, Quantity: 5},
		EventTypeUnitsCancelled:       UnitsCancelled{RightID: "r", Holder: "a", Blocks: bs, Quantity: 5},
		EventTypeRightExpired:         RightExpired{RightID: "r", Blocks: bs, Quantity: 5},
		EventTypeTransactionReversed:  TransactionReversed{RightID: "r", OriginalKind: TransactionKindTransfer, From: "b", To: "a", Blocks: bs, Quantity: 5},
	}
}

func TestMovementsOfEveryEvent(t *testing.T) {
	at := func(account string, s UnitState) Place { return Place{Account: account, State: s} }
	own := func(s UnitState) Place { return Place{State: s} }
	bs := blocks(5, 9)
	want := map[string][]Movement{
		EventTypeRightRegistered: {
			{Right: "r", From: own(StateUnissued), To: at("a", StateAvailable), Blocks: blocks(1, 8), Quantity: 8},
			{Right: "r", From: own(StateUnissued), To: own(StateBuffer), Blocks: blocks(9, 10), Quantity: 2}},
		EventTypeUnitsTransferred:    {{Right: "r", From: at("a", StateAvailable), To: at("b", StateAvailable), Blocks: bs, Quantity: 5}},
		EventTypeUnitsRetired:        {{Right: "r", From: at("a", StateAvailable), To: at("a", StateRetired), Blocks: bs, Quantity: 5}},
		EventTypeTradeSettled:        {{Right: "r", From: at("a", StateAvailable), To: at("b", StateAvailable), Blocks: bs, Quantity: 5}},
		EventTypeUnitsPledged:        {{Right: "r", From: at("a", StateAvailable), To: at("a", StatePledged), Blocks: bs, Quantity: 5}},
		EventTypePledgeReleased:      {{Right: "r", From: at("a", StatePledged), To: at("a", StateAvailable), Blocks: bs, Quantity: 5}},
		EventTypePledgeEnforced:      {{Right: "r", From: at("a", StatePledged), To: at("bank", StateAvailable), Blocks: bs, Quantity: 5}},
		EventTypeUnitsFrozen:         {{Right: "r", From: at("a", StateAvailable), To: at("a", StateFrozen), Blocks: bs, Quantity: 5}},
		EventTypeUnitsUnfrozen:       {{Right: "r", From: at("a", StateFrozen), To: at("a", StateAvailable), Blocks: bs, Quantity: 5}},
		EventTypeUnitsReserved:       {{Right: "r", From: at("a", StateAvailable), To: at("a", StateReserved), Blocks: bs, Quantity: 5}},
		EventTypeReservationSettled:  {{Right: "r", From: at("a", StateReserved), To: at("b", StateAvailable), Blocks: bs, Quantity: 5}},
		EventTypeReservationVoided:   {{Right: "r", From: at("a", StateReserved), To: at("a", StateAvailable), Blocks: bs, Quantity: 5}},
		EventTypeReservationExpired:  {{Right: "r", From: at("a", StateReserved), To: at("a", StateAvailable), Blocks: bs, Quantity: 5}},
		EventTypeUnitsCancelled:      {{Right: "r", From: at("a", StateAvailable), To: own(StateCancelled), Blocks: bs, Quantity: 5}},
		EventTypeRightExpired:        {{Right: "r", From: own(StateOutstanding), To: own(StateExpired), Blocks: bs, Quantity: 5}},
		EventTypeTransactionReversed: {{Right: "r", From: at("b", StateAvailable), To: at("a", StateAvailable), Blocks: bs, Quantity: 5, Reversal: true}},
	}
	events := oneOfEach()
	for _, typ := range EventTypes() {
		e, ok := events[typ]
		if !ok {
			t.Fatalf("no sample event of type %s", typ)
		}
		got, err := Movements(e)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if !reflect.DeepEqual(got, want[typ]) {
			t.Errorf("%s moves\n%+v\nwant\n%+v", typ, got, want[typ])
		}
		if moves := slices.Contains(UnitEventTypes(), typ); moves != (len(got) > 0) {
			t.Errorf("%s: listed in UnitEventTypes %v, moves %d", typ, moves, len(got))
		}
	}
	if len(events) != len(EventTypes()) {
		t.Errorf("%d sample events, %d event types", len(events), len(EventTypes()))
	}
}

func TestMovementsBySource(t *testing.T) {
	bs := blocks(5, 9)
	tests := []struct {
		name string
		e    Event
		from Place
	}{
		{"a trade from a reservation takes reserved units", TradeSettled{Seller: "a", Buyer: "b", ReservationID: "V", Blocks: bs, Quantity: 5}, Place{"a", StateReserved}},
		{"a cancellation under a freeze order takes frozen units", UnitsCancelled{Holder: "a", OrderNumber: "O", Blocks: bs, Quantity: 5}, Place{"a", StateFrozen}},
		{"a cancellation without a holder takes the buffer pool", UnitsCancelled{Blocks: bs, Quantity: 5}, Place{State: StateBuffer}},
		{"a reversed retirement takes retired units back", TransactionReversed{OriginalKind: TransactionKindRetirement, To: "a", Blocks: bs, Quantity: 5}, Place{"a", StateRetired}},
		{"a reversed cancellation takes cancelled units back", TransactionReversed{OriginalKind: TransactionKindCancellation, To: "a", Blocks: bs, Quantity: 5}, Place{State: StateCancelled}},
		{"a reversed trade takes the buyer's units back", TransactionReversed{OriginalKind: TransactionKindTrade, From: "b", To: "a", Blocks: bs, Quantity: 5}, Place{"b", StateAvailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Movements(tt.e)
			if err != nil || len(ms) != 1 || ms[0].From != tt.from {
				t.Fatalf("Movements = %+v, %v; want one from %s", ms, err, tt.from)
			}
		})
	}
	t.Run("an expiry with nothing left moves nothing, as one empty movement", func(t *testing.T) {
		ms, err := Movements(RightExpired{RightID: "r"})
		if err != nil || len(ms) != 1 || ms[0].Quantity != 0 || len(ms[0].Blocks) != 0 {
			t.Fatalf("Movements = %+v, %v", ms, err)
		}
	})
	t.Run("a registration of the whole issuance to the buffer pool moves nothing to a holder", func(t *testing.T) {
		ms, err := Movements(RightRegistered{Quantity: 4, Serial: Block{1, 4}, Buffer: Block{1, 4}})
		if err != nil || len(ms) != 1 || ms[0].To != (Place{State: StateBuffer}) {
			t.Fatalf("Movements = %+v, %v", ms, err)
		}
	})
}

func TestMovementsRefuseEventsThatCannotMoveUnits(t *testing.T) {
	for _, e := range []Event{
		UnitsTransferred{From: "a", To: "b", Blocks: blocks(1, 2), Quantity: 1},
		UnitsTransferred{From: "a", To: "b", Blocks: blocks(3, 2), Quantity: 0},
		UnitsTransferred{From: "a", To: "b", Quantity: 0},
		UnitsRetired{Holder: "a", Blocks: blocks(5, 9, 1, 2), Quantity: 7},
		RightExpired{Blocks: blocks(1, 2), Quantity: 3},
		RightRegistered{Quantity: 5, Serial: Block{1, 5}, Buffer: Block{4, 6}},
		TransactionReversed{OriginalKind: TransactionKindUnspecified, To: "a", Blocks: blocks(1, 1), Quantity: 1},
	} {
		if ms, err := Movements(e); !errors.Is(err, ErrEventDoesNotApply) {
			t.Errorf("Movements(%+v) = %+v, %v", e, ms, err)
		}
	}
}

func TestAppendMovementsAllocatesNothingForOneMovement(t *testing.T) {
	e := Event(UnitsTransferred{From: "a", To: "b", Blocks: blocks(1, 2), Quantity: 2})
	allocs := testing.AllocsPerRun(100, func() {
		var buf [2]Movement
		if ms, err := AppendMovements(buf[:0], e); err != nil || len(ms) != 1 {
			t.Fatal("Movements failed")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

func TestUnits(t *testing.T) {
	var u Units
	if !u.Empty() {
		t.Fatal("the zero Units holds something")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(u.Put(StateAvailable, blocks(1, 10), 10))
	must(u.Move(StateAvailable, StatePledged, blocks(3, 4), 2))
	must(u.Move(StateAvailable, StateRetired, blocks(9, 10), 2))
	if u.Count(StateAvailable) != 6 || !equalBlocks(u.Blocks(StateAvailable), blocks(1, 2, 5, 8)) ||
		u.Count(StatePledged) != 2 || u.Count(StateRetired) != 2 {
		t.Fatalf("after the moves: %+v", u)
	}
	must(u.Check())
	before := u.Clone()
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"taking serials the state does not hold", u.Take(StateAvailable, blocks(3, 3), 1)},
		{"taking more than the state holds", u.Take(StatePledged, blocks(3, 4), 3)},
		{"putting serials the state holds", u.Put(StateAvailable, blocks(5, 5), 1)},
		{"moving serials the source does not hold", u.Move(StatePledged, StateAvailable, blocks(1, 1), 1)},
		{"moving to where the units are", u.Move(StateAvailable, StateAvailable, blocks(1, 1), 1)},
	} {
		if tt.err == nil {
			t.Errorf("%s is allowed", tt.name)
		}
	}
	if !reflect.DeepEqual(u, before) {
		t.Fatalf("refused changes changed the units:\n%+v\n%+v", u, before)
	}
	if bs, n := u.Clear(StatePledged); n != 2 || !equalBlocks(bs, blocks(3, 4)) || u.Count(StatePledged) != 0 {
		t.Fatalf("Clear = %v, %d", bs, n)
	}
	t.Run("UnitsOf reads stored lists and refuses lists that are not normalised", func(t *testing.T) {
		got, err := UnitsOf([HeldStates][]Block{StateAvailable: blocks(1, 2), StateRetired: blocks(5, 9)})
		if err != nil || got.Count(StateAvailable) != 2 || got.Count(StateRetired) != 5 {
			t.Fatalf("UnitsOf = %+v, %v", got, err)
		}
		if _, err := UnitsOf([HeldStates][]Block{StateFrozen: blocks(1, 2, 3, 4)}); err == nil {
			t.Fatal("UnitsOf accepted touching blocks")
		}
	})
	t.Run("Check finds a serial in two states", func(t *testing.T) {
		bad, _ := UnitsOf([HeldStates][]Block{StateAvailable: blocks(1, 2), StateReserved: blocks(2, 3)})
		if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "two states") {
			t.Fatalf("Check = %v", err)
		}
	})
}

func TestVerifyEveryApplyCatchesABrokenInvariant(t *testing.T) {
	if !VerifyingApplies() {
		t.Fatal("the tests of this package run without verifying every apply")
	}
	r := lifecycleRight(t)
	// Corrupt a count, then apply a valid event: the check after it panics.
	r.holdings["a"].lists[StateAvailable].count++
	r.held[StateAvailable]++
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), "breaks an invariant") {
			t.Fatalf("recovered %v", p)
		}
	}()
	r.Apply(UnitsTransferred{RightID: r.ID(), TransferID: "T-x", From: "b", To: "c", Blocks: blocks(9001, 9001), Quantity: 1})
	t.Fatal("Apply did not panic")
}
