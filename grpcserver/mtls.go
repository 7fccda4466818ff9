package grpcserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/ecoregistry/ecoregistry/access"
	"github.com/ecoregistry/ecoregistry/domain"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// MutualTLS returns the server option that serves TLS 1.3 only, with the
// server's certificate cert, and asks every client for a certificate, which
// it verifies against clientCAs for client authentication when the
// connection is made. A client that presents no certificate, or one that
// does not verify, still connects, so that each of its calls can be refused
// with UNAUTHENTICATED (E8003) and a reason it can read rather than with a
// broken handshake; serve MutualTLS only with an Access whose Authorizer is
// set, which refuses those calls.
func MutualTLS(cert tls.Certificate, clientCAs *x509.CertPool) grpc.ServerOption {
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		// The chain is verified by verifyPeer, with the same x509 library,
		// so that a bad certificate becomes a status rather than an alert.
		ClientAuth: tls.RequestClientCert,
		ClientCAs:  clientCAs,
	}
	return grpc.Creds(&verifyingCreds{TransportCredentials: credentials.NewTLS(cfg), roots: clientCAs})
}

// verifyingCreds are TLS credentials that verify the client's certificate
// after the handshake and keep the outcome in the connection's AuthInfo.
type verifyingCreds struct {
	credentials.TransportCredentials
	roots *x509.CertPool
}

func (c *verifyingCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, ai, err := c.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		return nil, nil, err
	}
	info, ok := ai.(credentials.TLSInfo)
	if !ok {
		conn.Close()
		return nil, nil, fmt.Errorf("grpcserver: TLS handshake gave %T, not TLS information", ai)
	}
	return conn, verifyPeer(info, c.roots, time.Now()), nil
}

func (c *verifyingCreds) Clone() credentials.TransportCredentials {
	return &verifyingCreds{TransportCredentials: c.TransportCredentials.Clone(), roots: c.roots}
}

// verifiedPeer is the AuthInfo of a connection made through MutualTLS: the
// TLS state, and the principal its client certificate names or why it
// names none.
type verifiedPeer struct {
	credentials.TLSInfo
	principal access.Principal
	notAfter  time.Time
	err       error
}

// verifyPeer verifies the client's certificate chain as of now against
// roots, for client authentication, and reads its principal.
func verifyPeer(info credentials.TLSInfo, roots *x509.CertPool, now time.Time) verifiedPeer {
	v := verifiedPeer{TLSInfo: info}
	certs := info.State.PeerCertificates
	if len(certs) == 0 {
		v.err = errors.New("the client presented no certificate (a client holds back one that the registry's client CA did not issue); " +
			"connect with the certificate and key that CA issued to you (ecoctl --cert and --key)")
		return v
	}
	leaf := certs[0]
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired && now.After(leaf.NotAfter):
		v.err = fmt.Errorf("the client certificate of %q expired at %s", leaf.Subject.CommonName, leaf.NotAfter.UTC().Format(time.RFC3339))
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired && now.Before(leaf.NotBefore):
		v.err = fmt.Errorf("the client certificate of %q is not valid before %s", leaf.Subject.CommonName, leaf.NotBefore.UTC().Format(time.RFC3339))
	case errors.As(err, &unknown):
		v.err = fmt.Errorf("the client certificate of %q was not issued by the registry's client CA", leaf.Subject.CommonName)
	case err != nil:
		v.err = fmt.Errorf("the client certificate of %q does not verify: %v", leaf.Subject.CommonName, err)
	default:
		v.principal, v.err = access.PrincipalFromCertificate(leaf)
		v.notAfter = leaf.NotAfter
	}
	return v
}

// authenticated returns the principal of the call's connection, or the
// E8003 rejection that says why there is none. A certificate that expires
// while its connection is open stops serving at its expiry.
func authenticated(ctx context.Context, now time.Time) (access.Principal, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return access.Principal{}, domain.DenyUnauthenticated("the call came without a connection")
	}
	id, ok := p.AuthInfo.(verifiedPeer)
	switch {
	case !ok:
		return access.Principal{}, domain.DenyUnauthenticated("the call came without TLS client authentication")
	case id.err != nil:
		return access.Principal{}, domain.DenyUnauthenticated(id.err.Error())
	case now.After(id.notAfter):
		return access.Principal{}, domain.DenyUnauthenticated(fmt.Sprintf("the client certificate of %s expired at %s", id.principal, id.notAfter.UTC().Format(time.RFC3339)))
	}
	return id.principal, nil
}
