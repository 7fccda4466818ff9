package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity"
	"github.com/ecoregistry/ecoregistry/integrity/certificate/certpb"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/verify"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// RegisterIntegrityService registers the IntegrityService, answering from
// svc, on s. Call it after New and before serving.
func RegisterIntegrityService(s *grpc.Server, svc *integrity.Service, log *zap.Logger) {
	pb.RegisterIntegrityServiceServer(s, &integrityHandlers{svc: svc, log: log})
}

type integrityHandlers struct {
	pb.UnimplementedIntegrityServiceServer
	svc *integrity.Service
	log *zap.Logger
}

// fail maps the integrity service's own errors to statuses, and the rest
// through the one error table.
func (h *integrityHandlers) fail(ctx context.Context, method string, err error) error {
	var notFound *integrity.EventNotFoundError
	var beyond *merkle.BeyondTreeError
	switch {
	case errors.Is(err, integrity.ErrNoCheckpoint):
		return status.Error(codes.NotFound, "the registry has signed no checkpoint yet: it signs one after the first events, every N events or T seconds")
	case errors.As(err, &notFound):
		return status.Errorf(codes.NotFound, "no event of the log is at position %s, or the tree has not reached it yet", notFound.Position)
	case errors.As(err, &beyond):
		return status.Errorf(codes.OutOfRange, "the tree has %d leaves; %d is beyond it", beyond.Size, beyond.Wanted)
	case errors.Is(err, checkpoint.ErrOtherKey), errors.Is(err, checkpoint.ErrBadSignature), errors.Is(err, checkpoint.ErrMalformed):
		return status.Errorf(codes.InvalidArgument, "saved_checkpoint: %v", err)
	case errors.Is(err, integrity.ErrHistoryDiverged):
		return status.Errorf(codes.FailedPrecondition, "%v", err)
	}
	return toStatus(ctx, h.log, method, err)
}

func checkpointToProto(c checkpoint.Stored) *pb.Checkpoint {
	return &pb.Checkpoint{Note: string(c.Signed), Origin: c.Origin, TreeSize: c.Size, RootHash: c.Root,
		LastPosition: positionToProto(c.Last), SignedAt: ts(c.Time)}
}

func (h *integrityHandlers) GetLatestCheckpoint(ctx context.Context, _ *pb.GetLatestCheckpointRequest) (*pb.GetLatestCheckpointResponse, error) {
	latest, err := h.svc.Latest()
	if err != nil {
		return nil, h.fail(ctx, "GetLatestCheckpoint", err)
	}
	return &pb.GetLatestCheckpointResponse{Checkpoint: checkpointToProto(latest), VerifierKey: h.svc.VerifierKey()}, nil
}

func (h *integrityHandlers) ListCheckpoints(ctx context.Context, req *pb.ListCheckpointsRequest) (*pb.ListCheckpointsResponse, error) {
	const method = "ListCheckpoints"
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, h.fail(ctx, method, &domain.Rejection{Check: domain.CheckInvalidPageSize, Field: "page_size", Detail: fmt.Sprintf("page size %d is negative", size)})
	case size == 0:
		size = 100
	case size > 1000:
		size = 1000
	}
	below := ^uint64(0)
	if t := req.GetPageToken(); t != "" {
		var err error
		if below, err = strconv.ParseUint(t, 10, 64); err != nil {
			return nil, h.fail(ctx, method, &domain.Rejection{Check: domain.CheckInvalidPageToken, Field: "page_token", Detail: "not a token of ListCheckpoints"})
		}
	}
	list, err := h.svc.List(below, size+1)
	if err != nil {
		return nil, h.fail(ctx, method, err)
	}
	out := &pb.ListCheckpointsResponse{}
	if len(list) > size {
		out.NextPageToken = strconv.FormatUint(list[size].Size, 10)
		list = list[:size]
	}
	for _, c := range list {
		out.Checkpoints = append(out.Checkpoints, checkpointToProto(c))
	}
	return out, nil
}

func (h *integrityHandlers) GetInclusionProof(ctx context.Context, req *pb.GetInclusionProofRequest) (*pb.GetInclusionProofResponse, error) {
	p := eventstore.Position{Commit: req.GetPosition().GetCommit(), Prepare: req.GetPosition().GetPrepare()}
	if req.GetPosition() == nil {
		return nil, h.fail(ctx, "GetInclusionProof", &domain.Rejection{Check: domain.CheckRequiredFieldMissing, Field: "position", Detail: "the event's position is required"})
	}
	inc, err := h.svc.InclusionProof(ctx, p, req.GetTreeSize())
	if err != nil {
		return nil, h.fail(ctx, "GetInclusionProof", err)
	}
	l := inc.Leaf
	return &pb.GetInclusionProofResponse{LeafIndex: inc.Index, TreeSize: inc.TreeSize, LeafHash: l.Hash(), RootHash: inc.Root, Proof: inc.Proof,
		Leaf: &pb.LogLeaf{Position: positionToProto(l.Position), Stream: l.Stream, StreamRevision: l.Revision, ChainValue: l.Chain[:]}}, nil
}

func (h *integrityHandlers) GetConsistencyProof(ctx context.Context, req *pb.GetConsistencyProofRequest) (*pb.GetConsistencyProofResponse, error) {
	c, err := h.svc.ConsistencyProof(ctx, req.GetOldSize(), req.GetNewSize())
	if err != nil {
		return nil, h.fail(ctx, "GetConsistencyProof", err)
	}
	return &pb.GetConsistencyProofResponse{OldSize: c.OldSize, NewSize: c.NewSize, OldRootHash: c.OldRoot, NewRootHash: c.NewRoot, Proof: c.Proof}, nil
}

func (h *integrityHandlers) VerifyIntegrity(req *pb.VerifyIntegrityRequest, stream grpc.ServerStreamingServer[pb.VerifyIntegrityResponse]) error {
	const method = "VerifyIntegrity"
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	var sendErr error
	send := func(m *pb.VerifyIntegrityResponse) {
		if sendErr == nil {
			if sendErr = stream.Send(m); sendErr != nil {
				cancel()
			}
		}
	}
	vr := integrity.VerifyRequest{
		Progress: func(p verify.Progress) {
			send(&pb.VerifyIntegrityResponse{Item: &pb.VerifyIntegrityResponse_Progress{Progress: &pb.VerifyProgress{
				EventsChecked: p.Events, EventsExpected: p.Total, Position: positionToProto(p.Position)}}})
		},
		OnBreak: func(b verify.Break) {
			send(&pb.VerifyIntegrityResponse{Item: &pb.VerifyIntegrityResponse_Break{Break: breakToProto(b)}})
		},
	}
	if saved := req.GetSavedCheckpoint(); saved != "" {
		vr.Saved = []byte(saved)
	}
	rep, err := h.svc.Verify(ctx, vr)
	if sendErr != nil {
		return sendErr
	}
	if err != nil {
		return h.fail(ctx, method, err)
	}
	send(&pb.VerifyIntegrityResponse{Item: &pb.VerifyIntegrityResponse_Summary{Summary: &pb.VerifySummary{
		Events: rep.Events, Streams: uint64(rep.Streams), LastPosition: positionToProto(rep.Last), RootHash: rep.Root,
		Breaks: rep.Breaks, CheckpointsCompared: uint64(rep.Anchors), TreeSize: rep.TreeSize, WritesRefused: h.svc.Halted() != nil}}})
	return sendErr
}

func breakToProto(b verify.Break) *pb.IntegrityBreak {
	return &pb.IntegrityBreak{Kind: pb.IntegrityBreakKind(b.Kind), Stream: b.Stream, StreamRevision: b.Revision,
		Position: positionToProto(b.Position), LeafIndex: b.Leaf, Detail: b.Detail}
}

func (h *integrityHandlers) IssueHoldingCertificate(ctx context.Context, req *pb.IssueHoldingCertificateRequest) (*pb.IssueHoldingCertificateResponse, error) {
	c, err := h.svc.IssueHoldingCertificate(ctx, req.GetAccountId(), req.GetRightId())
	if err != nil {
		return nil, h.fail(ctx, "IssueHoldingCertificate", err)
	}
	return &pb.IssueHoldingCertificateResponse{Certificate: certpb.ToProto(c)}, nil
}
