package eventcodec

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestPreviousHashAgreesWithDecodeMetadata(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var prev Hash
		for j := range prev {
			prev[j] = byte(rng.Uint32())
		}
		env := Envelope{Actor: "actor", OccurredAt: time.Unix(rng.Int64N(1<<34), rng.Int64N(1e9)), CorrelationID: "c", CommandID: "", PreviousHash: prev}
		if i%2 == 0 {
			env.CommandID = "tx-1"
		}
		md, err := EncodeMetadata(env)
		if err != nil {
			t.Fatal(err)
		}
		got, err := PreviousHash(md)
		if err != nil {
			t.Fatal(err)
		}
		want, err := DecodeMetadata(md)
		if err != nil {
			t.Fatal(err)
		}
		if got != want.PreviousHash {
			t.Fatalf("envelope %d: PreviousHash = %x, DecodeMetadata says %x", i, got, want.PreviousHash)
		}
	}
}

func TestPreviousHashRefusesWhatDecodeMetadataRefuses(t *testing.T) {
	good, err := EncodeMetadata(Envelope{Actor: "a", OccurredAt: time.Unix(1, 0), PreviousHash: Hash{9}})
	if err != nil {
		t.Fatal(err)
	}
	for name, md := range map[string][]byte{
		"truncated":           good[:len(good)-3],
		"no previous hash":    {0x0a, 0x01, 'a'},
		"short previous hash": {0x22, 0x02, 1, 2},
		"bad tag":             {0xff},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := PreviousHash(md); err == nil {
				t.Fatal("PreviousHash accepted malformed metadata")
			}
			if _, err := DecodeMetadata(md); err == nil {
				t.Fatal("DecodeMetadata accepted it: the test's input is not malformed")
			}
		})
	}
}
