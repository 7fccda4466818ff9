package domain

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBlockBasics(t *testing.T) {
	b := Block{3, 7}
	if b.Size() != 5 || !b.Valid() || b.IsZero() || b.String() != "[3,7]" {
		t.Fatalf("basics of %v wrong", b)
	}
	if !b.Contains(Block{3, 3}) || !b.Contains(Block{4, 7}) || b.Contains(Block{2, 3}) || b.Contains(Block{7, 8}) {
		t.Fatal("Contains wrong")
	}
	if !b.Overlaps(Block{7, 9}) || !b.Overlaps(Block{1, 3}) || b.Overlaps(Block{8, 9}) || b.Overlaps(Block{1, 2}) {
		t.Fatal("Overlaps wrong")
	}
	for _, bad := range []Block{{0, 3}, {5, 4}, {-1, 2}, {}} {
		if bad.Valid() {
			t.Errorf("%v is valid, want invalid", bad)
		}
	}
}

func TestBlocksNormalized(t *testing.T) {
	tests := []struct {
		name   string
		blocks []Block
		want   bool
	}{
		{"an empty list is normalised", nil, true},
		{"sorted blocks with gaps are normalised", blocks(1, 2, 4, 5, 9, 9), true},
		{"touching blocks are not coalesced, so not normalised", blocks(1, 2, 3, 5), false},
		{"overlapping blocks are not normalised", blocks(1, 4, 3, 5), false},
		{"unsorted blocks are not normalised", blocks(5, 6, 1, 2), false},
		{"an invalid block is not normalised", blocks(3, 2), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BlocksNormalized(tt.blocks); got != tt.want {
				t.Fatalf("BlocksNormalized(%v) = %v", tt.blocks, got)
			}
		})
	}
}

func TestNormalizeBlocks(t *testing.T) {
	tests := []struct {
		name    string
		in      []Block
		want    []Block
		wantErr bool
	}{
		{"unsorted blocks are sorted", blocks(7, 9, 1, 2), blocks(1, 2, 7, 9), false},
		{"touching blocks merge into one", blocks(4, 6, 1, 3, 7, 7), blocks(1, 7), false},
		{"overlapping blocks are refused, since a serial would count twice", blocks(1, 5, 5, 6), nil, true},
		{"invalid blocks are refused", blocks(2, 1), nil, true},
		{"an empty list stays empty", nil, []Block{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got, err := NormalizeBlocks(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !equalBlocks(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if !equalBlocks(in, tt.in) {
				t.Fatalf("input changed to %v", tt.in)
			}
		})
	}
}

func TestTakeLowest(t *testing.T) {
	held := blocks(1, 3, 10, 14, 20, 20)
	tests := []struct {
		name string
		n    int64
		want []Block
		ok   bool
	}{
		{"taking part of the first block splits it", 2, blocks(1, 2), true},
		{"taking exactly the first block takes it whole", 3, blocks(1, 3), true},
		{"taking across blocks takes lowest serials first", 5, blocks(1, 3, 10, 11), true},
		{"taking everything takes every block", 9, held, true},
		{"taking more than held fails", 10, nil, false},
		{"taking zero takes nothing", 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(held)
			got, ok := TakeLowest(held, tt.n)
			if ok != tt.ok || !equalBlocks(got, tt.want) {
				t.Fatalf("TakeLowest(%d) = %v, %v; want %v, %v", tt.n, got, ok, tt.want, tt.ok)
			}
			if ok && BlocksTotal(got) != tt.n {
				t.Fatalf("took %d units, want %d", BlocksTotal(got), tt.n)
			}
			if !equalBlocks(held, before) {
				t.Fatalf("TakeLowest changed its input to %v", held)
			}
		})
	}
}

func TestSubtractBlocks(t *testing.T) {
	tests := []struct {
		name string
		from []Block
		rem  []Block
		want []Block
		err  bool
	}{
		{"removing the middle of a block splits it in two", blocks(1, 10), blocks(4, 6), blocks(1, 3, 7, 10), false},
		{"removing the start of a block shortens it", blocks(1, 10), blocks(1, 4), blocks(5, 10), false},
		{"removing the end of a block shortens it", blocks(1, 10), blocks(8, 10), blocks(1, 7), false},
		{"removing a whole block drops it", blocks(1, 2, 5, 6, 9, 9), blocks(5, 6), blocks(1, 2, 9, 9), false},
		{"removing the lowest blocks drops them from the front", blocks(1, 2, 5, 6, 9, 12), blocks(1, 2, 5, 6, 9, 9), blocks(10, 12), false},
		{"removing several pieces of several blocks", blocks(1, 10, 20, 30, 40, 50), blocks(2, 3, 5, 5, 25, 30, 40, 40), blocks(1, 1, 4, 4, 6, 10, 20, 24, 41, 50), false},
		{"removing everything leaves nothing", blocks(3, 4, 8, 9), blocks(3, 4, 8, 9), []Block{}, false},
		{"removing nothing changes nothing", blocks(3, 4), nil, blocks(3, 4), false},
		{"removing serials not held is refused", blocks(1, 5), blocks(4, 6), nil, true},
		{"removing a range across a gap is refused", blocks(1, 5, 7, 9), blocks(5, 7), nil, true},
		{"removing from an empty list is refused", nil, blocks(1, 1), nil, true},
		{"removing overlapping pieces is refused", blocks(1, 10), blocks(2, 5, 4, 6), nil, true},
		{"removing unsorted pieces is refused", blocks(1, 10), blocks(6, 7, 2, 3), nil, true},
		{"removing an invalid block is refused", blocks(1, 10), blocks(4, 3), nil, true},
		{"removing beyond the last block is refused", blocks(1, 10), blocks(11, 12), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := slices.Clone(tt.from)
			got, err := SubtractBlocks(from, tt.rem)
			if tt.err {
				if !errors.Is(err, ErrBlocksNotHeld) {
					t.Fatalf("err = %v, want ErrBlocksNotHeld", err)
				}
				if !equalBlocks(from, tt.from) {
					t.Fatalf("a refused subtraction changed the list to %v", from)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalBlocks(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if BlocksTotal(got)+BlocksTotal(tt.rem) != BlocksTotal(tt.from) {
				t.Fatalf("units not conserved: %d + %d != %d", BlocksTotal(got), BlocksTotal(tt.rem), BlocksTotal(tt.from))
			}
		})
	}
}

func TestAddBlocks(t *testing.T) {
	tests := []struct {
		name string
		to   []Block
		add  []Block
		want []Block
		err  bool
	}{
		{"adding to an empty list", nil, blocks(3, 4), blocks(3, 4), false},
		{"adding a touching block merges on the left", blocks(1, 3), blocks(4, 6), blocks(1, 6), false},
		{"adding a touching block merges on the right", blocks(5, 9), blocks(1, 4), blocks(1, 9), false},
		{"adding a block that fills a gap merges three into one", blocks(1, 3, 7, 9), blocks(4, 6), blocks(1, 9), false},
		{"adding a separate block keeps order", blocks(1, 3, 20, 25), blocks(10, 12), blocks(1, 3, 10, 12, 20, 25), false},
		{"adding at the end appends", blocks(1, 3), blocks(10, 12), blocks(1, 3, 10, 12), false},
		{"adding at the front prepends", blocks(10, 12), blocks(1, 3), blocks(1, 3, 10, 12), false},
		{"adding many blocks interleaves and coalesces", blocks(1, 2, 6, 7, 20, 21), blocks(3, 3, 9, 10, 12, 19, 30, 31), blocks(1, 3, 6, 7, 9, 10, 12, 21, 30, 31), false},
		{"adding nothing changes nothing", blocks(1, 2), nil, blocks(1, 2), false},
		{"adding a serial already held is refused", blocks(1, 5), blocks(5, 6), nil, true},
		{"adding a block inside a held block is refused", blocks(1, 10), blocks(3, 4), nil, true},
		{"adding overlapping blocks is refused", nil, blocks(1, 5, 3, 8), nil, true},
		{"adding an invalid block is refused", blocks(1, 2), blocks(9, 8), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := slices.Clone(tt.to)
			got, err := AddBlocks(to, tt.add)
			if tt.err {
				if !errors.Is(err, ErrBlocksOverlap) {
					t.Fatalf("err = %v, want ErrBlocksOverlap", err)
				}
				if !equalBlocks(to, tt.to) {
					t.Fatalf("a refused addition changed the list to %v", to)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalBlocks(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if !BlocksNormalized(got) || BlocksTotal(got) != BlocksTotal(tt.to)+BlocksTotal(tt.add) {
				t.Fatalf("result %v not normalised or not conserving units", got)
			}
		})
	}
}

func TestBlocksContainAndOverlap(t *testing.T) {
	held := blocks(1, 3, 10, 14, 20, 20)
	tests := []struct {
		r                 Block
		contain, overlaps bool
	}{
		{Block{1, 3}, true, true},
		{Block{2, 2}, true, true},
		{Block{11, 14}, true, true},
		{Block{20, 20}, true, true},
		{Block{3, 10}, false, true},
		{Block{4, 9}, false, false},
		{Block{14, 19}, false, true},
		{Block{21, 30}, false, false},
		{Block{0, 0}, false, false},
	}
	for _, tt := range tests {
		if got := BlocksContain(held, tt.r); got != tt.contain {
			t.Errorf("BlocksContain(%v) = %v", tt.r, got)
		}
		if got := BlocksOverlap(held, tt.r); got != tt.overlaps {
			t.Errorf("BlocksOverlap(%v) = %v", tt.r, got)
		}
	}
}

// TestBlockAlgebraAgainstModel moves random ranges between two lists and
// compares them after every step with sets of serials, which is slow but
// obviously right: the lists must stay normalised, disjoint and conserving.
func TestBlockAlgebraAgainstModel(t *testing.T) {
	const n = 400
	rnd := rand.New(rand.NewPCG(7, 11))
	lists := [2][]Block{{{1, n}}, nil}
	var owner [n + 1]int // owner[s] is the list holding serial s
	for step := range 5000 {
		from := rnd.IntN(2)
		to := 1 - from
		var moved []Block
		if rnd.IntN(2) == 0 && len(lists[from]) > 0 {
			total := BlocksTotal(lists[from])
			moved, _ = TakeLowest(lists[from], 1+rnd.Int64N(total))
		} else {
			s := 1 + rnd.Int64N(n)
			e := min(n, s+rnd.Int64N(20))
			if !BlocksContain(lists[from], Block{s, e}) {
				continue
			}
			moved = []Block{{s, e}}
		}
		var err error
		if lists[from], err = SubtractBlocks(lists[from], moved); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if lists[to], err = AddBlocks(lists[to], moved); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		for _, b := range moved {
			for s := b.Start; s <= b.End; s++ {
				if owner[s] != from {
					t.Fatalf("step %d: serial %d moved from list %d but was in %d", step, s, from, owner[s])
				}
				owner[s] = to
			}
		}
		for i, l := range lists {
			if !BlocksNormalized(l) {
				t.Fatalf("step %d: list %d = %v not normalised", step, i, l)
			}
		}
		var model [2][]Block
		for s := int64(1); s <= n; s++ {
			model[owner[s]], _ = AddBlocks(model[owner[s]], []Block{{s, s}})
		}
		for i := range lists {
			if !equalBlocks(lists[i], model[i]) && !(len(lists[i]) == 0 && len(model[i]) == 0) {
				t.Fatalf("step %d: list %d = %v, model %v", step, i, lists[i], model[i])
			}
		}
	}
}

func TestBlockOperationsScaleWithBlocksTouched(t *testing.T) {
	// A holder with 100000 separate blocks, as after many partial transfers.
	const n = 100000
	held := make([]Block, n)
	for i := range held {
		held[i] = Block{int64(4*i + 1), int64(4*i + 2)}
	}
	allocs := testing.AllocsPerRun(100, func() {
		if !BlocksContain(held, Block{4*5000 + 1, 4*5000 + 2}) {
			t.Fatal("block not found")
		}
	})
	if allocs != 0 {
		t.Fatalf("BlocksContain allocates %v times", allocs)
	}
	// Removing the lowest block and putting it back at the front is O(1) each.
	allocs = testing.AllocsPerRun(100, func() {
		var err error
		if held, err = SubtractBlocks(held, []Block{held[0]}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("SubtractBlocks of the lowest block allocates %v times", allocs)
	}
}
