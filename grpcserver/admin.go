package grpcserver

import (
	"errors"

	"github.com/ecoregistry/ecoregistry/backup"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// RegisterAdminService adds the AdminService to s: Backup takes its copies
// with taker.
func RegisterAdminService(s *grpc.Server, taker *backup.Taker, log *zap.Logger) {
	pb.RegisterAdminServiceServer(s, &adminHandlers{taker: taker, log: log})
}

type adminHandlers struct {
	pb.UnimplementedAdminServiceServer
	taker *backup.Taker
	log   *zap.Logger
}

// Backup takes a copy of the stores while the registry serves, streams it,
// and deletes the copy, whatever became of the stream.
func (h *adminHandlers) Backup(_ *pb.BackupRequest, stream pb.AdminService_BackupServer) error {
	const method = "Backup"
	ctx := stream.Context()
	snap, err := h.taker.Take(ctx)
	if errors.Is(err, backup.ErrUnsupported) {
		return status.Error(codes.FailedPrecondition, "this registry keeps its events in EventStoreDB: back the cluster up with EventStoreDB's own backup procedure; the read models are rebuilt from the log")
	}
	if err != nil {
		return toStatus(ctx, h.log, method, err)
	}
	defer func() {
		if err := snap.Remove(); err != nil {
			h.log.Error("remove a backup's staging copy", zap.Error(err))
		}
	}()
	m := snap.Manifest
	fields := []zap.Field{zap.Uint64("position", m.GetPosition().GetCommit()), zap.Int("files", len(m.GetFiles())), zap.Uint64("bytes", m.GetTotalBytes())}
	for _, rm := range m.GetReadModels() {
		fields = append(fields, zap.Uint64(rm.GetName()+"_position", rm.GetPosition().GetCommit()))
	}
	fields = append(fields, zap.Uint64("checkpoint_size", m.GetCheckpointSize()), zap.Bool("signing_key_included", m.GetSigningKeyIncluded()))
	h.log.Info("backup taken; streaming it", fields...)
	if err := snap.Send(ctx, stream.Send); err != nil {
		if _, ok := status.FromError(err); ok {
			return err
		}
		return toStatus(ctx, h.log, method, err)
	}
	return nil
}
