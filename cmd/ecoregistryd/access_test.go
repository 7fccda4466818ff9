package main

import (
	"context"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/access"
	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/mtls"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

const officePolicy = `
bindings:
  - organisation: hubei-office
    role: registration_office
    jurisdictions: ["420000"]
`

// TestMutualTLS runs the registry with mutual TLS and certificates made by
// the test: the principal of the certificate, its organisation and role
// are recorded on the events whatever actor the client declares, and
// clients with an expired certificate, one of another CA or none are
// refused with UNAUTHENTICATED and write nothing.
func TestMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	m := startTLSServer(t, pki, officePolicy, zap.NewNop())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	office := dialTLS(t, m.Addr(), pki.ca, clientCert(t, pki.ca, "hubei-office", "li.wei", mtls.For(time.Hour)))
	spoofing := metadata.AppendToOutgoingContext(ctx, "x-ecoregistry-actor", "someone-else")

	open := func(conn *grpc.ClientConn, id string) error {
		_, err := pb.NewAccountServiceClient(conn).OpenAccount(spoofing, &pb.OpenAccountRequest{AccountId: id, Jurisdiction: "420100",
			Type: pb.AccountType_ACCOUNT_TYPE_HOLDING, Holder: &pb.Holder{Name: "Li Ming", Kind: pb.HolderKind_HOLDER_KIND_INDIVIDUAL}})
		return err
	}
	t.Run("the principal, its organisation and role are recorded, not the declared actor", func(t *testing.T) {
		if err := open(office, "HB-1"); err != nil {
			t.Fatal(err)
		}
		evs, err := m.store.ReadStream(ctx, domain.AccountStream("HB-1"), 0, eventstore.Forwards, 0)
		if err != nil || len(evs) != 1 {
			t.Fatalf("%v %v", evs, err)
		}
		env, err := eventcodec.DecodeMetadata(evs[0].Metadata)
		if err != nil || env.Actor != "hubei-office/li.wei" || env.Organisation != "hubei-office" || env.Role != "registration_office" {
			t.Fatalf("envelope %+v (%v)", env, err)
		}
	})

	refused := map[string]*grpc.ClientConn{
		"an expired certificate": dialTLS(t, m.Addr(), pki.ca, clientCert(t, pki.ca, "hubei-office", "li.wei",
			mtls.Validity{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})),
		"a certificate of another CA": dialTLS(t, m.Addr(), pki.ca, clientCert(t, otherCA(t), "hubei-office", "li.wei", mtls.For(time.Hour))),
		"no certificate":              dialTLS(t, m.Addr(), pki.ca),
	}
	says := map[string]string{"an expired certificate": "expired at", "a certificate of another CA": "not issued by the registry's client CA",
		"no certificate": "presented no certificate"}
	for name, conn := range refused {
		t.Run("a client with "+name+" is refused with UNAUTHENTICATED", func(t *testing.T) {
			before := head(t, m.store)
			err := open(conn, "HB-2")
			if code, check, _ := checkOf(err); code != codes.Unauthenticated || check != domain.CheckUnauthenticated.Code || !strings.Contains(err.Error(), says[name]) {
				t.Fatalf("%v (%s), want UNAUTHENTICATED %s saying %q", err, check, domain.CheckUnauthenticated.Code, says[name])
			}
			if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); codeOf(err) != codes.Unauthenticated {
				t.Fatalf("health check: %v", err)
			}
			if after := head(t, m.store); after != before {
				t.Fatalf("the log moved from %v to %v", before, after)
			}
		})
	}
	t.Run("a certificate without a principal URI is refused", func(t *testing.T) {
		issued, err := pki.ca.IssueServer([]string{"hubei-office.example"}, mtls.For(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := issued.TLS()
		if err != nil {
			t.Fatal(err)
		}
		if err := open(dialTLS(t, m.Addr(), pki.ca, cert), "HB-3"); codeOf(err) != codes.Unauthenticated {
			t.Fatalf("%v, want UNAUTHENTICATED", err)
		}
	})
	t.Run("a principal without a role is refused with E8001", func(t *testing.T) {
		err := open(dialTLS(t, m.Addr(), pki.ca, clientCert(t, pki.ca, "stranger", "x", mtls.For(time.Hour))), "HB-4")
		if code, check, _ := checkOf(err); code != codes.PermissionDenied || check != domain.CheckRoleNotAllowed.Code || !strings.Contains(err.Error(), "no role") {
			t.Fatalf("%v", err)
		}
	})
}

func otherCA(t *testing.T) *mtls.CA {
	t.Helper()
	ca, err := mtls.NewCA("another CA", mtls.For(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func codeOf(err error) codes.Code { c, _, _ := checkOf(err); return c }

// TestPolicyReload replaces the policy file under a running server: a file
// that does not load is refused and the policy in force stays, a good one
// takes effect for the next call, on ReloadPolicy and on SIGHUP.
func TestPolicyReload(t *testing.T) {
	pki := newTestPKI(t)
	core, logs := observer.New(zap.InfoLevel)
	m := startTLSServer(t, pki, officePolicy, zap.New(core))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := dialTLS(t, m.Addr(), pki.ca, clientCert(t, pki.ca, "hubei-office", "li.wei", mtls.For(time.Hour)))
	getBJ := func() error {
		_, err := pb.NewAccountServiceClient(conn).OpenAccount(ctx, &pb.OpenAccountRequest{AccountId: "BJ-" + time.Now().Format("150405.000000000"),
			Jurisdiction: "110000", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING, Holder: &pb.Holder{Name: "Li", Kind: pb.HolderKind_HOLDER_KIND_INDIVIDUAL}})
		return err
	}
	if _, check, _ := checkOf(getBJ()); check != domain.CheckOutsideScope.Code {
		t.Fatalf("an office of 420000 opened an account in 110000 (check %q)", check)
	}

	t.Run("a bad file is refused, logged, and the old policy is kept", func(t *testing.T) {
		for _, bad := range []string{"bindings: [", "bindings:\n  - {organisation: hubei-office, role: registration_office, jurisdictions: [\"420000\"], colour: red}",
			"bindings:\n  - {organisation: hubei-office, role: registration-office, jurisdictions: [\"420000\", \"110000\"]}"} {
			if err := os.WriteFile(m.Config.Policy, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := m.ReloadPolicy(); err == nil {
				t.Fatalf("policy %q accepted", bad)
			}
			if logs.FilterMessage("policy reload refused; the policy in force is unchanged").Len() == 0 {
				t.Fatal("the refusal was not logged")
			}
			if _, check, _ := checkOf(getBJ()); check != domain.CheckOutsideScope.Code {
				t.Fatalf("after a refused reload the office's scope changed (check %q)", check)
			}
		}
	})
	t.Run("a good file takes effect on SIGHUP", func(t *testing.T) {
		wider := strings.Replace(officePolicy, `["420000"]`, `["420000", "110000"]`, 1)
		if err := os.WriteFile(m.Config.Policy, []byte(wider), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for logs.FilterMessage("policy reloaded").Len() == 0 {
			select {
			case <-ctx.Done():
				t.Fatal("SIGHUP did not reload the policy")
			case <-time.After(5 * time.Millisecond):
			}
		}
		if err := getBJ(); err != nil {
			t.Fatalf("after the reload: %v", err)
		}
	})
}

// TestCallLimits checks the bound on one principal's calls in flight and on
// the size of a message.
func TestCallLimits(t *testing.T) {
	pki := newTestPKI(t)
	cfg := Config{Store: StorePebble, Data: t.TempDir(), Listen: "127.0.0.1:0", LogLevel: "info", ShutdownTimeout: 5 * time.Second,
		Security: pki.security(t, "bindings:\n  - {organisation: ops, role: administrator}\n  - {organisation: audit, role: auditor}\n")}
	cfg.MaxCallsInFlight, cfg.MaxMessageBytes = 1, 4096
	m := NewMain(cfg)
	m.Logger = zap.NewNop()
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ops := dialTLS(t, m.Addr(), pki.ca, clientCert(t, pki.ca, "ops", "admin", mtls.For(time.Hour)))
	audit := dialTLS(t, m.Addr(), pki.ca, clientCert(t, pki.ca, "audit", "a", mtls.For(time.Hour)))
	status := func(conn *grpc.ClientConn) error {
		_, err := pb.NewProjectionAdminServiceClient(conn).GetProjectionStatus(ctx, &pb.GetProjectionStatusRequest{})
		return err
	}

	t.Run("past its calls in flight a principal gets RESOURCE_EXHAUSTED, others do not", func(t *testing.T) {
		wctx, stop := context.WithCancel(ctx)
		watch, err := healthpb.NewHealthClient(ops).Watch(wctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			t.Fatal(err)
		}
		// The first answer comes from inside the handler: the stream is in flight.
		if _, err := watch.Recv(); err != nil {
			t.Fatal(err)
		}
		err = status(ops)
		if code, check, _ := checkOf(err); code != codes.ResourceExhausted || check != domain.CheckTooManyCallsInFlight.Code {
			t.Fatalf("%v, want RESOURCE_EXHAUSTED %s", err, domain.CheckTooManyCallsInFlight.Code)
		}
		if err := status(audit); err != nil {
			t.Fatalf("another principal: %v", err)
		}
		stop()
		if _, err := watch.Recv(); err == nil {
			t.Fatal("the watch did not end")
		}
		// The server ends the stream's call after the client cancels it;
		// the call in flight is released then.
		for err = status(ops); codeOf(err) == codes.ResourceExhausted; err = status(ops) {
			select {
			case <-ctx.Done():
				t.Fatal("the stream's call was never released")
			case <-time.After(time.Millisecond):
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a message over the configured size is refused", func(t *testing.T) {
		_, err := pb.NewProjectionAdminServiceClient(ops).RebuildProjection(ctx, &pb.RebuildProjectionRequest{Name: strings.Repeat("x", 5000)})
		if codeOf(err) != codes.ResourceExhausted {
			t.Fatalf("%v, want RESOURCE_EXHAUSTED", err)
		}
	})
}

// TestAnswersInScope checks that queries answer only what the caller's
// scope covers.
func TestAnswersInScope(t *testing.T) {
	pki := newTestPKI(t)
	m := startTLSServer(t, pki, matrixPolicy, zap.NewNop())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := &fixtures{t: t, ctx: ctx, loader: dialTLS(t, m.Addr(), pki.ca, clientCert(t, pki.ca, "loader", "script", mtls.For(time.Hour)))}
	f.setUp()
	f.pledge("CEA-HB", "HB-STEEL", "BANK-HB", access.RoleHolder)
	f.pledge("CEA-HB", "HB-POWER", "BANK-BJ", access.RoleHolder)
	f.must(pb.SettlementService_SubmitTrade_FullMethodName, &pb.SubmitTradeRequest{Trade: trade("HBEX", "CEA-HB", "HB-STEEL", "HB-POWER", "X-HB")})
	f.must(pb.SettlementService_SubmitTrade_FullMethodName, &pb.SubmitTradeRequest{Trade: trade("SHEX", "CEA-BJ", "BJ-CORP", "HB-POWER", "X-BJ")})
	as := func(role access.Role) *grpc.ClientConn {
		return dialTLS(t, m.Addr(), pki.ca, clientCert(t, pki.ca, matrixPrincipals[role], "member", mtls.For(time.Hour)))
	}
	at := head(t, m.store)
	minPos := &pb.Position{Commit: at.Commit, Prepare: at.Prepare}

	t.Run("a holder sees only its own holdings of a right", func(t *testing.T) {
		r, err := pb.NewRightServiceClient(as(access.RoleHolder)).GetRight(ctx, &pb.GetRightRequest{RightId: "CEA-HB"})
		if err != nil || len(r.GetRight().GetHoldings()) != 1 || r.GetRight().GetHoldings()[0].GetAccountId() != "HB-STEEL" {
			t.Fatalf("%v %v", r.GetRight().GetHoldings(), err)
		}
	})
	t.Run("a pledgee sees only the pledges made to it", func(t *testing.T) {
		l, err := pb.NewPledgeServiceClient(as(access.RolePledgee)).ListPledges(ctx, &pb.ListPledgesRequest{RightId: "CEA-HB"})
		if err != nil || len(l.GetPledges()) != 1 || l.GetPledges()[0].GetPledgeeAccountId() != "BANK-HB" {
			t.Fatalf("%v %v", l.GetPledges(), err)
		}
	})
	t.Run("MWR sees only water in an account's holdings and in the statistics", func(t *testing.T) {
		conn := as(access.RoleRegulator)
		h, err := pb.NewHoldingsQueryServiceClient(conn).ListAccountHoldings(ctx, &pb.ListAccountHoldingsRequest{AccountId: "HB-STEEL", MinPosition: minPos})
		if err != nil || len(h.GetHoldings()) != 1 || h.GetHoldings()[0].GetRightId() != "WUR-HB" {
			t.Fatalf("%v %v", h.GetHoldings(), err)
		}
		s, err := pb.NewStatisticsQueryServiceClient(conn).ListStatistics(ctx, &pb.ListStatisticsRequest{Level: pb.AdministrativeLevel_ADMINISTRATIVE_LEVEL_PROVINCE,
			Granularity: pb.StatisticsGranularity_STATISTICS_GRANULARITY_YEAR, MinPosition: minPos})
		if err != nil || len(s.GetRows()) == 0 {
			t.Fatalf("%v %v", s, err)
		}
		for _, r := range s.GetRows() {
			if r.GetRightType() != pb.RightType_RIGHT_TYPE_WATER_USE {
				t.Fatalf("MWR sees a row of %v", r.GetRightType())
			}
		}
	})
	t.Run("an exchange sees only its own trades, an office those of its jurisdiction", func(t *testing.T) {
		for role, want := range map[access.Role]string{access.RoleExchange: "X-HB", access.RoleOffice: "X-HB", access.RoleAuditor: "X-BJ X-HB"} {
			l, err := pb.NewMarketQueryServiceClient(as(role)).ListTrades(ctx, &pb.ListTradesRequest{MinPosition: minPos})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tr := range l.GetTrades() {
				got = append(got, tr.GetTradeId())
			}
			if strings.Join(got, " ") != want && strings.Join(reverseStrings(got), " ") != want {
				t.Fatalf("%s sees trades %v, want %s", role, got, want)
			}
		}
	})
}

func reverseStrings(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// TestDevelopmentModeStaysOnLoopback checks the start-up rules of the
// security flags.
func TestDevelopmentModeStaysOnLoopback(t *testing.T) {
	none := func(string) string { return "" }
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--listen", ":50051"}, "is not a loopback address"},
		{[]string{"--listen", "0.0.0.0:50051"}, "--insecure-plaintext"},
		{[]string{"--listen", "192.0.2.7:50051"}, "is not a loopback address"},
		{[]string{"--tls-cert", "s.pem"}, "go together"},
		{[]string{"--tls-cert", "s.pem", "--tls-key", "k.pem", "--client-ca", "ca.pem"}, "needs --policy"},
		{[]string{"--policy", "p.yaml"}, "--policy needs mutual TLS"},
		{[]string{"--max-calls-in-flight", "0"}, "--max-calls-in-flight"},
		{[]string{"--max-message-bytes", "10"}, "--max-message-bytes"},
	} {
		t.Run(strings.Join(c.args, " ")+" is refused", func(t *testing.T) {
			_, err := ParseConfig(c.args, none, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("error %v does not say %q", err, c.says)
			}
		})
	}
	for _, args := range [][]string{nil, {"--listen", "localhost:50051"}, {"--listen", "[::1]:50051"}, {"--listen", ":50051", "--insecure-plaintext"}} {
		t.Run(strings.Join(args, " ")+" is accepted", func(t *testing.T) {
			cfg, err := ParseConfig(args, none, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxMessageBytes != 4<<20 || cfg.MaxCallsInFlight != 256 {
				t.Fatalf("limits %d, %d; want 4 MiB and 256 by default", cfg.MaxMessageBytes, cfg.MaxCallsInFlight)
			}
		})
	}
	t.Run("development mode warns once, loudly", func(t *testing.T) {
		core, logs := observer.New(zap.InfoLevel)
		m := NewMain(Config{Store: StorePebble, Data: t.TempDir(), Listen: "127.0.0.1:0", LogLevel: "info", ShutdownTimeout: time.Second})
		m.Logger = zap.New(core)
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if n := logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("DEVELOPMENT MODE").Len(); n != 1 {
			t.Fatalf("%d warnings, want 1", n)
		}
	})
}
