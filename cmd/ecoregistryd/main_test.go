package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore"
	"github.com/ecoregistry/ecoregistry/eventstore/esdbstore/esdbfake"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// client is the generated API of a running server, for one test.
type client struct {
	conn        *grpc.ClientConn
	accounts    pb.AccountServiceClient
	rights      pb.RightServiceClient
	transfers   pb.TransferServiceClient
	retirements pb.RetirementServiceClient
}

// startServer runs ecoregistryd in-process on a free port over the embedded
// store in dir.
func startServer(t *testing.T, dir string) (*Main, *client) {
	t.Helper()
	return startServerWith(t, Config{Store: StorePebble, Data: dir})
}

// startServerWith runs ecoregistryd in-process on a free port with the
// store settings of cfg (Store, Data, ESDBURL).
func startServerWith(t *testing.T, cfg Config) (*Main, *client) {
	t.Helper()
	return startServerOn(t, cfg, pebblestore.Options{})
}

// startServerOn is startServerWith with the embedded store's options.
func startServerOn(t *testing.T, cfg Config, opts pebblestore.Options) (*Main, *client) {
	t.Helper()
	cfg.Listen, cfg.LogLevel, cfg.ShutdownTimeout = "127.0.0.1:0", "info", 5*time.Second
	m := NewMain(cfg)
	m.Logger = zap.NewNop()
	m.StoreOptions = opts
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	conn, err := grpc.NewClient(m.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	c := clientOf(conn)
	t.Cleanup(func() {
		conn.Close()
		m.Close()
	})
	return m, c
}

// clientOf returns the generated API over conn.
func clientOf(conn *grpc.ClientConn) *client {
	return &client{conn: conn, accounts: pb.NewAccountServiceClient(conn), rights: pb.NewRightServiceClient(conn),
		transfers: pb.NewTransferServiceClient(conn), retirements: pb.NewRetirementServiceClient(conn)}
}

// as returns a context whose calls name the given actor.
func as(t *testing.T, actor string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "x-ecoregistry-actor", actor)
}

// creditCode makes a valid unified social credit code from its first 17
// characters by computing the GB 32100 check character.
func creditCode(t *testing.T, first17 string) string {
	t.Helper()
	c, ok := domain.CreditCodeCheckCharacter(first17)
	if !ok {
		t.Fatalf("bad credit code body %q", first17)
	}
	return first17 + string(c)
}

func jan1(year int) *timestamppb.Timestamp {
	return timestamppb.New(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC))
}

// registrations returns one valid registration of each right type, with
// dates relative to the current year so that the test does not age.
func registrations(holder string) []*pb.RegisterRightRequest {
	y := time.Now().UTC().Year()
	return []*pb.RegisterRightRequest{
		{RightId: "CEA-HB-1", Type: pb.RightType_RIGHT_TYPE_CARBON_ALLOWANCE, Jurisdiction: "420000", Vintage: int32(y - 1), Quantity: 100000, HolderAccountId: holder,
			Attributes: &pb.RegisterRightRequest_CarbonAllowance{CarbonAllowance: &pb.CarbonAllowanceAttributes{
				AllocatingProvince: "420000", Scheme: pb.CarbonScheme_CARBON_SCHEME_NATIONAL, AllocationMethod: pb.AllocationMethod_ALLOCATION_METHOD_FREE,
				CompliancePeriod: fmt.Sprintf("%d-%d", y-1, y)}}},
		{RightId: "WUR-NX-1", Type: pb.RightType_RIGHT_TYPE_WATER_USE, Jurisdiction: "640000", Vintage: int32(y), Quantity: 50000, HolderAccountId: holder,
			ValidFrom: jan1(y), ValidUntil: jan1(y + 5),
			Attributes: &pb.RegisterRightRequest_WaterRight{WaterRight: &pb.WaterRightAttributes{
				Class: pb.WaterRightClass_WATER_RIGHT_CLASS_WATER_INTAKE, IntakePermitNumber: "QS-640000-2026-0042", Basin: "Yellow River",
				Source: pb.WaterSource_WATER_SOURCE_SURFACE, Use: pb.WaterUse_WATER_USE_INDUSTRIAL, AnnualVolumeM3: 50000}}},
		{RightId: "PDR-ZJ-1", Type: pb.RightType_RIGHT_TYPE_POLLUTANT_DISCHARGE, Jurisdiction: "330000", Vintage: int32(y), Quantity: 12000, HolderAccountId: holder,
			ValidFrom: jan1(y), ValidUntil: jan1(y + 5),
			Attributes: &pb.RegisterRightRequest_PollutantRight{PollutantRight: &pb.PollutantRightAttributes{
				Pollutant: pb.Pollutant_POLLUTANT_COD, DischargePermitNumber: "91330100MA27XY0001P", Region: "330100", BasinOrAirshed: "Qiantang River",
				Origin: pb.PollutantOrigin_POLLUTANT_ORIGIN_INITIAL_PAID_ALLOCATION}}},
		{RightId: "CSR-YN-1", Type: pb.RightType_RIGHT_TYPE_CARBON_SINK, Jurisdiction: "530000", Vintage: int32(y - 2), Quantity: 10000, HolderAccountId: holder,
			Attributes: &pb.RegisterRightRequest_CarbonSink{CarbonSink: &pb.CarbonSinkAttributes{
				ProjectId: "CCER-14-0001", Methodology: "AR-CM-001", MonitoringStart: jan1(y - 3), MonitoringEnd: timestamppb.New(time.Date(y-2, 12, 31, 0, 0, 0, 0, time.UTC)),
				Location: "530100", AreaSquareMetres: 12_340_000, VerificationBody: "China Quality Certification Centre",
				VerificationDate: timestamppb.New(time.Date(y-1, 3, 1, 0, 0, 0, 0, time.UTC)), Kind: pb.SinkKind_SINK_KIND_REMOVAL, BufferBasisPoints: 1000}}},
	}
}

// backend is an event store the whole-program tests run on: the server's
// store settings, and a way to open the same events directly.
type backend struct {
	name   string
	config func(t *testing.T) Config
	open   func(t *testing.T, cfg Config) eventstore.Store
	// lagUnit is what the projections' lag counts on this store.
	lagUnit pb.LagUnit
}

var backends = []backend{
	{
		name:   "embedded pebble store",
		config: func(t *testing.T) Config { return Config{Store: StorePebble, Data: t.TempDir()} },
		open: func(t *testing.T, cfg Config) eventstore.Store {
			st, err := pebblestore.Open(cfg.Data, pebblestore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		lagUnit: pb.LagUnit_LAG_UNIT_EVENTS,
	},
	{
		// The fake speaks EventStoreDB's wire protocol in-process; see
		// eventstore/esdbstore for the run against a real server.
		name: "EventStoreDB (in-process fake server)",
		config: func(t *testing.T) Config {
			return Config{Store: StoreESDB, ESDBURL: esdbfake.Start(t).URL(), Data: t.TempDir()}
		},
		open: func(t *testing.T, cfg Config) eventstore.Store {
			st, err := esdbstore.Open(t.Context(), cfg.ESDBURL, esdbstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		lagUnit: pb.LagUnit_LAG_UNIT_BYTES,
	},
}

// TestWalkthrough runs the README's walkthrough through the generated client,
// on each backend: open accounts, register one right of each type, transfer,
// retire, read holdings; then restarts the server and checks that nothing
// was lost and that every stream's hash chain verifies.
func TestWalkthrough(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { walkthrough(t, b) })
	}
}

func walkthrough(t *testing.T, b backend) {
	cfg := b.config(t)
	m, c := startServerWith(t, cfg)
	ctx := as(t, "office-hubei")

	hr, err := healthpb.NewHealthClient(c.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", hr, err)
	}

	steel := &pb.OpenAccountRequest{AccountId: "HB-STEEL", Jurisdiction: "420100", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
		Holder: &pb.Holder{Name: "Hubei Steel Co., Ltd.", Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: creditCode(t, "91420100MA4K12345")}}
	power := &pb.OpenAccountRequest{AccountId: "HB-POWER", Jurisdiction: "420500", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
		Holder: &pb.Holder{Name: "Yichang Power Co., Ltd.", Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: creditCode(t, "91420500MA4L54321")}}
	for _, req := range []*pb.OpenAccountRequest{steel, power} {
		resp, err := c.accounts.OpenAccount(ctx, req)
		if err != nil {
			t.Fatalf("open %s: %v", req.AccountId, err)
		}
		if resp.GetAccount().GetStatus() != pb.AccountStatus_ACCOUNT_STATUS_OPEN || resp.GetCommit().GetPosition().GetCommit() == 0 {
			t.Fatalf("open %s: %v", req.AccountId, resp)
		}
	}

	for _, req := range registrations("HB-STEEL") {
		resp, err := c.rights.RegisterRight(ctx, req)
		if err != nil {
			t.Fatalf("register %s: %v", req.RightId, err)
		}
		r := resp.GetRight()
		if r.GetQuantity() != req.Quantity || r.GetSerial().GetSerial() == "" {
			t.Fatalf("register %s: %v", req.RightId, r)
		}
		held := req.Quantity - r.GetBufferQuantity()
		h, err := c.rights.GetHolding(ctx, &pb.GetHoldingRequest{RightId: req.RightId, AccountId: "HB-STEEL"})
		if err != nil || h.GetHolding().GetAvailable() != held {
			t.Fatalf("holding of %s after registration: %v %v, want %d available", req.RightId, h, err, held)
		}
	}

	tr, err := c.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: "CEA-HB-1", TransferId: "T-0001", FromAccountId: "HB-STEEL", ToAccountId: "HB-POWER",
		Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 2500}, Reference: "HBEX-2026-77", Price: &pb.Price{AmountMinor: 5850, Currency: "CNY"}})
	if err != nil {
		t.Fatalf("transfer: %v", err)
	}
	if tr.GetQuantity() != 2500 || len(tr.GetRanges()) != 1 || tr.GetRanges()[0].GetStart() != 1 || tr.GetRanges()[0].GetEnd() != 2500 {
		t.Fatalf("transfer moved %v", tr)
	}
	if _, err := c.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: "WUR-NX-1", TransferId: "T-0002", FromAccountId: "HB-STEEL", ToAccountId: "HB-POWER",
		Amount: &pb.TransferUnitsRequest_Range{Range: &pb.SerialRange{Start: 10001, End: 20000}}}); err != nil {
		t.Fatalf("transfer by range: %v", err)
	}
	rr, err := c.retirements.RetireUnits(ctx, &pb.RetireUnitsRequest{RightId: "CEA-HB-1", RetirementId: "R-0001", HolderAccountId: "HB-POWER",
		Amount: &pb.RetireUnitsRequest_Quantity{Quantity: 1000}, Purpose: pb.RetirementPurpose_RETIREMENT_PURPOSE_COMPLIANCE,
		Beneficiary: "Yichang Power Co., Ltd.", CompliancePeriod: registrations("")[0].GetCarbonAllowance().GetCompliancePeriod()})
	if err != nil {
		t.Fatalf("retire: %v", err)
	}
	if rr.GetQuantity() != 1000 {
		t.Fatalf("retired %v", rr)
	}

	want := map[string][2]int64{ // account -> available, retired of CEA-HB-1
		"HB-STEEL": {97500, 0},
		"HB-POWER": {1500, 1000},
	}
	check := func(c *client) {
		t.Helper()
		for acct, w := range want {
			h, err := c.rights.GetHolding(ctx, &pb.GetHoldingRequest{RightId: "CEA-HB-1", AccountId: acct})
			if err != nil {
				t.Fatalf("holding %s: %v", acct, err)
			}
			if h.GetHolding().GetAvailable() != w[0] || h.GetHolding().GetRetired() != w[1] {
				t.Fatalf("holding %s = %d available, %d retired; want %d, %d", acct, h.GetHolding().GetAvailable(), h.GetHolding().GetRetired(), w[0], w[1])
			}
		}
		r, err := c.rights.GetRight(ctx, &pb.GetRightRequest{RightId: "WUR-NX-1"})
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, h := range r.GetRight().GetHoldings() {
			total += h.GetAvailable() + h.GetRetired()
		}
		if total != 50000 || len(r.GetRight().GetHoldings()) != 2 {
			t.Fatalf("water right holdings %v do not add up to 50000", r.GetRight().GetHoldings())
		}
	}
	check(c)
	st, err := queriesOf(c).admin.GetProjectionStatus(ctx, &pb.GetProjectionStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.GetProjections() {
		if p.GetActive().GetLagUnit() != b.lagUnit {
			t.Fatalf("the %s projection's lag counts %s, want %s", p.GetName(), p.GetActive().GetLagUnit(), b.lagUnit)
		}
	}

	// A restart on the same directory must find every acknowledged change.
	c.conn.Close()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	verifyChains(t, b.open(t, cfg))
	_, c2 := startServerWith(t, cfg)
	check(c2)
}

// verifyChains reads every event of st directly, checks every stream's hash
// chain, and closes st.
func verifyChains(t *testing.T, st eventstore.Store) {
	t.Helper()
	defer st.Close()
	all, err := st.ReadAll(context.Background(), eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	byStream := map[string][]eventcodec.StoredEvent{}
	for _, e := range all {
		byStream[e.Stream] = append(byStream[e.Stream], eventcodec.StoredEvent{Type: e.Type, Data: e.Data, Metadata: e.Metadata})
		env, err := eventcodec.DecodeMetadata(e.Metadata)
		if err != nil || env.Actor != "office-hubei" || env.CorrelationID == "" || env.OccurredAt.IsZero() {
			t.Fatalf("event %s/%d has envelope %+v (%v)", e.Stream, e.Revision, env, err)
		}
	}
	if len(byStream) != 6 {
		t.Fatalf("%d streams, want 2 accounts + 4 rights", len(byStream))
	}
	for s, evs := range byStream {
		if _, err := eventcodec.VerifyChain(evs); err != nil {
			t.Errorf("stream %s: %v", s, err)
		}
	}
}

// checkOf returns the gRPC code and the check code (ErrorInfo reason) of err.
func checkOf(err error) (codes.Code, string, []*errdetails.BadRequest_FieldViolation) {
	st, _ := status.FromError(err)
	var reason string
	var fv []*errdetails.BadRequest_FieldViolation
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			reason = d.GetReason()
		case *errdetails.BadRequest:
			fv = d.GetFieldViolations()
		}
	}
	return st.Code(), reason, fv
}

// TestRejections asserts the status code and check code of each kind of
// refusal, and that a refused command changes nothing.
func TestRejections(t *testing.T) {
	_, c := startServer(t, t.TempDir())
	ctx := as(t, "office-hubei")
	open := func(id, code string) {
		t.Helper()
		_, err := c.accounts.OpenAccount(ctx, &pb.OpenAccountRequest{AccountId: id, Jurisdiction: "420100", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
			Holder: &pb.Holder{Name: id + " Co.", Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: creditCode(t, code)}})
		if err != nil {
			t.Fatalf("open %s: %v", id, err)
		}
	}
	open("A", "91420100MA4K00001")
	open("B", "91420100MA4K00002")
	open("SUSP", "91420100MA4K00003")
	if _, err := c.accounts.ChangeAccountStatus(ctx, &pb.ChangeAccountStatusRequest{AccountId: "SUSP", Status: pb.AccountStatus_ACCOUNT_STATUS_SUSPENDED, Reason: "court order (2026) E0102 No. 7"}); err != nil {
		t.Fatal(err)
	}
	for _, req := range registrations("A") {
		if _, err := c.rights.RegisterRight(ctx, req); err != nil {
			t.Fatalf("register %s: %v", req.RightId, err)
		}
	}
	if _, err := c.retirements.RetireUnits(ctx, &pb.RetireUnitsRequest{RightId: "CEA-HB-1", RetirementId: "R-1", HolderAccountId: "A",
		Amount: &pb.RetireUnitsRequest_Range{Range: &pb.SerialRange{Start: 1, End: 10}}, Purpose: pb.RetirementPurpose_RETIREMENT_PURPOSE_VOLUNTARY, Beneficiary: "A"}); err != nil {
		t.Fatal(err)
	}

	qty := func(n int64) *pb.TransferUnitsRequest_Quantity { return &pb.TransferUnitsRequest_Quantity{Quantity: n} }
	xfer := func(mod func(*pb.TransferUnitsRequest)) func(context.Context) error {
		return func(ctx context.Context) error {
			req := &pb.TransferUnitsRequest{RightId: "CEA-HB-1", TransferId: "T-X", FromAccountId: "A", ToAccountId: "B", Amount: qty(5)}
			mod(req)
			_, err := c.transfers.TransferUnits(ctx, req)
			return err
		}
	}
	badCode := creditCode(t, "91420100MA4K00009")
	badCode = badCode[:17] + string("0123456789ABCDEFGHJKLMNPQRTUWXY"[(len(badCode)+7)%31])
	if badCode == creditCode(t, "91420100MA4K00009") {
		badCode = badCode[:17] + "Y"
	}
	cases := []struct {
		name  string
		call  func(context.Context) error
		code  codes.Code
		check string
		field string
	}{
		{"a command without an actor is refused", func(context.Context) error { return xfer(func(*pb.TransferUnitsRequest) {})(context.Background()) }, codes.InvalidArgument, domain.CheckActorRequired.Code, "x-ecoregistry-actor"},
		{"an unknown source account is refused", xfer(func(r *pb.TransferUnitsRequest) { r.FromAccountId = "NOBODY" }), codes.NotFound, "E2001", ""},
		{"an unknown right is refused", xfer(func(r *pb.TransferUnitsRequest) { r.RightId = "NO-SUCH-RIGHT" }), codes.NotFound, "E2002", ""},
		{"more units than available are refused", xfer(func(r *pb.TransferUnitsRequest) { r.Amount = qty(100001) }), codes.FailedPrecondition, "E5001", ""},
		{"a serial range the holder does not hold is refused", xfer(func(r *pb.TransferUnitsRequest) {
			r.Amount = &pb.TransferUnitsRequest_Range{Range: &pb.SerialRange{Start: 100001, End: 100002}}
		}), codes.InvalidArgument, "E5005", ""},
		{"retired units cannot be transferred", xfer(func(r *pb.TransferUnitsRequest) {
			r.Amount = &pb.TransferUnitsRequest_Range{Range: &pb.SerialRange{Start: 5, End: 20}}
		}), codes.FailedPrecondition, "E5003", ""},
		{"a transfer to a suspended account is refused", xfer(func(r *pb.TransferUnitsRequest) { r.ToAccountId = "SUSP" }), codes.FailedPrecondition, "E4003", ""},
		{"a transfer to the same account is refused", xfer(func(r *pb.TransferUnitsRequest) { r.ToAccountId = "A" }), codes.FailedPrecondition, "E4005", ""},
		{"a zero quantity is refused", xfer(func(r *pb.TransferUnitsRequest) { r.Amount = qty(0) }), codes.InvalidArgument, "", ""},
		{"a malformed transfer id is refused", xfer(func(r *pb.TransferUnitsRequest) { r.TransferId = "../etc" }), codes.InvalidArgument, "E1021", "transfer_id"},
		{"a negative price is refused", xfer(func(r *pb.TransferUnitsRequest) { r.Price = &pb.Price{AmountMinor: -1, Currency: "CNY"} }), codes.InvalidArgument, "E1023", ""},
		{"an account id that is taken is refused", func(ctx context.Context) error {
			_, err := c.accounts.OpenAccount(ctx, &pb.OpenAccountRequest{AccountId: "A", Jurisdiction: "420100", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
				Holder: &pb.Holder{Name: "A again", Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: creditCode(t, "91420100MA4K00001")}})
			return err
		}, codes.AlreadyExists, "E3001", ""},
		{"a credit code with a wrong check character is refused", func(ctx context.Context) error {
			_, err := c.accounts.OpenAccount(ctx, &pb.OpenAccountRequest{AccountId: "C", Jurisdiction: "420100", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
				Holder: &pb.Holder{Name: "C Co.", Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: badCode}})
			return err
		}, codes.InvalidArgument, "E1007", "holder.credit_code"},
		{"a right id that is taken is refused", func(ctx context.Context) error {
			_, err := c.rights.RegisterRight(ctx, registrations("A")[0])
			return err
		}, codes.AlreadyExists, "E3002", ""},
		{"a registration without its attributes is refused", func(ctx context.Context) error {
			req := registrations("A")[1]
			req.RightId, req.Attributes = "WUR-NEW", nil
			_, err := c.rights.RegisterRight(ctx, req)
			return err
		}, codes.InvalidArgument, "", ""},
		{"a water right without a validity period is refused", func(ctx context.Context) error {
			req := registrations("A")[1]
			req.RightId, req.ValidFrom, req.ValidUntil = "WUR-NEW", nil, nil
			_, err := c.rights.RegisterRight(ctx, req)
			return err
		}, codes.InvalidArgument, "E1012", "valid_from"},
		{"an unknown account cannot be read", func(ctx context.Context) error {
			_, err := c.accounts.GetAccount(ctx, &pb.GetAccountRequest{AccountId: "NOBODY"})
			return err
		}, codes.NotFound, "E2001", ""},
		{"a retirement by a suspended account is refused", func(ctx context.Context) error {
			_, err := c.retirements.RetireUnits(ctx, &pb.RetireUnitsRequest{RightId: "CEA-HB-1", RetirementId: "R-2", HolderAccountId: "SUSP",
				Amount: &pb.RetireUnitsRequest_Quantity{Quantity: 1}, Purpose: pb.RetirementPurpose_RETIREMENT_PURPOSE_VOLUNTARY, Beneficiary: "x"})
			return err
		}, codes.FailedPrecondition, "E4003", ""},
	}
	revisions := func() map[string]uint64 {
		out := map[string]uint64{}
		for _, id := range []string{"CEA-HB-1", "WUR-NX-1", "PDR-ZJ-1", "CSR-YN-1"} {
			r, err := c.rights.GetRight(ctx, &pb.GetRightRequest{RightId: id})
			if err != nil {
				t.Fatal(err)
			}
			out[id] = r.GetRight().GetRevision()
		}
		for _, id := range []string{"A", "B", "SUSP"} {
			a, err := c.accounts.GetAccount(ctx, &pb.GetAccountRequest{AccountId: id})
			if err != nil {
				t.Fatal(err)
			}
			out[id] = a.GetAccount().GetRevision()
		}
		return out
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := revisions()
			err := tc.call(ctx)
			code, check, fv := checkOf(err)
			if code != tc.code {
				t.Fatalf("code = %v, want %v (err %v)", code, tc.code, err)
			}
			if check == "" {
				t.Fatalf("no ErrorInfo check code in %v", err)
			}
			if tc.check != "" && check != tc.check {
				t.Fatalf("check = %s, want %s (err %v)", check, tc.check, err)
			}
			if _, ok := domain.CheckByCode(check); !ok {
				t.Fatalf("check %s is not in the check table", check)
			}
			if code == codes.InvalidArgument && len(fv) == 0 {
				t.Fatalf("InvalidArgument without field violations: %v", err)
			}
			if tc.field != "" {
				found := false
				for _, v := range fv {
					found = found || v.GetField() == tc.field
				}
				if !found {
					t.Fatalf("no violation of field %s in %v", tc.field, fv)
				}
			}
			if after := revisions(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("a refused command changed stream revisions: %v -> %v", before, after)
			}
		})
	}
}

func TestConfigFromFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{"ECOREGISTRY_LISTEN": "127.0.0.1:6000", "ECOREGISTRY_DATA": "/var/lib/eco"}
	getenv := func(k string) string { return env[k] }
	t.Run("the environment supplies what flags do not", func(t *testing.T) {
		cfg, err := ParseConfig([]string{"--log-level", "debug"}, getenv, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Listen != "127.0.0.1:6000" || cfg.Data != "/var/lib/eco" || cfg.LogLevel != "debug" {
			t.Fatalf("%+v", cfg)
		}
	})
	t.Run("a flag wins over the environment", func(t *testing.T) {
		cfg, err := ParseConfig([]string{"--listen", "127.0.0.1:7000"}, getenv, io.Discard)
		if err != nil || cfg.Listen != "127.0.0.1:7000" {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	t.Run("defaults with nothing set", func(t *testing.T) {
		cfg, err := ParseConfig(nil, func(string) string { return "" }, io.Discard)
		if err != nil || cfg.Listen != "127.0.0.1:50051" || cfg.Data != "./data" || cfg.LogLevel != "info" {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	for _, args := range [][]string{{"--log-level", "loud"}, {"--shutdown-timeout", "soon"}, {"stray"}, {"--data", ""}} {
		t.Run(fmt.Sprintf("%v is refused with a clear error", args), func(t *testing.T) {
			if _, err := ParseConfig(args, func(string) string { return "" }, io.Discard); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("the store is pebble unless told otherwise", func(t *testing.T) {
		cfg, err := ParseConfig(nil, func(string) string { return "" }, io.Discard)
		if err != nil || cfg.Store != StorePebble {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	t.Run("--store=esdb takes its url from the flag or the environment", func(t *testing.T) {
		url := "esdb://node1:2113,node2:2113,node3:2113?tls=false"
		cfg, err := ParseConfig([]string{"--store=esdb", "--esdb-url", url}, func(string) string { return "" }, io.Discard)
		if err != nil || cfg.Store != StoreESDB || cfg.ESDBURL != url {
			t.Fatalf("%+v %v", cfg, err)
		}
		env := map[string]string{"ECOREGISTRY_STORE": "esdb", "ECOREGISTRY_ESDB_URL": url}
		cfg, err = ParseConfig(nil, func(k string) string { return env[k] }, io.Discard)
		if err != nil || cfg.Store != StoreESDB || cfg.ESDBURL != url {
			t.Fatalf("%+v %v", cfg, err)
		}
	})
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--store", "mongo"}, `--store "mongo": want pebble or esdb`},
		{[]string{"--store", "esdb"}, "--store=esdb needs --esdb-url"},
		{[]string{"--store", "esdb", "--esdb-url", "http://node1:2113"}, "--esdb-url"},
	} {
		t.Run(fmt.Sprintf("%v is refused with an error that says %q", c.args, c.says), func(t *testing.T) {
			_, err := ParseConfig(c.args, func(string) string { return "" }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("error %v does not say %q", err, c.says)
			}
		})
	}
	t.Run("--help and errors never show the connection string's password", func(t *testing.T) {
		env := map[string]string{"ECOREGISTRY_STORE": "esdb", "ECOREGISTRY_ESDB_URL": "esdb://ecoregistry:s3cret-pw@node1:2113?tls=true"}
		var help strings.Builder
		if _, err := ParseConfig([]string{"--help"}, func(k string) string { return env[k] }, &help); !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(help.String(), "s3cret") || !strings.Contains(help.String(), "(default esdb://***@node1:2113?tls=true)") {
			t.Fatalf("--help prints:\n%s", help.String())
		}
		env["ECOREGISTRY_ESDB_URL"] = "esdb://ecoregistry:s3cret-pw@node1:21x3?tls=true"
		if _, err := ParseConfig(nil, func(k string) string { return env[k] }, io.Discard); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("a malformed connection string is refused with %v", err)
		}
	})
	t.Run("--help is not an error exit", func(t *testing.T) {
		if _, err := ParseConfig([]string{"--help"}, getenv, io.Discard); !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("err = %v", err)
		}
	})
}
