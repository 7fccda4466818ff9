package eventcodec

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/ecoregistry/ecoregistry/domain"
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

// stdDecode is Decode done by proto.Unmarshal alone: the reference the
// generated fast path must agree with.
func stdDecode(eventType string, data []byte) (domain.Event, error) {
	m := message(eventType)
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, err
	}
	return fromProto(m)
}

// agree fails unless Decode and proto.Unmarshal both refuse data or both
// return the same event, and unless, where the generated UnmarshalVT
// accepts data with UTF-8 text, proto.Unmarshal accepts it too and reads
// the same message (but for unknown fields, which no event reads, and
// which UnmarshalVT drops inside a google.protobuf.Timestamp).
func agree(t *testing.T, eventType string, data []byte) {
	t.Helper()
	want, werr := stdDecode(eventType, data)
	got, gerr := Decode(eventType, data)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%s %x: proto.Unmarshal error %v, Decode error %v", eventType, data, werr, gerr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s %x:\nDecode:         %+v\nproto.Unmarshal: %+v", eventType, data, got, want)
	}
	fast, std := message(eventType), message(eventType)
	if fast.UnmarshalVT(data) != nil || !validText(data, textFieldsByType[eventType]) {
		return
	}
	if err := proto.Unmarshal(data, std); err != nil {
		t.Fatalf("%s %x: UnmarshalVT accepts what proto.Unmarshal refuses: %v", eventType, data, err)
	}
	discardUnknown(fast.ProtoReflect())
	discardUnknown(std.ProtoReflect())
	if !proto.Equal(fast, std) {
		t.Fatalf("%s %x:\nUnmarshalVT:     %v\nproto.Unmarshal: %v", eventType, data, fast, std)
	}
}

// discardUnknown drops the unknown fields of m and of every message in it.
func discardUnknown(m protoreflect.Message) {
	m.SetUnknown(nil)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i := range v.List().Len() {
				discardUnknown(v.List().Get(i).Message())
			}
		case !fd.IsList() && !fd.IsMap() && fd.Kind() == protoreflect.MessageKind:
			discardUnknown(v.Message())
		}
		return true
	})
}

func TestDecodeAgreesWithProtoUnmarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, typ := range domain.EventTypes() {
		t.Run(typ+" with every field set decodes as proto.Unmarshal does", func(t *testing.T) {
			for range 300 {
				m := message(typ)
				fill(rng, m.ProtoReflect(), 0)
				data, err := proto.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				agree(t, typ, data)
			}
		})
		t.Run(typ+" repeated fields and messages merge as proto.Unmarshal merges them", func(t *testing.T) {
			for range 100 {
				a, b := message(typ), message(typ)
				fill(rng, a.ProtoReflect(), 0)
				fill(rng, b.ProtoReflect(), 0)
				da, _ := proto.Marshal(a)
				db, _ := proto.Marshal(b)
				agree(t, typ, append(da, db...))
			}
		})
		t.Run(typ+" unknown fields and unexpected wire types are skipped", func(t *testing.T) {
			m := message(typ)
			fill(rng, m.ProtoReflect(), 0)
			data, _ := proto.Marshal(m)
			data = protowire.AppendTag(data, 99, protowire.BytesType)
			data = protowire.AppendBytes(data, []byte("future"))
			data = protowire.AppendTag(data, 1, protowire.Fixed64Type)
			data = protowire.AppendFixed64(data, 7)
			data = protowire.AppendTag(data, 6, protowire.BytesType)
			data = protowire.AppendBytes(data, []byte("x"))
			agree(t, typ, data)
		})
		t.Run(typ+" damaged payloads are refused as proto.Unmarshal refuses them", func(t *testing.T) {
			for range 100 {
				m := message(typ)
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
				agree(t, typ, data)
			}
		})
	}
}

func TestInvalidTextInANestedMessageIsRefused(t *testing.T) {
	// Field 2 of AccountOpened is the holder; field 1 of the holder its name.
	holder := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte{'a', 0xc3})
	data := protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), holder)
	if _, err := Decode(domain.EventTypeAccountOpened, data); err == nil {
		t.Fatal("Decode accepted a holder name that is not UTF-8")
	}
	if m := message(domain.EventTypeAccountOpened); m.UnmarshalVT(data) != nil {
		t.Fatal("UnmarshalVT refused the payload; the test no longer shows the UTF-8 check")
	}
}

// FuzzUnmarshalVT holds the generated UnmarshalVT of every stored message
// to proto.Unmarshal on arbitrary bytes: where it accepts a payload whose
// text is UTF-8, proto.Unmarshal must accept it and read the same
// message, and Decode must agree with proto.Unmarshal everywhere. The seed
// corpus is in testdata/fuzz/FuzzUnmarshalVT; run it longer with
//
//	go test ./eventcodec -run '^$' -fuzz FuzzUnmarshalVT -fuzztime 1m
func FuzzUnmarshalVT(f *testing.F) {
	types := domain.EventTypes()
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		agree(t, types[int(kind)%len(types)], data)
	})
}

func BenchmarkDecodeUnitsTransferred(b *testing.B) {
	benchmarkDecode(b, domain.EventTypeUnitsTransferred)
}

func BenchmarkDecodeTradeSettled(b *testing.B) {
	benchmarkDecode(b, domain.EventTypeTradeSettled)
}

// benchmarkDecode measures Decode, and proto.Unmarshal with the same
// conversion for comparison, on a message with every field set.
func benchmarkDecode(b *testing.B, eventType string) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := message(eventType)
	fill(rng, m.ProtoReflect(), 0)
	data, _ := proto.Marshal(m)
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(eventType, data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stdDecode(eventType, data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
