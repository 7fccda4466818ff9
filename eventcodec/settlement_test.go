package eventcodec

import (
	"reflect"
	"testing"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"google.golang.org/protobuf/proto"
)

// settlementEvents has each settlement event with every field set, and
// without its optional ones.
func settlementEvents() []domain.Event {
	at := time.Date(2026, 11, 30, 9, 30, 15, 123456789, time.UTC)
	matched := at.Add(-1500 * time.Millisecond)
	return []domain.Event{
		domain.TradeSettled{RightID: "CEA2025", ExchangeID: "HBEX", TradeID: "20261130-000123", Seller: "HB-STEEL", Buyer: "HB-POWER",
			Range: &domain.Block{Start: 11, End: 30}, Blocks: []domain.Block{{Start: 11, End: 30}}, Quantity: 20,
			Price: domain.Price{Amount: 5850, Currency: "CNY"}, MatchedAt: matched, ReservationID: "v-1", ReservationRemaining: 5, SettledAt: at},
		domain.TradeSettled{RightID: "CEA2025", ExchangeID: "HBEX", TradeID: "20261130-000124", Seller: "HB-STEEL", Buyer: "HB-POWER",
			Blocks: []domain.Block{{Start: 1, End: 10}, {Start: 21, End: 30}}, Quantity: 20,
			Price: domain.Price{Amount: 0, Currency: "CNY"}, MatchedAt: matched, SettledAt: at},
		domain.TradeRefused{RightID: "CEA2025", ExchangeID: "HBEX", TradeID: "20261130-000125", Seller: "HB-STEEL", Buyer: "HB-POWER",
			Quantity: 0, Range: &domain.Block{Start: 1, End: 5000}, Price: domain.Price{Amount: 5850, Currency: "CNY"}, MatchedAt: matched,
			ReservationID: "v-2", CheckCode: "E5002", CheckName: "SERIAL_RANGE_NOT_HELD", Field: "range",
			Detail: "range 1-5000 is not wholly among the units reserved under reservation v-2", RefusedAt: at},
		domain.TradeRefused{RightID: "CEA2025", ExchangeID: "HBEX", TradeID: "20261130-000126", Seller: "HB-STEEL", Buyer: "HB-STEEL",
			Quantity: 7, Price: domain.Price{Amount: 5850, Currency: "CNY"}, MatchedAt: matched,
			CheckCode: "E4005", CheckName: "SAME_ACCOUNT", RefusedAt: at},
	}
}

func TestSettlementEventsRoundTrip(t *testing.T) {
	for _, e := range settlementEvents() {
		t.Run(e.EventType(), func(t *testing.T) {
			typ, data, err := Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			if typ != e.EventType() {
				t.Fatalf("type %q, want %q", typ, e.EventType())
			}
			back, err := Decode(typ, data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, e) {
				t.Fatalf("round trip changed the event:\n got %#v\nwant %#v", back, e)
			}
		})
	}
}

// Every field of the stored messages is written for an event that has all
// its fields set, so a field the codec forgets cannot go unnoticed.
func TestSettlementCodecWritesEveryStoredField(t *testing.T) {
	for _, e := range settlementEvents()[:1] {
		checkEveryField(t, e)
	}
	checkEveryField(t, settlementEvents()[2])
}

func checkEveryField(t *testing.T, e domain.Event) {
	t.Helper()
	m, ok := settlementToProto(e)
	if !ok {
		t.Fatalf("%T is not a settlement event", e)
	}
	typ, data, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	stored := settlementMessage(typ)
	if err := proto.Unmarshal(data, stored); err != nil {
		t.Fatal(err)
	}
	fields := stored.ProtoReflect().Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Name() == "quantity" && typ == domain.EventTypeTradeRefused {
			// A trade names a quantity or a range; this one names a range.
			continue
		}
		if !stored.ProtoReflect().Has(fd) {
			t.Errorf("%s: field %s is not written", typ, fd.Name())
		}
	}
	if !proto.Equal(m, stored) {
		t.Errorf("%s: the stored message differs from the converted one", typ)
	}
}
