package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ecoregistry/ecoregistry/backup"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
	"github.com/ecoregistry/ecoregistry/projections"
	"github.com/ecoregistry/ecoregistry/projections/holdings"
	"github.com/ecoregistry/ecoregistry/projections/market"
	"github.com/ecoregistry/ecoregistry/projections/statistics"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// settlementLoad submits one-unit trades from SELLER to BUYER from four
// goroutines, one per right, until told to stop; then each submits extra
// more and returns.
type settlementLoad struct {
	settled atomic.Int64
	// acked is the highest position of a settled trade.
	acked   atomic.Uint64
	started chan struct{} // closed after the first 200 settlements
	stop    chan struct{}
	wg      sync.WaitGroup
	first   *pb.MatchedTrade // the first trade of the first goroutine, as sent
}

func startSettlementLoad(t *testing.T, c *settlementClient, extra int) *settlementLoad {
	t.Helper()
	ctx := as(t, "hbex-gateway")
	l := &settlementLoad{started: make(chan struct{}), stop: make(chan struct{})}
	l.first = matched("CEA-HB-1", "L0-0", 1)
	for w, right := range []string{"CEA-HB-1", "WUR-NX-1", "PDR-ZJ-1", "CSR-YN-1"} {
		l.wg.Go(func() {
			after := 0
			for i := 0; after < extra; i++ {
				select {
				case <-l.stop:
					after++
				default:
				}
				trade := matched(right, fmt.Sprintf("L%d-%d", w, i), 1)
				if w == 0 && i == 0 {
					trade = l.first
				}
				out, err := c.settlement.SubmitTrade(ctx, &pb.SubmitTradeRequest{Trade: trade})
				if err != nil || out.GetOutcome().GetSettled() == nil {
					t.Errorf("trade L%d-%d: %v %v", w, i, out.GetOutcome(), err)
					return
				}
				pos := out.GetOutcome().GetSettled().GetCommit().GetPosition().GetCommit()
				for cur := l.acked.Load(); pos > cur && !l.acked.CompareAndSwap(cur, pos); cur = l.acked.Load() {
				}
				if l.settled.Add(1) == 200 {
					close(l.started)
				}
			}
		})
	}
	return l
}

// TestBackupUnderSettlementLoadRestores takes a backup through the API while
// trades settle and checkpoints are signed, restores it by starting the
// server on it, and checks that every chain verifies, that the read models
// equal a replay of the log up to the backup's position, that settlement
// goes on, and that the restored registry goes on from the latest signed
// checkpoint with the same key.
func TestBackupUnderSettlementLoadRestores(t *testing.T) {
	data := t.TempDir()
	m, c := startExchangeServerWith(t, Config{Store: StorePebble, Data: data, CheckpointEvery: 50}, true)
	load := startSettlementLoad(t, c, 25)
	<-load.started
	// A certificate has a checkpoint signed now, whatever the checkpointer's
	// pace; more are signed every 50 events while the load goes on.
	issueAndVerify(t, pb.NewIntegrityServiceClient(c.conn), "SELLER")
	before := load.acked.Load()
	out := filepath.Join(t.TempDir(), "backup")
	stream, err := pb.NewAdminServiceClient(c.conn).Backup(as(t, "operator"), &pb.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := backup.Receive(out, stream.Recv, nil)
	close(load.stop)
	load.wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	at := eventstore.Position{Commit: manifest.GetPosition().GetCommit(), Prepare: manifest.GetPosition().GetPrepare()}
	if at.Commit < before || at.Commit >= load.acked.Load() {
		t.Fatalf("the backup ends at %s; trades were acknowledged up to %d before it and up to %d after it", at, before, load.acked.Load())
	}
	for _, rm := range manifest.GetReadModels() {
		if rm.GetPosition().GetCommit() > at.Commit {
			t.Fatalf("read model %s is at %d in the backup, ahead of the log's %s", rm.GetName(), rm.GetPosition().GetCommit(), at)
		}
	}
	t.Logf("backup at position %d of %d settled trades' log; read models %v; signed checkpoint of %d events", at.Commit, load.acked.Load(), manifest.GetReadModels(),
		manifest.GetCheckpointSize())
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	checkBackedUpKey(t, data, out, manifest)

	restored, rc := startExchangeServer(t, out, false)
	verifyLogEndsAt(t, restored.store, at)
	verifyEveryChain(t, restored.store)
	waitProjections(t, queriesOf(rc.client), manifest.GetPosition())
	replayed := replayReadModels(t, restored.store, at)
	for _, name := range []string{holdings.Name, market.Name, statistics.Name} {
		r, _ := restored.projections.Runner(name)
		if got, want := readModelDigest(t, r, at), replayed[name]; got != want {
			t.Errorf("read model %s restored from the backup differs from a replay of the log up to %s", name, at)
		}
	}

	ctx := as(t, "hbex-gateway")
	next := submit(t, ctx, rc, matched("CEA-HB-1", "AFTER-RESTORE", 5))
	if next.GetSettled().GetCommit().GetPosition().GetCommit() != at.Commit+1 {
		t.Fatalf("the first trade after the restore: %v, want it settled at position %d", next, at.Commit+1)
	}
	if again := submit(t, ctx, rc, load.first); !again.GetReplay() || again.GetSettled() == nil {
		t.Fatalf("a trade settled before the backup, submitted again after the restore: %v, want a replay", again)
	}
	checkRestoredCheckpoints(t, pb.NewIntegrityServiceClient(rc.conn), manifest, next)
}

// checkBackedUpKey checks that the backup holds the signing key the server
// made in data, readable by its owner only, and a signed checkpoint that
// the copy of the log covers.
func checkBackedUpKey(t *testing.T, data, out string, manifest *pb.BackupManifest) {
	t.Helper()
	if manifest.GetCheckpointSize() == 0 || manifest.GetCheckpointPosition().GetCommit() > manifest.GetPosition().GetCommit() || !manifest.GetSigningKeyIncluded() {
		t.Fatalf("the manifest: checkpoint of %d events at %v, log to %v, signing key included %v", manifest.GetCheckpointSize(),
			manifest.GetCheckpointPosition(), manifest.GetPosition(), manifest.GetSigningKeyIncluded())
	}
	original, err := os.ReadFile(filepath.Join(data, backup.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(filepath.Join(out, backup.SigningKeyFile))
	if err != nil || !bytes.Equal(copied, original) {
		t.Fatalf("the backup's signing key differs from the server's (%v)", err)
	}
	if info, err := os.Stat(filepath.Join(out, backup.SigningKeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the backup's signing key: %v %v, want mode 0600", info, err)
	}
}

// checkRestoredCheckpoints checks that the restored registry's latest
// checkpoint is the backup's, verifying with the key the backup names, and
// that after the trade next it signs with that same key a checkpoint that
// extends it.
func checkRestoredCheckpoints(t *testing.T, ig pb.IntegrityServiceClient, manifest *pb.BackupManifest, next *pb.TradeOutcome) {
	t.Helper()
	ctx := as(t, "regulator.mee")
	v, err := checkpoint.NewVerifier(manifest.GetVerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	latest, err := ig.GetLatestCheckpoint(ctx, &pb.GetLatestCheckpointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	backedUp := latest.GetCheckpoint()
	if _, err := checkpoint.Open([]byte(backedUp.GetNote()), v); err != nil || backedUp.GetTreeSize() != manifest.GetCheckpointSize() || latest.GetVerifierKey() != manifest.GetVerifierKey() {
		t.Fatalf("the restored registry's latest checkpoint is of %d events, verifies %v, with key %s; the backup's is of %d events with key %s",
			backedUp.GetTreeSize(), err, latest.GetVerifierKey(), manifest.GetCheckpointSize(), manifest.GetVerifierKey())
	}
	cert := issueAndVerify(t, ig, "SELLER")
	if cert.TreeSize <= backedUp.GetTreeSize() || cert.LastChange.Position.Commit != next.GetSettled().GetCommit().GetPosition().GetCommit() {
		t.Fatalf("a certificate after the restore names a checkpoint of %d events and a last change at %s", cert.TreeSize, cert.LastChange.Position)
	}
	now, err := ig.GetLatestCheckpoint(ctx, &pb.GetLatestCheckpointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkpoint.Open([]byte(now.GetCheckpoint().GetNote()), v); err != nil {
		t.Fatalf("the checkpoint signed after the restore does not verify with the backed-up key: %v", err)
	}
	cons, err := ig.GetConsistencyProof(ctx, &pb.GetConsistencyProofRequest{OldSize: backedUp.GetTreeSize()})
	if err != nil {
		t.Fatal(err)
	}
	if cons.GetNewSize() != now.GetCheckpoint().GetTreeSize() || !bytes.Equal(cons.GetNewRootHash(), now.GetCheckpoint().GetRootHash()) ||
		logtree.VerifyConsistency(backedUp.GetTreeSize(), cons.GetNewSize(), cons.GetProof(), backedUp.GetRootHash(), cons.GetNewRootHash()) != nil {
		t.Fatalf("the restored log does not extend the backed-up checkpoint of %d events: %v", backedUp.GetTreeSize(), cons)
	}
}

// verifyLogEndsAt checks that st holds the events 1 to at, and none after.
func verifyLogEndsAt(t *testing.T, st eventstore.Store, at eventstore.Position) {
	t.Helper()
	all, err := st.ReadAll(t.Context(), eventstore.Start, eventstore.Forwards, 0, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(all)) != at.Commit || all[len(all)-1].Position != at {
		t.Fatalf("the restored log holds %d events, want %d", len(all), at.Commit)
	}
}

// replayReadModels builds the three read models afresh from st up to at and
// returns their digests.
func replayReadModels(t *testing.T, st eventstore.Store, at eventstore.Position) map[string][32]byte {
	t.Helper()
	m, err := projections.Open(t.TempDir(), st, []projections.Projection{holdings.New(), market.New(), statistics.New()}, projections.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Start()
	out := map[string][32]byte{}
	for _, name := range m.Names() {
		r, _ := m.Runner(name)
		out[name] = readModelDigest(t, r, at)
	}
	return out
}

// readModelDigest waits until r has applied at and returns the SHA-256 of its
// state there: every key and value but the checkpoint's, which records when
// and in how many commits it was built.
func readModelDigest(t *testing.T, r *projections.Runner, at eventstore.Position) [32]byte {
	t.Helper()
	v, err := r.View(t.Context(), &at)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.Position != at {
		t.Fatalf("read model %s is at %s, want %s", r.Name(), v.Position, at)
	}
	h := sha256.New()
	err = v.Scan([]byte{1}, nil, func(key, value []byte) (bool, error) {
		h.Write(binary.AppendUvarint(nil, uint64(len(key))))
		h.Write(key)
		h.Write(binary.AppendUvarint(nil, uint64(len(value))))
		h.Write(value)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func TestBackupOnEventStoreDBPointsToItsOwnProcedure(t *testing.T) {
	_, c := startServerWith(t, backends[1].config(t))
	stream, err := pb.NewAdminServiceClient(c.conn).Backup(as(t, "operator"), &pb.BackupRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if st, _ := status.FromError(err); st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "EventStoreDB's own backup procedure") {
		t.Fatalf("backup on EventStoreDB: %v", err)
	}
}
