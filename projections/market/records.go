package market

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ecoregistry/ecoregistry/domain"
	"github.com/ecoregistry/ecoregistry/eventstore"
	"github.com/ecoregistry/ecoregistry/projections/internal/enc"
)

// encodeTrade writes what the trade's key (time and position) does not
// hold.
func encodeTrade(b []byte, t *Trade) []byte {
	b = enc.String(b, t.Exchange)
	b = enc.String(b, t.TradeID)
	b = enc.String(b, t.Reference)
	b = enc.Varint(b, unixNanoOrZero(t.MatchedAt))
	b = enc.String(b, t.RightID)
	b = enc.Uvarint(b, uint64(t.RightType))
	b = enc.String(b, t.TransferID)
	b = enc.String(b, t.Buyer)
	b = enc.String(b, t.Seller)
	b = enc.Varint(b, t.Quantity)
	b = enc.Varint(b, t.Price)
	return enc.String(b, t.Currency)
}

// decodeTrade reads a trade from the suffix of its key (time and position)
// and its value.
func decodeTrade(suffix, v []byte) (Trade, error) {
	if len(suffix) != 24 {
		return Trade{}, fmt.Errorf("market: trade key suffix of %d bytes", len(suffix))
	}
	t := Trade{
		Time:     time.Unix(0, int64(binary.BigEndian.Uint64(suffix)^(1<<63))).UTC(),
		Position: eventstore.Position{Commit: binary.BigEndian.Uint64(suffix[8:]), Prepare: binary.BigEndian.Uint64(suffix[16:])},
	}
	d := enc.NewReader(v)
	t.Exchange = d.String()
	t.TradeID = d.String()
	t.Reference = d.String()
	if ns := d.Varint(); ns != 0 {
		t.MatchedAt = time.Unix(0, ns).UTC()
	}
	t.RightID = d.String()
	t.RightType = domain.RightType(d.Uvarint())
	t.TransferID = d.String()
	t.Buyer = d.String()
	t.Seller = d.String()
	t.Quantity = d.Varint()
	t.Price = d.Varint()
	t.Currency = d.String()
	return t, d.Done()
}

func encodeStats(b []byte, s *Stats) []byte {
	b = enc.Varint(b, s.Trades)
	b = enc.Varint(b, s.Volume)
	b = enc.Bytes(b, s.Turnover.Bytes())
	b = enc.Varint(b, s.LastPrice)
	b = enc.Varint(b, s.LastTime.UnixNano())
	b = enc.Uvarint(b, s.LastPosition.Commit)
	return enc.Uvarint(b, s.LastPosition.Prepare)
}

func decodeStats(v []byte, s *Stats) error {
	d := enc.NewReader(v)
	s.Trades = d.Varint()
	s.Volume = d.Varint()
	s.Turnover.SetBytes(d.Bytes())
	s.LastPrice = d.Varint()
	s.LastTime = time.Unix(0, d.Varint()).UTC()
	s.LastPosition = eventstore.Position{Commit: d.Uvarint(), Prepare: d.Uvarint()}
	return d.Done()
}

func encodeBar(b []byte, bar *Bar) []byte {
	b = enc.Varint(b, bar.Open)
	b = enc.Varint(b, bar.High)
	b = enc.Varint(b, bar.Low)
	b = enc.Varint(b, bar.Close)
	b = enc.Varint(b, bar.Trades)
	b = enc.Varint(b, bar.Volume)
	return enc.Bytes(b, bar.Turnover.Bytes())
}

func decodeBar(v []byte, bar *Bar) error {
	d := enc.NewReader(v)
	bar.Open = d.Varint()
	bar.High = d.Varint()
	bar.Low = d.Varint()
	bar.Close = d.Varint()
	bar.Trades = d.Varint()
	bar.Volume = d.Varint()
	bar.Turnover.SetBytes(d.Bytes())
	return d.Done()
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
