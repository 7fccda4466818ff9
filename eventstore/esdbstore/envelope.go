package esdbstore

import (
	"bytes"
	"encoding/binary"
)

// EventStoreDB records only whether an event is JSON: its content-type is
// "application/json" or "application/octet-stream", whatever the client
// sends. To give the caller back the content type it wrote, the adapter keeps
// it in the event's custom metadata, in front of the caller's metadata:
//
//	envelopeMagic | uvarint(len(contentType)) | contentType | metadata
//
// Events whose metadata does not start with envelopeMagic (written by other
// tools) are read with EventStoreDB's content type and their metadata as is.
var envelopeMagic = []byte("\x00ecoreg1\x00")

// wrapMetadata returns the custom metadata to store for an event.
func wrapMetadata(contentType string, metadata []byte) []byte {
	out := make([]byte, 0, len(envelopeMagic)+binary.MaxVarintLen64+len(contentType)+len(metadata))
	out = append(out, envelopeMagic...)
	out = binary.AppendUvarint(out, uint64(len(contentType)))
	out = append(out, contentType...)
	return append(out, metadata...)
}

// wrappedSize is len(wrapMetadata(contentType, metadata)).
func wrappedSize(contentType string, metadata []byte) int {
	var n [binary.MaxVarintLen64]byte
	return len(envelopeMagic) + binary.PutUvarint(n[:], uint64(len(contentType))) + len(contentType) + len(metadata)
}

// unwrapMetadata splits stored custom metadata into the caller's content type
// and metadata. ok is false when stored was not written by wrapMetadata.
func unwrapMetadata(stored []byte) (contentType string, metadata []byte, ok bool) {
	rest, found := bytes.CutPrefix(stored, envelopeMagic)
	if !found {
		return "", stored, false
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) {
		return "", stored, false
	}
	rest = rest[k:]
	contentType, metadata = string(rest[:n]), rest[n:]
	if len(metadata) == 0 {
		// The caller's nil and empty metadata read back alike, as nil.
		metadata = nil
	}
	return contentType, metadata, true
}
