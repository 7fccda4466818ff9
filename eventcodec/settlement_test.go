package eventcodec

import (
	"bytes"
	"math/rand/v2"
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

// The direct encoder writes exactly what proto.Marshal writes for the
// converted message, for events with every field set, with none, and with
// random values, including submessages of 128 bytes and more.
func TestSettlementEncoderMatchesProtoMarshal(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	str := func(max int) string {
		b := make([]byte, rnd.IntN(max+1))
		for i := range b {
			b[i] = byte('A' + rnd.IntN(26))
		}
		return string(b)
	}
	num := func() int64 {
		switch rnd.IntN(4) {
		case 0:
			return 0
		case 1:
			return rnd.Int64N(128)
		case 2:
			return -rnd.Int64()
		}
		return rnd.Int64()
	}
	when := func() time.Time {
		if rnd.IntN(4) == 0 {
			return time.Time{}
		}
		return time.Unix(rnd.Int64N(1<<34)-(1<<33), rnd.Int64N(2)*rnd.Int64N(1e9)).UTC()
	}
	block := func() *domain.Block {
		if rnd.IntN(2) == 0 {
			return nil
		}
		return &domain.Block{Start: num(), End: num()}
	}
	events := append(settlementEvents(), domain.TradeSettled{}, domain.TradeRefused{})
	for range 2000 {
		var blocks []domain.Block
		for range rnd.IntN(4) {
			blocks = append(blocks, domain.Block{Start: num(), End: num()})
		}
		price := domain.Price{Amount: num(), Currency: str(4)}
		if rnd.IntN(10) == 0 {
			price.Currency = str(300)
		}
		events = append(events,
			domain.TradeSettled{RightID: str(64), ExchangeID: str(8), TradeID: str(64), Seller: str(10), Buyer: str(10), Range: block(),
				Blocks: blocks, Quantity: num(), Price: price, MatchedAt: when(), ReservationID: str(5), ReservationRemaining: num(), SettledAt: when()},
			domain.TradeRefused{RightID: str(64), ExchangeID: str(8), TradeID: str(64), Seller: str(10), Buyer: str(10), Quantity: num(), Range: block(),
				Price: price, MatchedAt: when(), ReservationID: str(5), CheckCode: str(5), CheckName: str(30), Field: str(10), Detail: str(400), RefusedAt: when()})
	}
	for i, e := range events {
		fast, ok := encodeSettlement(e)
		if !ok {
			t.Fatalf("event %d is not encoded directly", i)
		}
		m, _ := settlementToProto(e)
		want, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fast, want) {
			t.Fatalf("event %d %+v:\n direct %x\nmarshal %x", i, e, fast, want)
		}
	}
}

func BenchmarkEncodeTradeSettled(b *testing.B) {
	e := settlementEvents()[1]
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Encode(e); err != nil {
			b.Fatal(err)
		}
	}
}
