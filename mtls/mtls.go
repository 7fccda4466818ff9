// Package mtls reads the PEM files of mutual TLS for the registry's server
// and clients, TLS 1.3 only, and makes a development PKI: a CA, a server
// certificate and client certificates that name a principal by the URI
// ecoregistry://<organisation>/<name>. Everything is done with Go's
// crypto/tls and crypto/x509.
package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// LoadServer reads the server's certificate and key and the bundle of CA
// certificates that issue client certificates, all PEM files.
func LoadServer(certFile, keyFile, clientCAFile string) (tls.Certificate, *x509.CertPool, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("mtls: server certificate %s and key %s: %w", certFile, keyFile, err)
	}
	pool, err := LoadPool(clientCAFile)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return cert, pool, nil
}

// LoadPool reads a bundle of PEM CA certificates.
func LoadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("mtls: CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("mtls: CA bundle %s holds no PEM certificate", file)
	}
	return pool, nil
}

// ClientConfig returns the TLS 1.3 configuration of a client that trusts
// the server certificates caFile's CAs issued and, when certFile and
// keyFile are given, presents that certificate. serverName, when not
// empty, is the name the server's certificate must carry; empty takes it
// from the address dialled.
func ClientConfig(certFile, keyFile, caFile, serverName string) (*tls.Config, error) {
	if caFile == "" {
		return nil, errors.New("mtls: a CA file is needed to verify the server")
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("mtls: a client certificate needs its key, and a key its certificate")
	}
	pool, err := LoadPool(caFile)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool, ServerName: serverName}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("mtls: client certificate %s and key %s: %w", certFile, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
