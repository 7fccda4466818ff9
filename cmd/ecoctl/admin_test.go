package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ecoregistry/ecoregistry/progress"

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
			Files:      []*ecov1.BackupFile{{Path: "000001.log", Size: uint64(len(backedUp))}}, TotalBytes: uint64(len(backedUp)),
			CheckpointSize: 30, CheckpointPosition: &ecov1.Position{Commit: 30, Prepare: 30}, VerifierKey: "registry+1234+KEY", SigningKeyIncluded: true}}},
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
		for _, want := range []string{"Backup written to " + out + ": 1 files, 25 bytes", "every event up to position 42", "holdings    40        2", "ecoregistryd --data " + out,
			"the latest covers 30 events, up to position 30", "verify with registry+1234+KEY", "signing key is in the backup"} {
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

// fakeRebuild answers a waiting rebuild once its progress was asked for
// three times, the rebuild advancing by 250 of 1000 positions each time.
type fakeRebuild struct {
	ecov1.UnimplementedProjectionAdminServiceServer
	polls atomic.Int64
	asked chan struct{}
}

func (f *fakeRebuild) GetProjectionStatus(context.Context, *ecov1.GetProjectionStatusRequest) (*ecov1.GetProjectionStatusResponse, error) {
	n := f.polls.Add(1)
	if n == 3 {
		close(f.asked)
	}
	return &ecov1.GetProjectionStatusResponse{Head: &ecov1.Position{Commit: 1000}, Projections: []*ecov1.ProjectionStatus{
		{Name: "market", Active: &ecov1.ProjectionGeneration{Generation: 1}, Rebuild: &ecov1.ProjectionGeneration{Generation: 2, Position: &ecov1.Position{Commit: uint64(min(n*250, 1000))}}}}}, nil
}

func (f *fakeRebuild) RebuildProjection(ctx context.Context, _ *ecov1.RebuildProjectionRequest) (*ecov1.RebuildProjectionResponse, error) {
	select {
	case <-f.asked:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &ecov1.RebuildProjectionResponse{Status: &ecov1.ProjectionStatus{Name: "market", Active: &ecov1.ProjectionGeneration{Generation: 2}}}, nil
}

func TestRebuildWaitShowsProgressOnATerminal(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRebuild{asked: make(chan struct{})}
	srv := grpc.NewServer()
	ecov1.RegisterProjectionAdminServiceServer(srv, f)
	go srv.Serve(lis) //nolint:errcheck // Serve returns when Stop is called.
	t.Cleanup(srv.Stop)

	// Off a terminal, nothing is drawn and nothing is polled.
	f.asked = make(chan struct{})
	close(f.asked)
	code, stdout, stderr := ecoctl(t, lis.Addr().String(), "projections", "rebuild", "market", "--wait")
	if code != exitOK || strings.Contains(stdout, "\r") || f.polls.Load() != 0 {
		t.Fatalf("exit %d (%s), %d polls, output %q", code, stderr, f.polls.Load(), stdout)
	}

	// As on a terminal: the bar is drawn until the rebuild answers.
	f.asked = make(chan struct{})
	drawsOn = func(io.Writer) bool { return true }
	t.Cleanup(func() { drawsOn = progress.IsTerminal })
	code, stdout, stderr = ecoctl(t, lis.Addr().String(), "projections", "rebuild", "market", "--wait")
	if code != exitOK || f.polls.Load() < 3 {
		t.Fatalf("exit %d (%s) after %d polls", code, stderr, f.polls.Load())
	}
	bar, rest, found := strings.Cut(stdout, "market answers from generation 2.")
	if !found || !strings.Contains(bar, "rebuilding market") || !strings.Contains(bar, "/1000)") || !strings.HasSuffix(bar, "\r") || strings.Contains(rest, "\r") {
		t.Fatalf("output %q", stdout)
	}
}
