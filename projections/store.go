package projections

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/projections/internal/enc"
)

// The namespaces of the read store; see the package documentation.
const (
	nsFormat byte = 0x00
	nsMeta   byte = 0x01
	nsData   byte = 0x02
)

var (
	formatKey   = []byte{nsFormat, 'f', 'o', 'r', 'm', 'a', 't'}
	formatValue = []byte("ecoregistry-projections/1")
)

func metaKey(name string) []byte { return append([]byte{nsMeta}, name...) }

// generationPrefix is the prefix of every key of one generation.
func generationPrefix(name string, gen uint64) []byte {
	p := make([]byte, 0, len(name)+10)
	p = append(p, nsData)
	p = append(p, name...)
	p = append(p, 0)
	return binary.BigEndian.AppendUint64(p, gen)
}

// checkpointKey is the key of a generation's checkpoint: the prefix and a
// zero byte, which no projection key starts with.
func checkpointKey(prefix []byte) []byte { return append(slices.Clip(prefix), 0) }

// PrefixEnd returns the smallest key greater than every key that starts with
// prefix, for use as an exclusive upper bound; nil when there is none.
func PrefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// meta is what the read store remembers of one projection.
type meta struct {
	active   uint64
	building uint64 // 0 when no rebuild is under way
	next     uint64 // the next generation number to hand out
}

func (m meta) encode() []byte {
	b := enc.Uvarint(nil, m.active)
	b = enc.Uvarint(b, m.building)
	return enc.Uvarint(b, m.next)
}

func decodeMeta(b []byte) (meta, error) {
	r := enc.NewReader(b)
	m := meta{active: r.Uvarint(), building: r.Uvarint(), next: r.Uvarint()}
	return m, r.Done()
}

// Checkpoint is what a generation has committed: where it stands in the log
// and what it did to get there. It is written in the same batch as the state
// it describes.
type Checkpoint struct {
	// SchemaVersion is the projection's schema version when the generation
	// was built.
	SchemaVersion uint32
	// Position is the position of the last event applied; eventstore.Start
	// before the first.
	Position eventstore.Position
	// Applied counts the events the generation has read, skipped ones
	// included.
	Applied uint64
	// Skipped counts events of types the projection does not handle, by type.
	Skipped map[string]uint64
	// Committed is when the checkpoint was written; zero before the first
	// commit.
	Committed time.Time
}

// SkippedTotal returns the number of events skipped, of every type.
func (c *Checkpoint) SkippedTotal() uint64 {
	var n uint64
	for _, v := range c.Skipped {
		n += v
	}
	return n
}

func (c *Checkpoint) clone() *Checkpoint {
	d := *c
	d.Skipped = maps.Clone(c.Skipped)
	return &d
}

func (c *Checkpoint) encode() []byte {
	b := enc.Uvarint(nil, uint64(c.SchemaVersion))
	b = enc.Uvarint(b, c.Position.Commit)
	b = enc.Uvarint(b, c.Position.Prepare)
	b = enc.Uvarint(b, c.Applied)
	var committed int64
	if !c.Committed.IsZero() {
		committed = c.Committed.UnixNano()
	}
	b = enc.Varint(b, committed)
	b = enc.Uvarint(b, uint64(len(c.Skipped)))
	for _, t := range slices.Sorted(maps.Keys(c.Skipped)) {
		b = enc.String(b, t)
		b = enc.Uvarint(b, c.Skipped[t])
	}
	return b
}

func decodeCheckpoint(b []byte) (*Checkpoint, error) {
	r := enc.NewReader(b)
	c := &Checkpoint{SchemaVersion: uint32(r.Uvarint())}
	c.Position.Commit = r.Uvarint()
	c.Position.Prepare = r.Uvarint()
	c.Applied = r.Uvarint()
	if ns := r.Varint(); ns != 0 {
		c.Committed = time.Unix(0, ns).UTC()
	}
	n := r.Uvarint()
	if r.Err() == nil && n > 0 {
		c.Skipped = make(map[string]uint64, min(n, 64))
		for i := uint64(0); i < n && r.Err() == nil; i++ {
			t := r.String()
			c.Skipped[t] = r.Uvarint()
		}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("projections: checkpoint: %w", err)
	}
	return c, nil
}

// getCopy reads key from r and returns a copy of its value, and false when
// there is none.
func getCopy(r pebble.Reader, key []byte) ([]byte, bool, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := bytes.Clone(v)
	if out == nil {
		out = []byte{}
	}
	return out, true, closer.Close()
}

// Keyspace reads the committed state of one generation of a projection.
// Keys are relative to the generation. A Builder uses it to load what its
// cache does not hold; only the builder writes the generation, so what it
// reads is what it last committed.
type Keyspace struct {
	db     *pebble.DB
	prefix []byte
}

// Get returns a copy of the value of key, and false when there is none.
func (k Keyspace) Get(key []byte) ([]byte, bool, error) {
	return getCopy(k.db, k.key(key))
}

// Keys calls fn with each committed key (relative to the generation) that
// starts with prefix, in order, until fn returns an error. The slice passed
// to fn is valid only during the call.
func (k Keyspace) Keys(prefix []byte, fn func(key []byte) error) error {
	lo := k.key(prefix)
	it, err := k.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: PrefixEnd(lo)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		if err := fn(it.Key()[len(k.prefix):]); err != nil {
			it.Close()
			return err
		}
	}
	return errors.Join(it.Error(), it.Close())
}

func (k Keyspace) key(key []byte) []byte {
	full := make([]byte, 0, len(k.prefix)+len(key))
	return append(append(full, k.prefix...), key...)
}

// Writer collects a builder's changes into the batch that also records the
// checkpoint. Keys are relative to the generation and must not be empty or
// start with 0x00, which the checkpoint uses.
type Writer struct {
	batch  *pebble.Batch
	prefix []byte
	key    []byte
}

func (w *Writer) full(key []byte) ([]byte, error) {
	if len(key) == 0 || key[0] == 0 {
		return nil, fmt.Errorf("projections: key %q is empty or starts with 0x00", key)
	}
	w.key = append(append(w.key[:0], w.prefix...), key...)
	return w.key, nil
}

// Set records that key has value.
func (w *Writer) Set(key, value []byte) error {
	k, err := w.full(key)
	if err != nil {
		return err
	}
	// Batch.Set copies key and value, so both may be reused.
	return w.batch.Set(k, value, nil)
}

// Delete records that key has no value.
func (w *Writer) Delete(key []byte) error {
	k, err := w.full(key)
	if err != nil {
		return err
	}
	return w.batch.Delete(k, nil)
}

// View is a consistent, read-only view of a projection's state at one
// position, for queries. Close it when done.
type View struct {
	snap   *pebble.Snapshot
	prefix []byte
	// Position is the position of the last event the state reflects.
	Position eventstore.Position
}

// Get returns a copy of the value of key, and false when there is none.
func (v *View) Get(key []byte) ([]byte, bool, error) {
	full := make([]byte, 0, len(v.prefix)+len(key))
	return getCopy(v.snap, append(append(full, v.prefix...), key...))
}

// Scan calls fn with each key (relative to the projection) in [lower,
// upper) and its value, in key order, until fn returns false or an error. A
// nil upper means the end of the projection's keys. The slices passed to fn
// are valid only during the call.
func (v *View) Scan(lower, upper []byte, fn func(key, value []byte) (bool, error)) error {
	lo := append(bytes.Clone(v.prefix), lower...)
	var hi []byte
	if upper != nil {
		hi = append(bytes.Clone(v.prefix), upper...)
	} else {
		hi = PrefixEnd(v.prefix)
	}
	it, err := v.snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		val, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		more, err := fn(it.Key()[len(v.prefix):], val)
		if err != nil || !more {
			return errors.Join(err, it.Close())
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// Close releases the view.
func (v *View) Close() error { return v.snap.Close() }

var _ io.Closer = (*View)(nil)
