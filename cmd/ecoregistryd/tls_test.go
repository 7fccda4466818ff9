package main

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/access"
	"github.com/ecoregistry/ecoregistry/mtls"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// testPKI is a CA made for one test, with the server's certificate and
// key written to files beside the policy.
type testPKI struct {
	dir string
	ca  *mtls.CA
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	ca, err := mtls.NewCA("ecoregistry test CA", mtls.For(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{dir: t.TempDir(), ca: ca}
	srv, err := ca.IssueServer([]string{"127.0.0.1", "localhost"}, mtls.For(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, "ca.pem", ca.CertPEM())
	p.write(t, "server.pem", srv.CertPEM)
	p.write(t, "server-key.pem", srv.KeyPEM)
	return p
}

func (p *testPKI) write(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// security returns the server's TLS settings with the policy text given.
func (p *testPKI) security(t *testing.T, policy string) Security {
	t.Helper()
	return Security{TLSCert: filepath.Join(p.dir, "server.pem"), TLSKey: filepath.Join(p.dir, "server-key.pem"),
		ClientCA: filepath.Join(p.dir, "ca.pem"), Policy: p.write(t, "policy.yaml", []byte(policy))}
}

// client returns a certificate of ca for the principal org/name, valid v.
func clientCert(t *testing.T, ca *mtls.CA, org, name string, v mtls.Validity) tls.Certificate {
	t.Helper()
	issued, err := ca.IssueClient(access.Principal{Organisation: org, Name: name}.URI(), v)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := issued.TLS()
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// dialTLS connects to addr over TLS 1.3, trusting ca for the server and
// presenting the first of certs (none for a client without a certificate).
func dialTLS(t *testing.T, addr string, ca *mtls.CA, certs ...tls.Certificate) *grpc.ClientConn {
	t.Helper()
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: ca.Pool()}
	if len(certs) > 0 {
		// Presented whatever CAs the server names, as a client of another
		// CA would, so that the server's own verification is what refuses.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &certs[0], nil }
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// startTLSServer runs ecoregistryd in-process on a free port with mutual
// TLS and the policy text given, over the embedded store in a fresh
// directory.
func startTLSServer(t *testing.T, p *testPKI, policy string, log *zap.Logger) *Main {
	t.Helper()
	cfg := Config{Store: StorePebble, Data: t.TempDir(), Listen: "127.0.0.1:0", LogLevel: "info", ShutdownTimeout: 5 * time.Second,
		Security: p.security(t, policy)}
	m := NewMain(cfg)
	m.Logger = log
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
