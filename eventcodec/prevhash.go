package eventcodec

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// PreviousHash reads the previous event's chain value from stored event
// metadata without decoding the rest of the envelope: verifying the chain
// of a whole log needs only this field, and reading it off the wire costs a
// small fraction of DecodeMetadata. It agrees with DecodeMetadata: the last
// occurrence of the field counts, and it must hold HashSize bytes.
func PreviousHash(metadata []byte) (Hash, error) {
	var (
		out   Hash
		found bool
	)
	for b := metadata; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return Hash{}, fmt.Errorf("eventcodec: metadata: %w", protowire.ParseError(n))
		}
		b = b[n:]
		if num == 4 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return Hash{}, fmt.Errorf("eventcodec: metadata: %w", protowire.ParseError(m))
			}
			if len(v) != HashSize {
				return Hash{}, fmt.Errorf("eventcodec: metadata: previous hash has %d bytes, want %d", len(v), HashSize)
			}
			copy(out[:], v)
			found = true
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return Hash{}, fmt.Errorf("eventcodec: metadata: %w", protowire.ParseError(m))
		}
		b = b[m:]
	}
	if !found {
		return Hash{}, fmt.Errorf("eventcodec: metadata: previous hash has 0 bytes, want %d", HashSize)
	}
	return out, nil
}
