package eventcodec

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
