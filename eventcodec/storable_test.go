package eventcodec

import (
	"errors"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	eventsv1 "github.com/ecoregistry/ecoregistry/proto/ecoregistry/events/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The codec never writes what it cannot read back: a string that is not
// UTF-8 or a time a Timestamp cannot hold is refused before any byte is
// stored.
func TestTheCodecRefusesWhatItCouldNotReadBack(t *testing.T) {
	year10000 := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, env := range map[string]Envelope{
		"a correlation id that is not UTF-8": {Actor: "office", CorrelationID: "c-\xff\xfe", OccurredAt: time.Now()},
		"an actor that is not UTF-8":         {Actor: "li\xc3", OccurredAt: time.Now()},
		"a command id that is not UTF-8":     {Actor: "office", CommandID: "\x80", OccurredAt: time.Now()},
		"a time after the year 9999":         {Actor: "office", OccurredAt: year10000},
	} {
		t.Run("an envelope with "+name, func(t *testing.T) {
			b, err := EncodeMetadata(env)
			if !errors.Is(err, ErrUnencodable) || b != nil {
				t.Fatalf("EncodeMetadata = %x, %v; want ErrUnencodable and no bytes", b, err)
			}
		})
	}
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for name, ev := range map[string]domain.Event{
		"a pledge maturing after the year 9999":  domain.UnitsPledged{RightID: "R1", PledgeID: "p", Pledgor: "A", Pledgee: "B", Maturity: year10000, Blocks: []domain.Block{{Start: 1, End: 2}}, Quantity: 2, PledgedAt: at},
		"a reservation timing out in year 10000": domain.UnitsReserved{RightID: "R1", ReservationID: "v", Holder: "A", Exchange: "X", Blocks: []domain.Block{{Start: 1, End: 2}}, Quantity: 2, Timeout: year10000, ReservedAt: at},
		"a trade matched before the year 1":      domain.TradeSettled{RightID: "R1", ExchangeID: "X", TradeID: "t", Seller: "A", Buyer: "B", Blocks: []domain.Block{{Start: 1, End: 2}}, Quantity: 2, MatchedAt: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), SettledAt: at},
		"a refusal whose detail is not UTF-8":    domain.TradeRefused{RightID: "R1", ExchangeID: "X", TradeID: "t", Seller: "A", Buyer: "B", Quantity: 2, Detail: "\xff", RefusedAt: at},
		"a transfer reason that is not UTF-8":    domain.UnitsTransferred{RightID: "R1", TransferID: "t", From: "A", To: "B", Blocks: []domain.Block{{Start: 1, End: 2}}, Quantity: 2, Reason: "\xff", TransferredAt: at},
	} {
		t.Run("an event with "+name, func(t *testing.T) {
			_, data, err := Encode(ev)
			if err == nil || data != nil {
				t.Fatalf("Encode = %x, %v; want an error and no bytes", data, err)
			}
		})
	}
}

// legacyMetadata writes an envelope as versions before the check in
// EncodeMetadata could: with strings that are not UTF-8.
func legacyMetadata(actor, correlationID string, at time.Time, prev Hash) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, actor)
	b = appendTime(b, 2, at)
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendString(b, correlationID)
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	return protowire.AppendBytes(b, prev[:])
}

// Metadata an older version wrote with a correlation id that is not UTF-8
// stays readable: each run of bad bytes comes back as one U+FFFD, the rest as stored.
func TestMetadataThatIsNotUTF8IsStillRead(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 0, 0, 5, time.UTC)
	md := legacyMetadata("office", "corr-\xff\xfe-1", at, Hash{7})
	if err := proto.Unmarshal(md, &eventsv1.EventMetadata{}); err == nil {
		t.Fatal("the legacy metadata is valid protobuf; the test does not test the fallback")
	}
	env, err := DecodeMetadata(md)
	if err != nil {
		t.Fatal(err)
	}
	if env.Actor != "office" || env.CorrelationID != "corr-\uFFFD-1" || !env.OccurredAt.Equal(at) || env.PreviousHash != (Hash{7}) {
		t.Fatalf("decoded %+v", env)
	}
	chain := []StoredEvent{{Type: "X", Data: []byte{1}, Metadata: legacyMetadata("a\xff", "c", at, GenesisHash)}}
	chain = append(chain, StoredEvent{Type: "Y", Metadata: legacyMetadata("b", "\xfe", at, ChainHash(chain[0].Type, chain[0].Data, chain[0].Metadata))})
	if _, err := VerifyChain(chain); err != nil {
		t.Fatalf("a chain of legacy envelopes does not verify: %v", err)
	}
	if _, err := DecodeMetadata(md[:len(md)-3]); err == nil {
		t.Fatal("truncated metadata was read")
	}
}
