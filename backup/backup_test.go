package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/projections"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// fakeStore "checkpoints" by writing the given files into dir, which must
// not exist, as Pebble's checkpoint requires.
type fakeStore struct {
	files map[string][]byte
	pos   eventstore.Position
	calls *[]string
}

func (f fakeStore) write(dir string) error {
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		return errors.New("checkpoint directory exists")
	}
	for name, b := range f.files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (f fakeStore) Checkpoint(_ context.Context, dir string) (eventstore.Position, error) {
	*f.calls = append(*f.calls, "events")
	return f.pos, f.write(dir)
}

type fakeModels struct{ fakeStore }

func (f fakeModels) Checkpoint(_ context.Context, dir string) ([]projections.ModelPosition, error) {
	*f.calls = append(*f.calls, "models")
	return []projections.ModelPosition{{Name: "holdings", Position: f.pos}}, f.write(dir)
}

// pipe runs send into a buffer of responses and returns a recv over them.
func pipe(t *testing.T, s *Snapshot) func() (*pb.BackupResponse, error) {
	t.Helper()
	var msgs []*pb.BackupResponse
	err := s.Send(t.Context(), func(r *pb.BackupResponse) error {
		// Send reuses its buffer: keep a copy, as gRPC's encoding does.
		if c := r.GetChunk(); c != nil {
			c = &pb.BackupChunk{Path: c.Path, Offset: c.Offset, Data: bytes.Clone(c.Data), Sha256: c.Sha256}
			r = &pb.BackupResponse{Part: &pb.BackupResponse_Chunk{Chunk: c}}
		}
		msgs = append(msgs, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return func() (*pb.BackupResponse, error) {
		if len(msgs) == 0 {
			return nil, io.EOF
		}
		m := msgs[0]
		msgs = msgs[1:]
		return m, nil
	}
}

func TestABackupIsReceivedAsTaken(t *testing.T) {
	var calls []string
	big := bytes.Repeat([]byte("0123456789abcdef"), ChunkSize/8) // two chunks
	events := fakeStore{files: map[string][]byte{"000001.log": big, "MANIFEST-000001": []byte("m"), "empty": nil}, pos: eventstore.Position{Commit: 42, Prepare: 42}, calls: &calls}
	models := fakeModels{fakeStore{files: map[string][]byte{"000002.sst": []byte("table"), "OPTIONS-000003": []byte("o")}, pos: eventstore.Position{Commit: 40, Prepare: 40}, calls: &calls}}
	staging := filepath.Join(t.TempDir(), "staging")
	snap, err := NewTaker(staging, events, models).Take(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(calls, ",") != "models,events" {
		t.Fatalf("copied %v; the read models must be copied before the events", calls)
	}
	m := snap.Manifest
	if m.GetPosition().GetCommit() != 42 || len(m.GetReadModels()) != 1 || m.GetReadModels()[0].GetPosition().GetCommit() != 40 || len(m.GetFiles()) != 5 {
		t.Fatalf("manifest %v", m)
	}
	out := filepath.Join(t.TempDir(), "restore")
	var last, total uint64
	got, err := Receive(out, pipe(t, snap), func(w, n uint64) { last, total = w, n })
	if err != nil {
		t.Fatal(err)
	}
	if got.GetTotalBytes() != uint64(len(big)+1+5+1) || last != total || total != got.GetTotalBytes() {
		t.Fatalf("total %d bytes, progress %d of %d", got.GetTotalBytes(), last, total)
	}
	for dir, files := range map[string]map[string][]byte{".": events.files, ReadModelsDir: models.files} {
		for name, want := range files {
			b, err := os.ReadFile(filepath.Join(out, dir, name))
			if err != nil || !bytes.Equal(b, want) {
				t.Fatalf("%s/%s: %d bytes (%v), want %d", dir, name, len(b), err, len(want))
			}
		}
	}
	if _, err := os.Stat(filepath.Join(out, ManifestFile)); err != nil {
		t.Fatal(err)
	}
	if err := snap.Remove(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(staging); len(entries) != 0 {
		t.Fatalf("the staging directory keeps %v", entries)
	}
}

type fakeCheckpoints struct {
	fakeStore
	latest checkpoint.Stored
}

func (f fakeCheckpoints) Checkpoint(dir string) (checkpoint.Stored, bool, error) {
	*f.calls = append(*f.calls, "checkpoints")
	return f.latest, f.latest.Size > 0, f.write(dir)
}

// The signed checkpoints are copied first, the signing key goes with them
// (readable by its owner only once received), and a copy of the log that
// would not cover the latest checkpoint is refused.
func TestABackupKeepsTheSignedCheckpointsAndTheKey(t *testing.T) {
	var calls []string
	events := fakeStore{files: map[string][]byte{"000001.log": []byte("log")}, pos: eventstore.Position{Commit: 42, Prepare: 42}, calls: &calls}
	models := fakeModels{fakeStore{files: map[string][]byte{"000002.sst": []byte("table")}, pos: eventstore.Position{Commit: 40, Prepare: 40}, calls: &calls}}
	cps := fakeCheckpoints{fakeStore{files: map[string][]byte{"000003.sst": []byte("signed")}, calls: &calls},
		checkpoint.Stored{Checkpoint: checkpoint.Checkpoint{Size: 30, Last: eventstore.Position{Commit: 30, Prepare: 30}}}}
	keyDir := t.TempDir()
	key := filepath.Join(keyDir, SigningKeyFile)
	if err := os.WriteFile(key, []byte("PRIVATE"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key+".pub", []byte("PUBLIC"), 0o644); err != nil {
		t.Fatal(err)
	}
	taker := NewTaker(filepath.Join(t.TempDir(), "staging"), events, models)
	taker.KeepIntegrity(Integrity{Checkpoints: cps, VerifierKey: "registry+1234+KEY", KeyFile: key})
	snap, err := taker.Take(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Remove()
	if strings.Join(calls, ",") != "checkpoints,models,events" {
		t.Fatalf("copied %v; the signed checkpoints come first, the events last", calls)
	}
	m := snap.Manifest
	if m.GetCheckpointSize() != 30 || m.GetCheckpointPosition().GetCommit() != 30 || m.GetVerifierKey() != "registry+1234+KEY" || !m.GetSigningKeyIncluded() {
		t.Fatalf("manifest %v", m)
	}
	out := filepath.Join(t.TempDir(), "restore")
	if _, err := Receive(out, pipe(t, snap), nil); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{CheckpointsDir + "/000003.sst": "signed", SigningKeyFile: "PRIVATE", SigningKeyFile + ".pub": "PUBLIC"} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != want {
			t.Fatalf("%s holds %q (%v)", name, b, err)
		}
	}
	if info, err := os.Stat(filepath.Join(out, SigningKeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the received signing key: %v %v, want mode 0600", info, err)
	}

	cps.latest.Last = eventstore.Position{Commit: 43, Prepare: 43}
	taker.KeepIntegrity(Integrity{Checkpoints: cps})
	if _, err := taker.Take(t.Context()); err == nil || !strings.Contains(err.Error(), "before the latest signed checkpoint") {
		t.Fatalf("a log copy behind the latest checkpoint: %v", err)
	}
}

func TestWithoutAnEmbeddedEventStoreThereIsNoBackup(t *testing.T) {
	if _, err := NewTaker(t.TempDir(), nil, nil).Take(t.Context()); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v", err)
	}
}

func TestReceiveRefusesABackupThatDoesNotMatchItsManifest(t *testing.T) {
	manifest := func(files ...*pb.BackupFile) *pb.BackupResponse {
		return &pb.BackupResponse{Part: &pb.BackupResponse_Manifest{Manifest: &pb.BackupManifest{Files: files}}}
	}
	chunk := func(path string, offset uint64, data string, sum []byte) *pb.BackupResponse {
		return &pb.BackupResponse{Part: &pb.BackupResponse_Chunk{Chunk: &pb.BackupChunk{Path: path, Offset: offset, Data: []byte(data), Sha256: sum}}}
	}
	goodSum := func(s string) []byte { h := sha256Of([]byte(s)); return h[:] }
	for _, tc := range []struct {
		name string
		msgs []*pb.BackupResponse
		says string
	}{
		{"no manifest first", []*pb.BackupResponse{chunk("a", 0, "x", nil)}, "did not start with a manifest"},
		{"a path outside the directory", []*pb.BackupResponse{manifest(&pb.BackupFile{Path: "../escape", Size: 1})}, "outside the backup"},
		{"a wrong checksum", []*pb.BackupResponse{manifest(&pb.BackupFile{Path: "a", Size: 1}), chunk("a", 0, "x", goodSum("y"))}, "SHA-256"},
		{"a chunk out of order", []*pb.BackupResponse{manifest(&pb.BackupFile{Path: "a", Size: 2}), chunk("a", 1, "x", nil)}, "from byte 0"},
		{"a file longer than listed", []*pb.BackupResponse{manifest(&pb.BackupFile{Path: "a", Size: 1}), chunk("a", 0, "xy", nil)}, "longer"},
		{"a stream that ends early", []*pb.BackupResponse{manifest(&pb.BackupFile{Path: "a", Size: 2}), chunk("a", 0, "x", nil)}, "ended in a"},
		{"a file not listed", []*pb.BackupResponse{manifest(), chunk("b", 0, "x", goodSum("x"))}, "goes on past"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs := tc.msgs
			recv := func() (*pb.BackupResponse, error) {
				if len(msgs) == 0 {
					return nil, io.EOF
				}
				m := msgs[0]
				msgs = msgs[1:]
				return m, nil
			}
			_, err := Receive(filepath.Join(t.TempDir(), "out"), recv, nil)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want one that says %q", err, tc.says)
			}
		})
	}
	t.Run("a directory that is not empty", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "keep"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Receive(dir, nil, nil); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("err = %v", err)
		}
	})
}

func sha256Of(b []byte) [32]byte { return sha256.Sum256(b) }
