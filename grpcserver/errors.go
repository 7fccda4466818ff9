package grpcserver

import (
	"context"
	"errors"
	"strings"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity"
	"github.com/ecoregistry/ecoregistry/registry"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of every registry check.
const ErrorDomain = "ecoregistry"

// classCodes is the one table from a rejection's class to its gRPC code.
var classCodes = map[domain.Class]codes.Code{
	domain.ClassInvalidArgument:    codes.InvalidArgument,
	domain.ClassNotFound:           codes.NotFound,
	domain.ClassAlreadyExists:      codes.AlreadyExists,
	domain.ClassFailedPrecondition: codes.FailedPrecondition,
	domain.ClassPermissionDenied:   codes.PermissionDenied,
	domain.ClassUnauthenticated:    codes.Unauthenticated,
	domain.ClassResourceExhausted:  codes.ResourceExhausted,
}

// errorTable maps the errors of the layers below that are not rejections to
// gRPC codes and the message a client sees. It is matched in order with
// errors.Is, so wrapped errors keep their meaning.
var errorTable = []struct {
	target  error
	code    codes.Code
	message string
}{
	{context.Canceled, codes.Canceled, "the request was cancelled"},
	{context.DeadlineExceeded, codes.DeadlineExceeded, "the request's deadline passed before the registry could answer; a command may or may not have been recorded, and retrying it with the same id is safe"},
	{registry.ErrContention, codes.Aborted, "the stream changed too often while the command was being decided; retry"},
	{eventstore.ErrClosed, codes.Unavailable, "the registry is shutting down; retry on another instance or later"},
	// A full disk and a failed sync both stop the store's writes until a
	// restart (see pebblestore); the full disk says what to do about it.
	{eventstore.ErrStorageFull, codes.ResourceExhausted, "the registry's disk is full: the command was not acknowledged and may or may not have been recorded; commands are refused until an operator frees space and restarts the server, and reads still work"},
	{eventstore.ErrWritesStopped, codes.Unavailable, "the registry's storage failed and it takes no more commands until it is restarted: the command was not acknowledged and may or may not have been recorded; retry it with the same id on a restarted or another server"},
	{registry.ErrNoHeldRights, codes.Unimplemented, "listing an account's pledges across rights needs the holdings read model, which this server does not run; give right_id"},
}

// toStatus turns an error of the registry into the status a client gets.
// Rejections carry google.rpc.ErrorInfo (reason = the check code) and, for
// malformed requests, google.rpc.BadRequest field violations. Errors nobody
// expected become Internal with a generic message, and their details go to
// the log only.
func toStatus(ctx context.Context, log *zap.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if violations := domain.ViolationsOf(err); len(violations) > 0 {
		return rejectionStatus(ctx, err, violations)
	}
	// A write refused after a break in the recorded history says where.
	var halt *integrity.Halt
	if errors.As(err, &halt) {
		return status.Error(codes.FailedPrecondition, halt.Error())
	}
	for _, row := range errorTable {
		if errors.Is(err, row.target) {
			return status.Error(row.code, row.message)
		}
	}
	ci := infoFrom(ctx)
	log.Error("internal error", zap.String("method", method), zap.String("correlation_id", ci.correlationID), zap.Error(err))
	return status.Errorf(codes.Internal, "internal error (correlation id %s); the registry logged the details", ci.correlationID)
}

// rejectionStatus builds the status of a refusal. The fields it names are
// the request's own field paths (see requestFieldPath), and what it echoes
// of the request is clipped (see clip).
func rejectionStatus(ctx context.Context, err error, violations []domain.Rejection) error {
	named := violations[0].Field
	violations = inRequestTerms(infoFrom(ctx).request, violations)
	first := violations[0]
	code, ok := classCodes[first.Check.Class]
	if !ok {
		code = codes.FailedPrecondition
	}
	// The package prefix helps in logs but means nothing to a client.
	msg := renameField(strings.TrimPrefix(err.Error(), "domain: "), named, first.Field)
	st := status.New(code, clip(msg))
	md := map[string]string{"check": first.Check.Code, "name": first.Check.Name}
	if first.Field != "" {
		md["field"] = first.Field
	}
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: first.Check.Code, Domain: ErrorDomain, Metadata: md}}
	if code == codes.InvalidArgument {
		br := &errdetails.BadRequest{}
		for _, v := range violations {
			desc := v.Check.Code + " " + v.Check.Name + ": " + v.Detail
			if v.Detail == "" {
				desc = v.Check.Code + " " + v.Check.Name + ": " + v.Check.Summary
			}
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: clip(desc), Reason: v.Check.Code})
		}
		details = append(details, br)
	}
	if withDetails, derr := st.WithDetails(details...); derr == nil {
		st = withDetails
	}
	return st.Err()
}
