package domain

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestConservationUnderRandomTransfersAndRetirements runs a long, seeded
// random sequence of transfers and retirements, by quantity and by range,
// including ones that must be refused, and after every step checks the
// invariants and compares every holding with a model that tracks the owner
// and state of each serial one by one.
func TestConservationUnderRandomTransfersAndRetirements(t *testing.T) {
	cmd := sinkCommand() // has a buffer pool, which must never move
	r := register(t, cmd)
	n := cmd.Quantity
	accountIDs := []string{"issuer", "a", "b", "c", "d", "e"}

	type unit struct {
		owner   string
		retired bool
		buffer  bool
	}
	model := make([]unit, n+1)
	for s := int64(1); s <= n; s++ {
		model[s] = unit{owner: "issuer", buffer: r.Buffer().Valid() && s >= r.Buffer().Start}
	}
	rnd := rand.New(rand.NewPCG(2025, 3))
	var accepted, refused int
	for step := range 4000 {
		from := accountIDs[rnd.IntN(len(accountIDs))]
		to := accountIDs[rnd.IntN(len(accountIDs))]
		held := r.holdings[from]
		var quantity int64
		var rg *Block
		switch k := rnd.IntN(10); {
		case k < 4:
			quantity = 1 + rnd.Int64N(300)
		case k < 8 && held != nil && len(held.Blocks(StateAvailable)) > 0:
			// Mostly a range the holder has, so that most steps succeed and
			// split blocks; the other cases exercise the refusals.
			avail := held.Blocks(StateAvailable)
			b := avail[rnd.IntN(len(avail))]
			s := b.Start + rnd.Int64N(b.Size())
			rg = &Block{s, min(b.End, s+rnd.Int64N(40))}
		default:
			s := 1 + rnd.Int64N(n)
			rg = &Block{s, min(n, s+rnd.Int64N(50))}
		}
		id := fmt.Sprintf("S%d", step)
		var events []Event
		var err error
		retiring := rnd.IntN(5) == 0
		if retiring {
			events, err = DecideRetire(r, RetireUnits{RightID: r.ID(), RetirementID: id, Holder: from, Quantity: quantity, Range: rg,
				Purpose: RetirementPurposeVoluntary, Beneficiary: "b"}, allOpen, t0)
		} else {
			events, err = DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: id, From: from, To: to, Quantity: quantity, Range: rg}, allOpen, t0)
		}
		if err != nil {
			if _, ok := RejectionOf(err); !ok {
				t.Fatalf("step %d: %v is not a rejection", step, err)
			}
			refused++
			continue
		}
		accepted++
		for _, e := range events {
			if err := r.Apply(e); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
		var moved []Block
		switch e := events[0].(type) {
		case UnitsTransferred:
			moved = e.Blocks
		case UnitsRetired:
			moved = e.Blocks
		}
		for _, b := range moved {
			for s := b.Start; s <= b.End; s++ {
				u := &model[s]
				if u.owner != from || u.retired || u.buffer {
					t.Fatalf("step %d: serial %d moved from %s but is %+v", step, s, from, *u)
				}
				if retiring {
					u.retired = true
				} else {
					u.owner = to
				}
			}
		}
		if err := r.CheckInvariants(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	// Compare the final holdings with the model.
	want := map[string]*HoldingView{}
	var buffer int64
	for s := int64(1); s <= n; s++ {
		u := model[s]
		if u.buffer {
			buffer++
			continue
		}
		h := want[u.owner]
		if h == nil {
			h = &HoldingView{AccountID: u.owner}
			want[u.owner] = h
		}
		b := []Block{{s, s}}
		if u.retired {
			h.Retired++
			h.RetiredBlocks, _ = AddBlocks(h.RetiredBlocks, b)
		} else {
			h.Available++
			h.AvailableBlocks, _ = AddBlocks(h.AvailableBlocks, b)
		}
	}
	for _, id := range accountIDs {
		got, w := r.Holding(id), want[id]
		if w == nil {
			w = &HoldingView{AccountID: id}
		}
		if got.Available != w.Available || got.Retired != w.Retired ||
			!equalBlocksOrEmpty(got.AvailableBlocks, w.AvailableBlocks) || !equalBlocksOrEmpty(got.RetiredBlocks, w.RetiredBlocks) {
			t.Fatalf("%s holds %+v, model %+v", id, got, *w)
		}
	}
	if r.Totals().Buffer != buffer {
		t.Fatalf("buffer %d, model %d", r.Totals().Buffer, buffer)
	}
	if accepted < 1000 || refused < 100 {
		t.Fatalf("the sequence is not mixed enough: %d accepted, %d refused", accepted, refused)
	}
	// Rebuilding from scratch must give the same state as applying step by step.
	c := r.Clone()
	if err := c.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

func equalBlocksOrEmpty(a, b []Block) bool {
	return (len(a) == 0 && len(b) == 0) || equalBlocks(a, b)
}

func TestCheckInvariantsDetectsCorruption(t *testing.T) {
	base := rightWithHistory(t)
	tests := []struct {
		name    string
		corrupt func(r *Right)
	}{
		{"a unit counted twice", func(r *Right) {
			b := &Units{}
			b.Put(StateAvailable, blocks(1, 1), 1)
			r.holdings["b"] = b
			r.held[StateAvailable]++
			r.quantity++
		}},
		{"a unit held by no one", func(r *Right) {
			r.holdings["a"].Take(StateAvailable, blocks(50, 50), 1)
			r.held[StateAvailable]--
			r.quantity--
		}},
		{"a count that disagrees with the blocks", func(r *Right) {
			r.holdings["a"].lists[StateAvailable].count++
			r.held[StateAvailable]++
		}},
		{"a total that disagrees with the holdings", func(r *Right) { r.held[StateRetired]++ }},
		{"more units than issued", func(r *Right) { r.quantity-- }},
		{"blocks that are not normalised", func(r *Right) { r.holdings["a"].lists[StateRetired].blocks = blocks(1, 5, 6, 10) }},
		{"a negative count", func(r *Right) { r.holdings["a"].lists[StateRetired].count = -1 }},
		{"an empty holding kept", func(r *Right) { r.holdings["z"] = &Units{} }},
		{"a buffer pool of two blocks", func(r *Right) {
			// Two serials of the issuer apart from each other go to the
			// pool, so that everything but the pool's shape adds up.
			s := r.holdings["issuer"].Blocks(StateAvailable)[0].Start
			two := blocks(s, s, s+2, s+2)
			r.holdings["issuer"].Take(StateAvailable, two, 2)
			r.held[StateAvailable] -= 2
			r.ownList(StateBuffer).put(two, 2)
		}},
		{"units beyond the issuance", func(r *Right) {
			// Move serial 1 from a's retired blocks to a serial past the end,
			// so that every count still adds up and only coverage is wrong.
			r.holdings["a"].Take(StateRetired, blocks(1, 1), 1)
			r.held[StateRetired]--
			r.holdings["issuer"].Put(StateAvailable, blocks(10001, 10001), 1)
			r.held[StateAvailable]++
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" breaks the invariants", func(t *testing.T) {
			r := base.Clone()
			tt.corrupt(&r)
			if err := r.CheckInvariants(); err == nil {
				t.Fatal("CheckInvariants found nothing")
			}
		})
	}
	if err := base.CheckInvariants(); err != nil {
		t.Fatalf("corrupting clones reached the original: %v", err)
	}
	var empty Right
	if err := empty.CheckInvariants(); err != nil || empty.String() != "right(unregistered)" {
		t.Fatal(err)
	}
}
