package esdbfake

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// newTestTLS makes a CA and a node certificate it signs for 127.0.0.1 and
// localhost, both valid for the test only, and returns the server's TLS
// credentials and the path of the CA's PEM file (what a client passes as
// tlsCAFile).
func newTestTLS(tb testing.TB) (credentials.TransportCredentials, string) {
	tb.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("esdbfake: CA key: %v", err)
	}
	now := time.Now()
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "esdbfake test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatalf("esdbfake: CA certificate: %v", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		tb.Fatalf("esdbfake: CA certificate: %v", err)
	}
	nodeKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("esdbfake: node key: %v", err)
	}
	nodeTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "eventstoredb-node"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	nodeDER, err := x509.CreateCertificate(rand.Reader, nodeTemplate, ca, &nodeKey.PublicKey, caKey)
	if err != nil {
		tb.Fatalf("esdbfake: node certificate: %v", err)
	}
	caFile := filepath.Join(tb.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		tb.Fatalf("esdbfake: write the CA file: %v", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{nodeDER}, PrivateKey: nodeKey}
	return credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}), caFile
}

// authorize checks a Streams call's credentials when the server has users:
// a call without credentials or with wrong ones is refused as EventStoreDB
// refuses it, and so is a read of $all by a user who is not in $admins.
func (s *Server) authorize(ctx context.Context, readsAll bool) error {
	if s.users == nil {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	auth := md.Get("authorization")
	if len(auth) == 0 {
		return status.Error(codes.PermissionDenied, "Access Denied")
	}
	name, password, ok := basicCredentials(auth[0])
	u, known := s.users[name]
	if !ok || !known || u.Password != password {
		return status.Error(codes.Unauthenticated, "esdbfake: unknown user or wrong password")
	}
	if readsAll && !u.Admin {
		return status.Error(codes.PermissionDenied, "Access Denied")
	}
	return nil
}

// basicCredentials reads an HTTP basic authorization header.
func basicCredentials(header string) (name, password string, ok bool) {
	encoded, found := strings.CutPrefix(header, "Basic ")
	if !found {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}
