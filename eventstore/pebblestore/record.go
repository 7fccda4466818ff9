package pebblestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// The keyspace has three disjoint parts, told apart by their first byte:
//
//	'L' position(8, big-endian)                  -> record (see putRecord)
//	'S' uvarint(len(stream)) stream firstRev(8)  -> firstPos(8) uvarint(count)
//	'M' name                                     -> store metadata
//
// The log ('L') holds every event in global order, so reading $all is one
// sequential scan. The stream index ('S') holds one entry per append, not per
// event: an append's events have consecutive revisions and consecutive
// positions, so the entry maps the whole run. The length prefix of the stream
// name keeps one stream's entries from interleaving with those of a stream
// whose name it is a prefix of.
const (
	prefixLog    = 'L'
	prefixStream = 'S'
	prefixMeta   = 'M'

	logKeyLen = 9
	// recordVersion is the first byte of every record, so that a later format
	// can be recognised.
	recordVersion = 1
	// recordFixedLen is version(1) + recorded(8) + id(16).
	recordFixedLen = 1 + 8 + 16
)

var (
	// formatKey names the store format; its value is formatValue.
	formatKey   = []byte{prefixMeta, 'f', 'o', 'r', 'm', 'a', 't'}
	formatValue = []byte("ecoregistry.pebblestore.v1")

	logLower = []byte{prefixLog}
	logUpper = []byte{prefixLog + 1}
)

// errCorrupt reports a record or index entry that does not decode.
var errCorrupt = errors.New("pebblestore: corrupt record")

func putLogKey(dst []byte, pos uint64) {
	dst[0] = prefixLog
	binary.BigEndian.PutUint64(dst[1:], pos)
}

func logKey(pos uint64) []byte {
	k := make([]byte, logKeyLen)
	putLogKey(k, pos)
	return k
}

func decodeLogKey(k []byte) (uint64, bool) {
	if len(k) != logKeyLen || k[0] != prefixLog {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[1:]), true
}

// streamPrefix returns the prefix shared by every index entry of stream.
func streamPrefix(stream string) []byte {
	p := make([]byte, 0, 1+binary.MaxVarintLen64+len(stream)+8)
	p = append(p, prefixStream)
	p = binary.AppendUvarint(p, uint64(len(stream)))
	return append(p, stream...)
}

// streamKey appends the index key of the append starting at rev to prefix,
// which must come from streamPrefix.
func streamKey(prefix []byte, rev uint64) []byte {
	return binary.BigEndian.AppendUint64(prefix[:len(prefix):len(prefix)], rev)
}

// indexEntry is one append in the stream index: count events at revisions
// first.. and positions pos...
type indexEntry struct {
	first, pos, count uint64
}

func (e indexEntry) last() uint64    { return e.first + e.count - 1 }
func (e indexEntry) lastPos() uint64 { return e.pos + e.count - 1 }

func decodeIndexEntry(prefixLen int, key, value []byte) (indexEntry, error) {
	if len(key) != prefixLen+8 || len(value) < 9 {
		return indexEntry{}, fmt.Errorf("%w: stream index entry %x", errCorrupt, key)
	}
	e := indexEntry{
		first: binary.BigEndian.Uint64(key[prefixLen:]),
		pos:   binary.BigEndian.Uint64(value),
	}
	n, k := binary.Uvarint(value[8:])
	if k <= 0 || n == 0 {
		return indexEntry{}, fmt.Errorf("%w: stream index entry %x", errCorrupt, key)
	}
	e.count = n
	return e, nil
}

func appendIndexValue(dst []byte, pos, count uint64) []byte {
	dst = binary.BigEndian.AppendUint64(dst, pos)
	return binary.AppendUvarint(dst, count)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// recordLen is the encoded size of ev as the record of revision rev.
func recordLen(stream string, rev uint64, ev *eventstore.EventData) int {
	return recordFixedLen +
		uvarintLen(rev) +
		uvarintLen(uint64(len(stream))) + len(stream) +
		uvarintLen(uint64(len(ev.Type))) + len(ev.Type) +
		uvarintLen(uint64(len(ev.ContentType))) + len(ev.ContentType) +
		uvarintLen(uint64(len(ev.Data))) + len(ev.Data) +
		uvarintLen(uint64(len(ev.Metadata))) + len(ev.Metadata)
}

// putRecord encodes ev into dst, which must be exactly recordLen bytes; it
// writes in place so that the sequencer can fill Pebble's batch directly.
// A record is, in order:
//
//	version(1) recorded(8, big-endian Unix nanoseconds) id(16)
//	uvarint(revision)
//	uvarint(len) stream, type, content type, data, metadata
//
// The stream and revision make a record self-describing, so that a scan of
// the log needs no lookup in the stream index; the lengths make it compact
// and let a reader slice the fields out without copying.
func putRecord(dst []byte, stream string, rev uint64, recorded int64, ev *eventstore.EventData) {
	dst[0] = recordVersion
	binary.BigEndian.PutUint64(dst[1:], uint64(recorded))
	copy(dst[9:], ev.ID[:])
	i := recordFixedLen
	i += binary.PutUvarint(dst[i:], rev)
	i += putBytes(dst[i:], stream)
	i += putBytes(dst[i:], ev.Type)
	i += putBytes(dst[i:], ev.ContentType)
	i += putBytes(dst[i:], ev.Data)
	putBytes(dst[i:], ev.Metadata)
}

func putBytes[T string | []byte](dst []byte, b T) int {
	n := binary.PutUvarint(dst, uint64(len(b)))
	return n + copy(dst[n:], b)
}

// recordView is a decoded record whose fields still point into the encoded
// bytes. It lets readers test a filter before they copy anything.
type recordView struct {
	size        int // of the encoded record
	recorded    int64
	id          []byte
	revision    uint64
	stream      []byte
	eventType   []byte
	contentType []byte
	data        []byte
	metadata    []byte
}

func (v *recordView) decode(b []byte) error {
	if len(b) < recordFixedLen || b[0] != recordVersion {
		return errCorrupt
	}
	v.size = len(b)
	v.recorded = int64(binary.BigEndian.Uint64(b[1:]))
	v.id = b[9:25]
	rest := b[recordFixedLen:]
	rev, n := binary.Uvarint(rest)
	if n <= 0 {
		return errCorrupt
	}
	v.revision = rev
	rest = rest[n:]
	var ok bool
	if v.stream, rest, ok = cutBytes(rest); !ok {
		return errCorrupt
	}
	if v.eventType, rest, ok = cutBytes(rest); !ok {
		return errCorrupt
	}
	if v.contentType, rest, ok = cutBytes(rest); !ok {
		return errCorrupt
	}
	if v.data, rest, ok = cutBytes(rest); !ok {
		return errCorrupt
	}
	if v.metadata, rest, ok = cutBytes(rest); !ok || len(rest) != 0 {
		return errCorrupt
	}
	return nil
}

func cutBytes(b []byte) (field, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// matches applies f without copying the record's strings.
func (v *recordView) matches(f *eventstore.Filter) bool {
	if len(f.StreamPrefixes) == 0 && len(f.EventTypes) == 0 {
		return true
	}
	return f.Matches(bytesView(v.stream), bytesView(v.eventType))
}

// bytesView returns b as a string without copying. Callers only use it for
// comparisons that end before b changes, or on bytes they own and never
// change again.
func bytesView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// arena hands out the memory of decoded events. Events are copied out of
// pebble's iterator (whose memory is reused) into large shared chunks: one
// allocation per chunk instead of six per event is what makes reading the
// log fast. The chunks are never written again after an event is decoded
// into them, so strings may point into them.
type arena struct {
	buf []byte
	// strings holds the stream names, types and content types decoded so
	// far: a read meets few distinct ones, and sharing them saves a copy
	// per event.
	strings map[string]string
	// The last string of each field: runs of events share their stream
	// and type, and comparing with the last one is cheaper than hashing.
	lastStream, lastType, lastContentType string
}

// maxInterned bounds arena.strings for reads over many streams.
const maxInterned = 512

const arenaChunk = 256 << 10

// reserve makes room for n bytes, which one event needs at most, expecting
// about `more` events of that size after it. Sizing a new chunk for what
// is left of a read, instead of always taking a full one, halves what a
// page of events allocates: the unused tail of its last chunk.
func (a *arena) reserve(n, more int) {
	if n <= cap(a.buf)-len(a.buf) || n > arenaChunk/4 {
		return
	}
	size := n * (more + 1)
	if more <= 0 || size > arenaChunk {
		size = arenaChunk
	}
	a.buf = make([]byte, 0, size)
}

func (a *arena) copy(b []byte) []byte {
	if len(b) > cap(a.buf)-len(a.buf) {
		if len(b) > arenaChunk/4 {
			// Large values get a chunk of their own so that they do not
			// waste the rest of a shared chunk.
			return append([]byte(nil), b...)
		}
		a.buf = make([]byte, 0, arenaChunk)
	}
	n := len(a.buf)
	a.buf = append(a.buf, b...)
	// The full slice expression keeps an append by the caller from writing
	// over the next event in the chunk.
	return a.buf[n:len(a.buf):len(a.buf)]
}

// fill copies v into e, the event at position pos, which must be zero.
func (v *recordView) fill(e *eventstore.RecordedEvent, a *arena, pos uint64) {
	copy(e.ID[:], v.id)
	e.Stream = a.intern(v.stream, &a.lastStream)
	e.Type = a.intern(v.eventType, &a.lastType)
	e.ContentType = a.intern(v.contentType, &a.lastContentType)
	if len(v.data) > 0 {
		e.Data = a.copy(v.data)
	}
	if len(v.metadata) > 0 {
		e.Metadata = a.copy(v.metadata)
	}
	e.Revision = v.revision
	e.Position = eventstore.Position{Commit: pos, Prepare: pos}
	e.Recorded = time.Unix(0, v.recorded).UTC()
}

// intern returns b as a string, shared with earlier equal ones; last is
// the field's last string.
func (a *arena) intern(b []byte, last *string) string {
	if len(b) == 0 {
		return ""
	}
	if bytesView(b) == *last {
		return *last
	}
	// Indexing with string(b) does not allocate.
	if s, ok := a.strings[string(b)]; ok {
		*last = s
		return s
	}
	s := bytesView(a.copy(b))
	if a.strings == nil {
		a.strings = make(map[string]string)
	}
	if len(a.strings) < maxInterned {
		a.strings[s] = s
	}
	*last = s
	return s
}
