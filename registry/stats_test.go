package registry

import (
	"context"
	"testing"
)

func TestTradeCountsByExchangeAndOutcome(t *testing.T) {
	s := newService(t, openStore(t), Options{})
	setup(t, s, 2, 1000)
	first := trade("CEA1", "X-1", 10)
	mustSettle(t, s, first)
	mustSettle(t, s, first)                        // a replay
	mustSettle(t, s, trade("CEA1", "X-2", 100000)) // refused: more than held
	outs, errs := s.SettleTrades(context.Background(), meta, nil)
	if len(outs)+len(errs) != 0 {
		t.Fatal("no trades gave outcomes")
	}
	other := trade("CEA1", "Y-1", 1)
	other.ExchangeID = "CEEX"
	mustSettle(t, s, other)
	malformed := trade("CEA1", "Z-1", 1)
	malformed.ExchangeID = "not an id!"
	mustSettle(t, s, malformed) // refused, counted under "other"

	got := s.TradeCounts()
	want := []TradeCounts{{Exchange: "CEEX", Settled: 1}, {Exchange: "HBEX", Settled: 1, Refused: 1, Replayed: 1}, {Exchange: OtherExchanges, Refused: 1}}
	if len(got) != len(want) {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("counts %+v, want %+v", got, want)
		}
	}
}

func TestCacheStatsCountLookupsAndLoads(t *testing.T) {
	s := newService(t, openStore(t), Options{CacheSize: 10})
	setup(t, s, 2, 1000)
	before := s.CacheStats()
	for range 3 {
		if _, _, err := s.Right(context.Background(), "CEA1"); err != nil {
			t.Fatal(err)
		}
	}
	after := s.CacheStats()
	if after[1].Kind != "right" || after[1].Lookups != before[1].Lookups+3 || after[1].Loads != before[1].Loads || after[1].Entries < 1 || after[1].Capacity != 10 {
		t.Fatalf("three reads of a cached right: %+v -> %+v, want three lookups and no load", before[1], after[1])
	}
	if after[0].Kind != "account" || after[0].Loads == 0 || after[0].Lookups < after[0].Loads {
		t.Fatalf("account cache %+v", after[0])
	}
}
