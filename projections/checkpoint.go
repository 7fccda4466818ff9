package projections

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ecoregistry/ecoregistry/eventstore"
)

// ModelPosition is where one read model stands in a copy of the read store.
type ModelPosition struct {
	// Name is the projection's name.
	Name string
	// Position is the position of the last event its active generation had
	// committed in the copy.
	Position eventstore.Position
}

// Checkpoint writes a copy of the read store into dir, which must not exist,
// while the projections go on, and returns where each projection stands in
// the copy. A Manager opened on dir, over a log that holds at least those
// positions, resumes each projection from there. It is Pebble's checkpoint:
// tables are hard-linked when dir is on the read store's file system, and
// the write-ahead log, flushed first, is copied.
//
// Taken before a copy of the event store, the copy of the read models is
// never ahead of it: a projection only applies events that are durable in
// the log.
func (m *Manager) Checkpoint(ctx context.Context, dir string) ([]ModelPosition, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return nil, eventstore.ErrClosed
	}
	if err := m.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return nil, fmt.Errorf("projections: checkpoint into %s: %w", dir, err)
	}
	out, err := m.positionsIn(dir)
	if err != nil {
		return nil, fmt.Errorf("projections: checkpoint into %s: %w", dir, err)
	}
	return out, nil
}

// positionsIn opens the read store copied into dir read-only and reads the
// checkpoint of each projection's active generation.
func (m *Manager) positionsIn(dir string) ([]ModelPosition, error) {
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true, Logger: zapPebbleLogger{m.log.Sugar()}})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	out := make([]ModelPosition, 0, len(m.runners))
	for _, r := range m.runners {
		b, found, err := getCopy(db, metaKey(r.name))
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("projection %s has no meta in the copy", r.name)
		}
		md, err := decodeMeta(b)
		if err != nil {
			return nil, err
		}
		cb, found, err := getCopy(db, checkpointKey(generationPrefix(r.name, md.active)))
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("projection %s generation %d has no checkpoint in the copy", r.name, md.active)
		}
		ck, err := decodeCheckpoint(cb)
		if err != nil {
			return nil, err
		}
		out = append(out, ModelPosition{Name: r.name, Position: ck.Position})
	}
	return out, nil
}
