package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fakeRegistry implements the registry's services for tests of the CLI's
// wire behaviour: it records each request with its actor header and answers
// with the canned response or error set for the test.
type fakeRegistry struct {
	ecov1.UnimplementedAccountServiceServer
	ecov1.UnimplementedRightServiceServer
	ecov1.UnimplementedTransferServiceServer
	ecov1.UnimplementedRetirementServiceServer

	mu       sync.Mutex
	requests []proto.Message
	actors   []string
	resp     proto.Message
	err      error
}

// answer records req and returns the canned outcome as a Resp.
func answer[Resp proto.Message](ctx context.Context, f *fakeRegistry, req proto.Message) (Resp, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	md, _ := metadata.FromIncomingContext(ctx)
	f.requests = append(f.requests, req)
	f.actors = append(f.actors, strings.Join(md.Get(ActorHeader), ","))
	var zero Resp
	if f.err != nil {
		return zero, f.err
	}
	return f.resp.(Resp), nil
}

func (f *fakeRegistry) OpenAccount(ctx context.Context, r *ecov1.OpenAccountRequest) (*ecov1.OpenAccountResponse, error) {
	return answer[*ecov1.OpenAccountResponse](ctx, f, r)
}
func (f *fakeRegistry) ChangeAccountStatus(ctx context.Context, r *ecov1.ChangeAccountStatusRequest) (*ecov1.ChangeAccountStatusResponse, error) {
	return answer[*ecov1.ChangeAccountStatusResponse](ctx, f, r)
}
func (f *fakeRegistry) GetAccount(ctx context.Context, r *ecov1.GetAccountRequest) (*ecov1.GetAccountResponse, error) {
	return answer[*ecov1.GetAccountResponse](ctx, f, r)
}
func (f *fakeRegistry) RegisterRight(ctx context.Context, r *ecov1.RegisterRightRequest) (*ecov1.RegisterRightResponse, error) {
	return answer[*ecov1.RegisterRightResponse](ctx, f, r)
}
func (f *fakeRegistry) GetRight(ctx context.Context, r *ecov1.GetRightRequest) (*ecov1.GetRightResponse, error) {
	return answer[*ecov1.GetRightResponse](ctx, f, r)
}
func (f *fakeRegistry) GetHolding(ctx context.Context, r *ecov1.GetHoldingRequest) (*ecov1.GetHoldingResponse, error) {
	return answer[*ecov1.GetHoldingResponse](ctx, f, r)
}
func (f *fakeRegistry) TransferUnits(ctx context.Context, r *ecov1.TransferUnitsRequest) (*ecov1.TransferUnitsResponse, error) {
	return answer[*ecov1.TransferUnitsResponse](ctx, f, r)
}
func (f *fakeRegistry) RetireUnits(ctx context.Context, r *ecov1.RetireUnitsRequest) (*ecov1.RetireUnitsResponse, error) {
	return answer[*ecov1.RetireUnitsResponse](ctx, f, r)
}

// last returns the last request the fake received and its actor header.
func (f *fakeRegistry) last(t *testing.T) (proto.Message, string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("the registry received no request")
	}
	return f.requests[len(f.requests)-1], f.actors[len(f.actors)-1]
}

// startRegistry serves a fakeRegistry on 127.0.0.1:0 and returns it with its
// address.
func startRegistry(t *testing.T) (*fakeRegistry, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRegistry{}
	srv := grpc.NewServer()
	ecov1.RegisterAccountServiceServer(srv, f)
	ecov1.RegisterRightServiceServer(srv, f)
	ecov1.RegisterTransferServiceServer(srv, f)
	ecov1.RegisterRetirementServiceServer(srv, f)
	go srv.Serve(lis) //nolint:errcheck // Serve returns when Stop is called.
	t.Cleanup(srv.Stop)
	return f, lis.Addr().String()
}

// ecoctl runs the CLI against addr and returns the exit code and output.
func ecoctl(t *testing.T, addr string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"--server", addr, "--timeout", "5s"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func commitAt(stream string, rev, pos uint64) *ecov1.Commit {
	return &ecov1.Commit{Stream: stream, StreamRevision: rev, Position: &ecov1.Position{Commit: pos, Prepare: pos - 2}, CorrelationId: "c0ffee"}
}

// rejectionWithDetails is what the registry sends for a malformed request:
// INVALID_ARGUMENT with ErrorInfo (reason = check code) and BadRequest.
func rejectionWithDetails(t *testing.T) error {
	t.Helper()
	st, err := status.New(codes.InvalidArgument, "domain: E1010 INVALID_QUANTITY: quantity must be positive").WithDetails(
		&errdetails.ErrorInfo{Reason: "E1010", Domain: "ecoregistry", Metadata: map[string]string{"check": "E1010", "name": "INVALID_QUANTITY", "field": "quantity"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "quantity", Description: "E1010 INVALID_QUANTITY: must be positive"},
			{Field: "reason", Description: "E1005 INVALID_TEXT: must be at most 512 characters"},
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func TestAgainstARegistry(t *testing.T) {
	reg, addr := startRegistry(t)
	set := func(resp proto.Message, err error) {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		reg.resp, reg.err = resp, err
	}

	t.Run("transfer sends the request with the actor header and prints what moved and the commit", func(t *testing.T) {
		set(&ecov1.TransferUnitsResponse{TransferId: "T-0001", Quantity: 500, Commit: commitAt("right-HB2025A", 7, 120),
			Ranges: []*ecov1.SerialRange{
				{Start: 1, End: 200, Serial: "CEA-420000-2025-HB2025A-000000001-000000200"},
				{Start: 301, End: 600, Serial: "CEA-420000-2025-HB2025A-000000301-000000600"},
			}}, nil)
		code, out, errOut := ecoctl(t, addr, "--actor", "hubei-office.li", "transfer", "--right", "HB2025A", "--id", "T-0001",
			"--from", "HB001", "--to", "HB002", "--quantity", "500", "--price", "58.25")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		req, actor := reg.last(t)
		wantRequest(t, req, &ecov1.TransferUnitsRequest{RightId: "HB2025A", TransferId: "T-0001", FromAccountId: "HB001", ToAccountId: "HB002",
			Amount: &ecov1.TransferUnitsRequest_Quantity{Quantity: 500}, Price: &ecov1.Price{AmountMinor: 5825, Currency: "CNY"}})
		if actor != "hubei-office.li" {
			t.Errorf("actor header = %q", actor)
		}
		want := `Transfer:         T-0001
Right:            HB2025A
From:             HB001
To:               HB002
Quantity:         500
Price per unit:   58.25 CNY (5825 minor units)
Stream:           right-HB2025A
Stream revision:  7
Position:         commit 120, prepare 118
Correlation id:   c0ffee

START  END  QUANTITY  SERIAL
1      200  200       CEA-420000-2025-HB2025A-000000001-000000200
301    600  300       CEA-420000-2025-HB2025A-000000301-000000600
`
		if out != want {
			t.Errorf("output:\n%s\nwant:\n%s", out, want)
		}
	})

	t.Run("the actor comes from ECOREGISTRY_ACTOR when --actor is absent", func(t *testing.T) {
		t.Setenv("ECOREGISTRY_ACTOR", "mee.auditor")
		set(&ecov1.GetAccountResponse{Account: &ecov1.Account{AccountId: "HB001"}}, nil)
		if code, _, errOut := ecoctl(t, addr, "account", "show", "HB001"); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if _, actor := reg.last(t); actor != "mee.auditor" {
			t.Errorf("actor header = %q", actor)
		}
	})

	t.Run("a rejection prints code, message, check, metadata and violations and exits 1", func(t *testing.T) {
		set(nil, rejectionWithDetails(t))
		code, out, errOut := ecoctl(t, addr, "retire", "--right", "HB2025A", "--id", "R-1", "--holder", "HB001", "--quantity", "0", "--purpose", "voluntary")
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		if out != "" {
			t.Errorf("stdout = %q, want nothing", out)
		}
		want := `error: INVALID_ARGUMENT: domain: E1010 INVALID_QUANTITY: quantity must be positive
check: E1010 (domain ecoregistry)
  check: E1010
  field: quantity
  name: INVALID_QUANTITY
violations:
  quantity: E1010 INVALID_QUANTITY: must be positive
  reason: E1005 INVALID_TEXT: must be at most 512 characters
`
		if errOut != want {
			t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
		}
	})

	t.Run("with --json a rejection is one JSON object on stdout", func(t *testing.T) {
		set(nil, rejectionWithDetails(t))
		code, out, _ := ecoctl(t, addr, "--json", "account", "show", "HB001")
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		var got rejection
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("stdout is not the error object: %v\n%s", err, out)
		}
		if got.Code != "INVALID_ARGUMENT" || got.Check != "E1010" || got.Metadata["name"] != "INVALID_QUANTITY" ||
			len(got.Violations) != 2 || got.Violations[1] != (violation{"reason", "E1005 INVALID_TEXT: must be at most 512 characters"}) {
			t.Errorf("error object = %+v", got)
		}
	})

	t.Run("an error without details still names its code, and violations is an empty list", func(t *testing.T) {
		set(nil, status.Error(codes.NotFound, "account HB404 not found"))
		code, out, _ := ecoctl(t, addr, "--json", "account", "show", "HB404")
		if code != 1 || strings.TrimSpace(out) != `{"code":"NOT_FOUND","message":"account HB404 not found","check":"","violations":[]}` {
			t.Errorf("exit %d, stdout %s", code, out)
		}
		code, _, errOut := ecoctl(t, addr, "account", "show", "HB404")
		if code != 1 || errOut != "error: NOT_FOUND: account HB404 not found\n" {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("with --json a response is printed as protojson", func(t *testing.T) {
		want := &ecov1.GetHoldingResponse{Revision: 9, Holding: &ecov1.Holding{AccountId: "HB001", RightId: "HB2025A", Available: 9500,
			AvailableRanges: []*ecov1.SerialRange{{Start: 501, End: 10000, Serial: "CEA-420000-2025-HB2025A-000000501-000010000"}}}}
		set(want, nil)
		code, out, errOut := ecoctl(t, addr, "holding", "show", "--right", "HB2025A", "--account", "HB001", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		got := &ecov1.GetHoldingResponse{}
		if err := protojson.Unmarshal([]byte(out), got); err != nil {
			t.Fatalf("stdout is not protojson: %v\n%s", err, out)
		}
		wantRequest(t, got, want)
		if strings.Count(out, "\n") != 1 {
			t.Errorf("want one line, got:\n%s", out)
		}
	})

	t.Run("account show prints key/value lines", func(t *testing.T) {
		set(&ecov1.GetAccountResponse{Account: &ecov1.Account{AccountId: "HB001", Jurisdiction: "420000",
			Holder: &ecov1.Holder{Name: "Hubei Steel Co.", Kind: ecov1.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: "91420100MA4K2XXX1X"},
			Type:   ecov1.AccountType_ACCOUNT_TYPE_HOLDING, Status: ecov1.AccountStatus_ACCOUNT_STATUS_SUSPENDED, StatusReason: "court order",
			OpenedAt: timestamppb.New(time.Date(2025, 1, 2, 1, 0, 0, 0, time.UTC)), Revision: 3}}, nil)
		code, out, errOut := ecoctl(t, addr, "account", "show", "HB001")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		want := `Account:        HB001
Holder:         Hubei Steel Co.
Holder kind:    enterprise
Credit code:    91420100MA4K2XXX1X
Jurisdiction:   420000
Type:           holding
Status:         suspended
Status reason:  court order
Opened at:      2025-01-02T09:00:00+08:00
Revision:       3
`
		if out != want {
			t.Errorf("output:\n%s\nwant:\n%s", out, want)
		}
	})

	t.Run("right show prints the attributes and a holdings table", func(t *testing.T) {
		set(&ecov1.GetRightResponse{Right: &ecov1.Right{RightId: "GZ-FOREST-7", Type: ecov1.RightType_RIGHT_TYPE_CARBON_SINK,
			Jurisdiction: "520000", Vintage: 2024, Unit: ecov1.Unit_UNIT_TONNE_CO2E, Quantity: 8000,
			Serial:          &ecov1.SerialRange{Start: 1, End: 8000, Serial: "CSR-520000-2024-GZ-FOREST-7-000000001-000008000"},
			HolderAccountId: "GZ001", RetiredQuantity: 100, BufferQuantity: 400, Revision: 4,
			RegisteredAt: timestamppb.New(time.Date(2024, 7, 1, 0, 0, 0, 0, chinaStandardTime)),
			Attributes: &ecov1.Right_CarbonSink{CarbonSink: &ecov1.CarbonSinkAttributes{ProjectId: "CCER-14-2024-001",
				AreaSquareMetres: 12345600, Kind: ecov1.SinkKind_SINK_KIND_REMOVAL, BufferBasisPoints: 500}},
			Holdings: []*ecov1.Holding{
				{AccountId: "GZ001", Available: 7000, Retired: 100,
					AvailableRanges: []*ecov1.SerialRange{{Start: 601, End: 7600, Serial: "CSR-520000-2024-GZ-FOREST-7-000000601-000007600"}},
					RetiredRanges:   []*ecov1.SerialRange{{Start: 1, End: 100, Serial: "CSR-520000-2024-GZ-FOREST-7-000000001-000000100"}}},
				{AccountId: "GZ002", Available: 500,
					AvailableRanges: []*ecov1.SerialRange{{Start: 101, End: 600}}},
			}}}, nil)
		code, out, errOut := ecoctl(t, addr, "right", "show", "GZ-FOREST-7")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, w := range []string{
			"Type:               carbon-sink\n",
			"Quantity:           8000 tCO2e\n",
			"Serials:            CSR-520000-2024-GZ-FOREST-7-000000001-000008000\n",
			"Buffer pool:        400 tCO2e\n",
			"Area:               1234.5600 ha (12345600 m²)\n",
			"Buffer share:       5.00%\n",
			"Kind:               removal\n",
			"Registered at:      2024-07-01T00:00:00+08:00\n",
			"\nACCOUNT  AVAILABLE  RETIRED  SERIALS\n" +
				"GZ001    7000       100      CSR-520000-2024-GZ-FOREST-7-000000601-000007600\n" +
				"                             retired CSR-520000-2024-GZ-FOREST-7-000000001-000000100\n" +
				"GZ002    500        0        101-600\n",
		} {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	})

	t.Run("a retirement prints what was retired and the commit", func(t *testing.T) {
		set(&ecov1.RetireUnitsResponse{RetirementId: "R-1", Quantity: 100, Commit: commitAt("right-HB2025A", 8, 130),
			Ranges: []*ecov1.SerialRange{{Start: 1, End: 100, Serial: "CEA-420000-2025-HB2025A-000000001-000000100"}}}, nil)
		code, out, errOut := ecoctl(t, addr, "retire", "--right", "HB2025A", "--id", "R-1", "--holder", "HB001", "--range", "1-100",
			"--purpose", "compliance", "--compliance-period", "2025-2026")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, w := range []string{"Retirement:         R-1\n", "Purpose:            compliance\n", "Stream revision:    8\n",
			"Position:           commit 130, prepare 128\n", "1      100  100       CEA-420000-2025-HB2025A-000000001-000000100\n"} {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	})

	t.Run("an unreachable registry is reported with its code and exit 1", func(t *testing.T) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := lis.Addr().String()
		lis.Close()
		code, _, errOut := ecoctl(t, dead, "account", "show", "HB001")
		if code != 1 || !strings.HasPrefix(errOut, "error: UNAVAILABLE: ") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}
