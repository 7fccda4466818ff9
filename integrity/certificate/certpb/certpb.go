// Package certpb converts holding certificates between package certificate
// and their API message, ecoregistry.v1.HoldingCertificate: the server
// sends them, and ecoctl reads the files it writes back to verify them.
package certpb

import (
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ecoregistry/ecoregistry/eventcodec"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/integrity/certificate"
	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
)

// ToProto returns the API message of c.
func ToProto(c *certificate.Certificate) *pb.HoldingCertificate {
	out := &pb.HoldingCertificate{Registry: c.Registry, AccountId: c.Account, RightId: c.Right, RightType: c.RightType, Unit: c.Unit,
		Available: c.Available, Pledged: c.Pledged, Frozen: c.Frozen, Reserved: c.Reserved, Retired: c.Retired,
		ValidAt: position(c.ValidAt), StreamRevision: c.StreamRevision, IssuedAt: timestamppb.New(c.IssuedAt),
		TreeSize: c.TreeSize, RootHash: c.Root, Checkpoint: c.Checkpoint, InclusionProof: c.InclusionProof,
		Text: c.Text(), SignedStatement: c.Signed}
	for _, b := range c.Blocks {
		out.Blocks = append(out.Blocks, &pb.CertificateBlock{State: b.State, Start: b.Start, End: b.End, Quantity: b.Quantity(), Serial: b.Serial})
	}
	if ch := c.LastChange; ch != nil {
		out.LastChange = &pb.CertificateChange{Stream: ch.Stream, StreamRevision: ch.Revision, Position: position(ch.Position),
			LeafIndex: ch.Leaf, EventType: ch.Type, ChainValue: ch.Chain[:]}
	}
	return out
}

func position(p eventstore.Position) *pb.Position {
	return &pb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

func fromPosition(p *pb.Position) eventstore.Position {
	return eventstore.Position{Commit: p.GetCommit(), Prepare: p.GetPrepare()}
}

// FromProto returns the certificate an API message states, to verify. The
// text and quantities it restates are not taken from it: verification
// renders them again.
func FromProto(m *pb.HoldingCertificate) (*certificate.Certificate, error) {
	c := &certificate.Certificate{Registry: m.GetRegistry(), Account: m.GetAccountId(), Right: m.GetRightId(), RightType: m.GetRightType(), Unit: m.GetUnit(),
		Available: m.GetAvailable(), Pledged: m.GetPledged(), Frozen: m.GetFrozen(), Reserved: m.GetReserved(), Retired: m.GetRetired(),
		ValidAt: fromPosition(m.GetValidAt()), StreamRevision: m.GetStreamRevision(), IssuedAt: m.GetIssuedAt().AsTime().UTC(),
		TreeSize: m.GetTreeSize(), Root: m.GetRootHash(), Checkpoint: m.GetCheckpoint(), InclusionProof: m.GetInclusionProof(),
		Signed: m.GetSignedStatement()}
	for _, b := range m.GetBlocks() {
		if b.GetQuantity() != b.GetEnd()-b.GetStart()+1 {
			return nil, fmt.Errorf("%w: block %s %d-%d says %d units", certificate.ErrForged, b.GetState(), b.GetStart(), b.GetEnd(), b.GetQuantity())
		}
		c.Blocks = append(c.Blocks, certificate.Block{State: b.GetState(), Start: b.GetStart(), End: b.GetEnd(), Serial: b.GetSerial()})
	}
	if ch := m.GetLastChange(); ch != nil {
		c.LastChange = &certificate.Change{Stream: ch.GetStream(), Revision: ch.GetStreamRevision(), Position: fromPosition(ch.GetPosition()),
			Leaf: ch.GetLeafIndex(), Type: ch.GetEventType()}
		if len(ch.GetChainValue()) != len(c.LastChange.Chain) {
			return nil, fmt.Errorf("%w: the last change's chain value has %d bytes", certificate.ErrForged, len(ch.GetChainValue()))
		}
		c.LastChange.Chain = eventcodec.Hash(ch.GetChainValue())
	}
	return c, nil
}
