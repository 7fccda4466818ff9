package main

import (
	"crypto/sha256"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeAdmin streams a backup of one file, or fails with err.
type fakeAdmin struct {
	ecov1.UnimplementedAdminServiceServer
	err error
}

const backedUp = "the content of a log file"

func (f *fakeAdmin) Backup(_ *ecov1.BackupRequest, stream ecov1.AdminService_BackupServer) error {
	if f.err != nil {
		return f.err
	}
	sum := sha256.Sum256([]byte(backedUp))
	msgs := []*ecov1.BackupResponse{
		{Part: &ecov1.BackupResponse_Manifest{Manifest: &ecov1.BackupManifest{
			Position:   &ecov1.Position{Commit: 42, Prepare: 42},
			ReadModels: []*ecov1.ReadModelPosition{{Name: "holdings", Position: &ecov1.Position{Commit: 40, Prepare: 40}}},
			Files:      []*ecov1.BackupFile{{Path: "000001.log", Size: uint64(len(backedUp))}}, TotalBytes: uint64(len(backedUp))}}},
		{Part: &ecov1.BackupResponse_Chunk{Chunk: &ecov1.BackupChunk{Path: "000001.log", Data: []byte(backedUp), Sha256: sum[:]}}},
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			return err
		}
	}
	return nil
}

func startAdmin(t *testing.T, f *fakeAdmin) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	ecov1.RegisterAdminServiceServer(srv, f)
	go srv.Serve(lis) //nolint:errcheck // Serve returns when Stop is called.
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestAdminBackup(t *testing.T) {
	addr := startAdmin(t, &fakeAdmin{})
	t.Run("writes the files and says where the copy stands", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "b")
		code, stdout, stderr := ecoctl(t, addr, "admin", "backup", "--out", out)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if b, err := os.ReadFile(filepath.Join(out, "000001.log")); err != nil || string(b) != backedUp {
			t.Fatalf("the backed-up file holds %q (%v)", b, err)
		}
		for _, want := range []string{"Backup written to " + out + ": 1 files, 25 bytes", "every event up to position 42", "holdings    40        2", "ecoregistryd --data " + out} {
			if !strings.Contains(stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, stdout)
			}
		}
		// stdout is not a terminal: no progress bar.
		if strings.Contains(stdout, "\r") {
			t.Errorf("a progress bar was drawn off a terminal: %q", stdout)
		}
	})
	t.Run("--json prints the manifest", func(t *testing.T) {
		code, stdout, _ := ecoctl(t, addr, "--json", "admin", "backup", "--out", filepath.Join(t.TempDir(), "b"))
		var m struct {
			Position struct{ Commit string } `json:"position"`
		}
		if code != exitOK || json.Unmarshal([]byte(stdout), &m) != nil || m.Position.Commit != "42" {
			t.Fatalf("exit %d, %s", code, stdout)
		}
	})
	t.Run("--out is required", func(t *testing.T) {
		if code, _, stderr := ecoctl(t, addr, "admin", "backup"); code != exitUsage || !strings.Contains(stderr, "--out") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
	t.Run("a registry on EventStoreDB refuses", func(t *testing.T) {
		addr := startAdmin(t, &fakeAdmin{err: status.Error(codes.FailedPrecondition, "back the cluster up with EventStoreDB's own backup procedure")})
		code, _, stderr := ecoctl(t, addr, "admin", "backup", "--out", filepath.Join(t.TempDir(), "b"))
		if code != exitRejected || !strings.Contains(stderr, "EventStoreDB") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
}
