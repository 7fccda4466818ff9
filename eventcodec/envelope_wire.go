package eventcodec

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// appendEnvelope writes an envelope as an EventMetadata message in the
// protobuf wire format directly: every event the registry writes has one,
// and this costs a fifth of a deterministic proto.Marshal. The bytes are
// exactly those of proto.MarshalOptions{Deterministic: true}.Marshal of the
// message EncodeMetadata describes; envelope_wire_test.go checks this on
// random envelopes.
func appendEnvelope(b []byte, e Envelope) []byte {
	b = appendString(b, 1, e.Actor)
	b = appendTime(b, 2, e.OccurredAt)
	b = appendString(b, 3, e.CorrelationID)
	// The previous hash is never empty (the genesis hash is 32 zero
	// bytes), so the field is always written.
	b = append(b, 4<<3|2, HashSize)
	b = append(b, e.PreviousHash[:]...)
	b = appendString(b, 5, e.CommandID)
	b = appendString(b, 6, e.Organisation)
	b = appendString(b, 7, e.Role)
	return b
}

// decodeEnvelopeLeniently reads an EventMetadata message as proto.Unmarshal
// does, except that a string field need not be valid UTF-8: its bytes that
// are not become U+FFFD. It is the fallback of DecodeMetadata for envelopes
// that versions before the check in EncodeMetadata could write.
func decodeEnvelopeLeniently(b []byte) (Envelope, error) {
	var (
		e        Envelope
		hashSeen bool
	)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return Envelope{}, protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		if typ == protowire.BytesType {
			v, n = protowire.ConsumeBytes(b)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return Envelope{}, protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType {
			continue // an unknown field, as proto.Unmarshal would keep aside
		}
		switch num {
		case 1:
			e.Actor = strings.ToValidUTF8(string(v), "\uFFFD")
		case 2:
			t, err := decodeTimestamp(v)
			if err != nil {
				return Envelope{}, err
			}
			e.OccurredAt = t
		case 3:
			e.CorrelationID = strings.ToValidUTF8(string(v), "\uFFFD")
		case 4:
			if len(v) != HashSize {
				return Envelope{}, fmt.Errorf("previous hash has %d bytes, want %d", len(v), HashSize)
			}
			copy(e.PreviousHash[:], v)
			hashSeen = true
		case 5:
			e.CommandID = strings.ToValidUTF8(string(v), "\uFFFD")
		}
	}
	if !hashSeen {
		return Envelope{}, fmt.Errorf("previous hash has 0 bytes, want %d", HashSize)
	}
	return e, nil
}

// decodeTimestamp reads a google.protobuf.Timestamp message.
func decodeTimestamp(b []byte) (time.Time, error) {
	var secs, nanos int64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return time.Time{}, protowire.ParseError(n)
		}
		b = b[n:]
		if typ == protowire.VarintType && (num == 1 || num == 2) {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return time.Time{}, protowire.ParseError(n)
			}
			b = b[n:]
			if num == 1 {
				secs = int64(v)
			} else {
				nanos = int64(int32(v))
			}
			continue
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return time.Time{}, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return time.Unix(secs, nanos).UTC(), nil
}
