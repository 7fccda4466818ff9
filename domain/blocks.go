package domain

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// Block is an inclusive range of serial numbers within one right, numbered
// from 1. The zero Block is empty and means "no block".
type Block struct {
	// Start is the first serial number of the block.
	Start int64
	// End is the last serial number of the block.
	End int64
}

// Size returns the number of units in the block, End-Start+1.
func (b Block) Size() int64 { return b.End - b.Start + 1 }

// Valid reports whether 1 <= Start <= End.
func (b Block) Valid() bool { return b.Start >= 1 && b.End >= b.Start }

// IsZero reports whether b is the zero Block.
func (b Block) IsZero() bool { return b == Block{} }

// Contains reports whether every serial of o lies in b.
func (b Block) Contains(o Block) bool { return b.Start <= o.Start && o.End <= b.End }

// Overlaps reports whether b and o share a serial.
func (b Block) Overlaps(o Block) bool { return b.Start <= o.End && o.Start <= b.End }

// String returns the block as "[start,end]".
func (b Block) String() string {
	return "[" + strconv.FormatInt(b.Start, 10) + "," + strconv.FormatInt(b.End, 10) + "]"
}

// The functions below work on block lists. A normalised block list is sorted
// by Start, its blocks are valid and disjoint, and no two of them touch
// (adjacent blocks are coalesced into one), so every set of serials has
// exactly one normalised list. Holdings are normalised lists, which lets a
// lookup use binary search and keeps the lists as short as they can be.

// ErrBlocksNotHeld is returned (wrapped) by SubtractBlocks when a block to be
// removed is not wholly in the list.
var ErrBlocksNotHeld = errors.New("domain: blocks not held")

// ErrBlocksOverlap is returned (wrapped) by AddBlocks when a block to be added
// overlaps the list or another added block, and by NormalizeBlocks when
// blocks overlap.
var ErrBlocksOverlap = errors.New("domain: blocks overlap")

// BlocksTotal returns the number of units in the blocks.
func BlocksTotal(bs []Block) int64 {
	var n int64
	for _, b := range bs {
		n += b.Size()
	}
	return n
}

// BlocksNormalized reports whether bs is a normalised block list.
func BlocksNormalized(bs []Block) bool {
	for i, b := range bs {
		if !b.Valid() {
			return false
		}
		// End+1 < next Start means a gap of at least one serial between them.
		if i > 0 && bs[i-1].End+1 >= b.Start {
			return false
		}
	}
	return true
}

// NormalizeBlocks returns a normalised copy of bs: sorted, with adjacent
// blocks coalesced. It returns ErrBlocksOverlap when two blocks share a
// serial, and an error when a block is not valid.
func NormalizeBlocks(bs []Block) ([]Block, error) {
	out := slices.Clone(bs)
	slices.SortFunc(out, func(a, b Block) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	w := 0
	for _, b := range out {
		if !b.Valid() {
			return nil, fmt.Errorf("domain: invalid block %s", b)
		}
		if w > 0 {
			last := &out[w-1]
			if last.End >= b.Start {
				return nil, fmt.Errorf("%w: %s and %s", ErrBlocksOverlap, *last, b)
			}
			if last.End+1 == b.Start {
				last.End = b.End
				continue
			}
		}
		out[w] = b
		w++
	}
	return out[:w], nil
}

// searchEnd returns the index of the first block of the normalised list bs
// whose End is at least serial, or len(bs).
func searchEnd(bs []Block, serial int64) int {
	return sort.Search(len(bs), func(i int) bool { return bs[i].End >= serial })
}

// BlocksContain reports whether every serial of r is in the normalised list
// bs. Because the list is coalesced, r must lie inside a single block.
func BlocksContain(bs []Block, r Block) bool {
	i := searchEnd(bs, r.Start)
	return i < len(bs) && bs[i].Contains(r)
}

// BlocksOverlap reports whether any serial of r is in the normalised list bs.
func BlocksOverlap(bs []Block, r Block) bool {
	i := searchEnd(bs, r.Start)
	return i < len(bs) && bs[i].Start <= r.End
}

// TakeLowest returns the lowest n serials of the normalised list bs as a new
// normalised list, and false when bs holds fewer than n. It costs O(k) for the
// k blocks it takes.
func TakeLowest(bs []Block, n int64) ([]Block, bool) {
	if n <= 0 {
		return nil, n == 0
	}
	k := 0
	for need := n; need > 0; k++ {
		if k == len(bs) {
			return nil, false
		}
		need -= bs[k].Size()
	}
	out := make([]Block, k)
	copy(out, bs[:k])
	// The last block taken may be more than needed: cut it to size.
	excess := BlocksTotal(out) - n
	out[k-1].End -= excess
	return out, true
}

// replaceRange replaces bs[i:j] with repl, in place where the capacity
// allows, and returns the new list. repl must not alias bs.
func replaceRange(bs []Block, i, j int, repl []Block) []Block {
	if i == 0 && len(repl) <= j {
		// Taking the lowest serials removes blocks at the front. Moving the
		// start of the slice forward costs O(len(repl)) instead of shifting
		// the whole tail; the dead prefix is dropped by the next growth or clone.
		start := j - len(repl)
		copy(bs[start:j], repl)
		return bs[start:]
	}
	return slices.Replace(bs, i, j, repl...)
}

// SubtractBlocks removes the serials of the normalised list rem from the
// normalised list bs and returns the result, reusing bs's array. It returns
// an error wrapping ErrBlocksNotHeld, and leaves bs unchanged, when some
// serial of rem is not in bs. It costs O(log n + k) for the k blocks touched,
// plus a move of the tail of bs when the count of blocks changes in the middle.
func SubtractBlocks(bs, rem []Block) ([]Block, error) {
	if len(rem) == 0 {
		return bs, nil
	}
	i := searchEnd(bs, rem[0].Start)
	j := i
	// Most removals leave at most two pieces; the array keeps them off the heap.
	var scratch [4]Block
	repl := scratch[:0]
	var cur Block // the untouched remainder of bs[j-1]; zero when none
	for _, x := range rem {
		if !x.Valid() {
			return bs, fmt.Errorf("%w: invalid block %s", ErrBlocksNotHeld, x)
		}
		// Move to the block that should contain x, keeping the blocks passed over.
		for cur.IsZero() || cur.End < x.Start {
			if !cur.IsZero() {
				repl = append(repl, cur)
			}
			if j == len(bs) {
				return bs, fmt.Errorf("%w: %s", ErrBlocksNotHeld, x)
			}
			cur = bs[j]
			j++
		}
		if !cur.Contains(x) {
			return bs, fmt.Errorf("%w: %s", ErrBlocksNotHeld, x)
		}
		if cur.Start < x.Start {
			repl = append(repl, Block{cur.Start, x.Start - 1})
		}
		if x.End < cur.End {
			cur = Block{x.End + 1, cur.End}
		} else {
			cur = Block{}
		}
	}
	if !cur.IsZero() {
		repl = append(repl, cur)
	}
	return replaceRange(bs, i, j, repl), nil
}

// AddBlocks adds the serials of the normalised list add to the normalised
// list bs, coalescing touching blocks, and returns the result, reusing bs's
// array. It returns an error wrapping ErrBlocksOverlap, and leaves bs
// unchanged, when a serial would be added twice. It costs O(log n + k) for the
// k blocks touched, plus a move of the tail of bs when the count of blocks
// changes in the middle.
func AddBlocks(bs, add []Block) ([]Block, error) {
	if len(add) == 0 {
		return bs, nil
	}
	// Only blocks of bs that overlap or touch [first add, last add] can change.
	lo, hi := add[0].Start-1, add[len(add)-1].End+1
	i := searchEnd(bs, lo)
	j := i + sort.Search(len(bs)-i, func(k int) bool { return bs[i+k].Start > hi })
	var scratch [4]Block
	repl := scratch[:0]
	push := func(b Block) error {
		if !b.Valid() {
			return fmt.Errorf("%w: invalid block %s", ErrBlocksOverlap, b)
		}
		if n := len(repl); n > 0 {
			last := &repl[n-1]
			if last.End >= b.Start {
				return fmt.Errorf("%w: %s and %s", ErrBlocksOverlap, *last, b)
			}
			if last.End+1 == b.Start {
				last.End = b.End
				return nil
			}
		}
		repl = append(repl, b)
		return nil
	}
	old := bs[i:j]
	p, q := 0, 0
	for p < len(old) || q < len(add) {
		var b Block
		if q == len(add) || (p < len(old) && old[p].Start < add[q].Start) {
			b = old[p]
			p++
		} else {
			b = add[q]
			q++
		}
		if err := push(b); err != nil {
			return bs, err
		}
	}
	return replaceRange(bs, i, j, repl), nil
}
