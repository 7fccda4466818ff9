package main

import (
	"errors"

	"github.com/ecoregistry/ecoregistry/mtls"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// transportCredentials are TLS 1.3 with --ca (and the client certificate of
// --cert and --key, when given), or plaintext without --ca, for a registry
// in development mode.
func (g *globals) transportCredentials() (credentials.TransportCredentials, error) {
	if g.ca == "" {
		if g.cert != "" || g.key != "" {
			return nil, errors.New("--cert and --key need --ca, the CA that issued the registry's certificate")
		}
		return insecure.NewCredentials(), nil
	}
	cfg, err := mtls.ClientConfig(g.cert, g.key, g.ca, "")
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(cfg), nil
}
