package grpcserver

import (
	"reflect"
	"testing"
	"time"

	pb "github.com/ecoregistry/ecoregistry/proto/ecoregistry/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The request converters (proto -> domain) are fuzzed with any bytes a
// client could send: whatever the request, the edge's checks and the
// converter do not panic, the conversion is deterministic, every field
// path a refusal of the request could name resolves or is left alone, and
// once the edge's Timestamp checks pass, every time the command carries is
// one the event codec can store (years 1 to 9999).

// fuzzConverter runs the converter property for request type R. seeds are
// plausible requests, marshalled as the fuzzer's first inputs.
func fuzzConverter[R proto.Message, C any](f *testing.F, newReq func() R, convert func(R) C, seeds ...R) {
	for _, s := range seeds {
		b, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := newReq()
		if proto.Unmarshal(data, req) != nil {
			return
		}
		timesOK := checkTimestamps(req) == nil
		cmd := convert(req)
		if again := convert(req); !reflect.DeepEqual(cmd, again) {
			t.Fatalf("two conversions differ: %+v and %+v", cmd, again)
		}
		if timesOK {
			if bad, ok := unstorableTime(reflect.ValueOf(cmd)); ok {
				t.Fatalf("the edge accepted a time the codec cannot store: %v", bad)
			}
		}
		md := req.ProtoReflect().Descriptor()
		for _, field := range []string{"from", "to", "holder", "buyer", "seller", "pledgor", "pledgee", "price.amount", "range", "attributes", "x.y.z", ""} {
			if p := requestFieldPath(md, field); p != field && !resolves(md, p) {
				t.Fatalf("%s maps to %s, which does not resolve", field, p)
			}
		}
	})
}

// unstorableTime finds a non-zero time in v (a command, walked through its
// fields, pointers and slices) outside the years 1 to 9999.
func unstorableTime(v reflect.Value) (time.Time, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return unstorableTime(v.Elem())
		}
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			return t, !t.IsZero() && timestamppb.New(t).CheckValid() != nil
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				if t, bad := unstorableTime(v.Field(i)); bad {
					return t, true
				}
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if t, bad := unstorableTime(v.Index(i)); bad {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// seedFiller fills seed requests as the server tests do.
var seedFiller = &requestFiller{right: "CEA-1", creditCode: "91420100MA4K1A2B3Q"}

// seeds returns the plausible requests of type R, one per oneof choice.
func seeds[R proto.Message]() []R {
	var zero R
	var out []R
	for _, m := range seedFiller.plausibleRequests(zero.ProtoReflect().Type()) {
		out = append(out, m.(R))
	}
	return out
}

func FuzzOpenAccountFromProto(f *testing.F) {
	fuzzConverter(f, func() *pb.OpenAccountRequest { return &pb.OpenAccountRequest{} }, openAccountFromProto, seeds[*pb.OpenAccountRequest]()...)
}

func FuzzRegisterRightFromProto(f *testing.F) {
	fuzzConverter(f, func() *pb.RegisterRightRequest { return &pb.RegisterRightRequest{} }, registerRightFromProto, seeds[*pb.RegisterRightRequest]()...)
}

func FuzzTransferFromProto(f *testing.F) {
	fuzzConverter(f, func() *pb.TransferUnitsRequest { return &pb.TransferUnitsRequest{} }, transferFromProto, seeds[*pb.TransferUnitsRequest]()...)
}

func FuzzRetireFromProto(f *testing.F) {
	fuzzConverter(f, func() *pb.RetireUnitsRequest { return &pb.RetireUnitsRequest{} }, retireFromProto, seeds[*pb.RetireUnitsRequest]()...)
}

func FuzzPledgeFromProto(f *testing.F) {
	fuzzConverter(f, func() *pb.PledgeUnitsRequest { return &pb.PledgeUnitsRequest{} }, pledgeFromProto, seeds[*pb.PledgeUnitsRequest]()...)
}

func FuzzFreezeFromProto(f *testing.F) {
	fuzzConverter(f, func() *pb.FreezeUnitsRequest { return &pb.FreezeUnitsRequest{} }, freezeFromProto, seeds[*pb.FreezeUnitsRequest]()...)
}

func FuzzReserveFromProto(f *testing.F) {
	fuzzConverter(f, func() *pb.ReserveUnitsRequest { return &pb.ReserveUnitsRequest{} }, reserveFromProto, seeds[*pb.ReserveUnitsRequest]()...)
}

func FuzzSettleFromProto(f *testing.F) {
	fuzzConverter(f, func() *pb.SettleReservationRequest { return &pb.SettleReservationRequest{} }, settleFromProto, seeds[*pb.SettleReservationRequest]()...)
}

func FuzzCancelFromProto(f *testing.F) {
	fuzzConverter(f, func() *pb.CancelUnitsRequest { return &pb.CancelUnitsRequest{} }, cancelFromProto, seeds[*pb.CancelUnitsRequest]()...)
}

func FuzzMatchedTradeFromProto(f *testing.F) {
	fuzzConverter(f, func() *pb.MatchedTrade { return &pb.MatchedTrade{} }, matchedTradeFromProto, seeds[*pb.MatchedTrade]()...)
}
