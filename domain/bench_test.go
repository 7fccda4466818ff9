package domain

import (
	"strconv"
	"testing"
)

// BenchmarkDecideApplyTransfer measures deciding and applying one settlement
// on a hot right: a transfer by quantity from a holder to one of 1000
// accounts, which then sends part of it on by serial range, so that
// holdings fragment as they do under real trading.
func BenchmarkDecideApplyTransfer(b *testing.B) {
	asTheRegistryApplies(b)
	cmd := ceaCommand()
	cmd.Quantity = MaxQuantity
	r := register(b, cmd)
	const accountsN = 1000
	ids := make([]string, accountsN)
	for i := range ids {
		ids[i] = "acct" + strconv.Itoa(i)
	}
	transferIDs := make([]string, b.N)
	for i := range transferIDs {
		transferIDs[i] = "T" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := TransferUnits{RightID: r.ID(), TransferID: transferIDs[i], Quantity: 7}
		if i%2 == 0 {
			c.From, c.To = "issuer", ids[i%accountsN]
		} else {
			// Send on 3 of the 7 units just received, from the middle.
			from := ids[(i-1)%accountsN]
			avail := r.holdings[from].Blocks(StateAvailable)
			last := avail[len(avail)-1]
			c.From, c.To = from, ids[(i*7+3)%accountsN]
			if c.From == c.To {
				c.To = "issuer"
			}
			c.Quantity, c.Range = 0, &Block{last.End - 4, last.End - 2}
		}
		events, err := DecideTransfer(r, c, allOpen, t0)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Apply(events[0]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := r.CheckInvariants(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDecideTransferFragmented measures deciding a transfer by range for
// a holder whose holding is split into 100000 blocks.
func BenchmarkDecideTransferFragmented(b *testing.B) {
	asTheRegistryApplies(b)
	cmd := ceaCommand()
	cmd.Quantity = 1_000_000
	r := register(b, cmd)
	h := r.holdings["issuer"]
	// Hand every other pair of serials to "a", leaving the issuer 250000 blocks.
	var gave []Block
	for s := int64(3); s <= cmd.Quantity; s += 4 {
		gave = append(gave, Block{s, s + 1})
	}
	if err := h.Take(StateAvailable, gave, BlocksTotal(gave)); err != nil {
		b.Fatal(err)
	}
	a := &Units{}
	a.Put(StateAvailable, gave, BlocksTotal(gave))
	r.holdings["a"] = a
	if err := r.CheckInvariants(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := int64(4*(i%200000) + 1)
		_, err := DecideTransfer(r, TransferUnits{RightID: r.ID(), TransferID: "T", From: "issuer", To: "b", Range: &Block{s, s + 1}}, allOpen, t0)
		if err != nil {
			b.Fatal(err)
		}
	}
}
