// Package backup takes consistent copies of a running registry's embedded
// stores, the event store, the read models' store and the store of signed
// checkpoints (with the signing key, when the registry made its own), and
// moves them to the operator: the server side takes a copy and streams it
// as an AdminService Backup response; the client side writes the stream
// into a directory on which ecoregistryd can be started, which is the
// restore.
//
// The signed checkpoints are copied first, then the read models, then the
// event store, so that no copy is ahead of the log's: a checkpoint signs
// only what the Merkle tree (a read model) applied, a read model only
// applies events that are durable in the log, and the log's copy holds
// every event durable before it was taken. The read models may be behind;
// a registry started on the copy catches them up from the log, and its log
// extends the latest checkpoint copied.
package backup

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/projections"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// EventStore is an event store that can copy itself while it serves, as
// pebblestore.Store does.
type EventStore interface {
	// Checkpoint writes a copy into dir, which must not exist, and returns
	// the position of the last event in it.
	Checkpoint(ctx context.Context, dir string) (eventstore.Position, error)
}

// ReadModels is a read store that can copy itself while it serves, as
// projections.Manager does.
type ReadModels interface {
	// Checkpoint writes a copy into dir, which must not exist, and returns
	// where each read model stands in it.
	Checkpoint(ctx context.Context, dir string) ([]projections.ModelPosition, error)
}

// SignedCheckpoints is a store of signed checkpoints that can copy itself
// while it serves, as checkpoint.Store does.
type SignedCheckpoints interface {
	// Checkpoint writes a copy into dir, which must not exist, and returns
	// the latest checkpoint in it (found false when it holds none).
	Checkpoint(dir string) (latest checkpoint.Stored, found bool, err error)
}

// Integrity is what a backup keeps of the registry's tamper evidence, so
// that a restored registry goes on from the same signed history, with the
// same key.
type Integrity struct {
	// Checkpoints is the store of signed checkpoints.
	Checkpoints SignedCheckpoints
	// VerifierKey is the public key that verifies the checkpoints.
	VerifierKey string
	// KeyFile is the signing key's file when the registry made its own
	// key (<data>/signing.key, its public key beside it in KeyFile+".pub"):
	// the backup holds both. Empty when the operator keeps the key
	// elsewhere (--signing-key) and gives it to the restored registry.
	KeyFile string
}

// ErrUnsupported reports a registry whose events are not kept in an
// embedded store this package can copy (EventStoreDB keeps them).
var ErrUnsupported = errors.New("backup: the events are not kept in the embedded store; back up the event store with its own procedure")

// Where a backup holds the read models' store, the store of signed
// checkpoints and the signing key, relative to its root: where
// ecoregistryd keeps them under --data.
const (
	ReadModelsDir  = "projections"
	CheckpointsDir = "checkpoints"
	SigningKeyFile = "signing.key"
)

// Taker takes backups of one registry.
type Taker struct {
	staging string
	events  EventStore
	models  ReadModels
	// integrity, when set, is copied too.
	integrity *Integrity
	now       func() time.Time
}

// NewTaker returns a Taker that copies events and models (models may be nil
// when the registry runs no read models) into new directories under
// staging. Staging should be on the stores' file system, so that the
// copies hard-link the stores' tables rather than copy them; events nil
// makes every Take fail with ErrUnsupported.
func NewTaker(staging string, events EventStore, models ReadModels) *Taker {
	return &Taker{staging: staging, events: events, models: models, now: time.Now}
}

// KeepIntegrity makes every backup also hold the store of signed
// checkpoints and, when in.KeyFile is set, the signing key.
func (t *Taker) KeepIntegrity(in Integrity) { t.integrity = &in }

// ClearStaging removes what backups left under staging: a server that
// stopped while it streamed a backup leaves its copy behind. Call it before
// the server takes backups.
func ClearStaging(staging string) error { return os.RemoveAll(staging) }

// Snapshot is a backup taken and not yet removed: a directory under the
// staging directory and the manifest that describes it.
type Snapshot struct {
	// Manifest lists the files and the positions the copy is consistent at.
	Manifest *pb.BackupManifest
	root     string // the directory made for this backup
	dir      string // root/data: what a restore starts ecoregistryd on
}

// Take copies the signed checkpoints, the read models, then the event store
// (and the signing key) into a new directory under the staging directory,
// and lists the copy. Remove the snapshot when
// it has been sent.
func (t *Taker) Take(ctx context.Context) (*Snapshot, error) {
	if t.events == nil {
		return nil, ErrUnsupported
	}
	if err := os.MkdirAll(t.staging, 0o755); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	root, err := os.MkdirTemp(t.staging, "backup-")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	s := &Snapshot{root: root, dir: filepath.Join(root, "data"), Manifest: &pb.BackupManifest{TakenAt: timestamppb.New(t.now())}}
	if err := t.copyStores(ctx, s); err != nil {
		return nil, errors.Join(err, s.Remove())
	}
	if err := s.list(); err != nil {
		return nil, errors.Join(err, s.Remove())
	}
	return s, nil
}

// copyStores copies the signed checkpoints and the read models first,
// beside the copy of the event store (whose directory must not exist yet),
// then the event store, and then moves the others into it.
func (t *Taker) copyStores(ctx context.Context, s *Snapshot) error {
	if err := t.copyCheckpoints(s); err != nil {
		return err
	}
	models := filepath.Join(s.root, ReadModelsDir)
	if t.models != nil {
		positions, err := t.models.Checkpoint(ctx, models)
		if err != nil {
			return fmt.Errorf("backup: copy the read models: %w", err)
		}
		for _, p := range positions {
			s.Manifest.ReadModels = append(s.Manifest.ReadModels, &pb.ReadModelPosition{Name: p.Name, Position: positionToProto(p.Position)})
		}
	}
	pos, err := t.events.Checkpoint(ctx, s.dir)
	if err != nil {
		return fmt.Errorf("backup: copy the event store: %w", err)
	}
	s.Manifest.Position = positionToProto(pos)
	if t.models != nil {
		if err := os.Rename(models, filepath.Join(s.dir, ReadModelsDir)); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	return t.placeIntegrity(s, pos)
}

// copyCheckpoints copies the store of signed checkpoints beside the copy
// of the event store, and notes its latest checkpoint in the manifest.
func (t *Taker) copyCheckpoints(s *Snapshot) error {
	if t.integrity == nil {
		return nil
	}
	latest, found, err := t.integrity.Checkpoints.Checkpoint(filepath.Join(s.root, CheckpointsDir))
	if err != nil {
		return fmt.Errorf("backup: copy the signed checkpoints: %w", err)
	}
	s.Manifest.VerifierKey = t.integrity.VerifierKey
	if found {
		s.Manifest.CheckpointSize, s.Manifest.CheckpointPosition = latest.Size, positionToProto(latest.Last)
	}
	return nil
}

// placeIntegrity moves the copy of the signed checkpoints into the copy of
// the event store, which ends at pos, after checking that the log's copy
// covers the latest checkpoint, and copies the signing key beside them.
func (t *Taker) placeIntegrity(s *Snapshot, pos eventstore.Position) error {
	if t.integrity == nil {
		return nil
	}
	if last := s.Manifest.GetCheckpointPosition(); last != nil && pos.Before(eventstore.Position{Commit: last.GetCommit(), Prepare: last.GetPrepare()}) {
		return fmt.Errorf("backup: the copy of the log ends at %s, before the latest signed checkpoint's last event at %d", pos, last.GetCommit())
	}
	if err := os.Rename(filepath.Join(s.root, CheckpointsDir), filepath.Join(s.dir, CheckpointsDir)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if t.integrity.KeyFile == "" {
		return nil
	}
	for _, f := range []struct {
		from, to string
		mode     os.FileMode
	}{{t.integrity.KeyFile, SigningKeyFile, 0o600}, {t.integrity.KeyFile + ".pub", SigningKeyFile + ".pub", 0o644}} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			return fmt.Errorf("backup: copy the signing key: %w", err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, f.to), b, f.mode); err != nil {
			return fmt.Errorf("backup: copy the signing key: %w", err)
		}
	}
	s.Manifest.SigningKeyIncluded = true
	return nil
}

// list fills the manifest's files, in the order of a walk of the copy.
func (s *Snapshot) list() error {
	return filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		// The lock of a store is no part of its content; a restored store
		// takes its own.
		if d.Name() == "LOCK" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(s.dir, path)
		if err != nil {
			return err
		}
		s.Manifest.Files = append(s.Manifest.Files, &pb.BackupFile{Path: filepath.ToSlash(rel), Size: uint64(info.Size()), Secret: rel == SigningKeyFile})
		s.Manifest.TotalBytes += uint64(info.Size())
		return nil
	})
}

// Remove deletes the snapshot's copy.
func (s *Snapshot) Remove() error { return os.RemoveAll(s.root) }

// ChunkSize is the most file content one BackupChunk carries: well under
// gRPC's default 4 MiB message limit.
const ChunkSize = 1 << 20

// Send streams the snapshot: the manifest, then each file's content in
// chunks, the last chunk of a file carrying its SHA-256.
func (s *Snapshot) Send(ctx context.Context, send func(*pb.BackupResponse) error) error {
	if err := send(&pb.BackupResponse{Part: &pb.BackupResponse_Manifest{Manifest: s.Manifest}}); err != nil {
		return err
	}
	buf := make([]byte, ChunkSize)
	for _, f := range s.Manifest.Files {
		if err := s.sendFile(ctx, f, buf, send); err != nil {
			return err
		}
	}
	return nil
}

func (s *Snapshot) sendFile(ctx context.Context, f *pb.BackupFile, buf []byte, send func(*pb.BackupResponse) error) error {
	file, err := os.Open(filepath.Join(s.dir, filepath.FromSlash(f.GetPath())))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer file.Close()
	h := sha256.New()
	var offset uint64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Read at most what the manifest lists: a hard-linked table never
		// changes, and the copied log is no longer written.
		n, err := io.ReadFull(file, buf[:min(uint64(len(buf)), f.GetSize()-offset)])
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return fmt.Errorf("backup: read %s: %w", f.GetPath(), err)
		}
		h.Write(buf[:n])
		chunk := &pb.BackupChunk{Path: f.GetPath(), Offset: offset, Data: buf[:n]}
		offset += uint64(n)
		last := offset == f.GetSize() || n == 0
		if last {
			chunk.Sha256 = h.Sum(nil)
		}
		if err := send(&pb.BackupResponse{Part: &pb.BackupResponse_Chunk{Chunk: chunk}}); err != nil {
			return err
		}
		if last {
			if offset != f.GetSize() {
				return fmt.Errorf("backup: %s shrank from %d to %d bytes while it was sent", f.GetPath(), f.GetSize(), offset)
			}
			return nil
		}
	}
}

func positionToProto(p eventstore.Position) *pb.Position {
	return &pb.Position{Commit: p.Commit, Prepare: p.Prepare}
}
