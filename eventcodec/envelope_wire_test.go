package eventcodec

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	eventsv1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/events/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The direct envelope encoder writes what a deterministic proto.Marshal of
// the EventMetadata message writes.
func TestEnvelopeEncoderMatchesProtoMarshal(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	str := func(max int) string {
		b := make([]byte, rnd.IntN(max+1))
		for i := range b {
			b[i] = byte(' ' + rnd.IntN(95))
		}
		return string(b)
	}
	for i := range 2000 {
		e := Envelope{Actor: str(300), CorrelationID: str(40), CommandID: str(80), Organisation: str(64), Role: str(20)}
		if i%5 != 0 {
			e.OccurredAt = time.Unix(rnd.Int64N(1<<34)-(1<<33), rnd.Int64N(2)*rnd.Int64N(1e9))
		}
		if i%3 != 0 {
			for j := range e.PreviousHash {
				e.PreviousHash[j] = byte(rnd.IntN(256))
			}
		}
		m := &eventsv1.EventMetadata{Actor: e.Actor, CorrelationId: e.CorrelationID, PreviousHash: e.PreviousHash[:], CommandId: e.CommandID,
			Organisation: e.Organisation, Role: e.Role}
		if !e.OccurredAt.IsZero() {
			m.OccurredAt = timestamppb.New(e.OccurredAt)
		}
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeMetadata(e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("envelope %d %+v:\n direct %x\nmarshal %x", i, e, got, want)
		}
		back, err := DecodeMetadata(got)
		if err != nil || back.Actor != e.Actor || back.CorrelationID != e.CorrelationID || back.CommandID != e.CommandID ||
			back.Organisation != e.Organisation || back.Role != e.Role ||
			back.PreviousHash != e.PreviousHash || !back.OccurredAt.Equal(e.OccurredAt) {
			t.Fatalf("envelope %d decoded as %+v, %v", i, back, err)
		}
	}
}
