package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/ecoregistry/ecoregistry/backup"
	"github.com/ecoregistry/ecoregistry/progress"
	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// backupRequest is a Backup request with the directory the backup is written
// to, which stays on this side: the server streams the files and ecoctl
// writes them. It is a proto.Message through the embedded request.
type backupRequest struct {
	*ecov1.BackupRequest
	out string
}

var adminBackupCommand = &command{
	path:    "admin backup",
	summary: "copy a running registry's data into a directory to restore from",
	about: `Asks the registry for a consistent copy of its embedded event store and of its
read models, taken while it keeps serving, and writes it into --out (a new or
empty directory), checking each file's size and SHA-256. The copy holds every
event up to the position printed; a read model's copy may be behind it, never
ahead. It also holds the signed checkpoints, which the copy of the log
extends, and the signing key when the registry made its own (without
--signing-key). To restore, start ecoregistryd on the directory:

  ecoregistryd --data DIR

It catches the read models up from the log before they answer queries that
ask for a later position. A registry on EventStoreDB refuses: back the cluster
up with EventStoreDB's own procedure. On a terminal a progress bar shows the
bytes received; raise --timeout for a large registry.`,
	example: `ecoctl admin backup --out /backups/ecoregistry-2026-12-04 --timeout 1h`,
	define: func(fs *flagSet) func([]string) (proto.Message, error) {
		req := &backupRequest{BackupRequest: &ecov1.BackupRequest{}}
		fs.StringVar(&req.out, "out", "", "the `directory` to write the backup into; it must not exist or be empty")
		fs.require("out")
		return func([]string) (proto.Message, error) { return req, nil }
	},
	call: rpc(func(ctx context.Context, cc grpc.ClientConnInterface, req *backupRequest) (*ecov1.BackupManifest, error) {
		stream, err := ecov1.NewAdminServiceClient(cc).Backup(ctx, req.BackupRequest)
		if err != nil {
			return nil, err
		}
		var bar *progress.Bar
		defer func() { bar.Abandon() }()
		m, err := backup.Receive(req.out, stream.Recv, func(written, total uint64) {
			if bar == nil {
				bar = newBar(ctx, int64(total), progress.Bytes, "backup")
			}
			bar.Set(int64(written))
		})
		if err != nil {
			return nil, err
		}
		bar.Finish()
		return m, nil
	}),
	render: view(func(w io.Writer, req *backupRequest, m *ecov1.BackupManifest) error {
		fmt.Fprintf(w, "Backup written to %s: %d files, %d bytes, taken at %s.\n", req.out, len(m.GetFiles()), m.GetTotalBytes(), formatTime(m.GetTakenAt()))
		fmt.Fprintf(w, "Event store: every event up to position %s.\n\n", positionText(m.GetPosition()))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "READ MODEL\tPOSITION\tBEHIND")
		for _, rm := range m.GetReadModels() {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", rm.GetName(), positionText(rm.GetPosition()), m.GetPosition().GetCommit()-min(rm.GetPosition().GetCommit(), m.GetPosition().GetCommit()))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		renderBackedUpIntegrity(w, m)
		fmt.Fprintf(w, "\nRestore: ecoregistryd --data %s (the read models catch up from the log).\n", req.out)
		return nil
	}),
}

// renderBackedUpIntegrity says what the backup keeps of the signed
// history: the latest checkpoint, the key that verifies it, and whether the
// signing key came with it.
func renderBackedUpIntegrity(w io.Writer, m *ecov1.BackupManifest) {
	if m.GetVerifierKey() == "" {
		return
	}
	if m.GetCheckpointSize() == 0 {
		fmt.Fprintf(w, "\nSigned checkpoints: none signed yet.\n")
	} else {
		fmt.Fprintf(w, "\nSigned checkpoints: the latest covers %d events, up to position %s.\n", m.GetCheckpointSize(), positionText(m.GetCheckpointPosition()))
	}
	fmt.Fprintf(w, "They verify with %s.\n", m.GetVerifierKey())
	if m.GetSigningKeyIncluded() {
		fmt.Fprintf(w, "The signing key is in the backup (signing.key): keep the backup as safe as the key.\n")
	} else {
		fmt.Fprintf(w, "The signing key is not in the backup: start the restored registry with the same --signing-key.\n")
	}
}
