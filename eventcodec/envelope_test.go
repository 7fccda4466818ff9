package eventcodec

import (
	"errors"
	"testing"
	"time"
)

func chainOf(t testing.TB, n int) []StoredEvent {
	t.Helper()
	var out []StoredEvent
	prev := GenesisHash
	for i := 0; i < n; i++ {
		md, err := EncodeMetadata(Envelope{Actor: "office-1", OccurredAt: time.Unix(int64(1700000000+i), 0), CorrelationID: "c", PreviousHash: prev})
		if err != nil {
			t.Fatal(err)
		}
		ev := StoredEvent{Type: "UnitsTransferred", Data: []byte{byte(i), 1, 2}, Metadata: md}
		prev = ChainHash(ev.Type, ev.Data, ev.Metadata)
		out = append(out, ev)
	}
	return out
}

func TestEnvelopeRoundTrips(t *testing.T) {
	in := Envelope{Actor: "regulator@mee", OccurredAt: time.Date(2026, 11, 30, 9, 0, 0, 123, time.UTC), CorrelationID: "corr", CommandID: "tx-1", PreviousHash: Hash{1, 2, 3}}
	b, err := EncodeMetadata(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	if !out.OccurredAt.Equal(in.OccurredAt) || out.Actor != in.Actor || out.CorrelationID != in.CorrelationID || out.CommandID != in.CommandID || out.PreviousHash != in.PreviousHash {
		t.Fatalf("round trip: got %+v, want %+v", out, in)
	}
}

func TestVerifyChain(t *testing.T) {
	t.Run("an intact chain verifies and returns the head", func(t *testing.T) {
		evs := chainOf(t, 5)
		head, err := VerifyChain(evs)
		if err != nil {
			t.Fatal(err)
		}
		if head != ChainHash(evs[4].Type, evs[4].Data, evs[4].Metadata) {
			t.Fatal("head is not the last event's chain value")
		}
	})
	t.Run("an altered payload breaks the chain at the next event", func(t *testing.T) {
		evs := chainOf(t, 5)
		evs[2].Data = []byte("tampered")
		_, err := VerifyChain(evs)
		if !errors.Is(err, ErrChainBroken) {
			t.Fatalf("err = %v, want ErrChainBroken", err)
		}
	})
	t.Run("a removed event breaks the chain", func(t *testing.T) {
		evs := chainOf(t, 5)
		evs = append(evs[:1], evs[2:]...)
		if _, err := VerifyChain(evs); !errors.Is(err, ErrChainBroken) {
			t.Fatalf("err = %v, want ErrChainBroken", err)
		}
	})
	t.Run("a first event that does not start from genesis is refused", func(t *testing.T) {
		evs := chainOf(t, 3)
		if _, err := VerifyChain(evs[1:]); !errors.Is(err, ErrChainBroken) {
			t.Fatalf("err = %v, want ErrChainBroken", err)
		}
	})
	t.Run("the type is covered", func(t *testing.T) {
		a := ChainHash("A", []byte("x"), nil)
		b := ChainHash("Ax", nil, nil)
		if a == b {
			t.Fatal("length prefixes must separate type and data")
		}
	})
}
