package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

func testConcurrency(t *testing.T, newStore NewStore) {
	t.Run("exactly one of 50 racing appends wins each revision", func(t *testing.T) {
		const racers, rounds = 50, 8
		f := setup(t, newStore)
		stream := f.stream("contended")
		var winners []eventstore.EventData
		for round := range rounds {
			expected := eventstore.NoStream()
			if round > 0 {
				expected = eventstore.Exact(uint64(round - 1))
			}
			evs := events(racers, fmt.Sprint("round-", round))
			errs := make([]error, racers)
			results := make([]eventstore.AppendResult, racers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() {
					<-start
					results[i], errs[i] = f.store.Append(f.ctx, stream, expected, evs[i])
				})
			}
			// Release every racer at once so that they truly contend.
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				if err == nil {
					if winner >= 0 {
						t.Fatalf("round %d: racers %d and %d both won with %s", round, winner, i, expected)
					}
					winner = i
					continue
				}
				wrongRevision(t, err, true, uint64(round))
			}
			if winner < 0 {
				t.Fatalf("round %d: no racer won with %s", round, expected)
			}
			if got := results[winner].NextExpectedRevision; got != uint64(round) {
				t.Fatalf("round %d: the winner got revision %d", round, got)
			}
			winners = append(winners, evs[winner])
		}
		sameEvents(t, f.readStream(stream, 0, eventstore.Forwards, 0), winners)
	})

	t.Run("concurrent appends of many events to one stream each stay contiguous", func(t *testing.T) {
		const writers, appends, size = 8, 10, 3
		f := setup(t, newStore)
		stream := f.stream("shared")
		var wg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				for i := range appends {
					evs := events(size, fmt.Sprintf("%d-%d", g, i))
					res, err := f.store.Append(f.ctx, stream, eventstore.Any(), evs...)
					if err != nil {
						t.Errorf("Append: %v", err)
						return
					}
					if res.NextExpectedRevision%size != size-1 {
						t.Errorf("an append of %d events ended at revision %d", size, res.NextExpectedRevision)
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		got := f.readStream(stream, 0, eventstore.Forwards, 0)
		if len(got) != writers*appends*size {
			t.Fatalf("the stream has %d events, want %d", len(got), writers*appends*size)
		}
		// Every append's events sit together, in the order given: its tag
		// (the data before the last "-") is the same, its index counts up.
		for i := 0; i < len(got); i += size {
			tag := func(e eventstore.RecordedEvent) []byte { return e.Data[:bytes.LastIndexByte(e.Data, '-')] }
			for j := range size {
				e := got[i+j]
				if !bytes.Equal(tag(e), tag(got[i])) || !bytes.HasSuffix(e.Data, fmt.Appendf(nil, "-%d", j)) {
					t.Fatalf("revision %d holds %q, which is not event %d of the append that starts at revision %d (%q)",
						i+j, e.Data, j, i, got[i].Data)
				}
			}
		}
	})
}
