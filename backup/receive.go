package backup

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// ManifestFile is the file, in a received backup's directory, that keeps the
// backup's manifest as JSON: when it was taken and the positions it is
// consistent at. The stores ignore it.
const ManifestFile = "ecoregistry-backup.json"

// Progress is told, after each chunk written, how many bytes of how many
// have been written.
type Progress func(written, total uint64)

// Receive writes the backup that recv delivers into dir, which must not exist
// or be empty, and returns its manifest. Every file is checked against the
// manifest's size and its SHA-256 and synced to disk, then the manifest is
// written as ManifestFile. Starting ecoregistryd with --data dir restores
// the backup. A backup that ends early, or does not match its manifest,
// fails and leaves dir incomplete: delete it.
func Receive(dir string, recv func() (*pb.BackupResponse, error), progress Progress) (*pb.BackupManifest, error) {
	if err := makeEmptyDir(dir); err != nil {
		return nil, err
	}
	first, err := recv()
	if err != nil {
		return nil, err
	}
	m := first.GetManifest()
	if m == nil {
		return nil, errors.New("backup: the stream did not start with a manifest")
	}
	w := &writer{dir: dir, manifest: m, progress: progress}
	for _, f := range m.GetFiles() {
		if err := w.receiveFile(f, recv); err != nil {
			return nil, err
		}
	}
	if _, err := recv(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("backup: the stream goes on past the files of its manifest (%v)", err)
	}
	b, err := protojson.MarshalOptions{Multiline: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := writeSynced(filepath.Join(dir, ManifestFile), b); err != nil {
		return nil, err
	}
	return m, syncDirs(dir)
}

func makeEmptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("backup: %s is not empty; give a new or empty directory", dir)
	}
	return nil
}

// writer writes the files of one backup.
type writer struct {
	dir      string
	manifest *pb.BackupManifest
	progress Progress
	written  uint64
}

// receiveFile writes the chunks of f, which come next in the stream.
func (w *writer) receiveFile(f *pb.BackupFile, recv func() (*pb.BackupResponse, error)) error {
	if !filepath.IsLocal(filepath.FromSlash(f.GetPath())) {
		return fmt.Errorf("backup: the manifest lists a path outside the backup: %q", f.GetPath())
	}
	path := filepath.Join(w.dir, filepath.FromSlash(f.GetPath()))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	mode := os.FileMode(0o644)
	if f.GetSecret() {
		mode = 0o600
	}
	file, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	err = w.writeChunks(file, f, sha256.New(), recv)
	if err == nil {
		err = file.Sync()
	}
	return errors.Join(err, file.Close())
}

func (w *writer) writeChunks(file *os.File, f *pb.BackupFile, h hash.Hash, recv func() (*pb.BackupResponse, error)) error {
	var offset uint64
	for {
		resp, err := recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("backup: the stream ended in %s, at byte %d of %d", f.GetPath(), offset, f.GetSize())
			}
			return err
		}
		c := resp.GetChunk()
		if c == nil || c.GetPath() != f.GetPath() || c.GetOffset() != offset {
			return fmt.Errorf("backup: expected %s from byte %d, got %q from byte %d", f.GetPath(), offset, c.GetPath(), c.GetOffset())
		}
		if offset+uint64(len(c.GetData())) > f.GetSize() {
			return fmt.Errorf("backup: %s is longer than the %d bytes of its manifest", f.GetPath(), f.GetSize())
		}
		if _, err := file.Write(c.GetData()); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		h.Write(c.GetData())
		offset += uint64(len(c.GetData()))
		w.written += uint64(len(c.GetData()))
		if w.progress != nil {
			w.progress(w.written, w.manifest.GetTotalBytes())
		}
		if c.GetSha256() == nil {
			continue
		}
		if offset != f.GetSize() {
			return fmt.Errorf("backup: %s ended at %d bytes, its manifest says %d", f.GetPath(), offset, f.GetSize())
		}
		if !bytes.Equal(h.Sum(nil), c.GetSha256()) {
			return fmt.Errorf("backup: %s does not match its SHA-256", f.GetPath())
		}
		return nil
	}
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDirs syncs dir and every directory under it, so that the files
// written are found after a crash.
func syncDirs(dir string) error {
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		return errors.Join(f.Sync(), f.Close())
	})
}
