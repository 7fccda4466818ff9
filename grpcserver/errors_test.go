package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/registry"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func details(t *testing.T, err error) (*errdetails.ErrorInfo, *errdetails.BadRequest) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("%v is not a status", err)
	}
	var info *errdetails.ErrorInfo
	var br *errdetails.BadRequest
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			br = d
		}
	}
	return info, br
}

func TestEveryCheckClassMapsToItsStatusCode(t *testing.T) {
	want := map[domain.Class]codes.Code{
		domain.ClassInvalidArgument:    codes.InvalidArgument,
		domain.ClassNotFound:           codes.NotFound,
		domain.ClassAlreadyExists:      codes.AlreadyExists,
		domain.ClassFailedPrecondition: codes.FailedPrecondition,
		domain.ClassPermissionDenied:   codes.PermissionDenied,
		domain.ClassUnauthenticated:    codes.Unauthenticated,
		domain.ClassResourceExhausted:  codes.ResourceExhausted,
	}
	for _, c := range domain.AllChecks() {
		t.Run(c.Code+" "+c.Name, func(t *testing.T) {
			// Wrapped as the registry would, to show errors.As still finds it.
			err := toStatus(context.Background(), zap.NewNop(), "M", fmt.Errorf("registry: %w", &domain.Rejection{Check: c, Field: "f", Detail: "d"}))
			if got := status.Code(err); got != want[c.Class] {
				t.Fatalf("code %v, want %v", got, want[c.Class])
			}
			info, br := details(t, err)
			if info == nil || info.GetReason() != c.Code || info.GetDomain() != ErrorDomain || info.GetMetadata()["name"] != c.Name {
				t.Fatalf("ErrorInfo %v", info)
			}
			if (c.Class == domain.ClassInvalidArgument) != (br != nil) {
				t.Fatalf("BadRequest %v for class %v", br, c.Class)
			}
		})
	}
}

func TestValidationErrorsListEveryField(t *testing.T) {
	verr := &domain.ValidationError{Violations: []domain.Rejection{
		{Check: domain.CheckRequiredFieldMissing, Field: "holder.name", Detail: "holder.name is required"},
		{Check: domain.CheckCreditCodeCheckDigit, Field: "holder.credit_code", Detail: "check character is X, want Y"},
	}}
	err := toStatus(context.Background(), zap.NewNop(), "OpenAccount", verr)
	if status.Code(err) != codes.InvalidArgument {
		t.Fatal(err)
	}
	info, br := details(t, err)
	if info.GetReason() != "E1003" {
		t.Fatalf("reason %s, want the first violation's check", info.GetReason())
	}
	if len(br.GetFieldViolations()) != 2 || br.GetFieldViolations()[1].GetField() != "holder.credit_code" || br.GetFieldViolations()[1].GetReason() != "E1007" {
		t.Fatalf("violations %v", br.GetFieldViolations())
	}
}

func TestInfrastructureErrors(t *testing.T) {
	cases := []struct {
		name string
		err  error
		code codes.Code
	}{
		{"a cancelled request", fmt.Errorf("registry: read: %w", context.Canceled), codes.Canceled},
		{"a passed deadline", fmt.Errorf("registry: append: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{"lost races", fmt.Errorf("%w: right-X after 17 attempts", registry.ErrContention), codes.Aborted},
		{"a closing store", fmt.Errorf("registry: append: %w", eventstore.ErrClosed), codes.Unavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name+" maps to "+tc.code.String(), func(t *testing.T) {
			if got := status.Code(toStatus(context.Background(), zap.NewNop(), "M", tc.err)); got != tc.code {
				t.Fatalf("code %v, want %v", got, tc.code)
			}
		})
	}
}

func TestUnexpectedErrorsAreLoggedNotLeaked(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	secret := errors.New("pebble: corruption in /var/lib/eco/000123.sst")
	ctx := context.WithValue(context.Background(), callInfoKey{}, callInfo{correlationID: "corr-42"})
	err := toStatus(ctx, zap.New(core), "TransferUnits", secret)
	if status.Code(err) != codes.Internal {
		t.Fatalf("code %v", status.Code(err))
	}
	msg := status.Convert(err).Message()
	if strings.Contains(msg, "pebble") || strings.Contains(msg, "/var/lib") || !strings.Contains(msg, "corr-42") {
		t.Fatalf("client message %q leaks internals or lacks the correlation id", msg)
	}
	entries := logs.FilterMessage("internal error").All()
	if len(entries) != 1 || !strings.Contains(fmt.Sprint(entries[0].ContextMap()["error"]), "corruption") {
		t.Fatalf("log %v", logs.All())
	}
}
