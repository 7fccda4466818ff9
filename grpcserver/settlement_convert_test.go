package grpcserver

import (
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/registry"
	"google.golang.org/protobuf/proto"
)

// The one-allocation form of a settled outcome is the same message as the
// general one.
func TestSettledOutcomeInOneAllocation(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 30, 15, 123456789, time.UTC)
	for _, settledAt := range []time.Time{at, {}} {
		o := registry.TradeOutcome{
			Trade:        domain.SettleTrade{ExchangeID: "HBEX", TradeID: "X-1", RightID: "CEA1"},
			Settled:      &domain.TradeSettled{Blocks: []domain.Block{{Start: 7, End: 9}}, Quantity: 3, ReservationRemaining: 4, SettledAt: settledAt},
			Recorded:     true,
			Commit:       registry.Commit{Stream: "right-CEA1", Revision: 12, Position: eventstore.Position{Commit: 40, Prepare: 41}, CorrelationID: "c-1"},
			SerialPrefix: "CEA-420000-2025-CEA1",
			Replay:       true,
		}
		fast, general := settledOneBlockToProto(o), outcomeMessages(o)
		if !proto.Equal(fast, general) {
			t.Fatalf("one allocation:\n%v\ngeneral:\n%v", fast, general)
		}
		if tradeOutcomeToProto(o) == nil || fast.GetSettled().GetRanges()[0].GetSerial() != "CEA-420000-2025-CEA1-000000007-000000009" {
			t.Fatalf("outcome %v", fast)
		}
	}
}
