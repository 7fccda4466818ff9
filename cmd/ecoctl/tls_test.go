package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ecoregistry/ecoregistry/access"
	"github.com/ecoregistry/ecoregistry/mtls"
	ecov1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDevCerts checks that "dev certs" writes a CA, a server certificate,
// a client certificate per role that names its principal, and a policy
// that gives each principal its role.
func TestDevCerts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"dev", "certs", "--out", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	roots, err := mtls.LoadPool(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	srv := readCert(t, filepath.Join(dir, "server.pem"))
	if _, err := srv.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost"}); err != nil {
		t.Fatalf("server certificate: %v", err)
	}
	policy, err := access.LoadPolicy(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range devPrincipals {
		c := readCert(t, filepath.Join(dir, string(want.role)+".pem"))
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Fatalf("%s: %v", want.role, err)
		}
		p, err := access.PrincipalFromCertificate(c)
		if err != nil || p.Organisation != want.organisation || p.Name != want.name {
			t.Fatalf("%s names %+v (%v)", want.role, p, err)
		}
		if roles := policy.RolesOf(p); len(roles) != 1 || roles[0] != want.role {
			t.Fatalf("the policy gives %s the roles %v, want %s", p, roles, want.role)
		}
		if info, err := os.Stat(filepath.Join(dir, string(want.role)+"-key.pem")); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("key of %s: %v %v", want.role, info, err)
		}
		if !strings.Contains(out.String(), p.URI().String()) {
			t.Errorf("the listing lacks %s:\n%s", p.URI(), out.String())
		}
	}
	if len(access.Roles) != len(devPrincipals) {
		t.Errorf("%d roles but %d development principals", len(access.Roles), len(devPrincipals))
	}
}

// TestMutualTLSFlags runs ecoctl against a registry that requires a client
// certificate of the development CA.
func TestMutualTLSFlags(t *testing.T) {
	dir := t.TempDir()
	var discard bytes.Buffer
	if code := run(context.Background(), []string{"dev", "certs", "--out", dir}, &discard, &discard); code != 0 {
		t.Fatal("dev certs failed")
	}
	cert, pool, err := mtls.LoadServer(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"), filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := &fakeRegistry{resp: &ecov1.GetAccountResponse{Account: &ecov1.Account{AccountId: "HB-STEEL"}}}
	var seen atomic.Value // the URI of the last client certificate the server saw
	principal := func() string { s, _ := seen.Load().(string); return s }
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool})),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			p, _ := peer.FromContext(ctx)
			if certs := p.AuthInfo.(credentials.TLSInfo).State.PeerCertificates; len(certs) > 0 && len(certs[0].URIs) > 0 {
				seen.Store(certs[0].URIs[0].String())
			}
			return h(ctx, req)
		}))
	ecov1.RegisterAccountServiceServer(srv, reg)
	go srv.Serve(lis) //nolint:errcheck // Serve returns when Stop is called.
	t.Cleanup(srv.Stop)
	addr := strings.Replace(lis.Addr().String(), "127.0.0.1", "localhost", 1)
	f := func(name string) string { return filepath.Join(dir, name) }

	t.Run("--cert, --key and --ca connect as the certificate's principal", func(t *testing.T) {
		code, out, errOut := ecoctl(t, addr, "--cert", f("exchange.pem"), "--key", f("exchange-key.pem"), "--ca", f("ca.pem"), "account", "show", "HB-STEEL")
		if code != 0 || !strings.Contains(out, "HB-STEEL") || principal() != "ecoregistry://hbex/gateway" {
			t.Fatalf("exit %d, principal %q: %s %s", code, principal(), out, errOut)
		}
	})
	t.Run("the environment works as the flags do", func(t *testing.T) {
		t.Setenv("ECOREGISTRY_CERT", f("auditor.pem"))
		t.Setenv("ECOREGISTRY_KEY", f("auditor-key.pem"))
		t.Setenv("ECOREGISTRY_CA", f("ca.pem"))
		if code, _, errOut := ecoctl(t, addr, "account", "show", "HB-STEEL"); code != 0 || principal() != "ecoregistry://audit-office/auditor" {
			t.Fatalf("exit %d, principal %q: %s", code, principal(), errOut)
		}
	})
	t.Run("without a client certificate the registry is not reached", func(t *testing.T) {
		if code, _, _ := ecoctl(t, addr, "--ca", f("ca.pem"), "account", "show", "HB-STEEL"); code != exitRejected {
			t.Fatalf("exit %d, want %d", code, exitRejected)
		}
	})
	t.Run("--cert without --ca is a usage error", func(t *testing.T) {
		code, _, errOut := ecoctl(t, addr, "--cert", f("exchange.pem"), "--key", f("exchange-key.pem"), "account", "show", "HB-STEEL")
		if code != exitUsage || !strings.Contains(errOut, "need --ca") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("market daily keeps its own --key; the TLS key goes before the command", func(t *testing.T) {
		inv, err := parse([]string{"--key", f("exchange-key.pem"), "market", "daily", "--by", "right", "--key", "CEA-1"})
		if err != nil {
			t.Fatal(err)
		}
		if inv.globals.key != f("exchange-key.pem") || inv.req.(*ecov1.ListDailyBarsRequest).GetKey() != "CEA-1" {
			t.Fatalf("key %q, request %v", inv.globals.key, inv.req)
		}
	})
}
