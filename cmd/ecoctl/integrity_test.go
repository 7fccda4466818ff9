package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/grpcserver"
	"github.com/ecoregistry/ecoregistry/integrity"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"github.com/ecoregistry/ecoregistry/registry"
)

// stack is a real registry with its tamper evidence, served in-process
// over gRPC, for the tests of the audit and certificate commands.
type stack struct {
	dir   string
	addr  string
	close func()
}

func startStack(t *testing.T, dir string, key *checkpoint.Signer) *stack {
	t.Helper()
	store, err := pebblestore.Open(filepath.Join(dir, "events"), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := projections.Open(filepath.Join(dir, "read"), store, []projections.Projection{merkle.New()}, projections.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cps, err := checkpoint.OpenStore(filepath.Join(dir, "checkpoints"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := m.Runner(merkle.Name)
	svc, err := integrity.New(store, merkle.NewQueries(r), cps, key, integrity.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	if _, err := svc.CheckAtStart(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := grpcserver.New(registry.New(svc.Guard(store), registry.Options{}), zap.NewNop())
	grpcserver.RegisterIntegrityService(srv, svc, zap.NewNop())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	s := &stack{dir: dir, addr: lis.Addr().String()}
	s.close = func() {
		srv.Stop()
		if err := errors.Join(m.Close(), cps.Close(), store.Close()); err != nil {
			t.Error(err)
		}
	}
	return s
}

// ecoctl runs a command line against the stack and returns its exit code,
// stdout and stderr.
func (s *stack) ecoctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"--server", s.addr, "--actor", "regulator.mee"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func (s *stack) seed(t *testing.T) {
	t.Helper()
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(t.Context(), ActorHeader, "hubei-office.li")
	for i, id := range []string{"HB-STEEL", "HB-POWER"} {
		body := fmt.Sprintf("91420100MA4K%05d", i)
		c, _ := domain.CreditCodeCheckCharacter(body)
		if _, err := ecov1.NewAccountServiceClient(conn).OpenAccount(ctx, &ecov1.OpenAccountRequest{AccountId: id, Jurisdiction: "420100",
			Type: ecov1.AccountType_ACCOUNT_TYPE_HOLDING, Holder: &ecov1.Holder{Name: id, Kind: ecov1.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: body + string(c)}}); err != nil {
			t.Fatal(err)
		}
	}
	y := time.Now().UTC().Year()
	if _, err := ecov1.NewRightServiceClient(conn).RegisterRight(ctx, &ecov1.RegisterRightRequest{RightId: "CEA-HB-2025", Type: ecov1.RightType_RIGHT_TYPE_CARBON_ALLOWANCE,
		Jurisdiction: "420000", Vintage: int32(y - 1), Quantity: 100000, HolderAccountId: "HB-STEEL",
		Attributes: &ecov1.RegisterRightRequest_CarbonAllowance{CarbonAllowance: &ecov1.CarbonAllowanceAttributes{AllocatingProvince: "420000",
			Scheme: ecov1.CarbonScheme_CARBON_SCHEME_NATIONAL, AllocationMethod: ecov1.AllocationMethod_ALLOCATION_METHOD_FREE, CompliancePeriod: fmt.Sprintf("%d-%d", y-1, y)}}}); err != nil {
		t.Fatal(err)
	}
	s.transfer(t, conn, "T-1", 2500)
}

func (s *stack) transfer(t *testing.T, conn *grpc.ClientConn, id string, quantity int64) {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(t.Context(), ActorHeader, "exchange.hbex")
	if _, err := ecov1.NewTransferServiceClient(conn).TransferUnits(ctx, &ecov1.TransferUnitsRequest{RightId: "CEA-HB-2025", TransferId: id,
		FromAccountId: "HB-STEEL", ToAccountId: "HB-POWER", Amount: &ecov1.TransferUnitsRequest_Quantity{Quantity: quantity}}); err != nil {
		t.Fatal(err)
	}
}

func (s *stack) moreTrades(t *testing.T) {
	t.Helper()
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s.transfer(t, conn, "T-2", 100)
	s.transfer(t, conn, "T-3", 50)
}

func expectRun(t *testing.T, code int, stdout, stderr string, wantCode int, wants ...string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, wantCode, stdout, stderr)
	}
	for _, w := range wants {
		if !strings.Contains(stdout+stderr, w) {
			t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, stdout, stderr)
		}
	}
}

func TestProvingHistoryWithEcoctl(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "registry.key")
	code, out, errOut := run2(t, "keys", "generate", "--name", "registry.test", "--out", keyFile)
	expectRun(t, code, out, errOut, exitOK, "Verifier key:  registry.test+")
	key, err := checkpoint.LoadSigner(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, filepath.Join(dir, "registry"), key)
	defer func() { s.close() }()
	s.seed(t)
	pub := keyFile + ".pub"
	cert := filepath.Join(dir, "cert.json")

	// A certificate signs the first checkpoint.
	code, out, errOut = s.ecoctl(t, "certificate", "issue", "--right", "CEA-HB-2025", "--account", "HB-POWER", "--out", cert)
	expectRun(t, code, out, errOut, exitOK, "Available: 2500\n", "Block: available 1-2500 2500 ")
	saved := filepath.Join(dir, "saved.checkpoint")
	code, out, errOut = s.ecoctl(t, "audit", "checkpoint", "save", "--public-key", pub, saved)
	expectRun(t, code, out, errOut, exitOK, "Tree size:      4")
	s.moreTrades(t)
	// A later checkpoint, by a certificate for another account.
	code, out, errOut = s.ecoctl(t, "certificate", "issue", "--right", "CEA-HB-2025", "--account", "HB-STEEL", "--out", filepath.Join(dir, "steel.json"))
	expectRun(t, code, out, errOut, exitOK)

	t.Run("the log extends the saved checkpoint", func(t *testing.T) {
		code, out, errOut := s.ecoctl(t, "audit", "checkpoint", "check", "--public-key", pub, saved)
		expectRun(t, code, out, errOut, exitOK, "verified here: the checkpoint of 6 events extends the saved one of 4", "Breaks:                0")
	})
	t.Run("a checkpoint signed by another key is refused", func(t *testing.T) {
		other := filepath.Join(dir, "other.key")
		run2(t, "keys", "generate", "--name", "registry.test", "--out", other)
		code, out, errOut := s.ecoctl(t, "audit", "checkpoint", "check", "--public-key", other+".pub", saved)
		expectRun(t, code, out, errOut, exitRejected, "refused: the saved checkpoint", "signed by another key")
	})
	t.Run("the certificate verifies offline, and says it is no longer current", func(t *testing.T) {
		code, out, errOut := run2(t, "certificate", "verify", "--public-key", pub, cert)
		expectRun(t, code, out, errOut, exitOK, "valid: signed by registry.test", "Available:    2500")
		code, out, errOut = s.ecoctl(t, "certificate", "verify", "--public-key", pub, cert)
		expectRun(t, code, out, errOut, exitOK, "extends the certificate's (verified here)", "Still current:  no", "available 2500 -> 2650")
	})
	t.Run("forged certificates are refused", func(t *testing.T) {
		b, _ := os.ReadFile(cert)
		for name, forge := range map[string]func(c *ecov1.HoldingCertificate){
			"quantity": func(c *ecov1.HoldingCertificate) { c.Available++ },
			"serials":  func(c *ecov1.HoldingCertificate) { c.Blocks[0].End++; c.Blocks[0].Quantity++; c.Available++ },
		} {
			var c ecov1.HoldingCertificate
			if err := protojson.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			forge(&c)
			forged, _ := protojson.Marshal(&c)
			path := filepath.Join(dir, name+".json")
			if err := os.WriteFile(path, forged, 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := run2(t, "certificate", "verify", "--public-key", pub, path)
			expectRun(t, code, out, errOut, exitRejected, "refused: the certificate says")
		}
	})
	t.Run("a stream rewritten with a recomputed chain is found against the saved checkpoint", func(t *testing.T) {
		s.close()
		rewriteStream(t, filepath.Join(s.dir, "events"), "right-CEA-HB-2025")
		s = startStack(t, s.dir, key)
		code, out, errOut := s.ecoctl(t, "audit", "checkpoint", "check", "--public-key", pub, saved)
		expectRun(t, code, out, errOut, exitRejected, "break: leaf mismatch: right-CEA-HB-2025 revision 0 at position 3",
			"history was altered; the first divergent position: 3, right-CEA-HB-2025 revision 0")
		code, out, errOut = s.ecoctl(t, "audit", "verify")
		expectRun(t, code, out, errOut, exitRejected, "break: checkpoint mismatch")
	})
}

// run2 runs ecoctl with no registry.
func run2(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// rewriteStream rewrites every event of a stream in the embedded store's
// directory, with a new payload and a recomputed chain.
func rewriteStream(t *testing.T, dir, stream string) {
	t.Helper()
	tp, err := pebblestore.OpenTamperer(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	prev := eventcodec.GenesisHash
	for pos := uint64(1); ; pos++ {
		ev, err := tp.Event(pos)
		if err != nil {
			return
		}
		if ev.Stream != stream {
			continue
		}
		env, _ := eventcodec.DecodeMetadata(ev.Metadata)
		env.PreviousHash = prev
		ev.Metadata, _ = eventcodec.EncodeMetadata(env)
		ev.Data = append(ev.Data, 0x50, 0x01) // an unknown field: still decodes
		prev = eventcodec.ChainHash(ev.Type, ev.Data, ev.Metadata)
		if err := tp.Rewrite(pos, ev); err != nil {
			t.Fatal(err)
		}
	}
}
