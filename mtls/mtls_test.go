package mtls

import (
	"crypto/x509"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClientConfig(t *testing.T) {
	dir := t.TempDir()
	ca, err := NewCA("test CA", For(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient(mustURL(t), For(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile, certFile, keyFile := write("ca.pem", ca.CertPEM()), write("c.pem", client.CertPEM), write("k.pem", client.KeyPEM)

	cfg, err := ClientConfig(certFile, keyFile, caFile, "")
	if err != nil || len(cfg.Certificates) != 1 || cfg.MinVersion != 0x0304 {
		t.Fatalf("%+v %v", cfg, err)
	}
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil || leaf.URIs[0].String() != "ecoregistry://org/name" {
		t.Fatalf("%v %v", leaf, err)
	}
	for says, args := range map[string][3]string{
		"a CA file is needed": {certFile, keyFile, ""},
		"needs its key":       {certFile, "", caFile},
		"no PEM certificate":  {"", "", keyFile},
	} {
		if _, err := ClientConfig(args[0], args[1], args[2], ""); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%v: error %v does not say %q", args, err, says)
		}
	}
}

func mustURL(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse("ecoregistry://org/name")
	if err != nil {
		t.Fatal(err)
	}
	return u
}
