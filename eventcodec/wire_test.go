package eventcodec

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	eventsv1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/events/v1"
)

// fill sets every field of m, recursively, to random values, so that a
// field added to the schema is exercised without changing this test.
func fill(rng *rand.Rand, m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for range 1 + rng.IntN(3) {
				if fd.Kind() == protoreflect.MessageKind {
					e := l.NewElement()
					fill(rng, e.Message(), depth+1)
					l.Append(e)
				} else {
					l.Append(scalar(rng, fd))
				}
			}
		case fd.IsMap():
			// The event schema has no maps.
		case fd.Kind() == protoreflect.MessageKind:
			fill(rng, m.Mutable(fd).Message(), depth+1)
		default:
			m.Set(fd, scalar(rng, fd))
		}
	}
}

func scalar(rng *rand.Rand, fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		alphabet := []rune("abcXYZ019-_.:碳汇 ")
		r := make([]rune, 1+rng.IntN(12))
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return protoreflect.ValueOfString(string(r))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if fd.FullName() == "google.protobuf.Timestamp.seconds" {
			return protoreflect.ValueOfInt64(rng.Int64N(4_000_000_000))
		}
		return protoreflect.ValueOfInt64(rng.Int64() - rng.Int64())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if fd.FullName() == "google.protobuf.Timestamp.nanos" {
			return protoreflect.ValueOfInt32(rng.Int32N(1_000_000_000))
		}
		return protoreflect.ValueOfInt32(rng.Int32() - rng.Int32())
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		return protoreflect.ValueOfEnum(vals.Get(rng.IntN(vals.Len())).Number())
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(rng.IntN(2) == 0)
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{byte(rng.IntN(256))})
	}
	panic("unexpected field kind " + fd.Kind().String())
}

// decoders pairs each wire decoder with its event type and message.
var decoders = []struct {
	eventType string
	message   func() proto.Message
	decode    func([]byte) (any, error)
}{
	{"UnitsTransferred", func() proto.Message { return &eventsv1.UnitsTransferred{} },
		func(b []byte) (any, error) { return DecodeUnitsTransferred(b) }},
	{"UnitsRetired", func() proto.Message { return &eventsv1.UnitsRetired{} },
		func(b []byte) (any, error) { return DecodeUnitsRetired(b) }},
	{"TradeSettled", func() proto.Message { return &eventsv1.TradeSettled{} },
		func(b []byte) (any, error) { return DecodeTradeSettled(b) }},
}

// agree fails unless the wire decoder and Decode both refuse data or both
// return the same event.
func agree(t *testing.T, eventType string, decode func([]byte) (any, error), data []byte) {
	t.Helper()
	want, werr := Decode(eventType, data)
	got, gerr := decode(data)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%s %x: Decode error %v, wire decoder error %v", eventType, data, werr, gerr)
	}
	if werr == nil && !reflect.DeepEqual(any(want), got) {
		t.Fatalf("%s %x:\nDecode:       %+v\nwire decoder: %+v", eventType, data, want, got)
	}
}

func TestWireDecodersAgreeWithDecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, d := range decoders {
		t.Run(d.eventType+" with every field set decodes as Decode does", func(t *testing.T) {
			for range 2000 {
				m := d.message()
				fill(rng, m.ProtoReflect(), 0)
				data, err := proto.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				agree(t, d.eventType, d.decode, data)
			}
		})
		t.Run(d.eventType+" repeated fields and messages merge as Decode merges them", func(t *testing.T) {
			for range 500 {
				a, b := d.message(), d.message()
				fill(rng, a.ProtoReflect(), 0)
				fill(rng, b.ProtoReflect(), 0)
				da, _ := proto.Marshal(a)
				db, _ := proto.Marshal(b)
				agree(t, d.eventType, d.decode, append(da, db...))
			}
		})
		t.Run(d.eventType+" unknown fields and unexpected wire types are skipped", func(t *testing.T) {
			m := d.message()
			fill(rng, m.ProtoReflect(), 0)
			data, _ := proto.Marshal(m)
			data = protowire.AppendTag(data, 99, protowire.BytesType)
			data = protowire.AppendBytes(data, []byte("future"))
			data = protowire.AppendTag(data, 1, protowire.Fixed64Type)
			data = protowire.AppendFixed64(data, 7)
			data = protowire.AppendTag(data, 6, protowire.BytesType)
			data = protowire.AppendBytes(data, []byte("x"))
			agree(t, d.eventType, d.decode, data)
		})
		t.Run(d.eventType+" damaged payloads are refused as Decode refuses them", func(t *testing.T) {
			for range 500 {
				m := d.message()
				fill(rng, m.ProtoReflect(), 0)
				data, _ := proto.Marshal(m)
				switch rng.IntN(3) {
				case 0:
					data = data[:rng.IntN(len(data))]
				case 1:
					data[rng.IntN(len(data))] = byte(rng.IntN(256))
				default:
					// Invalid UTF-8 in the first string field.
					data = append(protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte{0xff, 0xfe}), data...)
				}
				agree(t, d.eventType, d.decode, data)
			}
		})
	}
}

func BenchmarkDecodeUnitsTransferred(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := &eventsv1.UnitsTransferred{}
	fill(rng, m.ProtoReflect(), 0)
	data, _ := proto.Marshal(m)
	b.Run("Decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decode("UnitsTransferred", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecodeUnitsTransferred", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeUnitsTransferred(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodeTradeSettled(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := &eventsv1.TradeSettled{}
	fill(rng, m.ProtoReflect(), 0)
	data, _ := proto.Marshal(m)
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode("TradeSettled", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecodeTradeSettled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeTradeSettled(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
