package main

import (
	"context"
	"fmt"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/ecoregistry/ecoregistry/integrity"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/merkle"
)

// integrityParts is what the server keeps for its tamper evidence: the
// store of signed checkpoints and the service that signs them.
type integrityParts struct {
	checkpoints *checkpoint.Store
	svc         *integrity.Service
	stop        context.CancelFunc
	done        chan struct{}
}

// committedHook passes the tree's commits on to the checkpointer, once it
// exists.
func (m *Main) committedHook(name string, _ uint64, c *projections.Checkpoint) {
	if name == merkle.Name && m.integrity.svc != nil {
		m.integrity.svc.Committed(c.Applied)
	}
}

// openIntegrity loads (or, without --signing-key, makes) the signing key,
// opens the store of signed checkpoints under <data>/checkpoints, and
// verifies the log after the latest checkpoint: a break there makes the
// registry refuse writes, as the log says.
func (m *Main) openIntegrity(ctx context.Context) error {
	var (
		signer  *checkpoint.Signer
		created bool
		err     error
	)
	if m.Config.SigningKey != "" {
		signer, err = checkpoint.LoadSigner(m.Config.SigningKey)
	} else {
		path := filepath.Join(m.Config.Data, "signing.key")
		signer, created, err = checkpoint.LoadOrCreateSigner(path, checkpoint.DefaultKeyName)
		if created {
			m.Logger.Warn("made a signing key for checkpoints and certificates; give regulators its public key, and keep the private key safe or pass your own with --signing-key",
				zap.String("key_file", path), zap.String("public_key_file", path+".pub"))
		}
	}
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	m.Logger.Info("checkpoints and certificates are signed with this key", zap.String("verifier_key", signer.VerifierKey))
	if m.integrity.checkpoints, err = checkpoint.OpenStore(filepath.Join(m.Config.Data, "checkpoints"), m.Logger); err != nil {
		return err
	}
	tree, _ := m.projections.Runner(merkle.Name)
	m.integrity.svc, err = integrity.New(m.store, merkle.NewQueries(tree), m.integrity.checkpoints, signer,
		integrity.Options{Every: m.Config.CheckpointEvery, Interval: m.Config.CheckpointInterval, Logger: m.Logger, Clock: m.Clock})
	if err != nil {
		return err
	}
	rep, err := m.integrity.svc.CheckAtStart(ctx)
	if err != nil {
		return fmt.Errorf("verify the log after the latest checkpoint: %w", err)
	}
	if h := m.integrity.svc.Halted(); h != nil {
		m.Logger.Error("the log after the latest checkpoint has a break: serving reads only, refusing every write", zap.Error(h))
		return nil
	}
	m.Logger.Info("verified the log after the latest checkpoint", zap.Uint64("events", rep.Events), zap.Stringer("last_position", rep.Last))
	return nil
}

// startCheckpointer signs checkpoints in the background until Close.
func (m *Main) startCheckpointer() {
	ctx, stop := context.WithCancel(context.Background())
	m.integrity.stop, m.integrity.done = stop, make(chan struct{})
	go func() { m.integrity.svc.Run(ctx); close(m.integrity.done) }()
}

// closeIntegrity stops the checkpointer and closes the checkpoint store.
func (m *Main) closeIntegrity() error {
	if m.integrity.stop != nil {
		m.integrity.stop()
		<-m.integrity.done
		m.integrity.stop = nil
	}
	if m.integrity.checkpoints == nil {
		return nil
	}
	err := m.integrity.checkpoints.Close()
	m.integrity.checkpoints = nil
	return err
}
