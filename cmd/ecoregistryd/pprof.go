package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"go.uber.org/zap"
)

// pprofServer serves Go's runtime profiles (net/http/pprof) on an address
// of its own, apart from the gRPC API, for measuring the server under
// load: `go tool pprof http://ADDR/debug/pprof/profile?seconds=10`. It is
// off unless --pprof-listen is given, and should listen on loopback only:
// profiles show the program's internals.
type pprofServer struct {
	server   *http.Server
	listener net.Listener
	served   chan error
}

// startPprof listens on addr and serves the profiles in the background.
func startPprof(ctx context.Context, addr string, log *zap.Logger) (*pprofServer, error) {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	p := &pprofServer{server: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, listener: lis, served: make(chan error, 1)}
	go func() { p.served <- p.server.Serve(lis) }()
	log.Info("pprof serving", zap.String("addr", lis.Addr().String()))
	return p, nil
}

// close stops serving; a profile being taken is cut short.
func (p *pprofServer) close() error {
	err := p.server.Close()
	if serr := <-p.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
