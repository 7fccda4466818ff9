package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/cockroachdb/pebble/v2"
	"go.uber.org/zap"
)

// Store keeps the checkpoints the registry signed, in a small Pebble
// database of its own (conventionally <data>/checkpoints), apart from the
// read models: rebuilding the tree must never lose what was signed, since
// a rebuilt tree is checked against it. Writes are synced.
//
// Keys: 'c' SIZE(8, big-endian) -> the signed note; 'k' NAME+HASH -> the
// verifier key of every key that signed, so that checkpoints signed before
// a change of key still verify.
type Store struct {
	db *pebble.DB
}

// Stored is a checkpoint as kept: what it states and its signed note.
type Stored struct {
	Checkpoint
	Signed []byte
}

// OpenStore opens (creating when needed) the store in dir. Pebble's
// messages go to log (nil discards them).
func OpenStore(dir string, log *zap.Logger) (*Store, error) {
	if log == nil {
		log = zap.NewNop()
	}
	db, err := pebble.Open(dir, &pebble.Options{MemTableSize: 1 << 20, Logger: pebbleLogger{log.Sugar()}})
	if err != nil {
		return nil, fmt.Errorf("checkpoint: open %s: %w", dir, err)
	}
	return &Store{db: db}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

func sizeKey(size uint64) []byte { return binary.BigEndian.AppendUint64([]byte{'c'}, size) }

// Add keeps a signed checkpoint. Adding the same checkpoint again does
// nothing; another one of the same size is refused: two roots for one size
// would mean that history changed.
func (s *Store) Add(signed []byte) error {
	c, err := ParseSigned(signed)
	if err != nil {
		return err
	}
	old, found, err := s.get(sizeKey(c.Size))
	if err != nil {
		return err
	}
	if found {
		if prev, err := ParseSigned(old); err == nil && bytes.Equal(prev.Root, c.Root) {
			return nil
		}
		return fmt.Errorf("checkpoint: a checkpoint of size %d with another root is kept already", c.Size)
	}
	return s.db.Set(sizeKey(c.Size), signed, pebble.Sync)
}

// RememberKey keeps a verifier key that signs checkpoints.
func (s *Store) RememberKey(verifierKey string) error {
	v, err := NewVerifier(verifierKey)
	if err != nil {
		return err
	}
	return s.db.Set(fmt.Appendf([]byte{'k'}, "%s+%08x", v.Name(), v.KeyHash()), []byte(verifierKey), pebble.Sync)
}

// Keys returns every verifier key remembered.
func (s *Store) Keys() ([]string, error) {
	var out []string
	err := s.scan([]byte{'k'}, []byte{'k' + 1}, false, func(_, v []byte) bool {
		out = append(out, string(v))
		return true
	})
	return out, err
}

// Latest returns the checkpoint of the greatest size, and false when none
// is kept.
func (s *Store) Latest() (Stored, bool, error) {
	var (
		out   Stored
		found bool
		perr  error
	)
	err := s.scan(sizeKey(0), []byte{'c' + 1}, true, func(_, v []byte) bool {
		out, perr = stored(v)
		found = true
		return false
	})
	return out, found, errors.Join(err, perr)
}

// List returns up to limit checkpoints of size at least from, in
// increasing size (or, when descending, of size at most from, in decreasing
// size). A limit <= 0 means no limit.
func (s *Store) List(from uint64, limit int, descending bool) ([]Stored, error) {
	lo, hi := sizeKey(from), []byte{'c' + 1}
	if descending {
		lo, hi = sizeKey(0), sizeKey(from+1)
		if from == ^uint64(0) {
			hi = []byte{'c' + 1}
		}
	}
	var (
		out  []Stored
		perr error
	)
	err := s.scan(lo, hi, descending, func(_, v []byte) bool {
		var st Stored
		st, perr = stored(v)
		out = append(out, st)
		return perr == nil && (limit <= 0 || len(out) < limit)
	})
	return out, errors.Join(err, perr)
}

func stored(v []byte) (Stored, error) {
	c, err := ParseSigned(v)
	return Stored{Checkpoint: c, Signed: bytes.Clone(v)}, err
}

func (s *Store) get(key []byte) ([]byte, bool, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}

func (s *Store) scan(lo, hi []byte, reverse bool, fn func(k, v []byte) bool) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	first, next := it.First, it.Next
	if reverse {
		first, next = it.Last, it.Prev
	}
	for ok := first(); ok; ok = next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// pebbleLogger sends Pebble's messages to zap.
type pebbleLogger struct{ l *zap.SugaredLogger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debugf("pebble (checkpoints): "+format, args...)
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Errorf("pebble (checkpoints): "+format, args...)
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Errorf("pebble (checkpoints): "+format, args...)
	// Pebble calls Fatalf when it cannot go on safely.
	os.Exit(1)
}
