package grpcserver

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ecoregistry/ecoregistry/domain"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/google/uuid"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// openAccountRequest is a valid request to open an account.
func openAccountRequest(id string) *pb.OpenAccountRequest {
	body := "91420100MA4K12345"
	c, _ := domain.CreditCodeCheckCharacter(body)
	return &pb.OpenAccountRequest{AccountId: id, Jurisdiction: "420100", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
		Holder: &pb.Holder{Name: id, Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: body + string(c)}}
}

// fieldViolations returns the fields a status's BadRequest names.
func fieldViolations(st *status.Status) []string {
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

// Every request header the registry records is checked before anything is
// written, and a refusal names the header that is wrong.
func TestRequestHeadersAreCheckedBeforeAnythingIsWritten(t *testing.T) {
	ts := startTestServer(t, zap.NewNop())
	addr := ts.addr
	const method = "/ecoregistry.v1.AccountService/OpenAccount"
	for _, c := range []struct {
		name    string
		headers map[string]string
		field   string
	}{
		{"a correlation id that is not UTF-8", map[string]string{ActorHeader: "office", CorrelationHeader: "corr-\xff\xfe"}, CorrelationHeader},
		{"an actor that is not UTF-8", map[string]string{ActorHeader: "li\xc3(", CorrelationHeader: "c-1"}, ActorHeader},
		{"an actor with a right-to-left override", map[string]string{ActorHeader: "li.\u202eredro"}, ActorHeader},
		{"an actor with a left-to-right isolate", map[string]string{ActorHeader: "\u2066office\u2069"}, ActorHeader},
		{"a correlation id with a zero-width space", map[string]string{ActorHeader: "office", CorrelationHeader: "c\u200b1"}, CorrelationHeader},
		{"an over-long correlation id", map[string]string{ActorHeader: "office", CorrelationHeader: strings.Repeat("c", maxHeaderLen+1)}, CorrelationHeader},
		{"an over-long actor", map[string]string{ActorHeader: strings.Repeat("a", maxHeaderLen+1)}, ActorHeader},
	} {
		t.Run(c.name+" is refused, naming the header", func(t *testing.T) {
			id := "H" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
			st, header := rawCall(t, addr, method, openAccountRequest(id), c.headers)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("status %v %q, want InvalidArgument", st.Code(), st.Message())
			}
			if fields := fieldViolations(st); len(fields) != 1 || fields[0] != c.field {
				t.Fatalf("field violations %v, want [%s]", fields, c.field)
			}
			if _, _, err := ts.svc.Account(context.Background(), id); !errors.Is(err, domain.CheckAccountNotFound) {
				t.Fatalf("the refused command opened the account: %v", err)
			}
			if got := header.Get(CorrelationHeader); headerProblem(got) != "" || got == "" {
				t.Fatalf("the response header carries the correlation id %q", got)
			}
		})
	}
	t.Run("a stream with a bad header is refused before any trade is read", func(t *testing.T) {
		st, _ := rawCall(t, addr, "/ecoregistry.v1.SettlementService/SubmitTrades", &pb.SubmitTradesRequest{}, map[string]string{ActorHeader: "hbex\xff"})
		if st.Code() != codes.InvalidArgument || len(fieldViolations(st)) != 1 {
			t.Fatalf("status %v %q %v", st.Code(), st.Message(), fieldViolations(st))
		}
	})
	t.Run("a printable UTF-8 actor is accepted", func(t *testing.T) {
		st, _ := rawCall(t, addr, method, openAccountRequest("HB-UTF8"), map[string]string{ActorHeader: "湖北登记处.李", CorrelationHeader: "c-utf8"})
		if st.Code() != codes.OK {
			t.Fatalf("status %v %q", st.Code(), st.Message())
		}
		if _, _, err := ts.svc.Account(context.Background(), "HB-UTF8"); err != nil {
			t.Fatal(err)
		}
	})
}
