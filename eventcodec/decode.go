package eventcodec

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/ecoregistry/ecoregistry/domain"
)

// Decode parses a stored event's payload into the domain event its type
// names. It returns ErrUnknownEventType (wrapped) for a type it does not
// know. It is the one way every reader of events decodes them: the
// registry's replay of a stream, the read models' catch-up, the tests.
//
// Payloads are parsed by the generated UnmarshalVT of the stored messages
// (vtprotobuf), without the reflection of proto.Unmarshal, and the
// result is exactly proto.Unmarshal's: UnmarshalVT does not check that text
// is UTF-8, which proto3 requires, so Decode checks it; and a payload that
// UnmarshalVT refuses (or whose text is not UTF-8) is parsed again by
// proto.Unmarshal, which decides and words the error (it also accepts a
// known field number with another wire type as an unknown field, which
// UnmarshalVT refuses). FuzzUnmarshalVT holds the generated code to that.
func Decode(eventType string, data []byte) (domain.Event, error) {
	m := message(eventType)
	if m == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownEventType, eventType)
	}
	if p, pooled := m.(interface{ ReturnToVTPool() }); pooled {
		// The event copies what it keeps: the message can serve again.
		defer p.ReturnToVTPool()
	}
	if err := unmarshal(m, textFieldsByType[eventType], data); err != nil {
		return nil, fmt.Errorf("eventcodec: unmarshal %s: %w", eventType, err)
	}
	return fromProto(m)
}

// vtMessage is a stored message with its generated fast unmarshalling.
type vtMessage interface {
	proto.Message
	UnmarshalVT([]byte) error
}

// message returns an empty stored message for an event type, or nil when
// the type is unknown. The messages of the most frequent types come from
// the pools generated for them (see buf.gen.yaml).
func message(eventType string) vtMessage {
	var m proto.Message
	if m = accountMessage(eventType); m == nil {
		if m = lifecycleMessage(eventType); m == nil {
			if m = settlementMessage(eventType); m == nil {
				return nil
			}
		}
	}
	return m.(vtMessage)
}

// unmarshal parses data into the empty message m as proto.Unmarshal does;
// tf says which of m's fields hold text.
func unmarshal(m vtMessage, tf *textFields, data []byte) error {
	if m.UnmarshalVT(data) == nil && validText(data, tf) {
		return nil
	}
	proto.Reset(m)
	return proto.Unmarshal(data, m)
}

// textFields says, for the fields of one message by number, which hold
// text (string) and which hold messages whose fields may.
type textFields struct {
	text     []bool
	messages []*textFields
}

// textFieldsByType has the textFields of the stored message of every
// event type, made from the schema's descriptors, so that a text field
// added to the schema is checked without a change here.
var textFieldsByType = func() map[string]*textFields {
	made := map[protoreflect.FullName]*textFields{}
	out := map[string]*textFields{}
	for _, t := range domain.EventTypes() {
		out[t] = textFieldsOf(message(t).ProtoReflect().Descriptor(), made)
	}
	return out
}()

// textFieldsOf returns the textFields of a message, sharing those already
// made.
func textFieldsOf(md protoreflect.MessageDescriptor, made map[protoreflect.FullName]*textFields) *textFields {
	if tf, ok := made[md.FullName()]; ok {
		return tf
	}
	fields := md.Fields()
	var most protoreflect.FieldNumber
	for i := range fields.Len() {
		most = max(most, fields.Get(i).Number())
	}
	tf := &textFields{text: make([]bool, most+1), messages: make([]*textFields, most+1)}
	// Made before its fields, so that a message that holds itself ends.
	made[md.FullName()] = tf
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch fd.Kind() {
		case protoreflect.StringKind:
			tf.text[fd.Number()] = true
		case protoreflect.MessageKind:
			tf.messages[fd.Number()] = textFieldsOf(fd.Message(), made)
		}
	}
	return tf
}

// validText reports whether every text field of the message data, which
// UnmarshalVT accepted, and of the messages it holds, is UTF-8, and every
// field number valid (UnmarshalVT skips a field number beyond the largest
// valid one, which proto.Unmarshal refuses). It reads varints inline: it
// runs for every event decoded.
func validText(data []byte, tf *textFields) bool {
	for i := 0; i < len(data); {
		tag, ok := varint(data, &i)
		if !ok || tag>>3 == 0 || tag>>3 > uint64(protowire.MaxValidNumber) {
			return false
		}
		switch protowire.Type(tag & 7) {
		case protowire.VarintType:
			if _, ok := varint(data, &i); !ok {
				return false
			}
		case protowire.Fixed64Type:
			i += 8
		case protowire.Fixed32Type:
			i += 4
		case protowire.BytesType:
			n, ok := varint(data, &i)
			if !ok || n > uint64(len(data)-i) {
				return false
			}
			v := data[i : i+int(n)]
			i += int(n)
			switch num := tag >> 3; {
			case num >= uint64(len(tf.text)):
			case tf.text[num]:
				if !utf8.Valid(v) {
					return false
				}
			case tf.messages[num] != nil:
				if !validText(v, tf.messages[num]) {
					return false
				}
			}
		default:
			// Groups: proto.Unmarshal decides.
			return false
		}
	}
	return true
}

// varint reads the varint at data[*i:] and moves *i past it. Like
// protowire, and unlike UnmarshalVT, it refuses a tenth byte that does
// not fit in 64 bits.
func varint(data []byte, i *int) (uint64, bool) {
	if *i < len(data) && data[*i] < 0x80 {
		// Tags and most lengths take one byte.
		*i++
		return uint64(data[*i-1]), true
	}
	var v uint64
	for shift := uint(0); shift < 64 && *i < len(data); shift += 7 {
		b := data[*i]
		*i++
		if shift == 63 && b > 1 {
			return 0, false
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v, true
		}
	}
	return 0, false
}
