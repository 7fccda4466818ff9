package pebblestore

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// Tamperer writes straight into a closed store's directory, bypassing
// every check of Append: what someone with write access to the disk could
// do. It exists for the tests of tamper evidence (package
// integrity/verify), which must show that such changes are found; nothing
// in the registry uses it.
type Tamperer struct {
	db *pebble.DB
}

// OpenTamperer opens the directory of a store that no Store has open.
func OpenTamperer(dir string) (*Tamperer, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{}})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: tamper with %s: %w", dir, err)
	}
	return &Tamperer{db: db}, nil
}

// Close syncs and closes the directory.
func (t *Tamperer) Close() error {
	return errors.Join(t.db.Flush(), t.db.Close())
}

// Event reads the event at position pos.
func (t *Tamperer) Event(pos uint64) (eventstore.RecordedEvent, error) {
	v, closer, err := t.db.Get(logKey(pos))
	if err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("pebblestore: tamper: position %d: %w", pos, err)
	}
	defer closer.Close()
	var rv recordView
	if err := rv.decode(v); err != nil {
		return eventstore.RecordedEvent{}, err
	}
	var ev eventstore.RecordedEvent
	rv.fill(&ev, &arena{}, pos)
	return ev, nil
}

// Rewrite replaces the record at position pos with ev, recorded as the
// revision ev.Revision of ev.Stream, keeping the stream index as it is.
func (t *Tamperer) Rewrite(pos uint64, ev eventstore.RecordedEvent) error {
	buf := make([]byte, recordLen(ev.Stream, ev.Revision, &ev.EventData))
	putRecord(buf, ev.Stream, ev.Revision, ev.Recorded.UnixNano(), &ev.EventData)
	return t.db.Set(logKey(pos), buf, pebble.Sync)
}

// Truncate removes every event after position last, and their entries in
// the stream index, so that the store opens as if they had never been
// appended.
func (t *Tamperer) Truncate(last uint64) error {
	batch := t.db.NewBatch()
	defer batch.Close()
	if err := batch.DeleteRange(logKey(last+1), logUpper, nil); err != nil {
		return err
	}
	it, err := t.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixStream}, UpperBound: []byte{prefixStream + 1}})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		if err := truncateEntry(batch, it.Key(), it.Value(), last); err != nil {
			it.Close()
			return err
		}
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	return batch.Commit(pebble.Sync)
}

// truncateEntry shortens or deletes one stream index entry so that it ends
// at position last at the latest.
func truncateEntry(batch *pebble.Batch, key, value []byte, last uint64) error {
	// The key is the prefix, whose length varies with the stream's name,
	// and 8 bytes of revision.
	e, err := decodeIndexEntry(len(key)-8, key, value)
	if err != nil {
		return err
	}
	switch {
	case e.pos > last:
		return batch.Delete(key, nil)
	case e.lastPos() > last:
		return batch.Set(key, appendIndexValue(nil, e.pos, last-e.pos+1), nil)
	}
	return nil
}
