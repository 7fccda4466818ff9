package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ecoregistry/ecoregistry/eventstore/pebblestore"
	"github.com/ecoregistry/ecoregistry/integrity/certificate"
	"github.com/ecoregistry/ecoregistry/integrity/certificate/certpb"
	"github.com/ecoregistry/ecoregistry/integrity/checkpoint"
	"github.com/ecoregistry/ecoregistry/integrity/logtree"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// openTwoAccounts opens HB-STEEL and HB-POWER, registers the walkthrough's
// rights to HB-STEEL and moves 2500 allowances to HB-POWER.
func openTwoAccounts(t *testing.T, c *client) {
	t.Helper()
	ctx := as(t, "office-hubei")
	for _, req := range []*pb.OpenAccountRequest{
		{AccountId: "HB-STEEL", Jurisdiction: "420100", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
			Holder: &pb.Holder{Name: "Hubei Steel", Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: creditCode(t, "91420100MA4K12345")}},
		{AccountId: "HB-POWER", Jurisdiction: "420500", Type: pb.AccountType_ACCOUNT_TYPE_HOLDING,
			Holder: &pb.Holder{Name: "Yichang Power", Kind: pb.HolderKind_HOLDER_KIND_ENTERPRISE, CreditCode: creditCode(t, "91420500MA4L54321")}},
	} {
		if _, err := c.accounts.OpenAccount(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	for _, req := range registrations("HB-STEEL") {
		if _, err := c.rights.RegisterRight(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	transfer(t, c, "T-1", 2500)
}

func transfer(t *testing.T, c *client, id string, quantity int64) *pb.TransferUnitsResponse {
	t.Helper()
	resp, err := c.transfers.TransferUnits(as(t, "office-hubei"), &pb.TransferUnitsRequest{RightId: "CEA-HB-1", TransferId: id, FromAccountId: "HB-STEEL",
		ToAccountId: "HB-POWER", Amount: &pb.TransferUnitsRequest_Quantity{Quantity: quantity}})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestProvingHistory runs the README's "Proving history" through the
// generated client on each store: a certificate signs a checkpoint, events
// are proved in it, later checkpoints extend it, and a full verification
// against it finds nothing wrong.
func TestProvingHistory(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			_, c := startServerWith(t, b.config(t))
			openTwoAccounts(t, c)
			ig := pb.NewIntegrityServiceClient(c.conn)
			ctx := as(t, "regulator.mee")

			cert1 := issueAndVerify(t, ig, "HB-POWER")
			latest, err := ig.GetLatestCheckpoint(ctx, &pb.GetLatestCheckpointRequest{})
			if err != nil {
				t.Fatal(err)
			}
			v, err := checkpoint.NewVerifier(latest.GetVerifierKey())
			if err != nil {
				t.Fatal(err)
			}
			saved := latest.GetCheckpoint()
			if _, err := checkpoint.Open([]byte(saved.GetNote()), v); err != nil || saved.GetTreeSize() != cert1.TreeSize {
				t.Fatalf("checkpoint of %d events (%v), the certificate names %d", saved.GetTreeSize(), err, cert1.TreeSize)
			}

			moved := transfer(t, c, "T-2", 100)
			cert2 := issueAndVerify(t, ig, "HB-POWER")
			if cert2.Available != cert1.Available+100 || cert2.LastChange.Position.Commit != moved.GetCommit().GetPosition().GetCommit() {
				t.Fatalf("second certificate: %d available, last change at %s", cert2.Available, cert2.LastChange.Position)
			}
			cons, err := ig.GetConsistencyProof(ctx, &pb.GetConsistencyProofRequest{OldSize: saved.GetTreeSize()})
			if err != nil {
				t.Fatal(err)
			}
			if err := logtree.VerifyConsistency(saved.GetTreeSize(), cons.GetNewSize(), cons.GetProof(), saved.GetRootHash(), cons.GetNewRootHash()); err != nil {
				t.Fatal(err)
			}
			inc, err := ig.GetInclusionProof(ctx, &pb.GetInclusionProofRequest{Position: moved.GetCommit().GetPosition()})
			if err != nil {
				t.Fatal(err)
			}
			if inc.GetLeaf().GetStream() != "right-CEA-HB-1" || logtree.VerifyInclusion(inc.GetLeafHash(), inc.GetLeafIndex(), inc.GetTreeSize(), inc.GetProof(), inc.GetRootHash()) != nil {
				t.Fatalf("inclusion proof of the transfer: %v", inc)
			}
			summary, breaks := verifyAll(t, ig, saved.GetNote())
			if len(breaks) > 0 || summary.GetBreaks() != 0 || summary.GetCheckpointsCompared() < 3 || summary.GetEvents() != cons.GetNewSize() {
				t.Fatalf("verification: %v, breaks %v", summary, breaks)
			}
			list, err := ig.ListCheckpoints(ctx, &pb.ListCheckpointsRequest{PageSize: 1})
			if err != nil || len(list.GetCheckpoints()) != 1 || list.GetNextPageToken() == "" {
				t.Fatalf("list: %v, %v", list, err)
			}
		})
	}
}

func issueAndVerify(t *testing.T, ig pb.IntegrityServiceClient, account string) *certificate.Certificate {
	t.Helper()
	ctx := as(t, "bank.icbc")
	resp, err := ig.IssueHoldingCertificate(ctx, &pb.IssueHoldingCertificateRequest{AccountId: account, RightId: "CEA-HB-1"})
	if err != nil {
		t.Fatal(err)
	}
	latest, err := ig.GetLatestCheckpoint(ctx, &pb.GetLatestCheckpointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := checkpoint.NewVerifier(latest.GetVerifierKey())
	c, err := certpb.FromProto(resp.GetCertificate())
	if err != nil {
		t.Fatal(err)
	}
	if err := certificate.Verify(c, v); err != nil {
		t.Fatal(err)
	}
	if resp.GetCertificate().GetText() != c.Text() {
		t.Fatalf("the text sent differs from the statement")
	}
	return c
}

func verifyAll(t *testing.T, ig pb.IntegrityServiceClient, saved string) (*pb.VerifySummary, []*pb.IntegrityBreak) {
	t.Helper()
	stream, err := ig.VerifyIntegrity(as(t, "regulator.mee"), &pb.VerifyIntegrityRequest{SavedCheckpoint: saved})
	if err != nil {
		t.Fatal(err)
	}
	var (
		summary *pb.VerifySummary
		breaks  []*pb.IntegrityBreak
	)
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return summary, breaks
		}
		if err != nil {
			t.Fatal(err)
		}
		if b := m.GetBreak(); b != nil {
			breaks = append(breaks, b)
		}
		if s := m.GetSummary(); s != nil {
			summary = s
		}
	}
}

// TestABreakFoundAtStartRefusesWrites removes the last event from the
// embedded store behind the server's back: the restarted server serves
// reads, refuses writes saying where history broke, and a verification
// names the removed event.
func TestABreakFoundAtStartRefusesWrites(t *testing.T) {
	dir := t.TempDir()
	m, c := startServer(t, dir)
	openTwoAccounts(t, c)
	ig := pb.NewIntegrityServiceClient(c.conn)
	cert := issueAndVerify(t, ig, "HB-POWER")
	last := cert.ValidAt
	m.Close()

	tp, err := pebblestore.OpenTamperer(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.Truncate(last.Commit - 1); err != nil {
		t.Fatal(err)
	}
	if err := tp.Close(); err != nil {
		t.Fatal(err)
	}

	m, c = startServer(t, dir)
	ctx := as(t, "office-hubei")
	if _, err := c.accounts.GetAccount(ctx, &pb.GetAccountRequest{AccountId: "HB-STEEL"}); err != nil {
		t.Fatalf("reads stopped too: %v", err)
	}
	_, err = c.transfers.TransferUnits(ctx, &pb.TransferUnitsRequest{RightId: "CEA-HB-1", TransferId: "T-9", FromAccountId: "HB-STEEL",
		ToAccountId: "HB-POWER", Amount: &pb.TransferUnitsRequest_Quantity{Quantity: 1}})
	st, _ := status.FromError(err)
	if st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "refuses writes") || !strings.Contains(st.Message(), last.String()) {
		t.Fatalf("a write after the break: %v", err)
	}
	summary, breaks := verifyAll(t, pb.NewIntegrityServiceClient(c.conn), "")
	if !summary.GetWritesRefused() || len(breaks) == 0 {
		t.Fatalf("verification: %v", summary)
	}
	found := false
	for _, b := range breaks {
		found = found || (b.GetKind() == pb.IntegrityBreakKind_INTEGRITY_BREAK_KIND_EVENT_MISSING && b.GetPosition().GetCommit() == last.Commit &&
			b.GetStream() == "right-CEA-HB-1" && b.GetStreamRevision() == cert.LastChange.Revision)
	}
	if !found {
		t.Fatalf("the removed event at %s is not named: %v", last, breaks)
	}
}
