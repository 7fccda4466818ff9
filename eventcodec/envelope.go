// Package eventcodec turns domain events into stored events and back: the
// payload is one ecoregistry.events.v1 protobuf message per event, and the
// metadata is an EventMetadata envelope that names the actor, the time, the
// correlation id and the hash chain of the stream.
package eventcodec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	eventsv1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/events/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ContentType is the content type of every stored ecoregistry event.
const ContentType = "application/vnd.ecoregistry.events.v1+protobuf"

// HashSize is the size of a hash-chain value.
const HashSize = sha256.Size

// Hash is a hash-chain value: the SHA-256 of one stored event.
type Hash [HashSize]byte

// GenesisHash is the previous hash recorded by the first event of a stream.
var GenesisHash Hash

// Envelope is what the registry records about the making of an event.
type Envelope struct {
	// Actor is who did it.
	Actor string
	// OccurredAt is when the registry decided the event.
	OccurredAt time.Time
	// CorrelationID ties together the events of one request.
	CorrelationID string
	// CommandID is the id of the command (transfer id, ...), if it has one.
	CommandID string
	// PreviousHash is the chain value of the stream's previous event.
	PreviousHash Hash
	// Organisation is the authenticated actor's organisation; empty when
	// the actor was only declared.
	Organisation string
	// Role is the role under which the access policy allowed the command;
	// empty when the actor was only declared.
	Role string
}

// ErrUnencodable reports an envelope or event that the codec refuses to
// write because it could not read it back: a string that is not valid UTF-8
// or a time outside the years 1 to 9999 that a google.protobuf.Timestamp
// can hold.
var ErrUnencodable = errors.New("eventcodec: cannot be stored")

// EncodeMetadata serializes an envelope as stored event metadata. It
// returns an error wrapping ErrUnencodable, and writes nothing, when a
// string of the envelope is not valid UTF-8 or its time is not a valid
// Timestamp: the codec never writes what it cannot read back.
func EncodeMetadata(e Envelope) ([]byte, error) {
	if err := checkEnvelope(e); err != nil {
		return nil, err
	}
	// The bytes are those of a deterministic proto.Marshal of the
	// EventMetadata message, written directly (see appendEnvelope), so that
	// the same envelope always gives the same bytes; the chain is computed
	// over the stored bytes, so this is a convenience for tests, not a
	// requirement of verification.
	return appendEnvelope(make([]byte, 0, 64+len(e.Actor)+len(e.CorrelationID)+len(e.CommandID)+len(e.Organisation)+len(e.Role)), e), nil
}

// checkEnvelope refuses an envelope that proto.Unmarshal could not read
// back or that protojson could not write.
func checkEnvelope(e Envelope) error {
	for _, f := range []struct{ name, value string }{{"actor", e.Actor}, {"correlation id", e.CorrelationID}, {"command id", e.CommandID}} {
		if !utf8.ValidString(f.value) {
			return fmt.Errorf("%w: the envelope's %s is not valid UTF-8", ErrUnencodable, f.name)
		}
	}
	return checkTime("the envelope's time", e.OccurredAt)
}

// checkTime refuses a time that a google.protobuf.Timestamp cannot hold;
// the zero time, which is stored as no timestamp at all, passes.
func checkTime(what string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if err := timestamppb.New(t).CheckValid(); err != nil {
		return fmt.Errorf("%w: %s %s is outside the years 1 to 9999", ErrUnencodable, what, t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// DecodeMetadata parses stored event metadata. Metadata that an earlier
// version wrote with a string that is not valid UTF-8 (which proto.Unmarshal
// refuses) is still read: each such string comes back with U+FFFD in place
// of the bytes that are not UTF-8, so that it can be served, while the
// stored bytes, which the hash chain covers, stay as they are.
func DecodeMetadata(b []byte) (Envelope, error) {
	var m eventsv1.EventMetadata
	if err := proto.Unmarshal(b, &m); err != nil {
		e, lerr := decodeEnvelopeLeniently(b)
		if lerr != nil {
			return Envelope{}, fmt.Errorf("eventcodec: metadata: %w", err)
		}
		return e, nil
	}
	e := Envelope{Actor: m.GetActor(), CorrelationID: m.GetCorrelationId(), CommandID: m.GetCommandId(),
		Organisation: m.GetOrganisation(), Role: m.GetRole()}
	if m.OccurredAt != nil {
		e.OccurredAt = m.GetOccurredAt().AsTime()
	}
	if len(m.GetPreviousHash()) != HashSize {
		return Envelope{}, fmt.Errorf("eventcodec: metadata: previous hash has %d bytes, want %d", len(m.GetPreviousHash()), HashSize)
	}
	copy(e.PreviousHash[:], m.GetPreviousHash())
	return e, nil
}

// ChainHash is the hash-chain value of a stored event: the SHA-256 of its
// type, data and metadata, each preceded by its length as an 8-byte
// big-endian integer. The metadata holds the previous event's chain value,
// so each value covers the whole stream before it.
func ChainHash(eventType string, data, metadata []byte) Hash {
	h := sha256.New()
	var n [8]byte
	for _, part := range [][]byte{[]byte(eventType), data, metadata} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// ErrChainBroken reports a stream whose hash chain does not verify.
var ErrChainBroken = errors.New("eventcodec: hash chain broken")

// StoredEvent is the part of a stored event the hash chain covers.
type StoredEvent struct {
	Type     string
	Data     []byte
	Metadata []byte
}

// VerifyChain checks that each event records the chain value of the one
// before it, starting from GenesisHash, and returns the chain value of the
// last event. It returns an error wrapping ErrChainBroken that names the
// first event (by index) that does not verify.
func VerifyChain(events []StoredEvent) (Hash, error) {
	prev := GenesisHash
	for i, ev := range events {
		env, err := DecodeMetadata(ev.Metadata)
		if err != nil {
			return Hash{}, fmt.Errorf("%w at event %d: %v", ErrChainBroken, i, err)
		}
		if !bytes.Equal(env.PreviousHash[:], prev[:]) {
			return Hash{}, fmt.Errorf("%w at event %d: records previous hash %x, want %x", ErrChainBroken, i, env.PreviousHash, prev)
		}
		prev = ChainHash(ev.Type, ev.Data, ev.Metadata)
	}
	return prev, nil
}
