package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/grpcserver"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
	"github.com/ecoregistry/ecoregistry/projections/market"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
	"github.com/ecoregistry/ecoregistry/projections/statistics"
	"github.com/ecoregistry/ecoregistry/registry"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
)

// registryServer is a registry run in this process.
type registryServer struct {
	addr  string
	dir   string
	temp  bool
	store *pebblestore.Store
	// projections are the read models, when asked for.
	projections *projections.Manager
	// integrity keeps the tree's checkpoints, when asked for.
	integrity *benchIntegrity
	svc       *registry.Service
	server    *grpc.Server
	served    chan error
}

// startRegistry runs the registry as ecoregistryd wires it: the embedded
// store in dir (a new temporary directory when empty) with the given least
// time between syncs of its log (ecoregistryd's default is 500µs), the
// registry service, the read models when readModels is set (they follow the
// log and compete for the CPU, as in ecoregistryd), the Merkle tree and
// signed checkpoints when withIntegrity is set, and the gRPC server, on
// 127.0.0.1:0. Its request log is encoded as
// ecoregistryd's is, at info level, and thrown away, so that the cost of
// logging each call is part of what is measured.
func startRegistry(dir string, walSync time.Duration, readModels, withIntegrity bool) (*registryServer, error) {
	st, dir, temp, err := openStore(dir, "ecobench-", walSync)
	if err != nil {
		return nil, err
	}
	s := &registryServer{dir: dir, temp: temp, store: st}
	// ecoregistryd's production logger samples: per second, the first 100
	// lines of a message, then every 100th.
	log := zap.New(zapcore.NewSamplerWithOptions(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.InfoLevel),
		time.Second, 100, 100))
	// The read models and the Merkle tree share one manager, as in
	// ecoregistryd; writes go through the integrity guard when it runs.
	var projs []projections.Projection
	if readModels {
		projs = append(projs, holdings.New(), market.New(), statistics.New())
	}
	if withIntegrity {
		projs = append(projs, merkle.New())
	}
	if len(projs) > 0 {
		s.projections, err = projections.Open(filepath.Join(s.dir, "projections"), st, projs, projections.Options{Logger: log, Committed: s.committed})
		if err != nil {
			s.close()
			return nil, fmt.Errorf("open the read models: %w", err)
		}
	}
	var writes eventstore.Store = st
	if withIntegrity {
		if writes, err = s.openIntegrity(log); err != nil {
			s.close()
			return nil, err
		}
	}
	svc := registry.New(writes, registry.Options{Logger: log})
	s.svc = svc
	if err := svc.LoadTradeIndex(context.Background()); err != nil {
		s.close()
		return nil, err
	}
	s.server = grpcserver.New(svc, log)
	if readModels {
		if err := grpcserver.RegisterQueryServices(s.server, s.projections, log); err != nil {
			s.close()
			return nil, err
		}
	}
	if s.projections != nil {
		s.projections.Start()
	}
	if withIntegrity {
		s.startIntegrity(log)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.close()
		return nil, err
	}
	s.addr = lis.Addr().String()
	s.served = make(chan error, 1)
	go func() { s.served <- s.server.Serve(lis) }()
	return s, nil
}

// openStore opens the embedded store in dir, or in a new temporary
// directory whose name starts with prefix when dir is empty, with the given
// least time between syncs of its log. It returns the directory and whether
// it is a temporary one, to remove at the end.
func openStore(dir, prefix string, walSync time.Duration) (*pebblestore.Store, string, bool, error) {
	temp := dir == ""
	if temp {
		tmp, err := os.MkdirTemp("", prefix)
		if err != nil {
			return nil, "", false, err
		}
		dir = tmp
	}
	st, err := pebblestore.Open(dir, pebblestore.Options{WALMinSyncInterval: walSync})
	if err != nil {
		if temp {
			_ = os.RemoveAll(dir)
		}
		return nil, "", false, fmt.Errorf("open the store in %s: %w", dir, err)
	}
	return st, dir, temp, nil
}

// close stops the server, closes the store and removes a temporary directory.
func (s *registryServer) close() {
	if s.server != nil {
		s.server.Stop()
		// A start that failed after the server was made never served.
		if s.served != nil {
			<-s.served
		}
	}
	if s.svc != nil {
		s.svc.Close()
	}
	s.closeIntegrity()
	if s.projections != nil {
		_ = s.projections.Close()
	}
	if s.store != nil {
		_ = s.store.Close()
	}
	s.removeTemp()
}

func (s *registryServer) removeTemp() {
	if s.temp {
		_ = os.RemoveAll(s.dir)
	}
}
