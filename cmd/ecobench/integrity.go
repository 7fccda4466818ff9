package main

import (
	"context"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/grpcserver"
	"github.com/ecoregistry/ecoregistry/integrity"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
)

// benchIntegrity is the in-process registry's tamper evidence, wired as
// ecoregistryd wires it: the tree read model, checkpoints signed every
// 10000 events or minute with a key made in the data directory, and the
// guard on writes.
type benchIntegrity struct {
	cps  *checkpoint.Store
	svc  *integrity.Service
	stop context.CancelFunc
	done chan struct{}
}

func (s *registryServer) openIntegrity(log *zap.Logger) (eventstore.Store, error) {
	signer, _, err := checkpoint.LoadOrCreateSigner(filepath.Join(s.dir, "signing.key"), checkpoint.DefaultKeyName)
	if err != nil {
		return nil, err
	}
	s.integrity = &benchIntegrity{}
	if s.integrity.cps, err = checkpoint.OpenStore(filepath.Join(s.dir, "checkpoints"), log); err != nil {
		return nil, err
	}
	tree, _ := s.projections.Runner(merkle.Name)
	if s.integrity.svc, err = integrity.New(s.store, merkle.NewQueries(tree), s.integrity.cps, signer, integrity.Options{Logger: log}); err != nil {
		return nil, err
	}
	if _, err := s.integrity.svc.CheckAtStart(context.Background()); err != nil {
		return nil, err
	}
	return s.integrity.svc.Guard(s.store), nil
}

// committed passes the tree's commits on to the checkpointer.
func (s *registryServer) committed(name string, _ uint64, c *projections.Checkpoint) {
	if name == merkle.Name && s.integrity != nil && s.integrity.svc != nil {
		s.integrity.svc.Committed(c.Applied)
	}
}

func (s *registryServer) startIntegrity(log *zap.Logger) {
	grpcserver.RegisterIntegrityService(s.server, s.integrity.svc, log)
	ctx, stop := context.WithCancel(context.Background())
	s.integrity.stop, s.integrity.done = stop, make(chan struct{})
	go func() { s.integrity.svc.Run(ctx); close(s.integrity.done) }()
}

func (s *registryServer) closeIntegrity() {
	if s.integrity == nil {
		return
	}
	if s.integrity.stop != nil {
		s.integrity.stop()
		<-s.integrity.done
	}
	if s.integrity.cps != nil {
		_ = s.integrity.cps.Close()
	}
	s.integrity = nil
}
