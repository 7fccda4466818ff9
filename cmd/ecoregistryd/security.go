package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/ecoregistry/ecoregistry/access"
	"github.com/ecoregistry/ecoregistry/grpcserver"
	"github.com/ecoregistry/ecoregistry/mtls"
	"github.com/ecoregistry/ecoregistry/registry"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// Security is how the server authenticates, authorizes and limits callers.
type Security struct {
	// TLSCert, TLSKey and ClientCA are PEM files: the server's certificate
	// and key, and the CAs that issue client certificates. All three or
	// none: without them the server runs in development mode.
	TLSCert, TLSKey, ClientCA string
	// Policy is the access policy file (YAML or JSON); required with TLS.
	Policy string
	// InsecurePlaintext allows development mode on an address other than
	// loopback.
	InsecurePlaintext bool
	// MaxMessageBytes bounds the size of one received message.
	MaxMessageBytes int
	// MaxCallsInFlight bounds the calls one principal may have in flight.
	MaxCallsInFlight int
}

// DefaultMaxMessageBytes is the default bound on a received message: 4 MiB,
// gRPC's own default, stated so that it is a choice. A SubmitTrades message
// of 4096 trades takes about 600 KiB.
const DefaultMaxMessageBytes = 4 << 20

// defineSecurityFlags declares the security flags on fs and returns the
// function that checks them, once parsed, against the listen address.
func defineSecurityFlags(fs *flag.FlagSet, env func(name, def string) string) func(listen string) (Security, error) {
	var s Security
	fs.StringVar(&s.TLSCert, "tls-cert", env("ECOREGISTRY_TLS_CERT", ""), "PEM certificate of the server; with --tls-key and --client-ca, serve mutual TLS 1.3 (env ECOREGISTRY_TLS_CERT)")
	fs.StringVar(&s.TLSKey, "tls-key", env("ECOREGISTRY_TLS_KEY", ""), "PEM private key of --tls-cert (env ECOREGISTRY_TLS_KEY)")
	fs.StringVar(&s.ClientCA, "client-ca", env("ECOREGISTRY_CLIENT_CA", ""), "PEM bundle of the CAs whose client certificates authenticate callers (env ECOREGISTRY_CLIENT_CA)")
	fs.StringVar(&s.Policy, "policy", env("ECOREGISTRY_POLICY", ""), "access policy file, YAML or JSON: who holds which role and scope; required with TLS; reloaded on SIGHUP (env ECOREGISTRY_POLICY)")
	insecure := env("ECOREGISTRY_INSECURE_PLAINTEXT", "false")
	fs.BoolVar(&s.InsecurePlaintext, "insecure-plaintext", false, "allow development mode (no TLS: every caller is the actor it declares, with every role) on a non-loopback --listen (env ECOREGISTRY_INSECURE_PLAINTEXT=true)")
	maxMsg := env("ECOREGISTRY_MAX_MESSAGE_BYTES", strconv.Itoa(DefaultMaxMessageBytes))
	fs.StringVar(&maxMsg, "max-message-bytes", maxMsg, "largest message the server accepts, in bytes (env ECOREGISTRY_MAX_MESSAGE_BYTES)")
	maxCalls := env("ECOREGISTRY_MAX_CALLS_IN_FLIGHT", strconv.Itoa(grpcserver.DefaultMaxCallsInFlight))
	fs.StringVar(&maxCalls, "max-calls-in-flight", maxCalls, "calls one principal may have in flight; more get RESOURCE_EXHAUSTED (env ECOREGISTRY_MAX_CALLS_IN_FLIGHT)")
	return func(listen string) (Security, error) {
		var err error
		if !flagGiven(fs, "insecure-plaintext") {
			if s.InsecurePlaintext, err = strconv.ParseBool(insecure); err != nil {
				return Security{}, fmt.Errorf("ECOREGISTRY_INSECURE_PLAINTEXT %q: want true or false", insecure)
			}
		}
		if s.MaxMessageBytes, err = strconv.Atoi(maxMsg); err != nil || s.MaxMessageBytes < 1024 {
			return Security{}, fmt.Errorf("--max-message-bytes %q: want a number of bytes, at least 1024", maxMsg)
		}
		if s.MaxCallsInFlight, err = strconv.Atoi(maxCalls); err != nil || s.MaxCallsInFlight < 1 {
			return Security{}, fmt.Errorf("--max-calls-in-flight %q: want a positive number", maxCalls)
		}
		return s, s.check(listen)
	}
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// check refuses combinations that would serve with less protection than
// the operator meant.
func (s Security) check(listen string) error {
	given := 0
	for _, f := range []string{s.TLSCert, s.TLSKey, s.ClientCA} {
		if f != "" {
			given++
		}
	}
	switch {
	case given > 0 && given < 3:
		return errors.New("--tls-cert, --tls-key and --client-ca go together: give all three for mutual TLS, or none for development mode")
	case given == 3 && s.Policy == "":
		return errors.New("mutual TLS needs --policy: without a policy no principal may do anything")
	case given == 3 && s.InsecurePlaintext:
		return errors.New("--insecure-plaintext contradicts --tls-cert: choose one")
	case given == 0 && s.Policy != "":
		return errors.New("--policy needs mutual TLS (--tls-cert, --tls-key, --client-ca): without it callers are not authenticated and every caller has every role")
	case given == 0 && !s.InsecurePlaintext && !loopback(listen):
		return fmt.Errorf("--listen %s is not a loopback address, and without TLS every caller would be trusted as the actor it declares, with every role; "+
			"serve mutual TLS (--tls-cert, --tls-key, --client-ca, --policy), listen on 127.0.0.1 or localhost, or give --insecure-plaintext if you mean it", listen)
	}
	return nil
}

// loopback reports whether a listen address is on a loopback interface
// only. An empty host listens on every interface.
func loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serverOptions loads the certificates and the policy and returns the
// gRPC server's options: the guard, the message size and, with TLS, the
// credentials.
func (m *Main) serverOptions(svc *registry.Service) ([]grpc.ServerOption, error) {
	sec := m.Config.Security
	if sec.MaxMessageBytes <= 0 {
		sec.MaxMessageBytes = DefaultMaxMessageBytes
	}
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(sec.MaxMessageBytes)}
	if sec.TLSCert == "" {
		m.Logger.Warn("DEVELOPMENT MODE: no TLS. Every caller is trusted as the actor it declares in x-ecoregistry-actor and has every role. " +
			"Serve mutual TLS with --tls-cert, --tls-key, --client-ca and --policy for anything but development on this machine.")
		return append(opts, grpcserver.Guarded(grpcserver.Access{MaxCallsInFlight: sec.MaxCallsInFlight}, m.Logger)...), nil
	}
	cert, clientCAs, err := mtls.LoadServer(sec.TLSCert, sec.TLSKey, sec.ClientCA)
	if err != nil {
		return nil, err
	}
	policy, err := access.LoadPolicy(sec.Policy)
	if err != nil {
		return nil, err
	}
	m.authorizer = access.NewAuthorizer(policy, grpcserver.RegistryFacts(svc))
	m.Logger.Info("mutual TLS 1.3; callers are the principals of their client certificates", zap.String("policy", sec.Policy), zap.Int("bindings", policy.Bindings()))
	opts = append(opts, grpcserver.MutualTLS(cert, clientCAs))
	return append(opts, grpcserver.Guarded(grpcserver.Access{Authorizer: m.authorizer, MaxCallsInFlight: sec.MaxCallsInFlight}, m.Logger)...), nil
}

// ReloadPolicy reads the policy file again and, if it is valid, makes it
// the policy of every call from now on. A file that does not load is
// refused, logged, and the policy in force stays as it was.
func (m *Main) ReloadPolicy() error {
	if m.authorizer == nil {
		return errors.New("no policy to reload: the server runs without TLS")
	}
	p, err := access.LoadPolicy(m.Config.Policy)
	if err != nil {
		m.Logger.Error("policy reload refused; the policy in force is unchanged", zap.String("policy", m.Config.Policy), zap.Error(err))
		return err
	}
	m.authorizer.SetPolicy(p)
	m.Logger.Info("policy reloaded", zap.String("policy", m.Config.Policy), zap.Int("bindings", p.Bindings()))
	return nil
}

// reloadOnHangup reloads the policy on each SIGHUP until Close.
func (m *Main) reloadOnHangup() {
	if m.authorizer == nil {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-hup:
				_ = m.ReloadPolicy() // logged; the old policy stays
			case <-done:
				return
			}
		}
	}()
	m.stopReloads = func() {
		signal.Stop(hup)
		close(done)
		<-stopped
	}
}
