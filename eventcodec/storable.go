package eventcodec

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/ecoregistry/ecoregistry/domain"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// timestampName is the full name of google.protobuf.Timestamp.
var timestampName = (&timestamppb.Timestamp{}).ProtoReflect().Descriptor().FullName()

// checkTimestamps refuses a stored message holding a Timestamp that is not
// valid (outside the years 1 to 9999): proto.Marshal writes one, but
// protojson and the regulators' tools cannot read it. proto.Marshal itself
// refuses strings that are not UTF-8.
func checkTimestamps(m protoreflect.Message) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Message() == nil:
		case fd.Message().FullName() == timestampName && !fd.IsList():
			if verr := v.Message().Interface().(*timestamppb.Timestamp).CheckValid(); verr != nil {
				err = fmt.Errorf("%w: %s: %v", ErrUnencodable, fd.FullName(), verr)
			}
		case fd.IsList():
			for i := 0; i < v.List().Len() && err == nil; i++ {
				err = checkTimestamps(v.List().Get(i).Message())
			}
		case !fd.IsMap():
			err = checkTimestamps(v.Message())
		}
		return err == nil
	})
	return err
}

// checkSettlement does for the settlement events, which encodeSettlement
// writes without proto.Marshal, what proto.Marshal and checkTimestamps do
// for the others: it refuses a string that is not UTF-8 and a time that a
// Timestamp cannot hold.
func checkSettlement(e domain.Event) error {
	var (
		strs  []string
		times []time.Time
	)
	switch e := e.(type) {
	case domain.TradeSettled:
		strs = []string{e.RightID, e.ExchangeID, e.TradeID, e.Seller, e.Buyer, e.Price.Currency, e.ReservationID}
		times = []time.Time{e.MatchedAt, e.SettledAt}
	case domain.TradeRefused:
		strs = []string{e.RightID, e.ExchangeID, e.TradeID, e.Seller, e.Buyer, e.Price.Currency, e.ReservationID, e.CheckCode, e.CheckName, e.Field, e.Detail}
		times = []time.Time{e.MatchedAt, e.RefusedAt}
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %s holds a string that is not valid UTF-8", ErrUnencodable, e.EventType())
		}
	}
	for _, t := range times {
		if err := checkTime(e.EventType()+" time", t); err != nil {
			return err
		}
	}
	return nil
}

// marshalChecked is proto.Marshal for a stored event message, after
// checkTimestamps.
func marshalChecked(m proto.Message) ([]byte, error) {
	if err := checkTimestamps(m.ProtoReflect()); err != nil {
		return nil, err
	}
	return proto.Marshal(m)
}
