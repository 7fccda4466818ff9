package eventcodec

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ecoregistry/ecoregistry/domain"
	eventsv1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/events/v1"
	"google.golang.org/protobuf/proto"
)

// eventTypes are the stored event types, in a fixed order the fuzzer picks
// from by number.
var eventTypes = func() []string {
	var out []string
	for _, e := range everyEvent() {
		out = append(out, e.EventType())
	}
	return append(out, domain.EventTypeTradeSettled, domain.EventTypeTradeRefused)
}()

// Decode(Encode(x)) == x for every event x the codec can read: the fuzzer
// makes x by decoding any bytes as any stored type; an x the codec then
// refuses to write must be refused with ErrUnencodable, never written wrong.
func FuzzEventCodecRoundTrip(f *testing.F) {
	for _, e := range everyEvent() {
		_, data, err := Encode(e)
		if err != nil {
			f.Fatal(err)
		}
		for i, typ := range eventTypes {
			if typ == e.EventType() {
				f.Add(uint8(i), data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		typ := eventTypes[int(which)%len(eventTypes)]
		x, err := Decode(typ, data)
		if err != nil {
			return
		}
		typ2, encoded, err := Encode(x)
		if err != nil {
			if !errors.Is(err, ErrUnencodable) {
				t.Fatalf("Encode of a decoded %s: %v", typ, err)
			}
			return
		}
		if typ2 != typ {
			t.Fatalf("a %s encoded as %s", typ, typ2)
		}
		y, err := Decode(typ2, encoded)
		if err != nil {
			t.Fatalf("the codec cannot read back what it wrote: %v", err)
		}
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("Decode(Encode(x)) != x:\n x %#v\n y %#v", x, y)
		}
	})
}

// Any bytes are read as an envelope or refused, never a panic; what the
// lenient reading accepts agrees with proto.Unmarshal where that accepts
// too; and an envelope that EncodeMetadata writes reads back equal.
func FuzzEnvelope(f *testing.F) {
	for _, ev := range chainOf(f, 3) {
		f.Add(ev.Metadata)
	}
	f.Add(legacyMetadata("office", "corr-\xff", day(2026, 1, 1), Hash{1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := DecodeMetadata(b)
		if err != nil {
			return
		}
		var m eventsv1.EventMetadata
		if proto.Unmarshal(b, &m) == nil {
			if env.Actor != m.GetActor() || env.CorrelationID != m.GetCorrelationId() || env.CommandID != m.GetCommandId() {
				t.Fatalf("DecodeMetadata %+v disagrees with proto.Unmarshal %v", env, &m)
			}
		}
		again, err := EncodeMetadata(env)
		if err != nil {
			if !errors.Is(err, ErrUnencodable) {
				t.Fatalf("EncodeMetadata of a decoded envelope: %v", err)
			}
			return
		}
		back, err := DecodeMetadata(again)
		if err != nil {
			t.Fatalf("the codec cannot read back the envelope it wrote: %v", err)
		}
		if back.Actor != env.Actor || back.CorrelationID != env.CorrelationID || back.CommandID != env.CommandID ||
			back.PreviousHash != env.PreviousHash || !back.OccurredAt.Equal(env.OccurredAt) {
			t.Fatalf("round trip: %+v, then %+v", env, back)
		}
	})
}
